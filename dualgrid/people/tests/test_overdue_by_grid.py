"""The cockpit map's count of residents overdue for a visit per grid (``overdue_visits_by_grid``) agrees
with the due list (``visits_due``, which reads every visit), also where only a visit older than the
rolling period decides."""

from datetime import date

import time_machine

from dualgrid.people import services
from dualgrid.people.models import VisitKind
from dualgrid.people.selectors import overdue_visits_by_grid, visits_due
from dualgrid.people.tests.conftest import tag
from dualgrid.people.visit_rules import VisitState

TODAY = "2025-11-19 10:00 +08:00"


def visit(cast, resident, when: str) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=False):
        services.visit_log(
            actor=cast.worker_a,
            data=services.VisitInput(resident_id=resident.pk, kind=VisitKind.HOME, found="身体良好，无异常"),
        )


def test_rolling_rules_count_the_same_as_the_due_list(cast, make_resident) -> None:
    thirty_days = tag("special", "01")
    names = {}
    for name, since, visited in [
        ("久未走访", date(2025, 1, 1), "2025-10-01 10:00 +08:00"),  # due 31 Oct: overdue
        ("本月已访", date(2025, 1, 1), "2025-11-01 10:00 +08:00"),  # due 1 Dec
        ("新纳入未访", date(2025, 11, 10), None),  # no visit: due 10 Dec
        ("新纳入旧访", date(2025, 11, 10), "2025-09-01 10:00 +08:00"),  # an old visit still counts: overdue
    ]:
        resident = make_resident(cast.grid_a, name)
        names[resident.pk] = name
        if visited:
            visit(cast, resident, visited)
        services.resident_tag_add(actor=None, resident=resident, tag=thirty_days, since=since)
    with time_machine.travel(TODAY, tick=False):
        listed = {names[i.resident.pk]: i.status.state for i in visits_due(cast.worker_a)}
        counted = overdue_visits_by_grid([cast.grid_a.pk, cast.grid_b.pk])
    assert listed == {
        "久未走访": VisitState.OVERDUE,
        "本月已访": VisitState.DONE,
        "新纳入未访": VisitState.DONE,
        "新纳入旧访": VisitState.OVERDUE,
    }
    assert counted == {cast.grid_a.pk: 2}
