"""Figures by handling department and by grid worker (Dim.DEPARTMENT / Dim.WORKER), and the category
tree: counters from hand-made stories, the page's tables and the case lists behind their numbers."""

from datetime import date
from typing import Any

import pytest
from django.test import Client

from dualgrid.cockpit import figures
from dualgrid.cockpit.indicators import Period
from dualgrid.cockpit.models import COUNTER_FIELDS, DailyFigure, Dim, Level
from dualgrid.cockpit.rollup import rebuild, rollup_events
from dualgrid.cockpit.selectors import Place
from dualgrid.conftest import Cast

from .stories import (
    extended_reworked_unrated_case,
    midnight_case,
    patrol_report_case,
    rejected_case,
    returned_by_department_case,
)

pytestmark = pytest.mark.django_db
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
MAR3, MAR4 = date(2026, 3, 3), date(2026, 3, 4)


def row(day: date, dim: str, key: int, level: int = Level.ALL, unit_id: int = 0) -> dict[str, int]:
    found = DailyFigure.objects.filter(day=day, level=level, unit_id=unit_id, dim=dim, key=str(key)).first()
    return {f: getattr(found, f) for f in COUNTER_FIELDS if getattr(found, f)} if found else {}


def county(cast: Cast) -> Place:
    return Place(Level.COUNTY, cast.county.pk, cast.county.name)


@pytest.fixture
def story(cast: Cast) -> None:
    """The returned dispute (rolled up while the department still held it) and worker_a's patrol report."""
    returned_by_department_case(cast, between=lambda: rollup_events(settle_seconds=0))
    patrol_report_case(cast)
    rollup_events(settle_seconds=0)


def test_a_department_keeps_the_dispatch_and_sign_it_returned(cast: Cast, story: None) -> None:
    # 09:20 dispatch → 10:20 sign (3,600 s); the return and everything after belong to grid A.
    expected = {"dispatched": 1, "signed": 1, "sign_seconds_sum": 3600}
    assert row(MAR3, Dim.DEPARTMENT, cast.housing.pk) == expected
    assert row(MAR3, Dim.DEPARTMENT, cast.housing.pk, Level.TOWN, cast.town_a.pk) == expected
    assert row(MAR3, Dim.DEPARTMENT, cast.housing.pk, Level.GRID, cast.grid_a.pk) == expected
    assert not DailyFigure.objects.filter(dim=Dim.DEPARTMENT).exclude(key=str(cast.housing.pk)).exists()


def test_a_worker_counts_what_they_reported_signed_resolved_and_closed(cast: Cast, story: None) -> None:
    assert row(MAR3, Dim.WORKER, cast.worker_a.pk) == {
        "signed": 1,
        "resolved": 1,
        "closed": 1,
        "closed_on_time": 1,
        "rated": 1,
        "satisfied": 1,
        "sign_seconds_sum": 1800,  # 11:30 dispatch → 12:00 sign
        "resolve_seconds_sum": 3 * 3600,  # 11:30 → 14:30
    }
    assert row(MAR4, Dim.WORKER, cast.worker_a.pk) == {"received": 1}  # the patrol report (上报)
    # The department's handler signed too: a row of their own, not worker_a's.
    assert row(MAR3, Dim.WORKER, cast.handler.pk) == {"signed": 1, "sign_seconds_sum": 3600}
    # Nobody's: the resident's report, the dispatcher's accept and dispatches.
    assert set(DailyFigure.objects.filter(dim=Dim.WORKER).values_list("key", flat=True)) == {
        str(cast.worker_a.pk),
        str(cast.handler.pk),
    }


