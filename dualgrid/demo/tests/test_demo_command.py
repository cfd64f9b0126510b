"""`dualgrid demo` builds a usable district: places, departments, one account per role, cases."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from dualgrid.accounts.models import Role, User
from dualgrid.cases.models import Case, CaseEvent, RoutingRule, Status
from dualgrid.cases.selectors import my_tasks
from dualgrid.people.models import Assignment, Resident, Visit
from dualgrid.places.models import AdminUnit, Department, Grid, UnitLevel
from dualgrid.watch import feed
from dualgrid.watch.models import GroupMessage, MessageState, Notice, NoticeStatus, PatrolLog


@pytest.mark.django_db
def test_demo_loads_a_district_with_logins_and_cases(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    out = StringIO()
    call_command("demo", "--password", "secret99", "--cases", "60", "--residents", "400", stdout=out)
    assert AdminUnit.objects.filter(level=UnitLevel.TOWN).count() == 6
    assert 35 <= AdminUnit.objects.filter(level=UnitLevel.VILLAGE).count() <= 45
    assert 350 <= Grid.objects.count() <= 450
    assert Department.objects.count() >= 20
    assert RoutingRule.objects.exists()
    for username in ("admin", "dispatcher", "calltaker", "leader", "gridworker", "handler", "town1"):
        assert authenticate(username=username, password="secret99") is not None, username
        assert username in out.getvalue()
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    from_visits = Visit.objects.exclude(raised_case=None).count()
    from_groups = GroupMessage.objects.filter(state=MessageState.CASE).count()
    # 60 asked for, 3 for the printed logins, visits' findings, group messages made into cases
    assert Case.objects.count() == 63 + from_visits + from_groups
    assert my_tasks(User.objects.get(username="gridworker")).count() >= 2
    assert my_tasks(User.objects.get(username="handler")).exists()
    assert Case.objects.filter(status=Status.CLOSED).exists()
    assert Case.objects.exclude(status__in=[Status.CLOSED, Status.VOID]).exists()
    assert CaseEvent.objects.filter(action="create").count() == Case.objects.count()
    # Unrated cases closed when their rating window ran out, not all on the day the demo was loaded.
    window = timedelta(hours=settings.DUALGRID["RATING_WINDOW_HOURS"])
    closes = CaseEvent.objects.filter(action="auto_close")
    assert closes.exists()
    for event in closes:
        verified = CaseEvent.objects.filter(case_id=event.case_id, action="verify").latest("created_at")
        assert event.created_at == verified.created_at + window
    assert Resident.objects.count() >= 400 and Assignment.objects.exists()
    # 巡群: the printed grid worker's feed opens on flagged messages; patrol logs fill the supervisors' table.
    assert 250 <= GroupMessage.objects.count() <= 320
    assert feed.feed_list(User.objects.get(username="gridworker")).exists()
    assert PatrolLog.objects.exists()
    # 宣传推送: the centre's notices page opens on scheduled notices with their weekly themes.
    assert Notice.objects.filter(status=NoticeStatus.SCHEDULED, theme="防范电信诈骗").count() == 2
    # 驾驶舱: the history is already counted into the daily figures (no wait for the worker's first round).
    from dualgrid.cockpit.models import DailyFigure, Dim, Level

    counted = DailyFigure.objects.filter(level=Level.ALL, dim=Dim.TOTAL).values_list("received", flat=True)
    assert sum(counted) == Case.objects.count()
    # Every located case lies in the grid the locator found, and its ancestors agree.
    for case in Case.objects.exclude(grid=None).select_related("grid"):
        assert case.grid is not None
        assert (case.village_id, case.town_id) == (case.grid.village_id, case.grid.town_id)

    again = StringIO()
    call_command("demo", "--password", "other999", stdout=again)
    assert "已存在" in again.getvalue() and Case.objects.count() == 63 + from_visits + from_groups
    assert authenticate(username="dispatcher", password="other999") is not None
