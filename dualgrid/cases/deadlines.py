"""Time limits: due dates in natural hours or working days, and the 正常/即将超期/已超期 state."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from . import config
from .models import DeadlineState, LimitUnit, Status, TimeLimit

LOCAL = ZoneInfo("Asia/Shanghai")

# Used when an administrator deleted every row: 签收 1 working day, 办结 10 working days.
FALLBACK = TimeLimit(unit=LimitUnit.WORKDAY, sign_limit=1, resolve_limit=10)


def limit_for(category, urgency: str) -> TimeLimit:  # type: ignore[no-untyped-def]
    """The most specific configured limit: the category, its ancestors, its request kind, the default."""
    rows = [row for row in config.snapshot().limits if row.urgency == urgency]
    by_category = {row.category_id: row for row in rows if row.category_id}
    node = category
    while node is not None:
        if node.id in by_category:
            return by_category[node.id]
        node = node.parent
    if category is not None:
        for row in rows:
            if not row.category_id and row.kind == category.kind:
                return row
    for row in rows:
        if not row.category_id and not row.kind:
            return row
    return FALLBACK


def _calendar(start: date, end: date) -> dict[date, bool]:
    return {day: work for day, work in config.snapshot().holidays.items() if start <= day <= end}


def is_workday(day: date, overrides: dict[date, bool]) -> bool:
    if day in overrides:
        return overrides[day]
    return day.weekday() < 5


def _horizon(days: int) -> timedelta:
    return timedelta(days=days * 3 + 30)


def add_workdays(start: datetime, days: int, overrides: dict[date, bool] | None = None) -> datetime:
    """``days`` working days after ``start``: the same clock time on the n-th following working day.

    Holidays and swapped working days (调休) come from the Holiday table (or ``overrides``, read once
    by the caller for several due dates).
    """
    local = start.astimezone(LOCAL)
    if overrides is None:
        overrides = _calendar(local.date(), local.date() + _horizon(days))
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_workday(day, overrides):
            remaining -= 1
    return datetime.combine(day, local.timetz()).astimezone(start.tzinfo or LOCAL)


def add_limit(start: datetime, amount: int, unit: str, overrides: dict[date, bool] | None = None) -> datetime:
    if unit == LimitUnit.HOUR:
        return start + timedelta(hours=amount)
    return add_workdays(start, amount, overrides)


def due_dates(start: datetime, limit: TimeLimit) -> tuple[datetime, datetime]:
    """(签收 due, 办结 due) from ``start``, reading the holiday calendar once."""
    overrides: dict[date, bool] | None = None
    if limit.unit == LimitUnit.WORKDAY:
        day = start.astimezone(LOCAL).date()
        overrides = _calendar(day, day + _horizon(max(limit.sign_limit, limit.resolve_limit)))
    return (
        add_limit(start, limit.sign_limit, limit.unit, overrides),
        add_limit(start, limit.resolve_limit, limit.unit, overrides),
    )


def running_window(case) -> tuple[datetime, datetime] | None:  # type: ignore[no-untyped-def]
    """The clock that is running for the case now: (started, due), or None when no clock runs."""
    if case.status == Status.PENDING_SIGN and case.sign_due_at and case.clock_started_at:
        return case.clock_started_at, case.sign_due_at
    if case.status == Status.IN_PROGRESS and case.resolve_due_at and case.clock_started_at:
        return case.clock_started_at, case.resolve_due_at
    return None


def deadline_status(case, now: datetime) -> tuple[str, datetime | None]:  # type: ignore[no-untyped-def]
    """The time-limit state now and when it next changes."""
    window = running_window(case)
    if window is None:
        return DeadlineState.NONE, None
    started, due = window
    warn_at = started + (due - started) * float(settings.DUALGRID["WARNING_SHARE"])
    if now >= due:
        return DeadlineState.OVERDUE, None
    if now >= warn_at:
        return DeadlineState.WARNING, due
    return DeadlineState.NORMAL, warn_at
