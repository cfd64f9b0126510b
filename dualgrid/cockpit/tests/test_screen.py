"""The big screen's JSON: today's figures and ranking, the live feed (urgent first, phones masked), and
both kept to the reader's scope."""

import json
from typing import Any

import pytest
from django.test import Client

from dualgrid.cases.models import Status, Urgency
from dualgrid.cases.tests.factories import case_in_state, report
from dualgrid.cockpit.models import Level
from dualgrid.cockpit.rollup import rollup_events
from dualgrid.conftest import POINT_IN_C, Cast

from .stories import at


@pytest.fixture
def leader(cast: Cast, login: Any) -> Client:
    return login(cast.leader)  # type: ignore[no-any-return]


def test_the_screen_page_loads_its_data_from_the_json_endpoints(cast: Cast, leader: Client) -> None:
    response = leader.get("/cockpit/screen/")
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "双网格指挥中心",
        "/cockpit/screen/summary.json?place=",
        "/cockpit/screen/feed.json?place=",
        "/cockpit/map.json?place=",
        "screen.js",
    ):
        assert text in page
    assert "http://" not in page and "https://" not in page  # no CDN, no external fonts


def test_the_summary_has_todays_figures_overdue_now_and_the_town_ranking(cast: Cast, leader: Client) -> None:
    with at("2026-03-03 08:00"):
        case_in_state(cast, Status.CLOSED)  # received and closed today in 桂林街道
        report(cast, point=POINT_IN_C)  # received today in 群力镇
    with at("2026-03-03 09:00"):
        rollup_events(settle_seconds=0)
        data = leader.get("/cockpit/screen/summary.json").json()
    assert data["day"] == "2026-03-03"
    assert {k: data["today"][k] for k in ("received", "closed", "completion", "overdue")} == {
        "received": 2,
        "closed": 1,
        "completion": "50.0%",
        "overdue": 0,
    }
    assert data["today"]["month_completion"] == "50.0%"  # 1 March … today: the same two cases
    assert data["today"]["received_href"].startswith("/cases/?unit=")
    ranking = data["ranking"]
    assert ranking["label"] == "镇街结案率排名（本月）"
    assert [(r["name"], r["rank"], r["under_sample"]) for r in ranking["rows"]] == [
        ("桂林街道", None, True),  # one case: under the minimum of 10
        ("群力镇", None, True),
    ]


def test_the_feed_puts_open_urgent_cases_first_and_masks_phones(cast: Cast, leader: Client) -> None:
    with at("2026-03-03 08:00"):
        urgent = report(cast, urgency=Urgency.URGENT, description="河边有人落水", phone="13900001111")
    with at("2026-03-03 08:30"):
        normal = report(cast, point=POINT_IN_C, description="路灯不亮")
    with at("2026-03-03 09:00"):
        response = leader.get("/cockpit/screen/feed.json")
    assert response["Cache-Control"].startswith("max-age=0")
    cases = response.json()["cases"]
    assert [c["id"] for c in cases] == [urgent.pk, normal.pk]  # urgent first though older
    assert cases[0]["urgent"] and not cases[1]["urgent"]
    assert cases[0]["phone"] == "139****1111"
    assert cases[0]["time"] == "08:00"
    body = response.content.decode()
    assert "13900001111" not in body and "13812345678" not in body


def test_both_endpoints_keep_to_the_readers_scope(cast: Cast, login: Any) -> None:
    report(cast, description="桂林街道的事")  # grid A, 桂林街道
    report(cast, point=POINT_IN_C, description="群力镇的事")
    rollup_events(settle_seconds=0)
    town_b: Client = login(cast.town_dispatcher)
    feed = town_b.get("/cockpit/screen/feed.json").json()
    assert [c["place"] for c in feed["cases"]] == ["白兔村第1网格"]
    summary = town_b.get("/cockpit/screen/summary.json").json()
    assert summary["today"]["received"] == 1
    assert [r["name"] for r in summary["ranking"]["rows"]] == ["白兔村"]  # inside a town: its villages
    outside = town_b.get(f"/cockpit/screen/feed.json?place={Level.TOWN}-{cast.town_a.pk}")
    assert outside.status_code == 404
    assert "桂林街道的事" not in json.dumps(feed, ensure_ascii=False)


def test_only_cockpit_roles_open_the_screen(cast: Cast, login: Any) -> None:
    for path in ("/cockpit/screen/", "/cockpit/screen/feed.json", "/cockpit/rankings/"):
        assert login(cast.worker_a).get(path).status_code == 403


def test_old_urgent_cases_do_not_push_new_ones_off_the_feed(cast: Cast, leader: Client) -> None:
    with at("2026-03-01 08:00"):
        stale = report(cast, urgency=Urgency.URGENT, description="两天前的紧急事件")
    with at("2026-03-03 08:00"):
        fresh = report(cast, point=POINT_IN_C, description="今天的一般事件")
    with at("2026-03-03 09:00"):
        cases = leader.get("/cockpit/screen/feed.json").json()["cases"]
    assert [c["id"] for c in cases] == [fresh.pk, stale.pk]  # by time once older than 24 h
    assert cases[1]["time"] == "03-01 08:00"


def test_a_running_screen_renews_its_session_on_every_poll(cast: Cast, leader: Client, settings: Any) -> None:
    response = leader.get("/cockpit/screen/summary.json")
    assert response.status_code == 200
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value and int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
