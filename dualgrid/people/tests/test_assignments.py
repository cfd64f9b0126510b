"""Who serves which grid: history, overlaps, replacement, and the case access that follows it."""

from datetime import date, timedelta

import pytest
import time_machine

from dualgrid.accounts.models import Role, User
from dualgrid.cases.models import Status
from dualgrid.cases.selectors import cases_for_user, my_tasks
from dualgrid.cases.tests.factories import case_in_state
from dualgrid.lib.errors import Conflict, Forbidden, Invalid, NotFound
from dualgrid.people import services
from dualgrid.people.models import Assignment
from dualgrid.people.selectors import current_staff, grid_staff_history, who_served
from dualgrid.people.tests.conftest import role

TODAY = date(2025, 11, 20)  # a Thursday
NOON = "2025-11-20 12:00 +08:00"


@pytest.fixture(autouse=True)
def _frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOON, tick=False):
        yield


@pytest.fixture
def served(cast, make_staff):  # type: ignore[no-untyped-def]
    """Grid A served by 张建国 (worker_a's account) since March; worker_b has only grid B."""
    cast.worker_a.grids.clear()
    old = make_staff("张建国", cast.worker_a)
    new = make_staff("李秀兰", cast.worker_b)
    services.assignment_start(
        actor=cast.dispatcher, staff=old, grid=cast.grid_a, role=role("full_time"), start=date(2025, 3, 1)
    )
    return old, new


def test_starting_an_access_role_today_gives_the_account_the_grid(cast, served) -> None:
    assert list(cast.worker_a.grids.all()) == [cast.grid_a]


def test_a_future_start_gives_access_only_when_its_day_has_come(cast, make_staff) -> None:
    staff = make_staff("周志强", cast.worker_b)
    services.assignment_start(
        actor=cast.admin,
        staff=staff,
        grid=cast.grid_c,
        role=role("part_time"),
        start=TODAY + timedelta(days=3),
    )
    assert not cast.worker_b.grids.filter(pk=cast.grid_c.pk).exists()
    assert services.assignments_sync(TODAY + timedelta(days=2)) == 0
    assert services.assignments_sync(TODAY + timedelta(days=3)) == 1
    assert cast.worker_b.grids.filter(pk=cast.grid_c.pk).exists()
    assert services.assignments_sync(TODAY + timedelta(days=3)) == 0  # idempotent


def test_a_role_without_access_gives_no_grid(cast, make_staff) -> None:
    staff = make_staff("何德明", cast.worker_b)
    services.assignment_start(
        actor=cast.dispatcher, staff=staff, grid=cast.grid_a, role=role("forest_ranger"), start=TODAY
    )
    assert not cast.worker_b.grids.filter(pk=cast.grid_a.pk).exists()


def test_an_overlapping_assignment_in_the_same_grid_and_role_is_refused(cast, served) -> None:
    old, _ = served
    with pytest.raises(Invalid) as exc:
        services.assignment_start(
            actor=cast.dispatcher, staff=old, grid=cast.grid_a, role=role("full_time"), start=date(2025, 6, 1)
        )
    assert "不能重叠" in exc.value.errors["start_date"]
    assert Assignment.objects.filter(staff=old).count() == 1


def test_the_same_person_may_serve_the_same_grid_in_another_role(cast, served) -> None:
    old, _ = served
    services.assignment_start(
        actor=cast.dispatcher, staff=old, grid=cast.grid_a, role=role("grid_leader"), start=TODAY
    )
    assert {a.role.code for a in current_staff(cast.grid_a)} == {"full_time", "grid_leader"}


def test_a_new_period_after_the_old_one_ended_is_not_an_overlap(cast, served) -> None:
    old, _ = served
    first = Assignment.objects.get(staff=old)
    services.assignment_end(actor=cast.dispatcher, assignment=first, end=date(2025, 6, 1), reason="借调")
    again = services.assignment_start(
        actor=cast.dispatcher, staff=old, grid=cast.grid_a, role=role("full_time"), start=date(2025, 6, 1)
    )
    assert again.pk != first.pk
    assert grid_staff_history(cast.grid_a).count() == 2


def test_an_end_before_the_start_is_refused(cast, served) -> None:
    assignment = Assignment.objects.get(staff=served[0])
    with pytest.raises(Invalid) as exc:
        services.assignment_end(actor=cast.dispatcher, assignment=assignment, end="2025-02-28", reason="调动")
    assert exc.value.errors["end_date"] == "离任日期不能早于任职日期"


@pytest.mark.parametrize(
    ("start", "message"),
    [("2025-02-30", "任职日期不存在"), ("1990-01-01", "任职日期不合理"), ("20250101", "格式应为")],
)
def test_impossible_dates_are_refused_in_chinese(cast, make_staff, start, message) -> None:  # type: ignore[no-untyped-def]
    staff = make_staff("钱学文")
    with pytest.raises(Invalid) as exc:
        services.assignment_start(
            actor=cast.dispatcher, staff=staff, grid=cast.grid_a, role=role("part_time"), start=start
        )
    assert message in exc.value.errors["start_date"]


def test_replacement_closes_the_old_and_opens_the_new_on_the_same_day(cast, served) -> None:
    old, new = served
    closed, opened = services.assignment_replace(
        actor=cast.dispatcher,
        grid=cast.grid_a,
        role=role("full_time"),
        old_staff=old,
        new_staff=new,
        on_date=TODAY,
        reason="原网格员调任镇便民服务中心",
    )
    assert closed.end_date == TODAY and closed.end_reason == "原网格员调任镇便民服务中心"
    assert opened.start_date == TODAY and opened.end_date is None and opened.staff == new
    assert [a.staff for a in current_staff(cast.grid_a)] == [new]
    assert [a.staff.name for a in grid_staff_history(cast.grid_a)] == ["李秀兰", "张建国"]


