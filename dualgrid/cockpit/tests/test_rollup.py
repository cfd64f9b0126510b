from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from dualgrid.cases.models import CaseEvent
from dualgrid.cockpit.models import COUNTER_FIELDS, DailyFigure, Dim, GridLoad, Level, RollupMark
from dualgrid.cockpit.rollup import MARK, rebuild, rebuild_all, rollup_events, rollup_pending
from dualgrid.conftest import Cast

from .stories import at, extended_reworked_unrated_case, midnight_case, rejected_case

pytestmark = pytest.mark.django_db
MAR = {n: date(2026, 3, n) for n in range(1, 10)}


def total(day: date, level: int = Level.ALL, unit_id: int = 0) -> dict[str, int]:
    row = DailyFigure.objects.filter(day=day, level=level, unit_id=unit_id, dim=Dim.TOTAL, key="").first()
    return {f: getattr(row, f) for f in COUNTER_FIELDS if getattr(row, f)} if row else {}


def snapshot() -> dict[tuple[Any, ...], tuple[int, ...]]:
    return {
        (r.day, r.level, r.unit_id, r.dim, r.key): tuple(getattr(r, f) for f in COUNTER_FIELDS)
        for r in DailyFigure.objects.all()
    }


def test_a_case_crossing_midnight_counts_on_the_local_day_of_each_step(cast: Cast) -> None:
    midnight_case(cast)
    rollup_events(settle_seconds=0)
    assert total(MAR[1]) == {
        "received": 1,
        "dispatched": 1,
        "signed": 1,
        "resolved": 1,
        "sign_seconds_sum": 300,  # 23:50 dispatch → 23:55 sign
        "resolve_seconds_sum": 480,  # 23:50 → 23:58
    }
    assert total(MAR[2]) == {"closed": 1, "closed_on_time": 1, "rated": 1, "satisfied": 1}


def test_extension_rework_and_unrated_close_are_counted_once_each(cast: Cast) -> None:
    extended_reworked_unrated_case(cast)
    rejected_case(cast)
    rollup_events(settle_seconds=0)
    assert total(MAR[3]) == {
        "received": 2,
        "rejected": 1,
        "dispatched": 1,
        "signed": 1,
        "resolved": 2,
        "deferred": 1,
        "reworked": 1,
        "rated": 1,
        "unsatisfied": 1,
        "sign_seconds_sum": 3600,  # 09:20 dispatch → 10:20 sign
        # 09:20 → 13:20 (4 h), then the clock restarts at the 不满意 rating: 15:00 → 17:00 (2 h)
        "resolve_seconds_sum": 6 * 3600,
    }
    assert total(MAR[7]) == {"closed": 1, "closed_on_time": 1, "auto_closed": 1, "deferred_closed": 1}


def test_slices_carry_the_case_place_channel_and_categories(cast: Cast) -> None:
    midnight_case(cast)
    rejected_case(cast)
    rollup_events(settle_seconds=0)
    assert total(MAR[1], Level.COUNTY, cast.county.pk)["received"] == 1
    assert total(MAR[1], Level.TOWN, cast.town_a.pk)["received"] == 1
    assert total(MAR[1], Level.VILLAGE, cast.village_a.pk)["received"] == 1
    assert total(MAR[1], Level.GRID, cast.grid_a.pk)["received"] == 1
    assert total(MAR[3], Level.GRID, cast.grid_b.pk) == {"received": 1, "rejected": 1}
    assert total(MAR[1], Level.GRID, cast.grid_b.pk) == {}
    by = {
        (r.dim, r.key): r.received
        for r in DailyFigure.objects.filter(day=MAR[1], level=Level.COUNTY, unit_id=cast.county.pk)
    }
    assert by == {
        (Dim.TOTAL, ""): 1,
        (Dim.CHANNEL, "web"): 1,
        (Dim.TOP_CATEGORY, str(cast.parking.parent_id)): 1,
        (Dim.CATEGORY, str(cast.parking.pk)): 1,
        # worker_a signed and resolved it (a resident reported it: nobody's 上报; a grid handled it: no
        # department row).
        (Dim.WORKER, str(cast.worker_a.pk)): 0,
    }
    # Grids keep the total, the top-level categories and the handlers only.
    assert set(
        DailyFigure.objects.filter(level=Level.GRID, unit_id=cast.grid_a.pk).values_list("dim", flat=True)
    ) == {Dim.TOTAL, Dim.TOP_CATEGORY, Dim.WORKER}


def test_rollup_is_idempotent_and_resumes_from_the_watermark(cast: Cast) -> None:
    midnight_case(cast)
    first = rollup_events(settle_seconds=0)
    assert first == CaseEvent.objects.count()
    before = snapshot()
    assert rollup_events(settle_seconds=0) == 0
    assert snapshot() == before
    rejected_case(cast)
    assert rollup_events(settle_seconds=0) == 2
    assert total(MAR[3]) == {"received": 1, "rejected": 1}
    assert {k: v for k, v in snapshot().items() if k[0] != MAR[3]} == before
    assert RollupMark.objects.get(name=MARK).last_id == CaseEvent.objects.latest("id").pk


