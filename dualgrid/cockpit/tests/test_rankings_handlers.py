"""晾晒 of departments and grid workers: read from the rollup's department and worker rows
(``Dim.DEPARTMENT`` / ``Dim.WORKER``), the same numbers as the figures page, for every scope; a case
handed from one department to another; the minimum-volume rule; the case lists behind the numbers.

The stories (all in March 2026, local time; expected numbers written out by hand):

* ``returned_by_department_case`` (3 Mar): dispatched to 区住房城乡建委, signed by its handler, returned;
  dispatched to grid A, signed and resolved by worker_a, rated 满意 → closed on time.
* ``handed_over`` (5 Mar): dispatched to 区公安分局, signed by its handler, returned as not theirs;
  dispatched to 区住房城乡建委, signed and resolved by its handler, rated 满意 → closed on time.
* ``midnight_case`` (1–2 Mar): auto-dispatched to grid A, worker_a signs and resolves, 满意 → closed.
* ``extended_reworked_unrated_case`` (3–7 Mar): grid A, worker_a signs, extension approved, rated
  不满意, resolved again, closed unrated on 7 Mar (on time, the extension counted).
* ``patrol_report_case`` (4 Mar): worker_a registers a case on patrol (上报), nobody signs.

Departments (March): 区公安分局 承办 1 (the dispatch), 结案 0; 区住房城乡建委 承办 2 (both dispatches;
the first case went back to grid A), 结案 1 (on time, 满意) → 办结率 50.0 %, 按期办结率 50.0 %,
满意率 100.0 %. Under the old definition (the case's department now) 区公安分局 had nothing and
区住房城乡建委 1 received case.
worker_a: 上报 1, 承办 3 (three signs), 结案 3, 3 on time, rated 3 times, 满意 2 → 100.0 %, 100.0 %,
66.7 %. worker_b: nothing.
"""

from datetime import date
from typing import Any

import pytest
from django.test import Client

from dualgrid.accounts.models import Role
from dualgrid.cases.models import Case
from dualgrid.cases.tests.factories import act, rate, report
from dualgrid.cockpit import figures, rankings
from dualgrid.cockpit.indicators import Period
from dualgrid.cockpit.models import Level
from dualgrid.cockpit.rankings import Cell, Table
from dualgrid.cockpit.rollup import rollup_events
from dualgrid.cockpit.selectors import Place, root_place
from dualgrid.conftest import Cast, _user
from dualgrid.places.models import Department

from .stories import (
    at,
    extended_reworked_unrated_case,
    midnight_case,
    patrol_report_case,
    returned_by_department_case,
)

pytestmark = pytest.mark.django_db
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
QUERY = "from=2026-03-01&to=2026-03-31"


def handed_over(cast: Cast) -> Case:
    police_handler = _user("police_handler", Role.HANDLER, department=cast.police)
    with at("2026-03-05 09:00"):
        case = report(cast, category="T03", description="楼道堆放杂物引发争吵")
    with at("2026-03-05 09:10"):
        case = act(cast.dispatcher, case, "accept")
    with at("2026-03-05 09:20"):
        case = act(cast.dispatcher, case, "dispatch", department_id=cast.police.pk)
    with at("2026-03-05 09:50"):
        case = act(police_handler, case, "sign")
    with at("2026-03-05 10:00"):
        case = act(police_handler, case, "return", "非治安案件，请住建部门处理")
    with at("2026-03-05 10:30"):
        case = act(cast.dispatcher, case, "dispatch", department_id=cast.housing.pk)
    with at("2026-03-05 11:00"):
        case = act(cast.handler, case, "sign")
    with at("2026-03-05 15:00"):
        case = act(cast.handler, case, "resolve", "已清理杂物")
    with at("2026-03-05 16:00"):
        case = act(cast.dispatcher, case, "verify")
    with at("2026-03-05 17:00"):
        rate(case, "satisfied")
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def march(cast: Cast) -> dict[str, Case]:
    """The stories above, rolled up; plus 群力镇综治办, a department of town B with no cases."""
    Department.objects.create(code="QLZZ", name="群力镇综治办", unit=cast.town_b)
    cases = {
        "returned": returned_by_department_case(cast, between=lambda: rollup_events(settle_seconds=0)),
        "handed": handed_over(cast),
        "midnight": midnight_case(cast),
        "extended": extended_reworked_unrated_case(cast),
        "patrol": patrol_report_case(cast),
    }
    rollup_events(settle_seconds=0)
    return cases


def cells(table: Table, name: str) -> dict[str, Cell]:
    return next(r for r in table.rows if r.name == name).cells


