"""Monthly and yearly rows (grains.py): how a period is split into whole years, whole months and
leftover days, that the rollup and the rebuild keep the coarser rows equal to the sums of the daily
rows, and that the figures over long periods read from them are the daily rows' sums."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dualgrid.cases.tests.factories import act, rate, report
from dualgrid.cockpit import grains, rankings, selectors
from dualgrid.cockpit.grains import Split, split
from dualgrid.cockpit.indicators import Period
from dualgrid.cockpit.models import (
    COUNTER_FIELDS,
    DailyFigure,
    Dim,
    Figures,
    Level,
    MonthlyFigure,
    YearlyFigure,
)
from dualgrid.cockpit.rollup import add_figures, rebuild, rebuild_all, rollup_events
from dualgrid.cockpit.selectors import Place
from dualgrid.conftest import Cast

from .stories import at, extended_reworked_unrated_case, midnight_case, rejected_case

D = date
NOW = D(2026, 11, 24)


# --- splitting a period ----------------------------------------------------------------------------


def test_a_period_starting_mid_month_reads_its_first_days_then_whole_months() -> None:
    assert split(D(2026, 3, 15), D(2026, 6, 30), NOW) == Split(
        months=[(D(2026, 4, 1), D(2026, 6, 1))], days=[(D(2026, 3, 15), D(2026, 3, 31))]
    )


def test_this_month_and_this_year_are_whole_up_to_today() -> None:
    assert split(D(2026, 11, 1), NOW, NOW) == Split(months=[(D(2026, 11, 1), D(2026, 11, 1))])
    assert split(D(2026, 1, 1), NOW, NOW) == Split(years=[(D(2026, 1, 1), D(2026, 1, 1))])
    # The days after today count for nothing: a period to the month's end is the same month row.
    assert split(D(2026, 11, 1), D(2026, 11, 30), NOW) == Split(months=[(D(2026, 11, 1), D(2026, 11, 1))])
    assert split(D(2026, 1, 1), D(2026, 12, 31), NOW) == Split(years=[(D(2026, 1, 1), D(2026, 1, 1))])
    # Not from the 1st: days; ending before today: the month is not whole.
    assert split(D(2026, 11, 2), NOW, NOW) == Split(days=[(D(2026, 11, 2), NOW)])
    assert split(D(2026, 11, 1), D(2026, 11, 23), NOW) == Split(days=[(D(2026, 11, 1), D(2026, 11, 23))])
    # On the 1st of a month, "this month" is the month's row (it holds only today so far).
    assert split(D(2026, 11, 1), D(2026, 11, 1), D(2026, 11, 1)) == Split(
        months=[(D(2026, 11, 1), D(2026, 11, 1))]
    )


def test_a_period_crossing_years() -> None:
    # The cockpit's "3 years": days, a month, then whole years up to today.
    assert split(D(2023, 11, 25), NOW, NOW) == Split(
        years=[(D(2024, 1, 1), D(2026, 1, 1))],
        months=[(D(2023, 12, 1), D(2023, 12, 1))],
        days=[(D(2023, 11, 25), D(2023, 11, 30))],
    )
    # No whole year: months inside, days at both ends.
    assert split(D(2025, 12, 15), D(2026, 2, 10), NOW) == Split(
        months=[(D(2026, 1, 1), D(2026, 1, 1))],
        days=[(D(2025, 12, 15), D(2025, 12, 31)), (D(2026, 2, 1), D(2026, 2, 10))],
    )
    # Months on both sides of a whole year.
    assert split(D(2024, 10, 1), D(2026, 2, 28), NOW) == Split(
        years=[(D(2025, 1, 1), D(2025, 1, 1))],
        months=[(D(2024, 10, 1), D(2024, 12, 1)), (D(2026, 1, 1), D(2026, 2, 1))],
    )


def test_a_single_day_and_a_leap_day() -> None:
    assert split(D(2026, 3, 4), D(2026, 3, 4), NOW) == Split(days=[(D(2026, 3, 4), D(2026, 3, 4))])
    # February 2028 has 29 days: to the 28th it is days, to the 29th a whole month.
    assert split(D(2028, 2, 1), D(2028, 2, 28), D(2029, 1, 1)) == Split(
        days=[(D(2028, 2, 1), D(2028, 2, 28))]
    )
    assert split(D(2028, 2, 1), D(2028, 2, 29), D(2029, 1, 1)) == Split(
        months=[(D(2028, 2, 1), D(2028, 2, 1))]
    )
    assert split(D(2028, 2, 29), D(2028, 2, 29), D(2029, 1, 1)) == Split(
        days=[(D(2028, 2, 29), D(2028, 2, 29))]
    )
    # Today is the leap day: February so far is the month's row.
    assert split(D(2028, 2, 1), D(2028, 2, 29), D(2028, 2, 29)) == Split(
        months=[(D(2028, 2, 1), D(2028, 2, 1))]
    )


def test_a_period_in_the_future_is_empty_and_one_reaching_into_it_stops_today() -> None:
    assert split(D(2026, 12, 1), D(2026, 12, 31), NOW) == Split()
    assert split(NOW + timedelta(days=1), NOW + timedelta(days=1), NOW) == Split()
    assert split(D(2026, 11, 20), D(2027, 3, 31), NOW) == Split(days=[(D(2026, 11, 20), NOW)])
    assert split(D(2025, 12, 1), D(2027, 12, 31), NOW) == Split(
        years=[(D(2026, 1, 1), D(2026, 1, 1))], months=[(D(2025, 12, 1), D(2025, 12, 1))]
    )


def _days_covered(pieces: Split) -> list[date]:
    days: list[date] = []
    for first, last in pieces.years:
        for year in range(first.year, last.year + 1):
            days += _span(D(year, 1, 1), D(year, 12, 31))
    for first, last in pieces.months:
        month = first
        while month <= last:
            days += _span(month, grains.next_month(month) - timedelta(days=1))
            month = grains.next_month(month)
    for first, last in pieces.days:
        days += _span(first, last)
    return sorted(days)


def _span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_every_day_up_to_today_is_read_exactly_once() -> None:
    """Random periods around two year ends and a leap year: the buckets read cover each day of the
    period up to today once, and days after today only inside today's own month or year."""
    rng = random.Random(5)
    base = D(2027, 11, 1)
    for _ in range(3000):
        first = base + timedelta(days=rng.randrange(0, 900))
        last = first + timedelta(days=rng.randrange(0, 800))
        now = base + timedelta(days=rng.randrange(0, 1000))
        covered = _days_covered(split(first, last, now))
        assert len(covered) == len(set(covered)), (first, last, now)
        wanted = _span(first, min(last, now)) if first <= min(last, now) else []
        assert [d for d in covered if d <= now] == wanted, (first, last, now)
        assert all(d.year == now.year for d in covered if d > now), (first, last, now)


