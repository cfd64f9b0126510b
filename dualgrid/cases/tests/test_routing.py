"""平台派单: the grid containing the point, then the routing rules."""

from dualgrid.cases.models import HandlerKind, RoutingRule, Status
from dualgrid.cases.tests.factories import report
from dualgrid.conftest import POINT_IN_A, POINT_IN_B, POINT_IN_C, POINT_OUTSIDE


def test_point_in_polygon_finds_the_grid_and_its_ancestors(cast) -> None:
    case = report(cast, point=POINT_IN_C)
    assert case.grid == cast.grid_c
    assert (case.village, case.town, case.county) == (cast.village_c, cast.town_b, cast.county)


def test_a_grid_rule_goes_straight_to_the_grid_at_pending_sign(cast) -> None:
    case = report(cast, point=POINT_IN_B, category=cast.parking.code)
    assert case.status == Status.PENDING_SIGN
    assert case.assigned_grid == cast.grid_b
    assert case.sign_due_at is not None
    assert list(case.events.values_list("action", flat=True)) == ["create", "auto_dispatch"]


def test_a_department_rule_on_a_child_category_beats_the_parent(cast) -> None:
    case = report(cast, category=cast.sewer.code)
    assert case.assigned_department == cast.housing and case.assigned_grid is None


def test_no_rule_waits_in_the_dispatcher_queue(cast) -> None:
    case = report(cast, category=cast.dispute.code)
    assert case.status == Status.NEW and case.assigned_grid is None and case.assigned_department is None


def test_no_category_waits_in_the_dispatcher_queue(cast) -> None:
    assert report(cast, point=POINT_IN_A).status == Status.NEW


def test_a_grid_rule_cannot_apply_outside_every_grid(cast) -> None:
    assert report(cast, point=POINT_OUTSIDE, category=cast.parking.code).status == Status.NEW


def test_a_town_specific_rule_beats_a_district_wide_one(cast) -> None:
    RoutingRule.objects.create(
        category=cast.parking, unit=cast.town_b, handler=HandlerKind.DEPARTMENT, department=cast.police
    )
    in_town_b = report(cast, point=POINT_IN_C, category=cast.parking.code)
    in_town_a = report(cast, point=POINT_IN_A, category=cast.parking.code)
    assert in_town_b.assigned_department == cast.police
    assert in_town_a.assigned_grid == cast.grid_a


def test_inactive_rules_are_ignored(cast) -> None:
    RoutingRule.objects.filter(category=cast.parking.parent).update(active=False)
    assert report(cast, category=cast.parking.code).status == Status.NEW
