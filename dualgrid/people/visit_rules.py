"""When a resident with a visit rule is due: pure date arithmetic, no database.

Weekly rule (the smallest ``visit_every_days`` among the resident's tags is 7): weeks are ISO weeks,
Monday 00:00 to the next Monday 00:00 in Asia/Shanghai. A week is *required* for a resident when the
weekly tag was in force on its Monday (``since`` ≤ that Monday); a person tagged mid-week is listed
as due that week but cannot be overdue for it.

- 本周已走访 (done): a visit (to the person or their household) falls in the current week.
- 已逾期 (overdue): no visit yet this week, and the previous week was required and had no visit
  either — a whole week was missed. It stays overdue until the next visit.
- 本周待走访 (due): otherwise — not yet visited this week; the deadline is this Sunday 24:00.

Any other period N (e.g. 30 days) is rolling: the next visit is due N days after the last one (after
``since`` when never visited); listed as 待走访 from ``min(7, N // 2)`` days before that day and
已逾期 from the day after it; before that the person counts as done (周期内已走访).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKLY = 7


class VisitState(models.TextChoices):
    OVERDUE = "overdue", "已逾期"
    DUE = "due", "待走访"
    DONE = "done", "已走访"


# The order of the phone list: overdue people first.
STATE_ORDER = {VisitState.OVERDUE: 0, VisitState.DUE: 1, VisitState.DONE: 2}


@dataclass(frozen=True)
class Rule:
    period: int  # days; 7 = weekly by ISO week
    since: date  # the rule applies from this day (the tag's 纳入日期)

    @property
    def weekly(self) -> bool:
        return self.period == WEEKLY


@dataclass(frozen=True)
class Status:
    state: VisitState
    due_on: date  # the last day of the period the next visit belongs to

    @property
    def label(self) -> str:
        return VisitState(self.state).label


def local_today() -> date:
    return timezone.localtime(timezone.now(), SHANGHAI).date()


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, SHANGHAI).date()


def week_start(day: date) -> date:
    """The Monday of the ISO week holding ``day``."""
    return day - timedelta(days=day.weekday())


def day_start(day: date) -> datetime:
    """00:00 of ``day`` in Asia/Shanghai, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def week_bounds(monday: date) -> tuple[datetime, datetime]:
    return day_start(monday), day_start(monday + timedelta(days=7))


def rule_of(tags: Iterable[tuple[int, date]]) -> Rule | None:
    """The rule of a resident from their tags' (visit_every_days, since): the shortest period wins;
    its ``since`` is the earliest among the tags with that period. None when no tag asks for visits."""
    ruled = [(days, since) for days, since in tags if days > 0]
    if not ruled:
        return None
    period = min(days for days, _ in ruled)
    return Rule(period=period, since=min(since for days, since in ruled if days == period))


def required_week(rule: Rule, monday: date) -> bool:
    return rule.since <= monday


def visited_in_week(visit_days: Iterable[date], monday: date) -> bool:
    end = monday + timedelta(days=7)
    return any(monday <= d < end for d in visit_days)


def status_of(rule: Rule, visit_days: Iterable[date], today: date) -> Status:
    """The state of one resident on ``today`` given the local days of their visits."""
    days = sorted(visit_days)
    if rule.weekly:
        monday = week_start(today)
        sunday = monday + timedelta(days=6)
        if visited_in_week(days, monday):
            return Status(VisitState.DONE, sunday + timedelta(days=7))
        previous = monday - timedelta(days=7)
        if required_week(rule, previous) and not visited_in_week(days, previous):
            return Status(VisitState.OVERDUE, monday - timedelta(days=1))
        return Status(VisitState.DUE, sunday)
    last = max((d for d in days if d <= today), default=None)
    due_on = (last or rule.since) + timedelta(days=rule.period)
    if today > due_on:
        return Status(VisitState.OVERDUE, due_on)
    if today >= due_on - timedelta(days=min(7, rule.period // 2)):
        return Status(VisitState.DUE, due_on)
    return Status(VisitState.DONE, due_on)


def recent_weeks(today: date, count: int = 12) -> list[date]:
    """Mondays of the current week and the ``count - 1`` before it, newest first."""
    monday = week_start(today)
    return [monday - timedelta(days=7 * i) for i in range(count)]


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    sunday = monday + timedelta(days=6)
    return f"{year}年第{week}周（{monday:%m-%d}至{sunday:%m-%d}）"