def test_months_are_cut_at_month_boundaries() -> None:
    assert grains.month_chunks(D(2025, 12, 20), D(2026, 2, 3)) == [
        (D(2025, 12, 20), D(2025, 12, 31)),
        (D(2026, 1, 1), D(2026, 1, 31)),
        (D(2026, 2, 1), D(2026, 2, 3)),
    ]


# --- keeping the monthly and yearly rows -----------------------------------------------------------


def _rows(model: type[Figures]) -> dict[tuple[Any, ...], tuple[int, ...]]:
    return {
        (r.day, r.level, r.unit_id, r.dim, r.key): tuple(getattr(r, f) for f in COUNTER_FIELDS)
        for r in model._default_manager.all()
    }


def _summed(start_of: Any) -> dict[tuple[Any, ...], tuple[int, ...]]:
    """The daily rows summed per month or year, computed here independently of the rollup."""
    sums: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(COUNTER_FIELDS))
    for (day, *slice_), counters in _rows(DailyFigure).items():
        acc = sums[(start_of(day), *slice_)]
        for i, value in enumerate(counters):
            acc[i] += value
    return {key: tuple(value) for key, value in sums.items()}


def _assert_coarse_rows_sum_the_daily_rows() -> None:
    assert _rows(MonthlyFigure) == _summed(grains.month_start)
    assert _rows(YearlyFigure) == _summed(grains.year_start)