def test_small_batches_add_up_to_the_same_figures_as_a_rebuild(cast: Cast) -> None:
    midnight_case(cast)
    extended_reworked_unrated_case(cast)
    rejected_case(cast)
    events = CaseEvent.objects.count()
    read = 0
    while True:
        batch = rollup_events(batch=3, settle_seconds=0)
        read += batch
        if batch == 0:
            break
    assert read == events
    incremental = snapshot()
    assert rebuild(MAR[1], MAR[9]) == len(incremental)
    assert snapshot() == incremental


def test_events_are_read_only_once_the_settle_time_has_passed(cast: Cast) -> None:
    midnight_case(cast)
    now = timezone.now()
    assert rollup_events(settle_seconds=30, now=now) == 0  # notes the horizon
    assert rollup_events(settle_seconds=30, now=now + timedelta(seconds=10)) == 0
    assert rollup_events(settle_seconds=30, now=now + timedelta(seconds=31)) == CaseEvent.objects.count()


def test_rebuild_counts_only_what_the_watermark_covers(cast: Cast) -> None:
    midnight_case(cast)
    rollup_events(settle_seconds=0)
    rejected_case(cast)  # not rolled up yet: the next incremental round will count it
    rebuild(MAR[1], MAR[9])
    assert total(MAR[3]) == {}
    rollup_events(settle_seconds=0)
    assert total(MAR[3]) == {"received": 1, "rejected": 1}


def test_rebuild_all_counts_history_and_moves_the_watermark(cast: Cast) -> None:
    midnight_case(cast)
    extended_reworked_unrated_case(cast)
    rebuild_all(settle_seconds=0)
    assert RollupMark.objects.get(name=MARK).last_id == CaseEvent.objects.latest("id").pk
    assert total(MAR[1])["received"] == 1
    assert total(MAR[7])["auto_closed"] == 1
    assert rollup_events(settle_seconds=0) == 0


def test_the_worker_step_drains_in_batches(cast: Cast, settings: Any) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "COCKPIT_SETTLE_SECONDS": 0}
    midnight_case(cast)
    assert rollup_pending(batch=2) == CaseEvent.objects.count()
    assert total(MAR[2])["closed"] == 1


def test_the_rebuild_command_rebuilds_a_day_range(cast: Cast) -> None:
    from django.core.management import call_command

    midnight_case(cast)
    rollup_events(settle_seconds=0)
    DailyFigure.objects.filter(day=MAR[2]).update(closed=99)
    call_command("cockpit_rebuild", "--from", "2026-03-02", "--to", "2026-03-02")
    assert total(MAR[2])["closed"] == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_count_an_event_twice(cast: Cast) -> None:
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite serialises writers itself)")
    midnight_case(cast)
    extended_reworked_unrated_case(cast)
    start = threading.Barrier(4)
    read: list[int] = []

    def worker() -> None:
        from django.db import connection as own

        try:
            start.wait()
            while (n := rollup_events(batch=4, settle_seconds=0)) > 0:
                read.append(n)
        finally:
            own.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(read) == CaseEvent.objects.count()
    assert total(MAR[1])["received"] == 1
    assert total(MAR[3])["resolved"] == 2
    assert total(MAR[7])["closed"] == 1


def test_open_tallies_follow_registrations_rejections_and_closures(cast: Cast) -> None:
    from dualgrid.cases.tests.factories import report
    from dualgrid.conftest import POINT_IN_B

    def tallies() -> dict[int, int]:
        return dict(GridLoad.objects.values_list("grid_id", "open"))

    with at("2026-03-01 23:50"):
        report(cast, category="T0101")  # stays open in grid A
    rollup_events(settle_seconds=0)
    assert tallies() == {cast.grid_a.pk: 1}
    midnight_case(cast)  # grid A, closed
    rejected_case(cast)  # grid B, voided
    with at("2026-03-04 08:00"):
        report(cast, point=POINT_IN_B, category="T0101")  # open in grid B
    rollup_events(settle_seconds=0)
    assert tallies() == {cast.grid_a.pk: 1, cast.grid_b.pk: 1}
    GridLoad.objects.all().delete()
    rebuild(MAR[1], MAR[1])  # any rebuild recounts the tallies from the daily rows
    assert tallies() == {cast.grid_a.pk: 1, cast.grid_b.pk: 1}


def test_one_worker_round_rolls_the_timeline_up(cast: Cast, settings: Any) -> None:
    from django.core.management import call_command

    settings.DUALGRID = {**settings.DUALGRID, "COCKPIT_SETTLE_SECONDS": 0}
    midnight_case(cast)
    call_command("worker", "--once")
    assert RollupMark.objects.get(name=MARK).last_id == CaseEvent.objects.latest("id").pk
    assert total(MAR[2])["closed"] == 1
