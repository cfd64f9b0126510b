"""巡群 — the patrol feed: reads (scoped like every other list) and the actions taken on it.

Selectors: ``messages_for_user`` (the scope), ``feed_list``, ``message_get_for_user``, ``message_context``,
``case_draft``, ``alerts_for_user``/``alert_count``, ``patrol_report``/``patrol_today``.
Services: ``message_make_case``, ``message_dismiss``, ``patrol_log``, ``alert_sweep`` (the worker's).

Scope: an administrator sees every grid's messages; a dispatcher or leader the grids inside their unit; a
grid worker their own grids and their micro-grids (``User.grids``). Leaders read only. Outside the scope a
message does not exist (NotFound → 404).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from django.conf import settings
from django.db import transaction
from django.db.models import Case as When_
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.models import effective_role as role_of
from dualgrid.cases import config as case_config
from dualgrid.cases.models import Case, Category, Channel, Urgency
from dualgrid.cases.services import MAX_DESCRIPTION, CaseInput, case_create
from dualgrid.lib.errors import Conflict, Forbidden, Invalid, NotFound
from dualgrid.people.models import Assignment
from dualgrid.people.selectors import in_force
from dualgrid.places.models import AdminUnit, Grid
from dualgrid.places.selectors import grids_for_user, within_unit

from .models import GroupMessage, MessageState, PatrolLog, PatrolWindow

VIEWERS = frozenset({Role.ADMIN, Role.DISPATCHER, Role.GRIDWORKER, Role.LEADER})
ACTORS = frozenset({Role.ADMIN, Role.DISPATCHER, Role.GRIDWORKER})
SUPERVISORS = frozenset({Role.ADMIN, Role.DISPATCHER, Role.LEADER})
# Alerts go to the centre and to the grid's 网格长 (or, where the leader has no account, its workers).
ALERTED_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.GRIDWORKER, Role.LEADER})
GRID_LEADER_ROLE = "grid_leader"  # StaffRole.code shipped by people/defaults.py

HANDLED_STATES = (MessageState.CASE, MessageState.LINKED, MessageState.DISMISSED)
TABS: dict[str, str] = {"pending": "待处置", "handled": "已处理", "all": "全部消息"}
DISMISS_REASONS = ("闲聊", "广告", "已线下处理", "重复", "其他")
CONTEXT_SIZE = 5
TITLE_CHARS = 30
MAX_REPORT_DAYS = 31
MAX_UNIT_DEPTH = 8
NOT_IN_SCOPE = "消息不存在或不在您的管辖范围内"


def local_zone() -> tzinfo:
    """The district's clock (settings.TIME_ZONE, Asia/Shanghai): patrol days and windows are local."""
    return timezone.get_default_timezone()


def local_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), local_zone()).date()


# --- reads -------------------------------------------------------------------------------------------


def messages_for_user(user: User) -> QuerySet[GroupMessage]:
    """Every message of a group whose grid is in the user's scope (quarantined ones have no grid)."""
    role = role_of(user)
    if role not in VIEWERS:
        return GroupMessage.objects.none()
    qs = GroupMessage.objects.filter(grid__isnull=False)
    if role == Role.ADMIN:
        return qs
    return qs.filter(grid_id__in=grids_for_user(user).values("pk"))


def _with_relations(qs: QuerySet[GroupMessage]) -> QuerySet[GroupMessage]:
    return qs.select_related("chat_group", "grid", "handled_by", "case", "duplicate_of").defer(
        "grid__boundary"
    )


