from typing import Any

import pytest
from django.test import Client

from dualgrid.cases import services
from dualgrid.cases.tests.factories import act, report
from dualgrid.cockpit.models import Level
from dualgrid.cockpit.rollup import rollup_events
from dualgrid.cockpit.selectors import warning_level
from dualgrid.conftest import POINT_IN_B, POINT_IN_C, Cast

from .stories import at, midnight_case

MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def leader(cast: Cast, login: Any) -> Client:
    return login(cast.leader)  # type: ignore[no-any-return]


def test_the_page_shows_figures_with_their_definitions_and_links(cast: Cast, leader: Client) -> None:
    case = midnight_case(cast)
    rollup_events(settle_seconds=0)
    response = leader.get(f"/cockpit/?{MARCH}")
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "驾驶舱 · 潼南区",
        "办结率",
        "结案率 = 结案数 ÷（应结案数 − 缓办数）",
        "满意率 = 满意 ÷ 已评价",
        "桂林街道",
    ):
        assert text in page
    received = next(c for c in response.context["data"]["cards"] if c["key"] == "received")
    assert received["display"] == "1"
    listed = leader.get(received["href"])
    assert [c.number for c in listed.context["page"].object_list] == [case.number]
    closed = next(c for c in response.context["data"]["cards"] if c["key"] == "closed")
    assert "status=closed" in closed["href"] and "closed_from=2026-03-01" in closed["href"]
    assert "vendor/echarts.min.js" in page and "vendor/leaflet/leaflet.js" in page
    assert "cdn" not in page.lower()


def test_drilling_down_to_a_town_and_a_grid(cast: Cast, leader: Client) -> None:
    midnight_case(cast)
    rollup_events(settle_seconds=0)
    town = leader.get(f"/cockpit/?place={Level.TOWN}-{cast.town_a.pk}&{MARCH}")
    assert town.status_code == 200
    assert [u["name"] for u in town.context["data"]["units"]] == ["大佛社区"]
    assert [p.name for p in town.context["trail"]] == ["潼南区", "桂林街道"]
    grid = leader.get(f"/cockpit/?place={Level.GRID}-{cast.grid_a.pk}&{MARCH}")
    assert grid.status_code == 200
    assert [p.name for p in grid.context["trail"]] == ["潼南区", "桂林街道", "大佛社区", "大佛社区第1网格"]
    assert grid.context["data"]["cards"][0]["value"] == 1
    assert "grid=" in grid.context["data"]["cards"][0]["href"]


