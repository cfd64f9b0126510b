"""The grains of the figures: days, months and years, and how a period is split into them.

The rollup keeps the same counters three times: per day (``DailyFigure``), per calendar month
(``MonthlyFigure``, ``day`` = the month's 1st) and per calendar year (``YearlyFigure``, ``day`` =
1 January), for the same place × breakdown × key. A period sum reads whole years from the yearly
rows, whole months from the monthly rows and only the leftover days from the daily rows (the
standard OLAP roll-up), so "this year" at city level is one row per key instead of one per key and
day.

A month (year) counts as whole when the period covers it from its first day up to its last day, or
up to today: nothing is counted after today (events happen now, never in the future), so "this
month" and "this year" are one row per key. A period ending after today is read up to today.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

DayRange = tuple[date, date]


def today() -> date:
    """The local date (Asia/Shanghai) now: the last day any figure can hold."""
    return timezone.localdate(timezone=LOCAL_TZ)


def month_start(day: date) -> date:
    return day.replace(day=1)


def year_start(day: date) -> date:
    return day.replace(month=1, day=1)


def next_month(day: date) -> date:
    """The 1st of the month after ``day``'s."""
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def next_year(day: date) -> date:
    return date(day.year + 1, 1, 1)


@dataclass
class Split:
    """A period as ranges of whole years and whole months (each range given by the first days of its
    first and last bucket: the ``day`` of their rows) and ranges of leftover days."""

    years: list[DayRange] = field(default_factory=list)
    months: list[DayRange] = field(default_factory=list)
    days: list[DayRange] = field(default_factory=list)


def _whole(
    first: date, last: date, now: date, start_of: Callable[[date], date], following: Callable[[date], date]
) -> tuple[DayRange | None, DayRange | None, DayRange | None]:
    """(days before, whole buckets, days after) of ``first … last`` (last ≤ now) for one grain. A bucket
    is whole when the span starts on or before its first day and reaches its last day or today."""
    bucket = start_of(first)
    if bucket < first:
        bucket = following(bucket)  # the first bucket starting inside the span
    wholes: list[date] = []
    while bucket <= last:
        bucket_end = following(bucket) - timedelta(days=1)
        if last >= min(bucket_end, now):
            wholes.append(bucket)
        bucket = following(bucket)
    if not wholes:
        return (first, last), None, None
    head = (first, wholes[0] - timedelta(days=1)) if wholes[0] > first else None
    covered_to = following(wholes[-1]) - timedelta(days=1)
    tail = (covered_to + timedelta(days=1), last) if covered_to < last else None
    return head, (wholes[0], wholes[-1]), tail


def split(first: date, last: date, now: date | None = None) -> Split:
    """Whole years, then whole months inside what is left, then the days left over. ``now`` is today
    (the local date) unless given; a period (or its part) after it is empty."""
    now = now or today()
    last = min(last, now)
    result = Split()
    if last < first:
        return result
    head, years, tail = _whole(first, last, now, year_start, next_year)
    if years:
        result.years.append(years)
    for part in (head, tail):
        if part is None:
            continue
        days_before, months, days_after = _whole(part[0], part[1], now, month_start, next_month)
        if months:
            result.months.append(months)
        result.days += [d for d in (days_before, days_after) if d is not None]
    result.days.sort()
    result.months.sort()
    return result


def month_chunks(first: date, last: date) -> list[DayRange]:
    """``first … last`` cut at month boundaries: one range per calendar month it touches."""
    chunks = []
    day = first
    while day <= last:
        end = min(next_month(day) - timedelta(days=1), last)
        chunks.append((day, end))
        day = end + timedelta(days=1)
    return chunks