def _urgent_first(qs: QuerySet[GroupMessage]) -> QuerySet[GroupMessage]:
    rank = When_(When(urgency=Urgency.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField())
    return qs.annotate(urgency_rank=rank).order_by("urgency_rank", "-sent_at", "-id")


def feed_list(user: User, tab: str = "pending") -> QuerySet[GroupMessage]:
    """待处置: flagged, urgent first then newest. 已处理: made into a case, linked to one, or dismissed,
    latest decision first. 全部消息: the raw stream of the user's groups, newest first."""
    qs = _with_relations(messages_for_user(user))
    if tab == "pending":
        return _urgent_first(qs.filter(state=MessageState.FLAGGED))
    if tab == "handled":
        return (
            qs.filter(state__in=HANDLED_STATES)
            .annotate(done_at=Coalesce("handled_at", "received_at"))
            .order_by("-done_at", "-id")
        )
    if tab == "all":
        return qs.order_by("-sent_at", "-id")
    raise NotFound("没有这个栏目", field="tab", code="not_found")


def spans_grids(user: User) -> bool:
    """Whether the user reads more than one grid's messages (cards then name the grid)."""
    if role_of(user) != Role.GRIDWORKER:
        return True
    return user.grids.count() > 1


def pending_count(user: User) -> int:
    return messages_for_user(user).filter(state=MessageState.FLAGGED).count()


def message_get_for_user(user: User, message_id: int) -> GroupMessage:
    """Fetch-and-check in one call: a message outside the scope does not exist for this user."""
    message = _with_relations(messages_for_user(user)).filter(pk=message_id).first()
    if message is None:
        raise NotFound(NOT_IN_SCOPE, field="id", code="not_found")
    return message


def message_get_for_action(user: User, message_id: int) -> GroupMessage:
    """As ``message_get_for_user``, for someone about to act: leaders and other readers are refused."""
    if role_of(user) not in ACTORS:
        raise Forbidden("您的角色只能查看群消息，不能处置", code="forbidden")
    return message_get_for_user(user, message_id)


def message_context(user: User, message_id: int, *, around: int = CONTEXT_SIZE) -> list[GroupMessage]:
    """The conversation around a message: up to ``around`` messages before and after it in its group."""
    message = message_get_for_user(user, message_id)
    if message.chat_group_id is None:
        return [message]
    same = GroupMessage.objects.filter(chat_group_id=message.chat_group_id).only(
        "id", "sender_name", "kind", "text", "sent_at", "state", "urgency"
    )
    at = message.sent_at
    before = same.filter(Q(sent_at__lt=at) | Q(sent_at=at, id__lt=message.pk)).order_by("-sent_at", "-id")
    after = same.filter(Q(sent_at__gt=at) | Q(sent_at=at, id__gt=message.pk)).order_by("sent_at", "id")
    return [*reversed(list(before[:around])), message, *after[:around]]


def category_of(message: GroupMessage) -> Category | None:
    return case_config.category_by_code(message.category_code) if message.category_code else None


@dataclass
class CaseDraft:
    """What 转为事件 proposes; the worker may change any of it before the case is registered."""

    title: str
    description: str
    category_code: str = ""
    urgency: str = Urgency.NORMAL
    reporter_name: str = ""


def case_draft(message: GroupMessage) -> CaseDraft:
    """The case a message suggests: its first line as title, its text, the triage's category and urgency,
    the sender as reporter. A category the tree does not hold is left to the centre."""
    first_line = next((" ".join(line.split()) for line in message.text.splitlines() if line.strip()), "")
    title = first_line[:TITLE_CHARS] or f"网格群{message.get_kind_display()}消息"
    description = message.text.strip() or f"（{message.get_kind_display()}消息，无文字内容）"
    category = category_of(message)
    return CaseDraft(
        title=title,
        description=description[:MAX_DESCRIPTION],
        category_code=category.code if category is not None and category.active else "",
        urgency=message.urgency if message.urgency in Urgency.values else Urgency.NORMAL,
        reporter_name=message.sender_name[:32],
    )


# --- actions -----------------------------------------------------------------------------------------


def _local(moment: datetime) -> str:
    return timezone.localtime(moment, local_zone()).strftime("%m-%d %H:%M")


def _already_handled(message: GroupMessage) -> Conflict:
    who = str(message.handled_by) if message.handled_by_id else "系统"
    when = _local(message.handled_at) if message.handled_at else ""
    if message.state == MessageState.CASE:
        number = message.case.number if message.case is not None else ""
        text = f"该消息已由{who}于{when}转为事件{number}，无需重复处理"
    elif message.state == MessageState.DISMISSED:
        text = f"该消息已由{who}于{when}忽略（{message.dismiss_reason}），无需重复处理"
    elif message.state == MessageState.LINKED:
        linked = message.case or message.duplicate_of
        text = f"该消息已并入事件{linked.number if linked is not None else ''}，无需重复处理"
    else:
        text = f"该消息当前为“{message.get_state_display()}”，不能处置"
    return Conflict(text, code="already_handled")


def _lock_flagged(actor: User, message_id: int) -> GroupMessage:
    """Inside a transaction: the message in scope, locked, and still waiting for someone."""
    message_get_for_action(actor, message_id)
    message = GroupMessage.objects.select_for_update().get(pk=message_id)
    if message.state != MessageState.FLAGGED:
        raise _already_handled(message)
    return message


def message_make_case(
    *, actor: User, message_id: int, draft: CaseDraft, now: datetime | None = None
) -> tuple[GroupMessage, Case]:
    """转为事件: register a case from a flagged message (channel 网格群, the group's grid, the sender as
    reporter, normal routing) and mark the message as made into it — both or neither.

    Two people tapping at once: the row lock (and the conditional update, for databases without row
    locks) lets one through; the other gets a Conflict saying who did it and which case it became.
    """
    now = now or timezone.now()
    with transaction.atomic():
        message = _lock_flagged(actor, message_id)
        grid_code = Grid.objects.filter(pk=message.grid_id or 0).values_list("code", flat=True).first()
        case, _ = case_create(
            actor=actor,
            data=CaseInput(
                channel=Channel.GROUP,
                title=draft.title,
                description=draft.description,
                category_code=draft.category_code or None,
                urgency=draft.urgency,
                reporter_name=draft.reporter_name,
                reporter_phone=message.sender_phone,
                grid_code=grid_code,
                idempotency_key=f"group-message-{message.pk}",
            ),
            now=now,
        )
        changed = GroupMessage.objects.filter(pk=message.pk, state=MessageState.FLAGGED).update(
            state=MessageState.CASE, case=case, handled_by=actor, handled_at=now
        )
        if changed != 1:
            raise _already_handled(
                GroupMessage.objects.select_related("case", "handled_by").get(pk=message.pk)
            )
        link_repeats(case, message, now)
        PatrolLog.objects.create(user=actor, at=now, action="make_case")
    return message_get_for_user(actor, message_id), case


def merged_into(case: Case) -> list[GroupMessage]:
    """The messages linked to a case as repeats (state ``linked``), for their cards."""
    return list(_with_relations(GroupMessage.objects.filter(duplicate_of=case, state=MessageState.LINKED)))


REPEAT_NOTE = "与事件{number}重复（相似度{similarity:.2f}），转为事件时一并关联"


def link_repeats(case: Case, source: GroupMessage, now: datetime) -> int:
    """Other messages of the grid still waiting in the feed that say the same thing (near-duplicates of
    the new case or of the message it came from, sent within 7 days) join the case as repeats
    (关联, state ``linked``) instead of waiting to become a second case — several residents often post
    the same warning. Returns how many were linked; 取消关联 (``message_unlink``) undoes one."""
    from dualgrid.triage.engine import near_duplicate

    from .inbound import DUPLICATE_CANDIDATES, DUPLICATE_WINDOW

    if not source.grid_id:
        return 0
    against = [(case.pk, f"{case.title} {case.description}"), (case.pk, source.text)]
    waiting = (
        GroupMessage.objects.filter(
            grid_id=source.grid_id,
            state=MessageState.FLAGGED,
            sent_at__gte=now - DUPLICATE_WINDOW,
            received_at__lte=now,  # what had arrived when the case was made (``now`` may be given)
        )
        .exclude(pk=source.pk)
        .order_by("-sent_at")
        .values_list("pk", "text", "reasons")[:DUPLICATE_CANDIDATES]
    )
    linked = 0
    for pk, text, reasons in waiting:
        hit = near_duplicate(text, against)
        if hit is None:
            continue
        note = REPEAT_NOTE.format(number=case.number, similarity=hit[1])
        linked += GroupMessage.objects.filter(pk=pk, state=MessageState.FLAGGED).update(
            state=MessageState.LINKED, duplicate_of=case, reasons=[*(reasons or []), note]
        )
    return linked


def message_dismiss(
    *, actor: User, message_id: int, reason: str, note: str = "", now: datetime | None = None
) -> GroupMessage:
    """忽略: a flagged message needs nothing; the reason is kept (and is a label for learning)."""
    note = " ".join((note or "").split())
    errors: dict[str, str] = {}
    if reason not in DISMISS_REASONS:
        errors["reason"] = "请选择忽略原因"
    elif reason == "其他" and not note:
        errors["note"] = "请说明忽略的原因"
    if len(note) > 150:
        errors["note"] = "说明不能超过150字"
    if errors:
        raise Invalid(errors)
    now = now or timezone.now()
    with transaction.atomic():
        message = _lock_flagged(actor, message_id)
        changed = GroupMessage.objects.filter(pk=message.pk, state=MessageState.FLAGGED).update(
            state=MessageState.DISMISSED,
            dismiss_reason=f"{reason}：{note}" if note else reason,
            handled_by=actor,
            handled_at=now,
        )
        if changed != 1:
            raise _already_handled(
                GroupMessage.objects.select_related("case", "handled_by").get(pk=message.pk)
            )
        PatrolLog.objects.create(user=actor, at=now, action="dismiss")
    return message_get_for_user(actor, message_id)


def message_unlink(*, actor: User, message_id: int, now: datetime | None = None) -> GroupMessage:
    """撤销并入: triage took a message for a repeat of an open case and it is not one. The message goes
    back to 待处置 (so it can be made into its own case or dismissed); who undid the link is kept."""
    now = now or timezone.now()
    message_get_for_action(actor, message_id)
    with transaction.atomic():
        message = GroupMessage.objects.select_for_update().get(pk=message_id)
        if message.state != MessageState.LINKED or message.case_id is not None:
            raise Conflict("这条消息当前没有自动并入的事件，无需撤销", code="not_linked")
        note = f"{actor.label}于{timezone.localtime(now):%m-%d %H:%M}撤销并入事件"
        changed = GroupMessage.objects.filter(pk=message.pk, state=MessageState.LINKED).update(
            state=MessageState.FLAGGED, duplicate_of=None, reasons=[*message.reasons, note]
        )
        if changed != 1:
            raise Conflict("这条消息已被他人处理，请刷新后查看", code="already_handled")
        PatrolLog.objects.create(user=actor, at=now, action="unlink")
    return message_get_for_user(actor, message_id)


def patrol_log(*, user: User, action: str = "view", now: datetime | None = None) -> None:
    """A look at the feed is the evidence of a patrol at that time."""
    PatrolLog.objects.create(user=user, at=now or timezone.now(), action=action[:16])


# --- urgent alerts -----------------------------------------------------------------------------------


def alert_minutes() -> int:
    return int(settings.DUALGRID["URGENT_ALERT_MINUTES"])


def alert_max_age() -> timedelta:
    return timedelta(hours=int(settings.DUALGRID["URGENT_ALERT_MAX_AGE_HOURS"]))


def alert_sweep(now: datetime | None = None, *, batch: int = 500) -> int:
    """Mark urgent flagged messages nobody handled within URGENT_ALERT_MINUTES of their arrival.

    Only messages *sent* within URGENT_ALERT_MAX_AGE_HOURS are alerted: an imported chat history (or a
    bot's backlog after a long outage) arrives now but was written days ago, and paging the grid leader
    and the centre for last month's 走失 helps nobody — those stay flagged 紧急 in the feed. Each is marked
    once: the update only touches rows still flagged and not yet alerted, so two workers sweeping at once
    never count a message twice. Returns how many were marked.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=alert_minutes())
    due = GroupMessage.objects.filter(
        state=MessageState.FLAGGED,
        urgency=Urgency.URGENT,
        alerted_at__isnull=True,
        received_at__lte=cutoff,
        sent_at__gte=now - alert_max_age(),
    )
    ids = list(due.values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    return due.filter(pk__in=ids).update(alerted_at=now)


def _alert_scope(user: User) -> Q | None:
    """Grids whose alerts reach this user; None means every grid."""
    role = role_of(user)
    if role == Role.ADMIN:
        return None
    if role in {Role.DISPATCHER, Role.LEADER}:
        return (
            Q(grid__in=Grid.objects.filter(within_unit(user.unit))) if user.unit is not None else Q(pk__in=[])
        )
    if role != Role.GRIDWORKER:
        return Q(pk__in=[])
    leaders = Assignment.objects.filter(
        in_force(local_today()),
        role__code=GRID_LEADER_ROLE,
        staff__user__isnull=False,
        staff__user__is_active=True,
    )
    led = leaders.filter(staff__user=user).values("grid_id")
    own = grids_for_user(user).values("pk")
    return Q(grid_id__in=led) | (Q(grid_id__in=own) & ~Q(grid_id__in=leaders.values("grid_id")))


def alerts_for_user(user: User) -> QuerySet[GroupMessage]:
    """Alerted messages still waiting, oldest alert first: the centre sees its unit, a 网格长 their
    grids, a grid worker the grids whose leader has no account."""
    scope = _alert_scope(user)
    qs = GroupMessage.objects.filter(state=MessageState.FLAGGED, alerted_at__isnull=False)
    if scope is not None:
        qs = qs.filter(scope)
    return _with_relations(qs).order_by("received_at", "id")


def alert_count(user: User) -> int:
    if role_of(user) not in ALERTED_ROLES:
        return 0
    return alerts_for_user(user).count()


# --- patrol windows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    name: str
    start: time
    end: time

    @property
    def short(self) -> str:
        return self.name.removesuffix("巡群") or self.name

    @property
    def label(self) -> str:
        return f"{self.name} {self.start:%H:%M}–{self.end:%H:%M}"


class WindowState:
    DONE = "done"  # a patrol inside the window
    MISSED = "missed"  # the window passed without one
    OPEN = "open"  # the window is under way, no patrol yet
    UPCOMING = "upcoming"  # not started yet


WINDOW_STATE_LABELS = {
    WindowState.DONE: "已巡",
    WindowState.MISSED: "未巡",
    WindowState.OPEN: "进行中",
    WindowState.UPCOMING: "未到",
}


@dataclass
class WindowResult:
    window: Window
    state: str
    first_at: datetime | None = None

    @property
    def state_label(self) -> str:
        return WINDOW_STATE_LABELS[self.state]


@dataclass
class PatrolDay:
    """One worker on one local day: each key window patrolled or not, and the flagged messages handled."""

    worker: User
    day: date
    grid_names: str
    windows: list[WindowResult]
    handled: int = 0
    median_minutes: float | None = None
    average_minutes: float | None = None

    @property
    def windows_done(self) -> int:
        return sum(1 for w in self.windows if w.state == WindowState.DONE)

    @property
    def windows_due(self) -> int:
        """Windows that have started (an upcoming one is not yet owed)."""
        return sum(1 for w in self.windows if w.state != WindowState.UPCOMING)

    @property
    def missed(self) -> bool:
        return any(w.state == WindowState.MISSED for w in self.windows)


@dataclass
class PatrolReport:
    date_from: date
    date_to: date
    rows: list[PatrolDay] = field(default_factory=list)
    workers: int = 0
    median_minutes: float | None = None

    @property
    def windows_done(self) -> int:
        return sum(r.windows_done for r in self.rows)

    @property
    def windows_due(self) -> int:
        return sum(r.windows_due for r in self.rows)

    @property
    def rate(self) -> float | None:
        return self.windows_done / self.windows_due if self.windows_due else None

    @property
    def handled(self) -> int:
        return sum(r.handled for r in self.rows)


class WindowBook:
    """Which windows apply to a unit: its own, else its nearest ancestor's, else the defaults (no unit)."""

    def __init__(self) -> None:
        self.by_unit: dict[int | None, list[Window]] = defaultdict(list)
        for row in PatrolWindow.objects.order_by("start", "id"):
            self.by_unit[row.unit_id].append(Window(row.name, row.start, row.end))
        self.parents: dict[int, int | None] = {}
        if any(key is not None for key in self.by_unit):
            self.parents = dict(AdminUnit.objects.values_list("id", "parent_id"))
        self._cache: dict[int | None, list[Window]] = {}

    def for_unit(self, unit_id: int | None) -> list[Window]:
        if unit_id not in self._cache:
            node = unit_id
            for _ in range(MAX_UNIT_DEPTH):  # a tree of four levels; the bound guards against a bad edit
                if node is None or node in self.by_unit:
                    break
                node = self.parents.get(node)
            else:
                node = None
            self._cache[unit_id] = list(self.by_unit.get(node, []))
        return self._cache[unit_id]


def windows_for_unit(unit: AdminUnit | None) -> list[Window]:
    return WindowBook().for_unit(unit.pk if unit is not None else None)


def workers_in_scope(scope: User | AdminUnit) -> QuerySet[User]:
    """The grid workers a report covers: a grid worker themself; for a unit or a supervisor, every active
    grid worker serving a grid inside it."""
    workers = User.objects.filter(role=Role.GRIDWORKER, is_active=True)
    if isinstance(scope, AdminUnit):
        grids = Grid.objects.filter(within_unit(scope))
    elif role_of(scope) == Role.GRIDWORKER:
        return workers.filter(pk=scope.pk)
    elif role_of(scope) == Role.ADMIN:
        return workers.filter(grids__isnull=False).distinct()
    elif role_of(scope) in SUPERVISORS and scope.unit is not None:
        grids = Grid.objects.filter(within_unit(scope.unit))
    else:
        return workers.none()
    return workers.filter(pk__in=User.grids.through.objects.filter(grid__in=grids).values("user_id"))


def _minutes(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0) / 60


def patrol_report(
    scope: User | AdminUnit,
    date_from: date,
    date_to: date,
    *,
    town_id: int | None = None,
    now: datetime | None = None,
) -> PatrolReport:
    """Per grid worker × local day (Asia/Shanghai): for each key window of the worker's unit, whether
    they looked at the feed inside it (start and end included), and the flagged messages they handled
    that day with the median and average minutes from arrival to decision.

    A worker's unit is their account's unit if set, else the village of their first grid; the windows
    are that unit's own, else the nearest ancestor's, else the defaults.
    """
    if date_to < date_from:
        raise Invalid({"date_to": "结束日期不能早于开始日期"})
    if (date_to - date_from).days >= MAX_REPORT_DAYS:
        raise Invalid({"date_to": f"一次最多统计{MAX_REPORT_DAYS}天"})
    now = now or timezone.now()
    zone = local_zone()
    report = PatrolReport(date_from=date_from, date_to=date_to)
    workers_qs = workers_in_scope(scope)
    if town_id:
        workers_qs = workers_qs.filter(grids__town_id=town_id).distinct()
    workers = list(workers_qs.order_by("username"))
    if not workers:
        return report
    ids = [w.pk for w in workers]
    grid_rows = (
        User.grids.through.objects.filter(user_id__in=ids)
        .values_list("user_id", "grid__code", "grid__name", "grid__village_id")
        .order_by("grid__code")
    )
    first_grid: dict[int, tuple[str, int]] = {}
    names: dict[int, list[str]] = defaultdict(list)
    for user_id, code, name, village_id in grid_rows:
        first_grid.setdefault(user_id, (code, village_id))
        names[user_id].append(name)
    book = WindowBook()
    start = datetime.combine(date_from, time.min, tzinfo=zone)
    end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
    logs: dict[int, list[datetime]] = defaultdict(list)
    for user_id, at in (
        PatrolLog.objects.filter(user_id__in=ids, at__gte=start, at__lt=end)
        .order_by("at")
        .values_list("user_id", "at")
    ):
        logs[user_id].append(at)
    waits: dict[tuple[int, date], list[float]] = defaultdict(list)
    for user_id, handled_at, received_at in GroupMessage.objects.filter(
        handled_by_id__in=ids,
        handled_at__gte=start,
        handled_at__lt=end,
        state__in=[MessageState.CASE, MessageState.DISMISSED],
    ).values_list("handled_by_id", "handled_at", "received_at"):
        if handled_at is None:
            continue
        day = timezone.localtime(handled_at, zone).date()
        waits[(user_id, day)].append(_minutes(handled_at - received_at))
    all_waits: list[float] = []
    days = [date_from + timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    for worker in sorted(workers, key=lambda w: (first_grid.get(w.pk, ("~", 0))[0], w.username)):
        unit_id = worker.unit_id or first_grid.get(worker.pk, ("", None))[1]
        windows = book.for_unit(unit_id)
        times = logs.get(worker.pk, [])
        for day in reversed(days):
            results = []
            for window in windows:
                w_start = datetime.combine(day, window.start, tzinfo=zone)
                w_end = datetime.combine(day, window.end, tzinfo=zone)
                i = bisect_left(times, w_start)
                hit = times[i] if i < len(times) and times[i] <= w_end else None
                if hit is not None:
                    state = WindowState.DONE
                elif now > w_end:
                    state = WindowState.MISSED
                elif now >= w_start:
                    state = WindowState.OPEN
                else:
                    state = WindowState.UPCOMING
                results.append(WindowResult(window, state, hit))
            minutes = waits.get((worker.pk, day), [])
            all_waits.extend(minutes)
            report.rows.append(
                PatrolDay(
                    worker=worker,
                    day=day,
                    grid_names="、".join(names.get(worker.pk, [])),
                    windows=results,
                    handled=len(minutes),
                    median_minutes=round(statistics.median(minutes), 1) if minutes else None,
                    average_minutes=round(statistics.fmean(minutes), 1) if minutes else None,
                )
            )
    report.workers = len(workers)
    report.median_minutes = round(statistics.median(all_waits), 1) if all_waits else None
    return report


def patrol_today(user: User, now: datetime | None = None) -> PatrolDay | None:
    """A grid worker's own row for today (None for other roles)."""
    if role_of(user) != Role.GRIDWORKER:
        return None
    today = local_today(now)
    rows = patrol_report(user, today, today, now=now).rows
    return rows[0] if rows else None


def waiting_minutes(message: GroupMessage, now: datetime | None = None) -> int:
    """How long a message has waited for someone (minutes since it arrived)."""
    end = message.handled_at or now or timezone.now()
    return int(_minutes(end - message.received_at))
