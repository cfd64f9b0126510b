"""Answering back: reply drafts for cases that came from a group, the senders, and the delivery loop.

Everything that goes out to a group is an :class:`~dualgrid.watch.models.Outbox` row. The worker
(``tasks.run_round``) calls :func:`draft_replies` (a case from a group reached 待评价/已结案 → a draft
staff confirm on the case page) and :func:`process_due` (send what is due, retry with exponential
backoff, log every attempt).

Delivery is **at-least-once**. A row is claimed by moving its ``next_attempt_at`` forward by a lease,
then sent outside any transaction, then its result is recorded only if the lease is still the one this
worker set. A worker that dies between the send and the record leaves the row pending; when the lease
runs out it is due again and is sent again. A message may therefore arrive twice (receivers can
deduplicate by ``outbox_id``); it is never dropped.
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.models import effective_role as _role
from dualgrid.cases import selectors as case_selectors
from dualgrid.cases.models import Case, CaseEvent, Status
from dualgrid.lib.errors import Conflict, Forbidden, Invalid, NotFound
from dualgrid.places.models import ChatGroup
from dualgrid.places.selectors import grids_for_user, sees_groups_without_grid

from .adapters import webhook_signature
from .models import (
    Connector,
    ConnectorKind,
    DeliveryAttempt,
    GroupMessage,
    Outbox,
    OutboxKind,
    OutboxStatus,
    QuarantinedGroup,
)

log = logging.getLogger("dualgrid.worker")

SEND_TIMEOUT_SECONDS = 10
# A claimed row whose result was never recorded (the worker died) is due again after this.
LEASE_SECONDS = 120
MAX_BACKOFF_SECONDS = 6 * 3600
MAX_TEXT_CHARS = 4000
# Cases whose result goes back to the group they came from.
REPLY_STATES = (Status.PENDING_RATING, Status.CLOSED)
# Who may edit and confirm a reply draft on the case page (besides seeing the case).
REPLY_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.GRIDWORKER, Role.HANDLER})
# Who reads the outbox log (scoped by unit) and retries or cancels deliveries.
OUTBOX_ROLES = (Role.ADMIN, Role.DISPATCHER)
DRAFT_BATCH = 500


# --- senders ------------------------------------------------------------------------------------------


@dataclass
class SendResult:
    ok: bool
    status_code: int | None
    detail: str
    message_id: str = ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET and lose the message: treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _snippet(body: bytes, limit: int = 200) -> str:
    return body[:limit].decode("utf-8", "replace").strip()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, bytes, str]:
    """POST ``body``; (status, response body, error text for a transport failure)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "dualgrid-outbox/1",
            **headers,
        },
    )
    try:
        with _opener.open(request, timeout=SEND_TIMEOUT_SECONDS) as response:
            return response.status, response.read(64 * 1024), ""
    except urllib.error.HTTPError as exc:
        try:
            payload = exc.read(2048)
        except OSError:
            payload = b""
        return exc.code, payload, ""
    except urllib.error.URLError as exc:
        return None, b"", f"连接失败：{exc.reason}"
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        return None, b"", f"连接失败：{type(exc).__name__} {exc}".strip()


def send_onebot(connector: Connector, group_id: str, text: str) -> SendResult:
    """OneBot v11 HTTP API: ``POST {send_url}/send_group_msg`` with the access token as a bearer."""
    url = connector.send_url.rstrip("/") + "/send_group_msg"
    payload = {"group_id": int(group_id) if group_id.isdigit() else group_id, "message": text}
    headers = {"Authorization": f"Bearer {connector.send_token}"} if connector.send_token else {}
    status, body, error = _post(url, json.dumps(payload, ensure_ascii=False).encode(), headers)
    if status is None:
        return SendResult(False, None, error)
    if status != 200:
        return SendResult(False, status, f"HTTP {status}：{_snippet(body)}".rstrip("："))
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return SendResult(False, status, f"OneBot 响应不是JSON：{_snippet(body)}")
    if not isinstance(data, dict):
        return SendResult(False, status, "OneBot 响应格式不正确")
    if data.get("status") == "ok" or data.get("retcode") == 0:
        raw = data.get("data")
        inner: dict[str, Any] = raw if isinstance(raw, dict) else {}
        message_id = str(inner.get("message_id") or "")
        return SendResult(True, status, "已发送", message_id)
    if data.get("status") == "async":
        return SendResult(True, status, "框架已受理（异步发送）")
    reason = data.get("wording") or data.get("msg") or data.get("message") or ""
    return SendResult(
        False,
        status,
        f"OneBot 返回失败：status={data.get('status')} retcode={data.get('retcode')} {reason}".strip(),
    )


