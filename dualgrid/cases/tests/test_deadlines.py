"""Time limits with frozen time (Asia/Shanghai): due dates, 正常/即将超期/已超期, the worker's records."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dualgrid.cases import config, services
from dualgrid.cases.deadlines import add_workdays
from dualgrid.cases.models import Case, CloseReason, DeadlineState, Holiday, Status
from dualgrid.cases.tests.factories import act, case_in_state, report

SH = ZoneInfo("Asia/Shanghai")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=SH)
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=SH)


def test_workdays_skip_the_weekend(db) -> None:
    assert add_workdays(FRIDAY_10, 1) == datetime(2026, 11, 30, 10, 0, tzinfo=SH)
    assert add_workdays(MONDAY_9, 10) == datetime(2026, 12, 7, 9, 0, tzinfo=SH)


def test_workdays_respect_holidays_and_swapped_workdays(db) -> None:
    Holiday.objects.create(date=date(2026, 11, 30), name="假日")
    config.invalidate()  # what the admin does on save
    assert add_workdays(FRIDAY_10, 1) == datetime(2026, 12, 1, 10, 0, tzinfo=SH)
    Holiday.objects.create(date=date(2026, 11, 28), is_workday=True, name="调休")
    config.invalidate()
    assert add_workdays(FRIDAY_10, 1) == datetime(2026, 11, 28, 10, 0, tzinfo=SH)


def test_dispatch_sets_sign_and_resolve_limits_from_configuration(cast) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        case = case_in_state(cast, Status.PENDING_SIGN)
    assert case.sign_due_at == datetime(2026, 11, 24, 9, 0, tzinfo=SH)
    assert case.resolve_due_at == datetime(2026, 12, 7, 9, 0, tzinfo=SH)
    assert case.deadline_state == DeadlineState.NORMAL


def test_urgent_cases_run_on_hours(cast) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        case = act(
            cast.dispatcher,
            case_in_state(cast, Status.PENDING_DISPATCH),
            "dispatch",
            grid_id=cast.grid_a.pk,
            urgency="urgent",
        )
    assert case.sign_due_at == MONDAY_9 + timedelta(hours=2)
    assert case.resolve_due_at == MONDAY_9 + timedelta(hours=24)


def test_request_kind_limit_applies_to_its_categories(cast) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        case = act(
            cast.dispatcher,
            case_in_state(cast, Status.PENDING_DISPATCH),
            "dispatch",
            grid_id=cast.grid_a.pk,
            category_code=cast.consult.code,
        )
    assert case.resolve_due_at == datetime(2026, 11, 25, 9, 0, tzinfo=SH)


def test_the_worker_records_warning_at_80_percent_then_overdue(cast) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        case = case_in_state(cast, Status.PENDING_SIGN)  # sign window: 24 h
    with time_machine.travel(MONDAY_9 + timedelta(hours=19), tick=False):
        assert services.deadline_sweep() == 0
    with time_machine.travel(MONDAY_9 + timedelta(hours=19, minutes=12), tick=False):
        assert services.deadline_sweep() == 1
        assert services.deadline_sweep() == 0  # recorded once
    case.refresh_from_db()
    assert case.deadline_state == DeadlineState.WARNING
    with time_machine.travel(MONDAY_9 + timedelta(hours=24, seconds=1), tick=False):
        assert services.deadline_sweep() == 1
    case.refresh_from_db()
    assert case.deadline_state == DeadlineState.OVERDUE and case.deadline_check_at is None
    actions = list(case.events.values_list("action", flat=True))
    assert actions[-2:] == ["deadline_warning", "deadline_overdue"]


def test_signing_moves_the_clock_to_the_resolve_limit(cast) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        case = case_in_state(cast, Status.PENDING_SIGN)
    with time_machine.travel(MONDAY_9 + timedelta(hours=20), tick=False):
        services.deadline_sweep()
        case = act(cast.worker_a, Case.objects.get(pk=case.pk), "sign")
    assert case.deadline_state == DeadlineState.NORMAL  # 20 h of a 14-day window


def test_resolving_late_is_recorded_as_not_on_time(cast) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        case = case_in_state(cast, Status.IN_PROGRESS)
    with time_machine.travel(MONDAY_9 + timedelta(days=20), tick=False):
        case = act(cast.worker_a, case, "resolve", "已处理")
    assert case.resolved_on_time is False


@pytest.mark.parametrize("hours,closed", [(71, False), (73, True)])
def test_unrated_cases_close_after_the_rating_window(cast, hours, closed) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        case = case_in_state(cast, Status.PENDING_RATING)
    with time_machine.travel(MONDAY_9 + timedelta(hours=hours), tick=False):
        services.rating_sweep()
    case.refresh_from_db()
    assert (case.status == Status.CLOSED) is closed
    if closed:
        assert case.close_reason == CloseReason.UNRATED
        assert case.events.values_list("action", flat=True).last() == "auto_close"


def test_reporting_at_night_uses_local_dates_for_the_number(cast) -> None:
    with time_machine.travel(datetime(2026, 11, 23, 23, 30, tzinfo=SH), tick=False):
        case = report(cast)
    assert (case.number or "").startswith("20261123")
