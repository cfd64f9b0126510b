"""Publicity (宣传): notices composed by staff, scheduled to the groups of units, grids or residents' tags.

A notice's targets are the union of
- the groups of every grid inside a chosen unit,
- the groups of a chosen grid and of its micro-grids,
- the groups of every grid that has a resident with a chosen tag today (and of that grid's parent,
  whose group a micro-grid's residents are in),
always within the scope of the person who composed it. When it is due, :func:`queue_due` (worker)
turns it into one outbox row per group — re-running changes nothing (unique per notice and group).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.models import effective_role as _role
from dualgrid.lib.errors import Conflict, Forbidden, Invalid, NotFound
from dualgrid.people.models import Resident, ResidentTag, Tag
from dualgrid.people.selectors import in_force_tags
from dualgrid.people.visit_rules import day_start, local_day, local_today, week_label, week_start
from dualgrid.places.models import AdminUnit, ChatGroup, Grid
from dualgrid.places.selectors import grids_for_user, within_unit

from .models import Notice, NoticeStatus, Outbox, OutboxKind, OutboxStatus
from .outbox import choose_sender, external_group_id, sending_connectors

COMPOSER_ROLES = (Role.ADMIN, Role.DISPATCHER)
READER_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.LEADER)
QUEUE_BATCH = 20


def can_compose(user: User) -> bool:
    return _role(user) in COMPOSER_ROLES


# --- scope --------------------------------------------------------------------------------------------


def units_in_scope(user: User) -> QuerySet[AdminUnit]:
    """Units a notice may target: everything for an administrator, else the user's unit and below."""
    qs = AdminUnit.objects.all()
    if _role(user) == Role.ADMIN:
        return qs
    if not user.unit_id:
        return qs.none()
    u = user.unit_id
    return qs.filter(Q(pk=u) | Q(parent_id=u) | Q(parent__parent_id=u) | Q(parent__parent__parent_id=u))


def notices_for_user(user: User) -> QuerySet[Notice]:
    """Notices the user may read: an administrator all; others their own, those composed in their unit
    or below, and those delivered to their groups."""
    qs = Notice.objects.select_related("created_by")
    role = _role(user)
    if role == Role.ADMIN:
        return qs
    if role not in READER_ROLES:
        return qs.none()
    scope = Q(created_by=user)
    if user.unit_id:
        scope |= Q(created_by__unit__in=units_in_scope(user))
        reached = Outbox.objects.filter(
            kind=OutboxKind.NOTICE, chat_group__grid__in=grids_for_user(user)
        ).values("notice_id")
        scope |= Q(pk__in=reached)
    return qs.filter(scope)


def notice_get_for_user(user: User, notice_id: int) -> Notice:
    notice = notices_for_user(user).filter(pk=notice_id).first()
    if notice is None:
        raise NotFound("宣传不存在或不在您的管辖范围内", code="not_found")
    return notice


# --- targets ------------------------------------------------------------------------------------------


def target_grids(
    *,
    units: Iterable[AdminUnit],
    grids: Iterable[Grid],
    tags: Iterable[Tag],
    scope_of: User,
    today: date | None = None,
) -> QuerySet[Grid]:
    """The grids whose groups a notice reaches (see the module docstring)."""
    today = today or local_today()
    wanted = Q(pk__in=[])
    for unit in units:
        wanted |= within_unit(unit)
    grid_ids = [g.pk for g in grids]
    if grid_ids:
        wanted |= Q(pk__in=grid_ids) | Q(parent_id__in=grid_ids)
    tag_ids = [t.pk for t in tags]
    if tag_ids:
        holders = ResidentTag.objects.filter(in_force_tags(today), tag_id__in=tag_ids, since__lte=today)
        tagged = Resident.objects.filter(pk__in=holders.values("resident_id")).values("grid_id")
        parents = Grid.objects.filter(pk__in=tagged, parent__isnull=False).values("parent_id")
        wanted |= Q(pk__in=tagged) | Q(pk__in=parents)
    return Grid.objects.filter(wanted, active=True).filter(pk__in=grids_for_user(scope_of).values("pk"))