def test_after_replacement_the_old_worker_loses_case_access_and_the_new_one_gains_it(cast, served) -> None:
    old, new = served
    case = case_in_state(cast, Status.PENDING_SIGN)  # assigned to grid A
    assert case in my_tasks(cast.worker_a) and case not in my_tasks(cast.worker_b)
    services.assignment_replace(
        actor=cast.dispatcher,
        grid=cast.grid_a,
        role=role("full_time"),
        old_staff=old,
        new_staff=new,
        on_date=TODAY,
        reason="辞职",
    )
    assert not cases_for_user(cast.worker_a).filter(pk=case.pk).exists()
    assert list(my_tasks(cast.worker_a)) == []
    assert cases_for_user(cast.worker_b).filter(pk=case.pk).exists()
    assert list(my_tasks(cast.worker_b)) == [case]
    assert set(cast.worker_b.grids.all()) == {cast.grid_a, cast.grid_b}


def test_a_failed_replacement_changes_nothing(cast, served, make_staff) -> None:
    old, _ = served
    retired = make_staff("退休人员", cast.handler)
    retired.active = False
    retired.save()
    with pytest.raises(Invalid):
        services.assignment_replace(
            actor=cast.dispatcher,
            grid=cast.grid_a,
            role=role("full_time"),
            old_staff=old,
            new_staff=retired,
            on_date=TODAY,
            reason="调动",
        )
    assert [a.staff for a in current_staff(cast.grid_a)] == [old]
    assert list(cast.worker_a.grids.all()) == [cast.grid_a]


def test_leaving_one_role_keeps_access_while_another_current_role_covers_the_grid(cast, served) -> None:
    old, _ = served
    services.assignment_start(
        actor=cast.dispatcher, staff=old, grid=cast.grid_a, role=role("grid_leader"), start=TODAY
    )
    full_time = Assignment.objects.get(staff=old, role__code="full_time")
    services.assignment_end(actor=cast.dispatcher, assignment=full_time, end=TODAY, reason="改任网格长")
    assert list(cast.worker_a.grids.all()) == [cast.grid_a]


def test_a_future_end_removes_access_when_its_day_comes(cast, served) -> None:
    assignment = Assignment.objects.get(staff=served[0])
    services.assignment_end(
        actor=cast.dispatcher, assignment=assignment, end=TODAY + timedelta(days=10), reason="到龄退休"
    )
    assert cast.worker_a.grids.filter(pk=cast.grid_a.pk).exists()
    assert [a.staff for a in current_staff(cast.grid_a)] == [served[0]]
    assert services.assignments_sync(TODAY + timedelta(days=10)) == 1
    assert not cast.worker_a.grids.exists()
    assert list(current_staff(cast.grid_a, on=TODAY + timedelta(days=10))) == []


def test_who_served_answers_for_a_past_day(cast, served) -> None:
    old, new = served
    services.assignment_replace(
        actor=cast.dispatcher,
        grid=cast.grid_a,
        role=role("full_time"),
        old_staff=old,
        new_staff=new,
        on_date=date(2025, 9, 1),
        reason="调动",
    )
    assert [a.staff for a in who_served(cast.grid_a, date(2025, 8, 31))] == [old]
    assert [a.staff for a in who_served(cast.grid_a, date(2025, 9, 1))] == [new]
    assert list(who_served(cast.grid_a, date(2025, 2, 28))) == []


def test_ending_an_assignment_twice_is_a_conflict(cast, served) -> None:
    assignment = Assignment.objects.get(staff=served[0])
    services.assignment_end(actor=cast.dispatcher, assignment=assignment, end=TODAY, reason="辞职")
    with pytest.raises(Conflict):
        services.assignment_end(actor=cast.dispatcher, assignment=assignment, end=TODAY, reason="辞职")


def test_a_dispatcher_of_another_town_cannot_change_the_grid(cast, make_staff) -> None:
    staff = make_staff("吴勇")
    with pytest.raises(NotFound):
        services.assignment_start(
            actor=cast.town_dispatcher, staff=staff, grid=cast.grid_a, role=role("part_time"), start=TODAY
        )


def test_a_grid_worker_cannot_change_staff(cast, make_staff) -> None:
    staff = make_staff("吴勇")
    with pytest.raises(Forbidden):
        services.assignment_start(
            actor=cast.worker_a, staff=staff, grid=cast.grid_a, role=role("part_time"), start=TODAY
        )


def test_a_duplicate_staff_id_number_is_refused(cast, make_staff) -> None:
    first = make_staff("郑光荣")
    with pytest.raises(Invalid) as exc:
        services.staff_create(
            actor=cast.admin, data=services.StaffInput(name="郑光荣", id_number=first.id_number)
        )
    assert "已登记" in exc.value.errors["id_number"]


def test_linking_another_account_moves_the_grids_with_it(cast, served) -> None:
    old, _ = served
    newcomer = User.objects.create_user("worker_new", role=Role.GRIDWORKER)
    services.staff_link_user(actor=cast.admin, staff=old, user=newcomer)
    assert list(newcomer.grids.all()) == [cast.grid_a]
    assert not cast.worker_a.grids.exists()


def test_only_an_administrator_links_accounts(cast, served) -> None:
    with pytest.raises(Forbidden):
        services.staff_link_user(actor=cast.dispatcher, staff=served[0], user=None)