def shown(table: Table, *keys: str) -> dict[str, tuple[str, ...]]:
    return {r.name: tuple(r.cells[k].display for k in keys) for r in table.rows}


def county(cast: Cast) -> Place:
    return Place(Level.COUNTY, cast.county.pk, cast.county.name)


DEPT_COLUMNS = ("volume", "closed", "completion_rate", "on_time_rate", "satisfaction_rate")
WORKER_COLUMNS = ("reported", *DEPT_COLUMNS)


def test_departments_are_ranked_on_their_rollup_rows_with_a_handed_over_case(
    cast: Cast, march: dict[str, Case], settings: Any
) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "RANKING_MIN_VOLUME": 2}
    table = rankings.department_table(cast.leader, county(cast), MARCH)
    assert [m.label for m in table.metrics] == ["承办量", "结案", "办结率", "按期办结率", "满意率"]
    assert table.sort == "completion_rate"
    assert shown(table, *DEPT_COLUMNS) == {
        "区住房城乡建委": ("2", "1", "50.0%", "50.0%", "100.0%"),
        "区公安分局": ("1", "0", "0.0%", "0.0%", "—"),  # kept the dispatch it handed back
        "群力镇综治办": ("0", "0", "—", "—", "—"),  # a department of the county's units: listed
    }
    # 承办量 2 reaches the minimum of 2: ranked; 区公安分局's 1 does not — listed, not ranked.
    housing, police = cells(table, "区住房城乡建委"), cells(table, "区公安分局")
    assert (housing["completion_rate"].rank, housing["completion_rate"].under_sample) == (1, False)
    assert (police["completion_rate"].rank, police["completion_rate"].under_sample) == (None, True)
    assert (police["volume"].rank, police["volume"].under_sample) == (None, True)
    assert [r.name for r in table.rows] == ["区住房城乡建委", "区公安分局", "群力镇综治办"]
    # Sorted by 承办量: still only the ranked one gets a number.
    by_volume = rankings.department_table(cast.leader, county(cast), MARCH, sort="volume")
    assert [(r.name, r.sorted_cell.rank if r.sorted_cell else None) for r in by_volume.rows][0] == (
        "区住房城乡建委",
        1,
    )

    settings.DUALGRID = {**settings.DUALGRID, "RANKING_MIN_VOLUME": 10}
    table = rankings.department_table(cast.leader, county(cast), MARCH)
    assert all(r.sorted_cell and r.sorted_cell.rank is None for r in table.rows)  # nobody reaches 10
    assert cells(table, "区住房城乡建委")["completion_rate"].under_sample


def test_department_numbers_are_the_figures_pages_in_every_scope(cast: Cast, march: dict[str, Case]) -> None:
    town_b = Place(Level.TOWN, cast.town_b.pk, cast.town_b.name)
    for place in (
        root_place(cast.admin),  # the whole platform
        county(cast),
        Place(Level.TOWN, cast.town_a.pk, cast.town_a.name),
        Place(Level.VILLAGE, cast.village_a.pk, cast.village_a.name),
        Place(Level.GRID, cast.grid_a.pk, cast.grid_a.name),
        town_b,
    ):
        table = rankings.department_table(cast.admin, place, MARCH)
        on_figures = {
            r["name"]: (str(r["volume"]), str(r["closed"]), r["completion"], r["on_time"], r["satisfaction"])
            for r in figures.departments(place, MARCH)["rows"]
        }
        ranked = {name: row for name, row in shown(table, *DEPT_COLUMNS).items() if row[0] != "0"}
        assert ranked == on_figures, place
        if place != town_b:  # every case is in grid A
            assert on_figures["区住房城乡建委"] == ("2", "1", "50.0%", "50.0%", "100.0%")
    # Town B: its own department, with nothing; the county's departments did nothing there.
    assert shown(rankings.department_table(cast.admin, town_b, MARCH), "volume") == {"群力镇综治办": ("0",)}
    grid = rankings.department_table(cast.admin, Place(Level.GRID, cast.grid_a.pk, cast.grid_a.name), MARCH)
    assert set(shown(grid, "volume")) == {
        "区住房城乡建委",
        "区公安分局",
    }  # a grid has no departments of its own