def notice_target_groups(notice: Notice, *, today: date | None = None) -> QuerySet[ChatGroup]:
    grids = target_grids(
        units=notice.units.all(),
        grids=notice.grids.all(),
        tags=notice.tags.all(),
        scope_of=notice.created_by,
        today=today,
    )
    return ChatGroup.objects.filter(grid__in=grids).select_related("grid").order_by("grid__code", "name")


def notice_text(notice: Notice) -> str:
    head = f"【{notice.theme or '宣传'}】{notice.title}"
    tail = f"\n——{notice.department}" if notice.department else ""
    return f"{head}\n{notice.body.strip()}{tail}"


# --- compose, cancel ----------------------------------------------------------------------------------


@dataclass
class NoticeInput:
    title: str
    body: str
    theme: str = ""
    department: str = ""
    units: list[AdminUnit] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    scheduled_at: datetime | None = None


def notice_create(*, actor: User, data: NoticeInput, now: datetime | None = None) -> Notice:
    """Compose and schedule a notice (``scheduled_at`` empty = now)."""
    now = now or timezone.now()
    if _role(actor) not in COMPOSER_ROLES:
        raise Forbidden("您的角色不能发布宣传")
    errors: dict[str, str] = {}
    title, body = data.title.strip(), data.body.strip()
    if not title:
        errors["title"] = "请填写标题"
    elif len(title) > 100:
        errors["title"] = "标题最多100字"
    if not body:
        errors["body"] = "请填写内容"
    elif len(body) > 2000:
        errors["body"] = "内容最多2000字"
    if len(data.theme.strip()) > 50:
        errors["theme"] = "本周主题最多50字"
    if len(data.department.strip()) > 64:
        errors["department"] = "发布部门最多64字"
    if not (data.units or data.grids or data.tags):
        errors["targets"] = "请至少选择一个发送对象（单位、网格或人员标签）"
    allowed_units = set(
        units_in_scope(actor).filter(pk__in=[u.pk for u in data.units]).values_list("pk", flat=True)
    )
    if any(u.pk not in allowed_units for u in data.units):
        errors["units"] = "所选单位不在您的管辖范围内"
    allowed_grids = set(
        grids_for_user(actor).filter(pk__in=[g.pk for g in data.grids]).values_list("pk", flat=True)
    )
    if any(g.pk not in allowed_grids for g in data.grids):
        errors["grids"] = "所选网格不在您的管辖范围内"
    scheduled_at = data.scheduled_at or now
    if scheduled_at < now - timedelta(minutes=5):
        errors["scheduled_at"] = "发送时间不能早于当前时间"
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        notice = Notice.objects.create(
            title=title,
            body=body,
            theme=data.theme.strip(),
            department=data.department.strip(),
            scheduled_at=scheduled_at,
            status=NoticeStatus.SCHEDULED,
            created_by=actor,
        )
        notice.units.set(data.units)
        notice.grids.set(data.grids)
        notice.tags.set(data.tags)
    return notice


def notice_cancel(*, actor: User, notice_id: int) -> Notice:
    """A scheduled notice not yet queued is not sent (queued ones: cancel single deliveries in the outbox)."""
    notice = notice_get_for_user(actor, notice_id)
    if _role(actor) not in COMPOSER_ROLES:
        raise Forbidden("您的角色不能取消宣传")
    updated = Notice.objects.filter(
        pk=notice.pk, status__in=[NoticeStatus.DRAFT, NoticeStatus.SCHEDULED]
    ).update(status=NoticeStatus.CANCELLED)
    if not updated:
        raise Conflict("宣传已进入发送队列或已取消，不能再取消", code="state")
    notice.refresh_from_db()
    return notice


