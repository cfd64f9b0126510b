"""Who sees and acts on which case: outside the scope is a 404, a role's forbidden action a 403."""

import pytest

from dualgrid.cases.models import Status
from dualgrid.cases.selectors import case_get_for_user, cases_for_user, my_tasks
from dualgrid.cases.tests.factories import act, case_in_state, report
from dualgrid.conftest import POINT_IN_B, POINT_IN_C
from dualgrid.lib.errors import Forbidden, NotFound


def test_a_worker_of_grid_b_can_neither_see_nor_act_on_grid_a(cast) -> None:
    case = case_in_state(cast, Status.PENDING_SIGN)
    with pytest.raises(NotFound):
        case_get_for_user(cast.worker_b, case.pk)
    with pytest.raises(NotFound):
        act(cast.worker_b, case, "sign")
    assert case_get_for_user(cast.worker_a, case.pk) == case


def test_a_town_sees_only_its_town(cast) -> None:
    in_a = report(cast)
    in_c = report(cast, point=POINT_IN_C)
    visible = set(cases_for_user(cast.town_dispatcher).values_list("pk", flat=True))
    assert in_c.pk in visible and in_a.pk not in visible
    county_visible = set(cases_for_user(cast.dispatcher).values_list("pk", flat=True))
    assert {in_a.pk, in_c.pk} <= county_visible


def test_a_department_sees_only_what_is_assigned_to_it(cast) -> None:
    routed = report(cast, category=cast.sewer.code, description="下水管堵塞屋里灌水")
    other = report(cast)
    assert routed.assigned_department == cast.housing
    visible = set(cases_for_user(cast.handler).values_list("pk", flat=True))
    assert visible == {routed.pk} and other.pk not in visible
    assert list(my_tasks(cast.handler)) == [routed]


def test_a_leader_sees_the_district_but_may_not_act(cast) -> None:
    case = case_in_state(cast, Status.NEW)
    assert case_get_for_user(cast.leader, case.pk) == case
    with pytest.raises(Forbidden):
        act(cast.leader, case, "accept")


def test_a_worker_may_not_sign_a_case_in_their_grid_assigned_to_a_department(cast) -> None:
    case = act(
        cast.dispatcher,
        case_in_state(cast, Status.PENDING_DISPATCH),
        "dispatch",
        department_id=cast.police.pk,
    )
    assert case_get_for_user(cast.worker_a, case.pk)  # it is in their grid, so they see it
    with pytest.raises(Forbidden):
        act(cast.worker_a, case, "sign")


def test_a_handler_of_another_department_cannot_see_it(cast) -> None:
    case = act(
        cast.dispatcher,
        case_in_state(cast, Status.PENDING_DISPATCH),
        "dispatch",
        department_id=cast.police.pk,
    )
    with pytest.raises(NotFound):
        case_get_for_user(cast.handler, case.pk)


def test_grid_b_worker_sees_cases_located_in_grid_b(cast) -> None:
    case = report(cast, point=POINT_IN_B, category=cast.parking.code)
    assert case.grid == cast.grid_b and case.assigned_grid == cast.grid_b
    assert list(my_tasks(cast.worker_b)) == [case]
    assert list(my_tasks(cast.worker_a)) == []
