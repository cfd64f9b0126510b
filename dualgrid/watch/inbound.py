"""Inbound messages: the adapters' common shape, and storing a batch of them exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from dualgrid.cases.models import Case, Status, Urgency
from dualgrid.places.models import ChatGroup

from .models import Connector, GroupMessage, MessageKind, MessageState, QuarantinedGroup

# Cases a message may repeat: still open, in the same grid, created within this window.
DUPLICATE_WINDOW = timedelta(days=7)
DUPLICATE_CANDIDATES = 200
OPEN_STATES = [
    Status.NEW,
    Status.PENDING_DISPATCH,
    Status.PENDING_SIGN,
    Status.IN_PROGRESS,
    Status.PENDING_VERIFY,
]


@dataclass
class Inbound:
    """One message as an adapter understood it, before it is stored."""

    external_id: str
    group_id: str
    kind: str = MessageKind.TEXT
    text: str = ""
    sender_id: str = ""
    sender_name: str = ""
    sender_phone: str = ""
    group_name: str = ""
    sent_at: datetime | None = None
    attachment: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestResult:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    flagged: int = 0
    linked: int = 0
    ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "flagged": self.flagged,
            "linked": self.linked,
        }


def _clean_text(text: str) -> tuple[str, bool]:
    # PostgreSQL text cannot hold NUL; lone surrogates cannot be encoded. Neither is meaningful.
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    limit = int(settings.DUALGRID["MAX_MESSAGE_CHARS"])
    if len(text) > limit:
        return text[:limit], True
    return text, False


def _sent_at(value: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """The sender's clock may be wrong: a time in the future (beyond a tolerance) is replaced by now."""
    if value is None:
        return now, False
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + timedelta(seconds=int(settings.DUALGRID["CLOCK_SKEW_SECONDS"])):
        return now, True
    return value, False


def apply_triage(messages: list[GroupMessage]) -> None:
    """Triage the text messages in place (rules + the active model); other kinds are kept as they are."""
    from dualgrid.triage.engine import triage_many

    texts = [m for m in messages if m.kind == MessageKind.TEXT and m.text.strip()]
    if not texts:
        return
    for message, result in zip(texts, triage_many([m.text for m in texts]), strict=True):
        message.actionable = result.actionable
        message.triage_kind = result.kind
        message.category_code = result.category_code or ""
        message.urgency = result.urgency if result.urgency in Urgency.values else Urgency.NORMAL
        message.confidence = round(float(result.confidence), 4)
        message.reasons = list(result.reasons)
        message.model_version = result.model_version or ""


def link_duplicates(messages: list[GroupMessage], now: datetime) -> None:
    """An actionable message that repeats an open case of its grid (within 7 days) is linked to it."""
    from dualgrid.triage.engine import near_duplicate

    wanted = [m for m in messages if m.actionable and m.grid_id and m.state == MessageState.FLAGGED]
    if not wanted:
        return
    grid_ids = {m.grid_id for m in wanted}
    candidates: dict[int, list[tuple[int, str]]] = {}
    # The newest open cases of those grids; a grid with a flood of open cases is compared with its
    # latest DUPLICATE_CANDIDATES only, so one batch never costs more than that per grid.
    rows = (
        Case.objects.filter(
            grid_id__in=grid_ids, status__in=OPEN_STATES, created_at__gte=now - DUPLICATE_WINDOW
        )
        .order_by("-created_at")
        .values_list("grid_id", "id", "title", "description")[: DUPLICATE_CANDIDATES * len(grid_ids)]
    )
    for grid_id, case_id, title, description in rows:
        pool = candidates.setdefault(grid_id, [])
        if len(pool) < DUPLICATE_CANDIDATES:
            pool.append((case_id, f"{title} {description}"))
    for message in wanted:
        against = candidates.get(message.grid_id or 0)
        if not against:
            continue
        hit = near_duplicate(message.text, against)
        if hit is not None:
            case_id, similarity = hit
            message.duplicate_of_id = case_id
            message.state = MessageState.LINKED
            message.reasons = [*message.reasons, f"与7日内未办结事件重复（相似度{similarity:.2f}）"]