def send_webhook(connector: Connector, row: Outbox) -> SendResult:
    """Generic webhook: POST the JSON to send_url, signed like the receiving side (HMAC-SHA256)."""
    payload = {"outbox_id": row.pk, "group_id": row.external_group_id, "text": row.text, "kind": row.kind}
    body = json.dumps(payload, ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    secret = connector.send_token or connector.secret
    headers = {
        "X-Dualgrid-Timestamp": timestamp,
        "X-Dualgrid-Signature": webhook_signature(secret, timestamp, body),
    }
    status, response, error = _post(connector.send_url, body, headers)
    if status is None:
        return SendResult(False, None, error)
    if not 200 <= status < 300:
        return SendResult(False, status, f"HTTP {status}：{_snippet(response)}".rstrip("："))
    message_id = ""
    try:
        data = json.loads(response) if response else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if isinstance(data, dict) and data.get("message_id") not in (None, ""):
        message_id = str(data["message_id"])[:128]
    return SendResult(True, status, "已发送", message_id)


def unsendable(connector: Connector) -> str:
    """Why nothing can be sent through this connector ('' when it can)."""
    if not connector.active:
        return f"接入“{connector.name}”已停用，无法发送"
    if connector.kind == ConnectorKind.IMPORT:
        return f"接入“{connector.name}”是聊天记录导入，不能向群发送消息"
    if not connector.send_url:
        return f"接入“{connector.name}”未配置发送地址，无法发送"
    if not connector.send_url.startswith(("http://", "https://")):
        return f"接入“{connector.name}”的发送地址必须以 http:// 或 https:// 开头"
    return ""


def send(row: Outbox) -> SendResult:
    problem = unsendable(row.connector)
    if problem:
        return SendResult(False, None, problem)
    if row.connector.kind == ConnectorKind.ONEBOT:
        return send_onebot(row.connector, row.external_group_id, row.text)
    return send_webhook(row.connector, row)


# --- delivery loop ------------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: the first delay, doubling, capped at 6 hours."""
    first = int(settings.DUALGRID["OUTBOX_FIRST_DELAY_SECONDS"])
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def _due(now: datetime) -> QuerySet[Outbox]:
    return Outbox.objects.filter(status=OutboxStatus.PENDING).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def _claim_one(now: datetime) -> Outbox | None:
    """Take one due row for this worker: its ``next_attempt_at`` moves to a lease other workers skip.

    On PostgreSQL rows another worker is claiming are skipped (SKIP LOCKED); on SQLite writes are
    serialised and the compare-and-swap update decides.
    """
    for _ in range(5):
        with transaction.atomic():
            qs = _due(now).order_by("next_attempt_at", "id").select_related("connector")
            if connection.features.has_select_for_update_skip_locked:
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            row = qs.first()
            if row is None:
                return None
            lease = now + timedelta(seconds=LEASE_SECONDS)
            claimed = Outbox.objects.filter(
                pk=row.pk, status=OutboxStatus.PENDING, next_attempt_at=row.next_attempt_at
            ).update(next_attempt_at=lease)
            if claimed:
                row.next_attempt_at = lease
                return row
    return None


def _record(row: Outbox, lease: datetime | None, result: SendResult, at: datetime, *, final: bool) -> None:
    attempts = row.attempts + 1
    changes: dict[str, Any] = {"attempts": F("attempts") + 1}
    if result.ok:
        changes.update(
            status=OutboxStatus.SENT,
            sent_at=at,
            next_attempt_at=None,
            last_error="",
            external_message_id=result.message_id[:128],
        )
    elif final or attempts >= int(settings.DUALGRID["OUTBOX_MAX_ATTEMPTS"]):
        changes.update(status=OutboxStatus.FAILED, next_attempt_at=None, last_error=result.detail[:500])
    else:
        changes.update(next_attempt_at=at + backoff(attempts), last_error=result.detail[:500])
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            outbox=row, at=at, ok=result.ok, status_code=result.status_code, detail=result.detail[:500]
        )
        # Only while the claim is still ours: a row re-claimed after the lease ran out (or cancelled
        # meanwhile) keeps its newer state; the attempt is logged either way.
        updated = Outbox.objects.filter(pk=row.pk, status=OutboxStatus.PENDING, next_attempt_at=lease).update(
            **changes
        )
    if not updated:
        log.warning("outbox %s: result of attempt not applied (claim lost or row changed)", row.pk)


def process_due(now: datetime | None = None, limit: int = 50) -> int:
    """Send up to ``limit`` due rows; returns how many were delivered. Safe with several workers."""
    delivered = 0
    for _ in range(limit):
        at = now or timezone.now()
        row = _claim_one(at)
        if row is None:
            break
        problem = unsendable(row.connector)
        result = send(row)
        _record(row, row.next_attempt_at, result, now or timezone.now(), final=bool(problem))
        if result.ok:
            delivered += 1
        else:
            log.info("outbox %s: attempt %s failed: %s", row.pk, row.attempts + 1, result.detail)
    return delivered


