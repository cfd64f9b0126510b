"""Key patrol windows (重点时段巡查): per grid worker and Asia/Shanghai day, whether they patrolled inside
each window of their unit, and how fast they handled flagged messages; the supervisors' page."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from dualgrid.accounts.models import Role, User
from dualgrid.lib.errors import Invalid
from dualgrid.places.models import ChatGroup
from dualgrid.watch import feed
from dualgrid.watch.models import Connector, GroupMessage, MessageState, PatrolLog, PatrolWindow

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 2)
AFTER = datetime(2026, 3, 3, 12, 0, tzinfo=SHANGHAI)  # the report is read the next day


def local(hour: int, minute: int, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def patrolled(user: User, *moments: datetime) -> None:
    PatrolLog.objects.bulk_create(PatrolLog(user=user, at=at) for at in moments)


def row(report: feed.PatrolReport, user: User, day: date = DAY) -> feed.PatrolDay:
    return next(r for r in report.rows if r.worker.pk == user.pk and r.day == day)


def states(day_row: feed.PatrolDay) -> dict[str, str]:
    return {w.window.name: w.state for w in day_row.windows}


def test_settings_keep_the_district_clock() -> None:
    from django.conf import settings

    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_a_look_at_0759_is_inside_the_morning_window_and_0801_is_not(cast) -> None:
    patrolled(cast.worker_a, local(7, 59))
    patrolled(cast.worker_b, local(8, 1))
    report = feed.patrol_report(cast.dispatcher, DAY, DAY, now=AFTER)
    assert states(row(report, cast.worker_a)) == {"早间巡群": "done", "晚间巡群": "missed"}
    assert states(row(report, cast.worker_b)) == {"早间巡群": "missed", "晚间巡群": "missed"}
    assert row(report, cast.worker_a).windows[0].first_at == local(7, 59)


def test_days_and_windows_are_shanghai_local(cast) -> None:
    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai; 13:00 UTC on 2 March is 21:00 local.
    patrolled(
        cast.worker_a, datetime(2026, 3, 1, 23, 30, tzinfo=UTC), datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    )
    report = feed.patrol_report(cast.worker_a, DAY - timedelta(days=1), DAY, now=AFTER)
    assert states(row(report, cast.worker_a)) == {"早间巡群": "done", "晚间巡群": "done"}
    assert states(row(report, cast.worker_a, DAY - timedelta(days=1))) == {
        "早间巡群": "missed",
        "晚间巡群": "missed",
    }


def test_window_edges_are_included(cast) -> None:
    patrolled(cast.worker_a, local(7, 0), local(22, 0))
    report = feed.patrol_report(cast.worker_a, DAY, DAY, now=AFTER)
    assert states(row(report, cast.worker_a)) == {"早间巡群": "done", "晚间巡群": "done"}


def test_a_units_own_windows_override_the_defaults(cast) -> None:
    PatrolWindow.objects.create(unit=cast.town_a, name="午间巡群", start=time(12, 0), end=time(13, 0))
    worker_c = User.objects.create_user("worker_c", role=Role.GRIDWORKER, display_name="白兔村网格员")
    worker_c.grids.add(cast.grid_c)
    patrolled(cast.worker_a, local(7, 30), local(12, 30))
    patrolled(worker_c, local(7, 30))
    report = feed.patrol_report(cast.dispatcher, DAY, DAY, now=AFTER)
    # grid A lies in 大佛社区 of 桂林街道: the town's window replaces both defaults.
    assert states(row(report, cast.worker_a)) == {"午间巡群": "done"}
    # grid C lies in 群力镇, which has none of its own: the defaults.
    assert states(row(report, worker_c)) == {"早间巡群": "done", "晚间巡群": "missed"}


def test_the_nearest_unit_with_windows_wins(cast) -> None:
    PatrolWindow.objects.create(unit=cast.county, name="区级巡群", start=time(9, 0), end=time(10, 0))
    PatrolWindow.objects.create(unit=cast.village_a, name="社区晨巡", start=time(6, 30), end=time(7, 30))
    worker_c = User.objects.create_user("worker_c", role=Role.GRIDWORKER, display_name="白兔村网格员")
    worker_c.grids.add(cast.grid_c)
    report = feed.patrol_report(cast.dispatcher, DAY, DAY, now=AFTER)
    assert list(states(row(report, cast.worker_a))) == ["社区晨巡"]
    assert list(states(row(report, worker_c))) == ["区级巡群"]


def test_windows_of_today_are_open_or_upcoming_until_they_end(cast) -> None:
    report = feed.patrol_report(cast.worker_a, DAY, DAY, now=local(7, 30))
    day_row = row(report, cast.worker_a)
    assert states(day_row) == {"早间巡群": "open", "晚间巡群": "upcoming"}
    assert day_row.windows_due == 1 and not day_row.missed


def test_handled_messages_count_with_median_and_average_minutes(cast) -> None:
    connector = Connector.objects.create(slug="t", name="测试")
    group = ChatGroup.objects.create(grid=cast.grid_a, name="居民群", external_id="a@chatroom")

    def handled(n: int, arrived: datetime, minutes: int, state: str = MessageState.CASE) -> None:
        GroupMessage.objects.create(
            connector=connector,
            external_id=f"m{n}",
            external_group_id=group.external_id,
            chat_group=group,
            grid=cast.grid_a,
            text="…",
            sent_at=arrived,
            received_at=arrived,
            state=state,
            handled_by=cast.worker_a,
            handled_at=arrived + timedelta(minutes=minutes),
        )

    handled(1, local(7, 0), 10)
    handled(2, local(9, 0), 20, MessageState.DISMISSED)
    handled(3, local(20, 0), 90)
    handled(4, local(23, 50), 20)  # decided after midnight: counts for the next day
    report = feed.patrol_report(cast.worker_a, DAY, DAY + timedelta(days=1), now=AFTER)
    today = row(report, cast.worker_a)
    assert today.handled == 3
    assert today.median_minutes == 20
    assert today.average_minutes == 40
    assert row(report, cast.worker_a, DAY + timedelta(days=1)).handled == 1
    assert report.median_minutes == 20


def test_scope_of_the_report(cast) -> None:
    assert {r.worker.pk for r in feed.patrol_report(cast.dispatcher, DAY, DAY, now=AFTER).rows} == {
        cast.worker_a.pk,
        cast.worker_b.pk,
    }
    assert feed.patrol_report(cast.town_dispatcher, DAY, DAY, now=AFTER).rows == []
    assert {r.worker.pk for r in feed.patrol_report(cast.worker_a, DAY, DAY, now=AFTER).rows} == {
        cast.worker_a.pk
    }
    by_unit = feed.patrol_report(cast.town_a, DAY, DAY, now=AFTER)
    assert by_unit.workers == 2


def test_a_range_is_at_most_a_month(cast) -> None:
    with pytest.raises(Invalid):
        feed.patrol_report(cast.dispatcher, DAY, DAY + timedelta(days=40))
    with pytest.raises(Invalid):
        feed.patrol_report(cast.dispatcher, DAY, DAY - timedelta(days=1))


# --- the supervisors' page ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["dispatcher", "town_dispatcher", "leader", "admin"])
def test_supervisors_open_the_patrol_page(cast, login, who: str) -> None:
    assert login(getattr(cast, who)).get("/watch/patrol/").status_code == 200


@pytest.mark.parametrize("who", ["worker_a", "calltaker", "handler"])
def test_others_may_not_open_the_patrol_page(cast, login, who: str) -> None:
    assert login(getattr(cast, who)).get("/watch/patrol/").status_code == 403


def test_patrol_page_shows_each_worker_and_window(cast, login) -> None:
    patrolled(cast.worker_a, local(7, 59))
    with time_machine.travel(AFTER, tick=False):
        response = login(cast.dispatcher).get(
            "/watch/patrol/", {"date_from": "2026-03-02", "date_to": "2026-03-02"}
        )
    body = response.content.decode()
    assert response.status_code == 200
    assert [(r.worker.username, r.day) for r in response.context["page"]] == [
        ("worker_a", DAY),
        ("worker_b", DAY),
    ]
    assert "早间 ✓ 07:59" in body
    assert "晚间 ✗ 未巡" in body
    assert "大佛社区第1网格" in body


def test_patrol_page_filters_missed_and_by_town(cast, login) -> None:
    patrolled(cast.worker_a, local(7, 30), local(21, 0))
    client = login(cast.dispatcher)
    with time_machine.travel(AFTER, tick=False):
        missed: Any = client.get(
            "/watch/patrol/", {"date_from": "2026-03-02", "date_to": "2026-03-02", "missed": "on"}
        )
        town_b = client.get("/watch/patrol/", {"date_from": "2026-03-02", "town": str(cast.town_b.pk)})
    assert [r.worker.username for r in missed.context["page"]] == ["worker_b"]
    assert list(town_b.context["page"]) == []


def test_a_too_long_range_is_explained(cast, login) -> None:
    response = login(cast.dispatcher).get(
        "/watch/patrol/", {"date_from": "2026-01-01", "date_to": "2026-03-02"}
    )
    assert response.status_code == 422
    assert "一次最多统计31天" in response.content.decode()