def test_a_rebuild_gives_the_same_department_and_worker_rows(cast: Cast, story: None) -> None:
    def handlers() -> dict[tuple[Any, ...], tuple[int, ...]]:
        return {
            (r.day, r.level, r.unit_id, r.dim, r.key): tuple(getattr(r, f) for f in COUNTER_FIELDS)
            for r in DailyFigure.objects.filter(dim__in=[Dim.DEPARTMENT, Dim.WORKER])
        }

    incremental = handlers()
    assert incremental
    rebuild(date(2026, 3, 1), date(2026, 3, 9))
    assert handlers() == incremental


def test_events_recorded_before_dispatch_ids_fall_back_to_the_cases_department(cast: Cast) -> None:
    """Dispatch events written before their data carried the target: the case's department."""
    from dualgrid.cases.models import CaseEvent

    returned_by_department_case(cast)
    CaseEvent.objects.filter(action="dispatch").update(data={})
    rollup_events(settle_seconds=0)
    # The case is with grid A now: the old dispatch to the department is nobody's; the sign stays.
    assert row(MAR3, Dim.DEPARTMENT, cast.housing.pk) == {"signed": 1, "sign_seconds_sum": 3600}


def test_the_department_and_worker_tables_with_their_rates(cast: Cast, story: None) -> None:
    [dept] = figures.departments(county(cast), MARCH)["rows"]
    assert (dept["name"], dept["parent"]) == ("区住房城乡建委", "潼南区")
    assert (dept["volume"], dept["closed"], dept["completion"], dept["on_time"]) == (1, 0, "0.0%", "0.0%")
    assert (dept["satisfaction"], dept["sign_hours"], dept["resolve_hours"]) == ("—", "1.0", "—")

    data = figures.workers(county(cast), MARCH)
    [worker] = data["rows"]  # the department's handler is not a grid worker
    assert (worker["name"], worker["parent"]) == ("worker_a", "大佛社区第1网格")
    assert (worker["reported"], worker["volume"], worker["closed"]) == (1, 1, 1)
    assert (worker["completion"], worker["on_time"], worker["satisfaction"]) == ("100.0%", "100.0%", "100.0%")
    assert (worker["sign_hours"], worker["resolve_hours"]) == ("0.5", "3.0")
    assert data["total"] == 1 and not data["cut"]

    town_b = Place(Level.TOWN, cast.town_b.pk, cast.town_b.name)
    assert figures.departments(town_b, MARCH)["rows"] == [] and figures.workers(town_b, MARCH)["rows"] == []


def numbers(client: Client, href: str) -> list[str]:
    response = client.get(href)
    assert response.status_code == 200
    return [c.number for c in response.context["page"].object_list]


def test_every_department_and_worker_number_opens_its_cases(cast: Cast, story: None, login: Any) -> None:
    from dualgrid.cases.models import Case

    leader: Client = login(cast.leader)
    dispute = Case.objects.get(category=cast.dispute)
    patrol = Case.objects.get(created_by=cast.worker_a)
    page = leader.get("/cockpit/?from=2026-03-01&to=2026-03-31")
    data = page.context["data"]
    assert "区住房城乡建委" in page.content.decode() and "网格员（1人）" in page.content.decode()

    [dept] = data["departments"]["rows"]
    assert "department=" in dept["volume_href"] and "dispatched_from=2026-03-01" in dept["volume_href"]
    # The department returned the case, so its last dispatch is to grid A: no longer the department's.
    assert numbers(leader, dept["volume_href"]) == []
    assert numbers(leader, dept["closed_href"]) == []

    [worker] = data["workers"]["rows"]
    assert numbers(leader, worker["reported_href"]) == [patrol.number]
    assert numbers(leader, worker["volume_href"]) == [dispute.number]
    assert numbers(leader, worker["closed_href"]) == [dispute.number]
    assert numbers(leader, worker["resolve_href"]) == [dispute.number]
    listed = leader.get(worker["reported_href"]).content.decode()
    assert "限定登记人" in listed
    assert "签收日期 2026-03-01 至 2026-03-31" in leader.get(worker["volume_href"]).content.decode()