# --- choosing the way out -----------------------------------------------------------------------------


def can_send(connector: Connector) -> bool:
    return not unsendable(connector)


def sending_connectors() -> list[Connector]:
    return [
        c for c in Connector.objects.filter(active=True).exclude(kind=ConnectorKind.IMPORT) if can_send(c)
    ]


def external_group_id(connector: Connector, group: ChatGroup) -> str:
    """The id this connector knows the group by: from its messages, an admin's mapping, or the register."""
    seen = (
        GroupMessage.objects.filter(connector=connector, chat_group=group)
        .order_by("-sent_at")
        .values_list("external_group_id", flat=True)
        .first()
    )
    if seen:
        return seen
    mapped = (
        QuarantinedGroup.objects.filter(connector=connector, mapped_to=group)
        .values_list("external_group_id", flat=True)
        .first()
    )
    return mapped or group.external_id


def choose_sender(
    group: ChatGroup, senders: list[Connector], preferred: Connector | None = None
) -> Connector | None:
    """The connector that answers in ``group``: the one the message came through if it can send, else
    one of the group's platform that has carried its messages, else the only one of that platform."""
    if preferred is not None and can_send(preferred):
        return preferred
    same = [c for c in senders if c.platform == group.platform]
    if len(same) == 1:
        return same[0]
    for connector in same:
        if GroupMessage.objects.filter(connector=connector, chat_group=group).exists():
            return connector
    if same:
        return same[0]
    return preferred


# --- reply drafts -------------------------------------------------------------------------------------


def _contact(case: Case) -> str:
    from dualgrid.people.selectors import current_staff

    name, phone = "", ""
    if case.assignee is not None and case.assignee.role == Role.GRIDWORKER:
        name, phone = str(case.assignee), case.assignee.phone
    else:
        grid = case.assigned_grid or case.grid
        staff = current_staff(grid).first() if grid is not None else None
        if staff is not None:
            name, phone = staff.staff.name, staff.staff.phone
    if name and phone:
        return f"如有疑问请联系网格员{name}（{phone}）。"
    if name:
        return f"如有疑问请联系网格员{name}。"
    return "如有疑问请联系本网格网格员。"


def reply_text(case: Case) -> str:
    """The template of a case's result for its group; staff may edit it before it is sent."""
    note = (
        CaseEvent.objects.filter(case=case, action="resolve")
        .order_by("-created_at", "-id")
        .values_list("note", flat=True)
        .first()
    )
    result = " ".join((note or "").split()).rstrip("。.；;，, ") or "已办理完毕"
    title = case.title if len(case.title) <= 40 else case.title[:39] + "…"
    return f"【办理结果】您在群里反映的“{title}”已办结：{result}。{_contact(case)}"


def draft_replies(now: datetime | None = None) -> int:
    """A draft reply for each (case, group) whose case came from that group and reached 待评价/已结案.

    Runs every worker round; one reply per case and group ever (the unique constraint), so a case sent
    back and resolved again keeps its first draft (staff edit it). Returns how many drafts were made.
    """
    replied = Outbox.objects.filter(
        kind=OutboxKind.REPLY, case_id=OuterRef("case_id"), chat_group_id=OuterRef("chat_group_id")
    )
    rows = (
        GroupMessage.objects.filter(
            case__isnull=False, chat_group__isnull=False, case__status__in=REPLY_STATES
        )
        .filter(~Exists(replied))
        .order_by("case_id", "chat_group_id", "-sent_at")
        .values_list("case_id", "chat_group_id", "connector_id", "external_group_id")[: DRAFT_BATCH * 4]
    )
    wanted: dict[tuple[int, int], tuple[int, str]] = {}
    for case_id, group_id, connector_id, ext_group in rows:
        wanted.setdefault((case_id, group_id), (connector_id, ext_group))
        if len(wanted) >= DRAFT_BATCH:
            break
    if not wanted:
        return 0
    cases = Case.objects.select_related("grid", "assigned_grid", "assignee").in_bulk({k[0] for k in wanted})
    groups = ChatGroup.objects.in_bulk({k[1] for k in wanted})
    connectors = Connector.objects.in_bulk({v[0] for v in wanted.values()})
    senders = sending_connectors()
    texts: dict[int, str] = {}
    drafts = []
    for (case_id, group_id), (connector_id, ext_group) in wanted.items():
        case, group, source = cases[case_id], groups[group_id], connectors[connector_id]
        connector = choose_sender(group, senders, preferred=source) or source
        if case_id not in texts:
            texts[case_id] = reply_text(case)
        drafts.append(
            Outbox(
                kind=OutboxKind.REPLY,
                status=OutboxStatus.DRAFT,
                connector=connector,
                chat_group=group,
                external_group_id=ext_group
                if connector.pk == source.pk
                else external_group_id(connector, group),
                text=texts[case_id],
                case=case,
            )
        )
    Outbox.objects.bulk_create(drafts, ignore_conflicts=True)
    return len(drafts)


