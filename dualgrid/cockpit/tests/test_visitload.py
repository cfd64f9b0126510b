"""The map's overdue-visit counts kept per grid (visitload.py): stored by the worker's pass and by the
visit/tag services, read by the map, computed live only for grids without a row."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from dualgrid.cockpit import visitload
from dualgrid.cockpit.models import GridVisitLoad
from dualgrid.conftest import Cast
from dualgrid.lib.idcard import make_id
from dualgrid.people import services as people
from dualgrid.people.models import Tag, VisitKind
from dualgrid.people.selectors import overdue_visits_by_grid
from dualgrid.places.models import Grid

pytestmark = pytest.mark.django_db

# Tagged Monday 17 Nov 2025 (weekly care), never visited: overdue from Monday the 24th.
MONDAY = "2025-11-24 09:00 +08:00"


@pytest.fixture
def leader(cast: Cast, login: Any) -> Client:
    return login(cast.leader)


@pytest.fixture
def overdue_resident(cast: Cast) -> Any:
    care = Tag.objects.get(group="care", code="01")
    resident = people.resident_create(
        actor=None,
        data=people.ResidentInput(
            name="王秀英", grid_code=cast.grid_a.code, id_number=make_id("500152", date(1948, 5, 6), 2)
        ),
    )
    people.resident_tag_add(actor=None, resident=resident, tag=care, since=date(2025, 11, 17))
    return resident


def map_counts(client: Client) -> dict[str, int]:
    return {g["name"]: g["overdue_visits"] for g in client.get("/cockpit/map.json").json()["grids"]}


def test_a_pass_stores_every_grid_and_the_map_reads_the_stored_rows(
    cast: Cast, leader: Client, overdue_resident: Any
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        assert visitload.refresh() == Grid.objects.filter(active=True).count()
        stored = dict(GridVisitLoad.objects.values_list("grid_id", "overdue"))
        assert stored[cast.grid_a.pk] == 1 and stored[cast.grid_c.pk] == 0
        assert stored == {
            g: overdue_visits_by_grid([g]).get(g, 0)
            for g in Grid.objects.filter(active=True).values_list("pk", flat=True)
        }
        assert map_counts(leader)[cast.grid_a.name] == 1
        # The map reads the row, not the residents: change the row and the map follows.
        GridVisitLoad.objects.filter(grid_id=cast.grid_a.pk).update(overdue=7)
        assert map_counts(leader)[cast.grid_a.name] == 7


def test_a_grid_without_a_row_is_counted_live(cast: Cast, leader: Client, overdue_resident: Any) -> None:
    with time_machine.travel(MONDAY, tick=False):
        visitload.refresh([cast.grid_c.pk])  # grid A has no row yet
        assert not GridVisitLoad.objects.filter(grid_id=cast.grid_a.pk).exists()
        assert map_counts(leader)[cast.grid_a.name] == 1


def test_the_worker_recomputes_after_the_interval_and_on_a_new_day(cast: Cast, settings: Any) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "COCKPIT_VISIT_REFRESH_MINUTES": 5}
    grids = Grid.objects.filter(active=True).count()
    start = timezone.make_aware(datetime(2025, 11, 24, 10, 0))
    assert visitload.refresh_due(start) == grids  # no rows yet
    assert visitload.refresh_due(start + timedelta(minutes=4)) == 0
    assert visitload.refresh_due(start + timedelta(minutes=6)) == grids
    # 23:58 → 00:01 local: a new day (weeks roll over at Monday 00:00) recomputes at once.
    late = timezone.make_aware(datetime(2025, 11, 23, 23, 58))
    assert visitload.refresh_due(late) == grids
    assert visitload.refresh_due(late + timedelta(minutes=3)) == grids
    # A new grid without a row forces a pass too.
    GridVisitLoad.objects.filter(grid_id=cast.grid_a.pk).delete()
    assert visitload.refresh_due(late + timedelta(minutes=4)) == grids


def test_logging_a_visit_recomputes_its_grid_once_committed(
    cast: Cast, leader: Client, overdue_resident: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        visitload.refresh()
        assert map_counts(leader)[cast.grid_a.name] == 1
        with django_capture_on_commit_callbacks(execute=True):
            people.visit_log(
                actor=cast.worker_a,
                data=people.VisitInput(
                    resident_id=overdue_resident.pk, kind=VisitKind.HOME, found="身体良好"
                ),
            )
        assert GridVisitLoad.objects.get(grid_id=cast.grid_a.pk).overdue == 0
        assert map_counts(leader)[cast.grid_a.name] == 0


def test_ending_a_tag_recomputes_its_grid_once_committed(
    cast: Cast, overdue_resident: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        visitload.refresh()
        assert GridVisitLoad.objects.get(grid_id=cast.grid_a.pk).overdue == 1
        rt = overdue_resident.tags.get(ended_on__isnull=True)
        with django_capture_on_commit_callbacks(execute=True):
            people.resident_tag_end(actor=None, resident_tag=rt, ended_on="2025-11-24", reason="迁出")
        assert GridVisitLoad.objects.get(grid_id=cast.grid_a.pk).overdue == 0