def test_a_department_that_kept_its_case_lists_it(cast: Cast, login: Any) -> None:
    """下水道堵塞 is routed to 区住房城乡建委 on registration (auto-dispatch); its handler closes it."""
    from dualgrid.cases.tests.factories import act, rate, report
    from dualgrid.conftest import POINT_IN_B

    from .stories import at

    with at("2026-03-05 09:00"):
        case = report(cast, point=POINT_IN_B, category="T0201", description="下水道堵塞，污水外溢")
    with at("2026-03-05 09:30"):
        case = act(cast.handler, case, "sign")
    with at("2026-03-05 12:00"):
        case = act(cast.handler, case, "resolve", "已疏通")
    with at("2026-03-05 13:00"):
        case = act(cast.dispatcher, case, "verify")
    with at("2026-03-05 14:00"):
        rate(case, "basic")
    rollup_events(settle_seconds=0)
    [dept] = figures.departments(county(cast), MARCH)["rows"]
    assert (dept["volume"], dept["closed"], dept["completion"], dept["on_time"]) == (1, 1, "100.0%", "100.0%")
    assert (dept["satisfaction"], dept["sign_hours"], dept["resolve_hours"]) == ("0.0%", "0.5", "3.0")
    leader: Client = login(cast.leader)
    assert numbers(leader, dept["volume_href"]) == [case.number]
    assert numbers(leader, dept["closed_href"]) == [case.number]
    assert figures.workers(county(cast), MARCH)["rows"] == []  # a department handler, not a grid worker


def test_the_category_tree_sums_leaves_into_their_parents(cast: Cast, login: Any) -> None:
    midnight_case(cast)  # 车辆乱停 (市容环境), closed 2 March
    extended_reworked_unrated_case(cast)  # 矛盾纠纷 (a top-level category), closed 7 March
    rejected_case(cast)  # 政策咨询, rejected
    rollup_events(settle_seconds=0)
    tree = figures.category_tree(county(cast), MARCH)
    shape = [
        (
            n["name"],
            n["received"],
            n["closed"],
            n["completion"],
            [(k["name"], k["received"]) for k in n["children"]],
        )
        for n in tree
    ]
    assert shape == [
        ("市容环境", 1, 1, "100.0%", [("车辆乱停", 1)]),
        ("矛盾纠纷", 1, 1, "100.0%", []),
        ("政策咨询", 1, 0, "0.0%", []),
    ]
    # 矛盾纠纷: dispatched once, an extension approved and closed in the period → 1 ÷ (1 − 0); rated
    # once, 不满意 (the reworked case then closed unrated).
    dispute = tree[1]
    assert (dispute["on_time"], dispute["satisfaction"]) == ("100.0%", "0.0%")

    leader: Client = login(cast.leader)
    parking = tree[0]["children"][0]
    assert "category=T0101" in parking["received_href"]
    assert len(numbers(leader, tree[0]["received_href"])) == 1  # category=T01 takes in its children
    page = leader.get("/cockpit/?from=2026-03-01&to=2026-03-31").content.decode()
    assert "事件分类树" in page and 'class="cat-node depth-0" open' in page

    grid = figures.category_tree(Place(Level.GRID, cast.grid_a.pk, cast.grid_a.name), MARCH)
    assert [(n["name"], n["children"]) for n in grid] == [("市容环境", []), ("矛盾纠纷", [])]  # top only


