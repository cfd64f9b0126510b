"""Writes on accounts: issuing and checking API tokens."""

import secrets
from datetime import timedelta

from django.contrib.auth import authenticate
from django.utils import timezone

from .models import ApiToken, User, hash_token

TOKEN_LIFETIME = timedelta(hours=12)


def token_issue(*, username: str, password: str) -> str | None:
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        return None
    raw = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=hash_token(raw), expires_at=timezone.now() + TOKEN_LIFETIME)
    return raw


def token_user(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(key_hash=hash_token(raw), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    return token.user if token else None


def audit_record(
    *, user: User | None, action: str, obj: object | None = None, object_type: str = "", detail: str = ""
) -> None:
    """Write one audit row (unmask, export, …). Call it inside the transaction of the action it records."""
    from .models import AuditEntry

    if obj is not None:
        meta = getattr(obj, "_meta", None)
        object_type = object_type or (meta.label if meta else type(obj).__name__)
        object_id = str(getattr(obj, "pk", ""))
    else:
        object_id = ""
    AuditEntry.objects.create(
        user=user, action=action, object_type=object_type, object_id=object_id, detail=detail[:500]
    )