def latest_theme(user: User, today: date | None = None) -> str:
    """This week's theme so far (prefills the form)."""
    start = day_start(week_start(today or local_today()))
    return (
        notices_for_user(user)
        .filter(scheduled_at__gte=start, scheduled_at__lt=start + timedelta(days=7))
        .exclude(theme="")
        .order_by("-scheduled_at")
        .values_list("theme", flat=True)
        .first()
        or ""
    )


# --- the worker ---------------------------------------------------------------------------------------


def queue_notice(notice: Notice, now: datetime) -> int:
    """One pending outbox row per target group that has a way out; returns how many rows were new."""
    senders = sending_connectors()
    text = notice_text(notice)
    rows = []
    for group in notice_target_groups(notice, today=local_day(now)):
        connector = choose_sender(group, senders)
        if connector is None:
            continue  # no bot in this group: shown on the notice's page as 未接入
        rows.append(
            Outbox(
                kind=OutboxKind.NOTICE,
                status=OutboxStatus.PENDING,
                connector=connector,
                chat_group=group,
                external_group_id=external_group_id(connector, group),
                text=text,
                notice=notice,
                created_by=notice.created_by,
                next_attempt_at=now,
            )
        )
    before = Outbox.objects.filter(notice=notice).count()
    Outbox.objects.bulk_create(rows, ignore_conflicts=True)
    return Outbox.objects.filter(notice=notice).count() - before


def queue_due(now: datetime | None = None) -> int:
    """Due scheduled notices become outbox rows (once per group) and are marked queued; returns how
    many notices were queued this call."""
    now = now or timezone.now()
    queued = 0
    due = list(
        Notice.objects.filter(status=NoticeStatus.SCHEDULED, scheduled_at__lte=now)
        .select_related("created_by")
        .order_by("scheduled_at", "id")[:QUEUE_BATCH]
    )
    for notice in due:
        with transaction.atomic():
            # The compare-and-swap decides which worker queues it; the unique constraint backs it up.
            claimed = Notice.objects.filter(pk=notice.pk, status=NoticeStatus.SCHEDULED).update(
                status=NoticeStatus.QUEUED, queued_at=now
            )
            if not claimed:
                continue
            queue_notice(notice, now)
        queued += 1
    return queued


# --- reading ------------------------------------------------------------------------------------------


@dataclass
class Week:
    monday: date
    label: str
    themes: list[str]
    notices: list[Notice]


def by_week(notices: Iterable[Notice]) -> list[Week]:
    """Notices grouped by ISO week (Asia/Shanghai) of their send time, newest week first."""
    weeks: dict[date, Week] = {}
    for notice in notices:
        monday = week_start(local_day(notice.scheduled_at))
        week = weeks.setdefault(monday, Week(monday, week_label(monday), [], []))
        week.notices.append(notice)
        if notice.theme and notice.theme not in week.themes:
            week.themes.append(notice.theme)
    return sorted(weeks.values(), key=lambda w: w.monday, reverse=True)


@dataclass
class GroupDelivery:
    group: ChatGroup
    outbox: Outbox | None


def deliveries(notice: Notice) -> list[GroupDelivery]:
    """Per group: its outbox row (status, attempts, log); groups without one are listed as 未接入 once
    the notice is queued, or as the groups it will reach while it is scheduled."""
    rows = list(
        Outbox.objects.filter(notice=notice)
        .select_related("chat_group", "chat_group__grid", "connector")
        .prefetch_related("attempt_log")
        .order_by("chat_group__grid__code", "chat_group__name")
    )
    out = [GroupDelivery(row.chat_group, row) for row in rows]
    if notice.status in (NoticeStatus.DRAFT, NoticeStatus.SCHEDULED, NoticeStatus.QUEUED):
        have = {row.chat_group_id for row in rows}
        out.extend(GroupDelivery(g, None) for g in notice_target_groups(notice) if g.pk not in have)
    return out