def test_grid_workers_are_ranked_on_what_they_reported_signed_and_closed(
    cast: Cast, march: dict[str, Case], settings: Any
) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "RANKING_MIN_VOLUME": 3}
    grid_ids = [cast.grid_a.pk, cast.grid_b.pk, cast.grid_c.pk]
    table = rankings.worker_table(cast.leader, county(cast), MARCH, grid_ids)
    assert [m.label for m in table.metrics] == [
        "上报量",
        "承办量",
        "结案",
        "办结率",
        "按期办结率",
        "满意率",
        "走访达标率",
        "巡群达标率",
    ]
    assert shown(table, *WORKER_COLUMNS) == {
        "worker_a": ("1", "3", "3", "100.0%", "100.0%", "66.7%"),
        "worker_b": ("0", "0", "0", "—", "—", "—"),  # serves grid B: listed with nothing
    }  # the department's handlers are not grid workers
    a = cells(table, "worker_a")
    assert (a["completion_rate"].rank, a["satisfaction_rate"].rank, a["volume"].rank) == (1, 1, 1)
    assert (a["reported"].rank, a["reported"].under_sample) == (None, True)  # 上报 1 < 3
    assert (table.rows[0].name, table.rows[0].parent) == ("worker_a", "大佛社区第1网格")

    for place in (
        root_place(cast.admin),
        Place(Level.VILLAGE, cast.village_a.pk, cast.village_a.name),
        Place(Level.GRID, cast.grid_a.pk, cast.grid_a.name),
    ):
        on_figures = {
            r["name"]: (
                str(r["reported"]),
                str(r["volume"]),
                str(r["closed"]),
                r["completion"],
                r["on_time"],
                r["satisfaction"],
            )
            for r in figures.workers(place, MARCH)["rows"]
        }
        assert shown(rankings.worker_table(cast.admin, place, MARCH, []), *WORKER_COLUMNS) == on_figures
        assert on_figures["worker_a"] == ("1", "3", "3", "100.0%", "100.0%", "66.7%")


def test_every_department_and_worker_number_opens_the_list_behind_it(
    cast: Cast, march: dict[str, Case], login: Any
) -> None:
    leader: Client = login(cast.leader)

    def numbers(href: str) -> set[str]:
        response = leader.get(href)
        assert response.status_code == 200
        return {c.number for c in response.context["page"].object_list}

    table = leader.get(f"/cockpit/rankings/?{QUERY}&kind=department").context["tables"][0]
    housing, police = cells(table, "区住房城乡建委"), cells(table, "区公安分局")
    assert "dispatched_from=2026-03-01" in housing["volume"].href and "department=" in housing["volume"].href
    # The list shows cases as they are now: the case handed over is housing's; the one housing
    # returned to grid A is no longer in its list (its dispatch still counts).
    assert numbers(housing["volume"].href) == {march["handed"].number}
    assert numbers(housing["closed"].href) == {march["handed"].number}
    assert numbers(housing["completion_rate"].href) == {march["handed"].number}
    assert numbers(police["volume"].href) == set()

    table = leader.get(f"/cockpit/rankings/?{QUERY}&kind=worker").context["tables"][0]
    a = cells(table, "worker_a")
    signed = {march[k].number for k in ("returned", "midnight", "extended")}
    assert numbers(a["reported"].href) == {march["patrol"].number}
    assert "creator=" in a["reported"].href
    assert numbers(a["volume"].href) == signed and "signed_from=2026-03-01" in a["volume"].href
    assert numbers(a["closed"].href) == signed
    assert numbers(a["satisfaction_rate"].href) == signed


def test_the_page_in_every_scope_a_user_can_pick(cast: Cast, march: dict[str, Case], login: Any) -> None:
    leader: Client = login(cast.leader)
    admin: Client = login(cast.admin)
    for client, place in (
        (admin, ""),
        (leader, ""),
        (leader, f"{Level.TOWN}-{cast.town_a.pk}"),
        (leader, f"{Level.VILLAGE}-{cast.village_a.pk}"),
        (leader, f"{Level.GRID}-{cast.grid_a.pk}"),
    ):
        for kind, name, volume in (("department", "区住房城乡建委", "2"), ("worker", "worker_a", "3")):
            response = client.get(f"/cockpit/rankings/?place={place}&{QUERY}&kind={kind}")
            assert response.status_code == 200, (place, kind)
            [table] = response.context["tables"]
            assert table.kind == kind
            assert cells(table, name)["volume"].display == volume, (place, kind)
    page = leader.get(f"/cockpit/rankings/?place={Level.GRID}-{cast.grid_a.pk}&{QUERY}&kind=worker")
    assert [k for k, _ in page.context["kinds"]] == ["department", "worker"]
    text = page.content.decode()
    assert "即驾驶舱“网格员”表的数字" in text and "部门、网格员为承办量" in text
    text = leader.get(f"/cockpit/rankings/?{QUERY}&kind=department").content.decode()
    assert "即驾驶舱“承办部门”表的数字" in text and "取本期事件时间线" not in text
    # A sort key of another tab falls back to the table's own default.
    response = leader.get(f"/cockpit/rankings/?{QUERY}&kind=department&by=closure_rate")
    assert response.context["sort"] == "completion_rate"