def test_json_endpoints(cast: Cast, leader: Client) -> None:
    midnight_case(cast)
    rollup_events(settle_seconds=0)
    data = leader.get(f"/cockpit/figures.json?{MARCH}").json()
    assert data["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert {c["key"]: c["display"] for c in data["cards"]}["completion_rate"] == "100.0%"
    assert len(data["daily"]) == 31
    assert data["channels"][0]["name"] == "网页/扫码"
    bad = leader.get("/cockpit/figures.json?from=2026-03-09&to=2026-03-01").json()
    assert bad["period"]["from"].endswith("-01")  # an inverted range falls back to this month


def test_scope_and_roles(cast: Cast, login: Any) -> None:
    town_b = login(cast.town_dispatcher)
    assert town_b.get("/cockpit/").context["place"].name == "群力镇"
    assert town_b.get(f"/cockpit/?place={Level.TOWN}-{cast.town_a.pk}").status_code == 404
    assert town_b.get(f"/cockpit/map.json?place={Level.GRID}-{cast.grid_a.pk}").status_code == 404
    assert login(cast.worker_a).get("/cockpit/").status_code == 403
    assert login(cast.calltaker).get("/cockpit/figures.json").status_code == 403
    assert Client().get("/cockpit/").status_code == 302
    assert login(cast.admin).get("/cockpit/").context["place"].name == "全部"


def test_warning_levels_take_the_higher_of_open_and_overdue(settings: Any) -> None:
    settings.DUALGRID = {
        **settings.DUALGRID,
        "COCKPIT_OPEN_THRESHOLDS": (5, 10, 20),
        "COCKPIT_OVERDUE_THRESHOLDS": (1, 3, 5),
    }
    assert warning_level(0, 0) == "green"
    assert warning_level(4, 0) == "green"
    assert warning_level(5, 0) == "yellow"
    assert warning_level(10, 0) == "orange"
    assert warning_level(2, 1) == "yellow"
    assert warning_level(6, 3) == "orange"
    assert warning_level(25, 0) == "red"
    assert warning_level(3, 5) == "red"


def test_the_map_colours_every_grid_from_open_and_overdue_cases(
    cast: Cast, leader: Client, settings: Any
) -> None:
    settings.DUALGRID = {
        **settings.DUALGRID,
        "COCKPIT_OPEN_THRESHOLDS": (2, 3, 4),
        "COCKPIT_OVERDUE_THRESHOLDS": (1, 2, 3),
    }
    with at("2026-03-02 09:00"):
        late = report(cast, category="T0101")  # auto-dispatched to grid A, never signed
        report(cast, point=POINT_IN_B, category="T0101")
        report(cast, point=POINT_IN_B, category="T0101")
        voided = report(cast, point=POINT_IN_C, category="T03")  # no routing rule: waits for the centre
        act(cast.dispatcher, voided, "reject", "重复反映")
    with at("2026-03-20 09:00"):
        services.deadline_sweep()
    rollup_events(settle_seconds=0)  # open cases come from the rollup's tallies
    with at("2026-03-20 09:00"):
        data = leader.get("/cockpit/map.json").json()
    grids = {g["name"]: g for g in data["grids"]}
    assert {k: (g["open"], g["overdue"], g["level"]) for k, g in grids.items()} == {
        "大佛社区第1网格": (1, 1, "yellow"),  # one overdue
        "大佛社区第2网格": (2, 2, "orange"),  # two open, both overdue by now
        "白兔村第1网格": (0, 0, "green"),  # its only case was voided
    }
    assert data["grid_url"].replace("/0/", f"/{cast.grid_a.pk}/") == f"/places/grids/{cast.grid_a.pk}/"
    assert data["labels"]["red"] == "红色预警"
    assert data["counts"] == {"green": 1, "yellow": 1, "orange": 1, "red": 0}
    assert late.grid_id == cast.grid_a.pk


def test_an_urgent_group_message_nobody_handled_colours_its_grid(cast: Cast, leader: Client) -> None:
    from dualgrid.places.models import ChatGroup, Platform
    from dualgrid.watch.inbound import Inbound, ingest
    from dualgrid.watch.models import Connector

    assert warning_level(0, 0, 1) == "orange" and warning_level(0, 0, 3) == "red"
    connector = Connector.objects.create(slug="c", name="接入", platform=Platform.WECHAT)
    ChatGroup.objects.create(grid=cast.grid_c, platform=Platform.WECHAT, name="白兔1群", external_id="g-c")
    ingest(connector, [Inbound(external_id="1", group_id="g-c", text="家里老人走失了，大家帮忙找找")])
    grids = {g["name"]: g for g in leader.get("/cockpit/map.json").json()["grids"]}
    assert (grids["白兔村第1网格"]["urgent_messages"], grids["白兔村第1网格"]["level"]) == (1, "orange")
    assert (grids["大佛社区第1网格"]["urgent_messages"], grids["大佛社区第1网格"]["level"]) == (0, "green")


def test_an_open_dispute_colours_its_grid_and_a_closed_one_does_not(cast: Cast, leader: Client) -> None:
    from dualgrid.cases.models import Case, Category, RequestKind, Status

    assert warning_level(0, 0, 0, 1) == "yellow" and warning_level(0, 0, 0, 5) == "red"
    top, _ = Category.objects.get_or_create(
        code="10", defaults={"name": "矛盾纠纷", "kind": RequestKind.HELP}
    )
    Category.objects.get_or_create(
        code="1001", defaults={"name": "邻里纠纷", "parent": top, "kind": RequestKind.HELP}
    )
    report(cast, category="1001", description="楼上楼下因漏水发生争执")  # grid A, stays open
    closed = report(cast, point=POINT_IN_C, category="1001", description="两户因宅基地边界争执")
    Case.objects.filter(pk=closed.pk).update(status=Status.CLOSED)  # resolved: no longer counts
    grids = {g["name"]: g for g in leader.get("/cockpit/map.json").json()["grids"]}
    assert (grids["大佛社区第1网格"]["disputes"], grids["大佛社区第1网格"]["level"]) == (1, "yellow")
    assert (grids["白兔村第1网格"]["disputes"], grids["白兔村第1网格"]["level"]) == (0, "green")


def test_a_resident_overdue_for_a_weekly_visit_colours_the_grid(cast: Cast, leader: Client) -> None:
    from datetime import date

    import time_machine

    from dualgrid.lib.idcard import make_id
    from dualgrid.people import services as people
    from dualgrid.people.models import Tag

    care = Tag.objects.get(group="care", code="01")
    assert care.visit_every_days == 7
    resident = people.resident_create(
        actor=None,
        data=people.ResidentInput(
            name="王秀英", grid_code=cast.grid_c.code, id_number=make_id("500152", date(1948, 5, 6), 2)
        ),
    )
    people.resident_tag_add(actor=None, resident=resident, tag=care, since=date(2025, 11, 17))
    # Tagged Monday 17 Nov 2025 and never visited: due that week, overdue from Monday 24th.
    with time_machine.travel("2025-11-23 12:00 +08:00", tick=False):
        due = {g["name"]: g for g in leader.get("/cockpit/map.json").json()["grids"]}
    with time_machine.travel("2025-11-24 09:00 +08:00", tick=False):
        late = {g["name"]: g for g in leader.get("/cockpit/map.json").json()["grids"]}
    assert (due["白兔村第1网格"]["overdue_visits"], due["白兔村第1网格"]["level"]) == (0, "green")
    assert (late["白兔村第1网格"]["overdue_visits"], late["白兔村第1网格"]["level"]) == (1, "yellow")
    assert late["大佛社区第1网格"]["overdue_visits"] == 0
