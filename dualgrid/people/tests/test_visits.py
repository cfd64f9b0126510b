"""Weekly visits: due and overdue across ISO-week boundaries in Asia/Shanghai, rolling periods,
logging a visit, raising a case from it, compliance."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dualgrid.cases.models import Case, Channel
from dualgrid.cases.selectors import cases_for_user
from dualgrid.lib.errors import Forbidden, Invalid, NotFound
from dualgrid.people import services
from dualgrid.people.models import Concern, Visit, VisitKind
from dualgrid.people.selectors import visit_compliance, visits_due
from dualgrid.people.tests.conftest import role, tag
from dualgrid.people.visit_rules import Rule, VisitState, status_of

SH = ZoneInfo("Asia/Shanghai")
# The week under test runs Monday 17 to Sunday 23 November 2025; the one before, 10–16 November.
SUNDAY_LAST_MINUTE = "2025-11-16 23:59:00 +08:00"
MONDAY_MIDNIGHT = "2025-11-17 00:00:00 +08:00"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(SH)


def visit(cast, resident, when: str, visitor=None) -> Visit:  # type: ignore[no-untyped-def]
    """Log a visit as it happened: the clock is moved to its time, so backfill limits do not apply."""
    with time_machine.travel(when, tick=False):
        return services.visit_log(
            actor=visitor or cast.worker_a,
            data=services.VisitInput(resident_id=resident.pk, kind=VisitKind.HOME, found="身体良好，无异常"),
        )


def state_of(cast, resident, when: str, user=None) -> str:  # type: ignore[no-untyped-def]
    with time_machine.travel(when, tick=False):
        items = {i.resident.pk: i for i in visits_due(user or cast.worker_a)}
    return items[resident.pk].status.state


@pytest.fixture
def elder(cast, make_resident):  # type: ignore[no-untyped-def]
    resident = make_resident(cast.grid_a, "王秀英")
    services.resident_tag_add(actor=None, resident=resident, tag=tag("care", "01"), since=date(2025, 10, 1))
    return resident


def test_a_visit_last_week_is_done_until_sunday_2359_and_due_from_monday_0000(cast, elder) -> None:
    visit(cast, elder, "2025-11-10 10:00 +08:00")
    assert state_of(cast, elder, SUNDAY_LAST_MINUTE) == VisitState.DONE
    assert state_of(cast, elder, MONDAY_MIDNIGHT) == VisitState.DUE


def test_a_whole_missed_week_makes_the_person_overdue(cast, elder) -> None:
    visit(cast, elder, "2025-11-10 10:00 +08:00")
    assert state_of(cast, elder, "2025-11-23 23:59 +08:00") == VisitState.DUE
    assert state_of(cast, elder, "2025-11-24 00:00 +08:00") == VisitState.OVERDUE


def test_an_overdue_person_is_done_again_after_a_visit(cast, elder) -> None:
    assert state_of(cast, elder, MONDAY_MIDNIGHT) == VisitState.OVERDUE
    visit(cast, elder, "2025-11-18 09:00 +08:00")
    assert state_of(cast, elder, "2025-11-18 09:30 +08:00") == VisitState.DONE


def test_weeks_are_counted_in_shanghai_time_not_utc(cast, elder) -> None:
    # 16:30 UTC on Sunday is already 00:30 on Monday in Shanghai: it belongs to the new week.
    visit(cast, elder, "2025-11-16 16:30 +00:00")
    assert state_of(cast, elder, "2025-11-17 08:00 +08:00") == VisitState.DONE
    assert state_of(cast, elder, SUNDAY_LAST_MINUTE) == VisitState.OVERDUE


def test_a_visit_at_sunday_2359_counts_for_the_week_it_ends(cast, elder) -> None:
    visit(cast, elder, SUNDAY_LAST_MINUTE)
    assert state_of(cast, elder, "2025-11-16 23:59:30 +08:00") == VisitState.DONE
    assert state_of(cast, elder, MONDAY_MIDNIGHT) == VisitState.DUE


def test_someone_tagged_mid_week_is_due_but_not_overdue_for_that_week(cast, make_resident) -> None:
    resident = make_resident(cast.grid_a, "李德芬")
    services.resident_tag_add(actor=None, resident=resident, tag=tag("care", "06"), since=date(2025, 11, 12))
    assert state_of(cast, resident, MONDAY_MIDNIGHT) == VisitState.DUE
    assert state_of(cast, resident, "2025-11-24 00:00 +08:00") == VisitState.OVERDUE


def test_a_household_visit_counts_for_its_tagged_members(cast, make_resident) -> None:
    household = services.household_create(
        actor=None, grid=cast.grid_a, address="大佛社区3栋", house_number="2-1"
    )
    child = make_resident(cast.grid_a, "陈小龙", household_id=household.pk)
    services.resident_tag_add(actor=None, resident=child, tag=tag("care", "02"), since=date(2025, 10, 1))
    with time_machine.travel("2025-11-18 10:00 +08:00", tick=False):
        services.visit_log(
            actor=cast.worker_a,
            data=services.VisitInput(household_id=household.pk, found="祖孙二人在家，一切正常"),
        )
    assert state_of(cast, child, "2025-11-19 10:00 +08:00") == VisitState.DONE


def test_the_shortest_period_among_the_tags_wins(cast, elder) -> None:
    services.resident_tag_add(
        actor=None, resident=elder, tag=tag("special", "06"), level=Concern.SEVERE, since=date(2025, 1, 1)
    )
    with time_machine.travel(MONDAY_MIDNIGHT, tick=False):
        (item,) = visits_due(cast.worker_a)
    assert item.rule.period == 7 and len(item.tags) == 2


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 11, 1), VisitState.DONE),
        (date(2025, 11, 12), VisitState.DUE),
        (date(2025, 11, 20), VisitState.OVERDUE),
    ],
)
def test_a_thirty_day_rule_is_rolling_from_the_last_visit(today: date, expected: str) -> None:
    rule = Rule(period=30, since=date(2025, 1, 1))
    # Last visit 20 October: due by 19 November, listed from 12 November.
    assert status_of(rule, [date(2025, 10, 20)], today).state == expected


def test_the_list_is_overdue_first_and_only_the_workers_grids(cast, elder, make_resident) -> None:
    fresh = make_resident(cast.grid_a, "赵桂英")
    services.resident_tag_add(actor=None, resident=fresh, tag=tag("care", "07"), since=date(2025, 11, 18))
    other = make_resident(cast.grid_b, "孙玉兰")
    services.resident_tag_add(actor=None, resident=other, tag=tag("care", "01"), since=date(2025, 10, 1))
    make_resident(cast.grid_a, "不需走访")
    with time_machine.travel("2025-11-19 10:00 +08:00", tick=False):
        items = visits_due(cast.worker_a)
    assert [(i.resident.name, i.status.state) for i in items] == [
        ("王秀英", VisitState.OVERDUE),
        ("赵桂英", VisitState.DUE),
    ]


def test_raising_a_case_from_a_visit_enters_the_closed_loop(cast, elder, jpeg) -> None:
    with time_machine.travel("2025-11-18 10:00 +08:00", tick=False):
        logged = services.visit_log(
            actor=cast.worker_a,
            data=services.VisitInput(
                resident_id=elder.pk,
                kind=VisitKind.HOME,
                found="老人家中电线老化裸露，存在触电隐患",
                photo=jpeg("wire.jpg"),
                raise_case=True,
            ),
        )
    case = logged.raised_case
    assert case is not None
    assert case.channel == Channel.PATROL and case.grid == cast.grid_a
    assert case.description == "老人家中电线老化裸露，存在触电隐患"
    assert case.created_by == cast.worker_a
    assert case.attachments.count() == 1 and logged.photo.name.startswith("visits/2025/11/")
    assert "wire" not in logged.photo.name
    assert cases_for_user(cast.worker_a).filter(pk=case.pk).exists()


def test_a_visit_that_fails_validation_raises_no_case(cast, elder) -> None:
    with time_machine.travel("2025-11-18 10:00 +08:00", tick=False), pytest.raises(Invalid) as exc:
        services.visit_log(
            actor=cast.worker_a,
            data=services.VisitInput(resident_id=elder.pk, found="", raise_case=True),
        )
    assert exc.value.errors["found"] == "请填写发现的问题"
    assert Case.objects.count() == 0 and Visit.objects.count() == 0


def test_a_visit_in_the_future_is_refused(cast, elder) -> None:
    with time_machine.travel("2025-11-18 10:00 +08:00", tick=False), pytest.raises(Invalid) as exc:
        services.visit_log(
            actor=cast.worker_a,
            data=services.VisitInput(
                resident_id=elder.pk, found="正常", visited_at=at("2025-11-18 12:00 +08:00")
            ),
        )
    assert exc.value.errors["visited_at"] == "走访时间不能晚于当前时间"


def test_a_worker_of_another_grid_cannot_log_a_visit(cast, elder) -> None:
    with pytest.raises(NotFound):
        services.visit_log(actor=cast.worker_b, data=services.VisitInput(resident_id=elder.pk, found="正常"))


def test_compliance_counts_due_visited_and_overdue_per_grid_and_worker(
    cast, elder, make_resident, make_staff
) -> None:
    staff = make_staff("张建国", cast.worker_a)
    services.assignment_start(
        actor=None, staff=staff, grid=cast.grid_a, role=role("full_time"), start=date(2025, 1, 1)
    )
    visited = make_resident(cast.grid_a, "刘玉兰")
    services.resident_tag_add(actor=None, resident=visited, tag=tag("care", "05"), since=date(2025, 10, 1))
    visit(cast, visited, "2025-11-18 10:00 +08:00")
    with time_machine.travel("2025-11-20 10:00 +08:00", tick=False):
        report = visit_compliance(cast.dispatcher, date(2025, 11, 17))
    grid_a = next(r for r in report.grids if r.grid == cast.grid_a)
    assert (grid_a.due, grid_a.visited, grid_a.rate, grid_a.overdue) == (2, 1, 50.0, 1)
    (worker,) = report.workers
    assert (worker.label, worker.due, worker.visited, worker.visits_logged) == ("张建国", 2, 1, 1)
    assert report.in_progress and report.total.due == 2


def test_a_grid_worker_may_not_see_compliance(cast) -> None:
    with pytest.raises(Forbidden):
        visit_compliance(cast.worker_a, date(2025, 11, 17))
