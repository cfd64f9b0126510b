"""The case list's filters the cockpit links to: unit, channel, registered and closed dates (local)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from dualgrid.cases.models import Case
from dualgrid.cases.tests.factories import act, rate, report
from dualgrid.conftest import POINT_IN_C, Cast

SHANGHAI = ZoneInfo("Asia/Shanghai")


@contextmanager
def at(local: str) -> Iterator[None]:
    with time_machine.travel(datetime.fromisoformat(local).replace(tzinfo=SHANGHAI), tick=False):
        yield


def midnight_case(cast: Cast) -> Case:
    """Registered 23:50 on 1 March (local), closed 00:10 on 2 March."""
    with at("2026-03-01 23:50"):
        case = report(cast, category="T0101")
        case = act(cast.worker_a, case, "sign")
        case = act(cast.worker_a, case, "resolve", "已劝离")
        case = act(cast.dispatcher, case, "verify")
    with at("2026-03-02 00:10"):
        rate(case, "satisfied")
    return Case.objects.get(pk=case.pk)


def numbers(client: Client, query: str) -> set[str]:
    response = client.get(f"/cases/?{query}")
    assert response.status_code == 200
    return {c.number for c in response.context["page"].object_list}


@pytest.fixture
def leader_client(cast: Cast, login) -> Client:  # type: ignore[no-untyped-def]
    return login(cast.leader)  # type: ignore[no-any-return]


def test_registered_dates_are_local_days(cast: Cast, leader_client: Client) -> None:
    late = midnight_case(cast)  # registered 23:50 on 1 March (15:50 UTC)
    with at("2026-03-02 00:30"):
        early = report(cast, category="T0101", channel="hotline")
    assert numbers(leader_client, "created_from=2026-03-01&created_to=2026-03-01") == {late.number}
    assert numbers(leader_client, "created_from=2026-03-02") == {early.number}
    assert numbers(leader_client, "channel=hotline") == {early.number}


def test_closed_dates_and_unit(cast: Cast, leader_client: Client) -> None:
    closed = midnight_case(cast)  # closed 00:10 on 2 March
    with at("2026-03-02 09:00"):
        other = report(cast, point=POINT_IN_C, category="T0101")
    assert numbers(leader_client, "status=closed&closed_from=2026-03-02&closed_to=2026-03-02") == {
        closed.number
    }
    assert numbers(leader_client, "closed_to=2026-03-01") == set()
    assert numbers(leader_client, f"unit={cast.town_b.pk}") == {other.number}
    assert numbers(leader_client, f"unit={cast.village_a.pk}") == {closed.number}
    # The hidden filters survive a change of the visible ones (they are in the form).
    page = leader_client.get(f"/cases/?unit={cast.town_b.pk}").content.decode()
    assert f'name="unit" value="{cast.town_b.pk}"' in page
    closed_page = leader_client.get("/cases/?closed_from=2026-03-02&closed_to=2026-03-02").content.decode()
    assert "另按驾驶舱的条件筛选：结案日期 2026-03-02 至 2026-03-02" in closed_page