def test_the_worker_table_is_ranked_and_cut_in_the_database(cast: Cast) -> None:
    """``top_workers`` ranks the grid workers' rows summed over days, a month and days again (the
    UNION of grains) by 签收, then 结案, then id; keeps grid workers only and rows with any counter;
    cuts to the limit and counts them all — the same as ranking every row in Python."""
    from dualgrid.accounts.models import Role, User
    from dualgrid.cockpit.models import MonthlyFigure
    from dualgrid.cockpit.selectors import by_dim, top_workers

    extra = [User.objects.create_user(f"gw{i}", password="x", role=Role.GRIDWORKER) for i in range(6)]
    people = [cast.worker_a, cast.worker_b, *extra]
    # (signed, closed) in the February days, March's monthly row, the April days.
    plan = {
        cast.worker_a.pk: [(1, 0), (2, 1), (0, 0)],  # 3 signed, 1 closed
        cast.worker_b.pk: [(0, 0), (3, 2), (0, 0)],  # 3 signed, 2 closed: before worker_a
        extra[0].pk: [(0, 0), (0, 0), (5, 0)],  # 5: first, from the days after the month only
        extra[1].pk: [(1, 1), (1, 0), (1, 0)],  # 3 signed, 1 closed: tie with worker_a, higher id
        extra[2].pk: [(0, 0), (0, 0), (0, 0)],  # nothing: left out
        extra[3].pk: [(0, 0), (0, 0), (0, 0)],  # only reported (received), below
        cast.dispatcher.pk: [(9, 9), (9, 9), (9, 9)],  # not a grid worker: left out
    }
    for pk, ((s1, c1), (s2, c2), (s3, c3)) in plan.items():
        common = {"level": Level.ALL, "unit_id": 0, "dim": Dim.WORKER, "key": str(pk)}
        DailyFigure.objects.create(day=date(2026, 2, 27), signed=s1, closed=c1, **common)
        MonthlyFigure.objects.create(day=date(2026, 3, 1), signed=s2, closed=c2, **common)
        DailyFigure.objects.create(day=date(2026, 4, 2), signed=s3, closed=c3, **common)
    DailyFigure.objects.filter(key=str(extra[3].pk), day=date(2026, 4, 2)).update(received=2)
    DailyFigure.objects.create(
        day=date(2026, 3, 5), level=Level.ALL, unit_id=0, dim=Dim.WORKER, key=str(extra[4].pk), signed=50
    )  # a daily row inside the month the monthly row stands for: not read
    period = Period(date(2026, 2, 27), date(2026, 4, 2))
    city = Place(Level.ALL, 0, "全部")

    ranked, total = top_workers(city, period, "signed", 3)
    assert [pk for pk, _ in ranked] == [extra[0].pk, cast.worker_b.pk, cast.worker_a.pk]
    assert ranked[1][1]["signed"] == 3 and ranked[1][1]["closed"] == 2
    assert total == 5  # extra[0], worker_b, worker_a, extra[1], extra[3]

    everyone, total = top_workers(city, period, "signed", 100)
    assert [pk for pk, _ in everyone] == [
        extra[0].pk,
        cast.worker_b.pk,
        cast.worker_a.pk,
        extra[1].pk,
        extra[3].pk,
    ]
    assert everyone[-1][1]["received"] == 2 and total == 5
    # The same as every row in Python, grid workers with any counter only.
    rows = by_dim(city, period, Dim.WORKER)
    workers = {str(p.pk) for p in people}
    python = sorted(
        ((int(k), c) for k, c in rows.items() if k in workers and any(c.values())),
        key=lambda kc: (-kc[1]["signed"], -kc[1]["closed"], kc[0]),
    )
    assert everyone == python
    assert top_workers(city, Period(date(2026, 6, 1), date(2026, 6, 30)), "signed", 100) == ([], 0)


def test_the_platforms_worker_rows_have_a_covering_index_on_postgresql() -> None:
    """Migration cockpit 0009: on PostgreSQL the whole platform's worker rows of the daily figures are
    covered by a partial index (read index-only); SQLite has no INCLUDE and gets nothing."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'dailyfigure_all_worker'")
            [(definition,)] = cursor.fetchall()
            assert "INCLUDE (unit_id, received" in definition and "resolve_seconds_sum)" in definition
            assert "WHERE ((level = 0) AND ((dim)::text = 'worker'::text))" in definition
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'dailyfigure_all_worker'")
            assert cursor.fetchall() == []