def ingest(connector: Connector, items: list[Inbound], *, now: datetime | None = None) -> IngestResult:
    """Store a batch once: a message id seen before (replay, retry, re-import) changes nothing.

    Everything is written in one transaction; the caller acknowledges only after it returns.
    """
    now = now or timezone.now()
    result = IngestResult()
    unique: dict[str, Inbound] = {}
    for item in items:
        if item.external_id in unique:
            result.duplicates += 1
        else:
            unique[item.external_id] = item
    if not unique:
        return result
    with transaction.atomic():
        seen = set(
            GroupMessage.objects.filter(connector=connector, external_id__in=list(unique)).values_list(
                "external_id", flat=True
            )
        )
        fresh = [item for key, item in unique.items() if key not in seen]
        result.duplicates += len(unique) - len(fresh)
        if not fresh:
            return result
        groups = {
            g.external_id: g
            for g in ChatGroup.objects.filter(
                platform=connector.platform, external_id__in={item.group_id for item in fresh}
            )
        }
        missing = {item.group_id for item in fresh} - set(groups)
        if missing:  # ids an administrator has mapped to a registered group
            for row in QuarantinedGroup.objects.filter(
                connector=connector, external_group_id__in=missing, mapped_to__isnull=False
            ).select_related("mapped_to"):
                groups[row.external_group_id] = row.mapped_to  # type: ignore[assignment]
        messages: list[GroupMessage] = []
        unknown: dict[str, tuple[str, int, datetime]] = {}
        for item in fresh:
            text, truncated = _clean_text(item.text)
            sent_at, skew = _sent_at(item.sent_at, now)
            group = groups.get(item.group_id)
            message = GroupMessage(
                connector=connector,
                external_id=item.external_id,
                external_group_id=item.group_id,
                chat_group=group,
                grid_id=group.grid_id if group else None,
                sender_id=item.sender_id[:128],
                sender_name=item.sender_name[:64],
                sender_phone=item.sender_phone[:32],
                kind=item.kind,
                text=text,
                truncated=truncated,
                attachment=item.attachment,
                sent_at=sent_at,
                received_at=now,
                clock_skew=skew,
            )
            if group is None:
                name, count, last = unknown.get(item.group_id, (item.group_name, 0, sent_at))
                unknown[item.group_id] = (name or item.group_name, count + 1, max(last, sent_at))
            messages.append(message)
        apply_triage(messages)
        for message in messages:
            if message.chat_group_id is None:
                message.state = MessageState.QUARANTINED
            elif message.actionable and message.grid_id:
                message.state = MessageState.FLAGGED
            else:
                message.state = MessageState.CHATTER
        link_duplicates(messages, now)
        created = GroupMessage.objects.bulk_create(messages, ignore_conflicts=True)
        for group_id, (name, count, last) in unknown.items():
            _quarantine(connector, group_id, name[:128], count, last, now)
        result.stored = len(created)
        result.quarantined = sum(1 for m in messages if m.state == MessageState.QUARANTINED)
        result.flagged = sum(1 for m in messages if m.state == MessageState.FLAGGED)
        result.linked = sum(1 for m in messages if m.state == MessageState.LINKED)
    return result


def _quarantine(
    connector: Connector, group_id: str, name: str, count: int, last: datetime, now: datetime
) -> None:
    row, created = QuarantinedGroup.objects.get_or_create(
        connector=connector,
        external_group_id=group_id,
        defaults={"group_name": name, "first_seen": now, "last_seen": last, "message_count": count},
    )
    if not created:
        QuarantinedGroup.objects.filter(pk=row.pk).update(
            message_count=F("message_count") + count, last_seen=max(row.last_seen, last)
        )


def map_quarantined(row: QuarantinedGroup, group: ChatGroup, *, now: datetime | None = None) -> int:
    """An administrator says which chat group an unknown group id is: its kept messages join that
    group's grid and enter the feed; later messages with that id go there too. Returns how many moved."""
    now = now or timezone.now()
    with transaction.atomic():
        messages = list(
            GroupMessage.objects.select_for_update().filter(
                connector=row.connector,
                external_group_id=row.external_group_id,
                state=MessageState.QUARANTINED,
            )
        )
        for message in messages:
            message.chat_group = group
            message.grid_id = group.grid_id
            message.state = (
                MessageState.FLAGGED if message.actionable and group.grid_id else MessageState.CHATTER
            )
        link_duplicates(messages, now)
        GroupMessage.objects.bulk_update(messages, ["chat_group", "grid", "state", "duplicate_of", "reasons"])
        QuarantinedGroup.objects.filter(pk=row.pk).update(mapped_to=group, mapped_at=now)
    return len(messages)


def purge_chatter(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Retention: chatter older than CHATTER_RETENTION_DAYS goes; flagged, handled, dismissed (labels for
    learning) and linked messages stay."""
    days = int(settings.DUALGRID["CHATTER_RETENTION_DAYS"])
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    ids = list(
        GroupMessage.objects.filter(state=MessageState.CHATTER, sent_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:batch]
    )
    if not ids:
        return 0
    deleted, _ = GroupMessage.objects.filter(pk__in=ids).delete()
    return deleted


def purge_patrol_logs(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Retention: patrol logs (every look at the feed) older than PATROL_LOG_RETENTION_DAYS go. Patrol
    compliance (巡群统计, 晾晒) for days older than that then shows as not patrolled, so the default keeps
    more than a year (this year against last year)."""
    from .models import PatrolLog

    days = int(settings.DUALGRID["PATROL_LOG_RETENTION_DAYS"])
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    ids = list(PatrolLog.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    deleted, _ = PatrolLog.objects.filter(pk__in=ids).delete()
    return deleted