# --- staff actions ------------------------------------------------------------------------------------


def replies_for_case(case: Case) -> list[Outbox]:
    """The case's group replies (the caller fetched the case through ``case_get_for_user``)."""
    return list(
        Outbox.objects.filter(kind=OutboxKind.REPLY, case=case)
        .select_related("chat_group", "connector", "created_by")
        .order_by("id")
    )


def may_manage_outbox(user: User) -> bool:
    return _role(user) in OUTBOX_ROLES


def may_confirm_reply(user: User) -> bool:
    return _role(user) in REPLY_ROLES


def _reply_for_actor(actor: User, outbox_id: int) -> tuple[Outbox, Case]:
    row = Outbox.objects.select_related("connector").filter(pk=outbox_id, kind=OutboxKind.REPLY).first()
    case_id = row.case_id if row is not None else None
    if row is None or case_id is None:
        raise NotFound("回复不存在", code="not_found")
    case = case_selectors.case_get_for_user(actor, case_id)  # scope: NotFound outside it
    if not may_confirm_reply(actor):
        raise Forbidden("您的角色不能发送群回复")
    return row, case


def reply_send(*, actor: User, outbox_id: int, text: str, now: datetime | None = None) -> Outbox:
    """Staff confirm a draft (as edited): it is queued for the worker to send."""
    now = now or timezone.now()
    row, case = _reply_for_actor(actor, outbox_id)
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise Invalid({"text": "回复内容不能为空"})
    if len(text) > MAX_TEXT_CHARS:
        raise Invalid({"text": f"回复内容最多{MAX_TEXT_CHARS}字"})
    if case.status not in REPLY_STATES:
        raise Conflict("事件已重新进入办理，办结后再发送回复", code="state")
    with transaction.atomic():
        updated = Outbox.objects.filter(pk=row.pk, status=OutboxStatus.DRAFT).update(
            status=OutboxStatus.PENDING, text=text, next_attempt_at=now, created_by=actor
        )
    if not updated:
        raise Conflict("该回复已发送或已取消", code="state")
    row.refresh_from_db()
    return row


def reply_discard(*, actor: User, outbox_id: int) -> Outbox:
    """不发送: the draft is cancelled (kept, so no new draft is made for this case and group)."""
    row, _ = _reply_for_actor(actor, outbox_id)
    updated = Outbox.objects.filter(pk=row.pk, status=OutboxStatus.DRAFT).update(
        status=OutboxStatus.CANCELLED, created_by=actor
    )
    if not updated:
        raise Conflict("该回复已发送或已取消", code="state")
    row.refresh_from_db()
    return row


def outbox_for_user(user: User) -> QuerySet[Outbox]:
    """Outgoing messages the user may read: administrators all; dispatchers their unit's groups."""
    qs = Outbox.objects.select_related("chat_group", "chat_group__grid", "connector", "case", "notice")
    role = _role(user)
    if role == Role.ADMIN:
        return qs
    if role not in OUTBOX_ROLES:
        return qs.none()
    scope = Q(chat_group__grid__in=grids_for_user(user))
    if sees_groups_without_grid(user):
        scope |= Q(chat_group__grid__isnull=True)
    return qs.filter(scope)


def outbox_get_for_user(user: User, outbox_id: int) -> Outbox:
    row = outbox_for_user(user).filter(pk=outbox_id).first()
    if row is None:
        raise NotFound("发送记录不存在或不在您的管辖范围内", code="not_found")
    return row


def outbox_retry(*, actor: User, outbox_id: int, now: datetime | None = None) -> Outbox:
    """重试: a failed message gets a fresh round of attempts (its log is kept)."""
    row = outbox_get_for_user(actor, outbox_id)
    updated = Outbox.objects.filter(pk=row.pk, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now or timezone.now()
    )
    if not updated:
        raise Conflict("只有发送失败的消息可以重试", code="state")
    row.refresh_from_db()
    return row


def outbox_cancel(*, actor: User, outbox_id: int) -> Outbox:
    """A draft or a message still waiting to be (re)sent is not sent after all."""
    row = outbox_get_for_user(actor, outbox_id)
    updated = Outbox.objects.filter(pk=row.pk, status__in=[OutboxStatus.DRAFT, OutboxStatus.PENDING]).update(
        status=OutboxStatus.CANCELLED, next_attempt_at=None
    )
    if not updated:
        raise Conflict("该消息已发送、已失败或已取消", code="state")
    row.refresh_from_db()
    return row