def new_year_case(cast: Cast) -> None:
    """Reported, signed and resolved at the end of 31 December 2025, closed 满意 on 1 January 2026."""
    with at("2025-12-31 23:50"):
        case = report(cast, category="T0101")
    with at("2025-12-31 23:55"):
        case = act(cast.worker_a, case, "sign")
    with at("2025-12-31 23:58"):
        case = act(cast.worker_a, case, "resolve", "已劝离")
    with at("2026-01-01 00:05"):
        case = act(cast.dispatcher, case, "verify")
    with at("2026-01-01 00:10"):
        rate(case, "satisfied")


@pytest.mark.django_db
def test_the_rollup_and_a_rebuild_keep_months_and_years_equal_to_the_daily_sums(cast: Cast) -> None:
    new_year_case(cast)
    midnight_case(cast)
    extended_reworked_unrated_case(cast)
    rejected_case(cast)
    while rollup_events(batch=3, settle_seconds=0):  # many small batches, each adding its deltas
        pass
    _assert_coarse_rows_sum_the_daily_rows()
    county = (Level.COUNTY, cast.county.pk, Dim.TOTAL, "")
    month = _rows(MonthlyFigure)
    received, signed, closed = (COUNTER_FIELDS.index(f) for f in ("received", "signed", "closed"))
    # The new-year case: received and signed in December 2025 / 2025, closed in January / 2026.
    assert [month[(D(2025, 12, 1), *county)][i] for i in (received, signed, closed)] == [1, 1, 0]
    assert [month[(D(2026, 1, 1), *county)][i] for i in (received, signed, closed)] == [0, 0, 1]
    # March: the three March stories (one rejected).
    assert [month[(D(2026, 3, 1), *county)][i] for i in (received, signed, closed)] == [3, 2, 2]
    year = _rows(YearlyFigure)
    assert [year[(D(2025, 1, 1), *county)][i] for i in (received, closed)] == [1, 0]
    assert [year[(D(2026, 1, 1), *county)][i] for i in (received, closed)] == [3, 3]
    incremental = (_rows(DailyFigure), _rows(MonthlyFigure), _rows(YearlyFigure))

    rebuild(D(2025, 12, 1), D(2026, 3, 31))
    assert (_rows(DailyFigure), _rows(MonthlyFigure), _rows(YearlyFigure)) == incremental
    rebuild_all(settle_seconds=0)
    assert (_rows(DailyFigure), _rows(MonthlyFigure), _rows(YearlyFigure)) == incremental


@pytest.mark.django_db
def test_rebuilding_part_of_a_month_leaves_the_month_and_the_year_right(cast: Cast) -> None:
    midnight_case(cast)  # 1–2 March
    extended_reworked_unrated_case(cast)  # 3–7 March
    rollup_events(settle_seconds=0)
    right = (_rows(MonthlyFigure), _rows(YearlyFigure))
    # Damage the month's and the year's rows (as an upgrade leaves them: missing, or a bad repair).
    MonthlyFigure.objects.filter(day=D(2026, 3, 1)).update(closed=99)
    YearlyFigure.objects.all().delete()
    # Rebuild only the 7th: the month is summed again from all its daily rows, the 1st–6th included.
    rebuild(D(2026, 3, 7), D(2026, 3, 7))
    assert (_rows(MonthlyFigure), _rows(YearlyFigure)) == right
    # A rebuilt day whose events changed moves its month and year with it.
    DailyFigure.objects.filter(day=D(2026, 3, 2)).update(closed=50)
    rebuild(D(2026, 3, 3), D(2026, 3, 3))  # another day: the month now takes the 2nd as it stands
    _assert_coarse_rows_sum_the_daily_rows()
    assert _rows(MonthlyFigure) != right[0]
    rebuild(D(2026, 3, 2), D(2026, 3, 2))  # the 2nd itself, from its events
    assert (_rows(MonthlyFigure), _rows(YearlyFigure)) == right


# --- reading long periods --------------------------------------------------------------------------

# received on each day, one decimal digit each so every sum can be read off; 2024 is a leap year.
FIXTURE = {
    D(2023, 11, 30): 1,
    D(2023, 12, 1): 2,
    D(2024, 2, 29): 3,
    D(2024, 12, 31): 4,
    D(2025, 1, 1): 5,
    D(2025, 11, 15): 6,
    D(2026, 2, 1): 7,
}


