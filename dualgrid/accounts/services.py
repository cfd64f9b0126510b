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
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    return token.user if token else None
