from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command

from dualgrid.cases.models import DeadlineState, Status
from dualgrid.cases.tests.factories import case_in_state

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_one_worker_round_records_overdue_cases_and_closes_unrated_ones(cast) -> None:
    with time_machine.travel(MONDAY_9, tick=False):
        waiting = case_in_state(cast, Status.PENDING_SIGN)
        rated_late = case_in_state(cast, Status.PENDING_RATING)
    out = StringIO()
    with time_machine.travel(MONDAY_9 + timedelta(days=4), tick=False):
        call_command("worker", "--once", stdout=out)
    waiting.refresh_from_db()
    rated_late.refresh_from_db()
    assert waiting.deadline_state == DeadlineState.OVERDUE
    assert rated_late.status == Status.CLOSED and rated_late.close_reason == "unrated"
    assert "recorded 1 time-limit changes, closed 1 unrated cases" in out.getvalue()