def _fixture(cast: Cast, today: date) -> Place:
    """The county's total, two channels and two towns (children) on the fixture days and today."""
    for day, n in {**FIXTURE, today: 8}.items():
        counters = {"received": n, "closed": n, "dispatched": 10 * n}
        values = [counters.get(f, 0) for f in COUNTER_FIELDS]
        add_figures(
            {
                (day, Level.COUNTY, cast.county.pk, Dim.TOTAL, ""): values,
                (day, Level.COUNTY, cast.county.pk, Dim.CHANNEL, "web" if n % 2 else "phone"): values,
                (day, Level.TOWN, (cast.town_a if n % 2 else cast.town_b).pk, Dim.TOTAL, ""): values,
            }
        )
    return Place(Level.COUNTY, cast.county.pk, cast.county.name)


def _daily_sum(place: Place, period: Period) -> int:
    """The reference: the county's daily total rows of the period, summed without the coarser grains."""
    return sum(
        DailyFigure.objects.filter(
            place.rows(), dim=Dim.TOTAL, day__gte=period.first, day__lte=period.last
        ).values_list("received", flat=True)
    )


@pytest.mark.django_db
def test_figures_over_long_periods_equal_the_daily_sums(cast: Cast) -> None:
    today = grains.today()
    assert today > D(2026, 2, 1)  # the fixture's days are all in the past
    county = _fixture(cast, today)
    cases = [
        # (period, received: the fixture's digits it takes in, by hand)
        (Period(D(2023, 11, 30), today), 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8),
        (Period(D(2023, 12, 1), today), 2 + 3 + 4 + 5 + 6 + 7 + 8),  # Dec 2023 + 2024 + 2025 + 2026
        (Period(D(2023, 12, 2), D(2025, 1, 1)), 3 + 4 + 5),  # days, months, 2024, a day
        (Period(D(2024, 2, 29), D(2024, 2, 29)), 3),  # the leap day alone
        (Period(D(2024, 2, 1), D(2024, 2, 28)), 0),  # February 2024 without it
        (Period(D(2024, 1, 1), D(2024, 12, 30)), 3),  # a year short of its last day
        (Period(D(2025, 1, 1), D(2025, 12, 31)), 5 + 6),  # last year
        (Period(D(2026, 1, 1), today), 7 + 8),  # this year
        (
            Period(D(today.year, today.month, 1), today),
            8 + (7 if (today.year, today.month) == (2026, 2) else 0),
        ),
        (Period(D(2026, 1, 1), D(2027, 12, 31)), 7 + 8),  # reaching past today
        (Period(today + timedelta(days=1), today + timedelta(days=40)), 0),  # the future
    ]
    for period, received in cases:
        assert _daily_sum(county, period) == received, period  # the hand count matches the rows
        totals = selectors.totals(county, period)
        assert (totals["received"], totals["closed"], totals["dispatched"]) == (
            received,
            received,
            10 * received,
        ), period
    # Breakdowns and child units over three years, through the same split.
    three_years = Period(D(2023, 11, 30), today)
    assert {k: c["received"] for k, c in selectors.by_dim(county, three_years, Dim.CHANNEL).items()} == {
        "web": 1 + 3 + 5 + 7,
        "phone": 2 + 4 + 6 + 8,
    }
    kids = {kid.id: c["received"] for kid, c in selectors.by_children(county, three_years)}
    assert (kids[cast.town_a.pk], kids[cast.town_b.pk]) == (1 + 3 + 5 + 7, 2 + 4 + 6 + 8)
    towns = rankings._unit_counters(Level.TOWN, [cast.town_a.pk, cast.town_b.pk], three_years)
    assert (towns[cast.town_a.pk]["received"], towns[cast.town_b.pk]["received"]) == (16, 20)


@pytest.mark.django_db
def test_this_year_reads_one_yearly_row_not_the_days(cast: Cast) -> None:
    county = _fixture(cast, grains.today())
    this_year = Period(D(grains.today().year, 1, 1), grains.today())
    with CaptureQueriesContext(connection) as queries:
        selectors.by_dim(county, this_year, Dim.CHANNEL)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert YearlyFigure._meta.db_table in sql
    assert DailyFigure._meta.db_table not in sql and MonthlyFigure._meta.db_table not in sql
