"""晾晒: ordering, shared ranks, the minimum-volume rule and scope, on hand-written daily figures (the
rollup itself is tested in test_rollup.py) and on cases driven through the real workflow."""

from datetime import date
from typing import Any

import pytest
from django.test import Client

from dualgrid.cases.models import Status
from dualgrid.cases.tests.factories import case_in_state, report
from dualgrid.cockpit import rankings
from dualgrid.cockpit.figures import preset_period
from dualgrid.cockpit.indicators import Period
from dualgrid.cockpit.models import COUNTER_FIELDS, Dim, Level
from dualgrid.cockpit.rankings import CASE_METRICS, Cell, Row, rank, sort_rows
from dualgrid.cockpit.rollup import add_figures, rollup_events
from dualgrid.cockpit.selectors import root_place
from dualgrid.conftest import Cast

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
CLOSURE = rankings.METRICS["closure_rate"]


def row(name: str, value: float | None, sample: int) -> Row:
    return Row(0, name, cells={"closure_rate": Cell(value=value, sample=sample, display="")})


def ranks(rows: list[Row]) -> list[tuple[str, int | None, bool]]:
    return [(r.name, r.cells["closure_rate"].rank, r.cells["closure_rate"].under_sample) for r in rows]


def test_higher_values_rank_first_and_ties_share_a_rank() -> None:
    rows = [row("乙", 0.8, 50), row("甲", 0.9, 50), row("丙", 0.8, 40), row("丁", 0.5, 10)]
    rank(rows, CLOSURE, 10)
    assert ranks(sort_rows(rows, "closure_rate")) == [
        ("甲", 1, False),
        ("丙", 2, False),  # 丙 and 乙 tie: both 2nd, listed by name
        ("乙", 2, False),
        ("丁", 4, False),  # after a tie of two the next rank is 4, not 3
    ]


def test_rates_equal_as_shown_share_a_rank() -> None:
    rows = [row("甲", 2 / 3, 30), row("乙", 0.66667, 30)]  # both 66.7%
    rank(rows, CLOSURE, 10)
    assert [r.cells["closure_rate"].rank for r in rows] == [1, 1]


def test_a_unit_below_the_minimum_volume_is_listed_but_not_ranked() -> None:
    rows = [row("小村", 1.0, 9), row("大镇", 0.6, 10), row("无派遣", None, 30)]
    rank(rows, CLOSURE, 10)
    assert ranks(sort_rows(rows, "closure_rate")) == [
        ("大镇", 1, False),
        ("小村", None, True),  # 100 % of nine cases does not top the table
        ("无派遣", None, False),  # no denominator: shown "—", not ranked
    ]


def figures(level: Level, unit_id: int, day: date, **counters: int) -> None:
    """A day's total row, and the same counters in its month's and year's rows (as the rollup adds them)."""
    add_figures({(day, level, unit_id, Dim.TOTAL, ""): [counters.get(name, 0) for name in COUNTER_FIELDS]})


@pytest.fixture
def march(cast: Cast) -> None:
    """桂林街道: 20 received, 20 dispatched, 15 closed (12 on time), 10 rated (8 满意), over two days.
    群力镇: 5 received and closed — 100 %, but under the minimum of 10.
    Villages: 大佛社区 = 桂林街道; 白兔村 = 群力镇."""
    for level, unit in ((Level.TOWN, cast.town_a), (Level.VILLAGE, cast.village_a)):
        figures(
            level,
            unit.pk,
            date(2026, 3, 2),
            received=12,
            dispatched=12,
            closed=5,
            closed_on_time=4,
            rated=4,
            satisfied=3,
        )
        figures(
            level,
            unit.pk,
            date(2026, 3, 30),
            received=8,
            dispatched=8,
            closed=10,
            closed_on_time=8,
            rated=6,
            satisfied=5,
        )
        figures(level, unit.pk, date(2026, 4, 1), received=100, dispatched=100, closed=0)  # outside March
    for level, unit in ((Level.TOWN, cast.town_b), (Level.VILLAGE, cast.village_c)):
        figures(
            level,
            unit.pk,
            date(2026, 3, 5),
            received=5,
            dispatched=5,
            closed=5,
            closed_on_time=5,
            rated=5,
            satisfied=5,
        )


def cells(table: rankings.Table, name: str) -> dict[str, Cell]:
    return next(r for r in table.rows if r.name == name).cells


def test_towns_are_ranked_on_their_period_figures(cast: Cast, march: None) -> None:
    table = rankings.unit_table(cast.leader, root_place(cast.leader), MARCH, "town")
    assert [r.name for r in table.rows] == ["桂林街道", "群力镇"]
    a = cells(table, "桂林街道")
    assert (a["received"].display, a["received"].rank) == ("20", 1)
    assert (a["completion_rate"].display, a["completion_rate"].rank) == ("75.0%", 1)  # 15 / 20
    assert (a["closure_rate"].display, a["on_time_rate"].display) == ("75.0%", "60.0%")  # 15/20, 12/20
    assert a["satisfaction_rate"].display == "80.0%"  # 8 / 10
    b = cells(table, "群力镇")
    assert (b["closure_rate"].display, b["closure_rate"].rank, b["closure_rate"].under_sample) == (
        "100.0%",
        None,
        True,
    )
    assert a["received"].href.startswith(f"/cases/?unit={cast.town_a.pk}&created_from=2026-03-01")
    assert "status=closed" in a["closure_rate"].href


def test_the_minimum_volume_is_a_setting(cast: Cast, march: None, settings: Any) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "RANKING_MIN_VOLUME": 5}
    table = rankings.unit_table(cast.leader, root_place(cast.leader), MARCH, "town")
    assert [(r.name, r.cells["closure_rate"].rank) for r in table.rows] == [("群力镇", 1), ("桂林街道", 2)]


def test_the_page_shows_one_table_per_tab_with_unranked_units_said_in_words(
    cast: Cast, march: None, login: Any
) -> None:
    client: Client = login(cast.leader)
    response = client.get("/cockpit/rankings/?from=2026-03-01&to=2026-03-31")
    assert response.status_code == 200
    assert response.context["kind"] == "town"
    assert [k for k, _ in response.context["kinds"]] == ["town", "village", "department", "worker"]
    page = response.content.decode()
    for text in ("镇街排名", "桂林街道", "样本不足，不排名", "kind=worker"):
        assert text in page
    for kind, text in (("village", "大佛社区"), ("department", "区公安分局"), ("worker", "worker_a")):
        shown = client.get(f"/cockpit/rankings/?from=2026-03-01&to=2026-03-31&kind={kind}")
        assert [t.kind for t in shown.context["tables"]] == [kind]
        assert text in shown.content.decode()


def test_a_town_account_sees_only_its_town(cast: Cast, march: None, login: Any) -> None:
    client: Client = login(cast.town_dispatcher)  # 群力镇
    march_query = "from=2026-03-01&to=2026-03-31"
    response = client.get(f"/cockpit/rankings/?{march_query}")
    assert response.status_code == 200
    assert [k for k, _ in response.context["kinds"]] == [
        "village",
        "department",
        "worker",
    ]  # no town vs itself
    assert [r.name for r in response.context["tables"][0].rows] == ["白兔村"]
    workers = client.get(f"/cockpit/rankings/?{march_query}&kind=worker").context["tables"][0]
    assert [r.name for r in workers.rows] == []  # worker_a and worker_b serve 桂林街道
    assert "桂林街道" not in response.content.decode()
    other = client.get(f"/cockpit/rankings/?place={Level.TOWN}-{cast.town_a.pk}")
    assert other.status_code == 404


def test_grid_workers_and_departments_are_counted_from_the_rollup(
    cast: Cast, settings: Any, login: Any
) -> None:
    """Today's cases, rolled up: the tables read the department and worker rows (more in
    test_rankings_handlers.py)."""
    settings.DUALGRID = {**settings.DUALGRID, "RANKING_MIN_VOLUME": 1}
    closed = case_in_state(cast, Status.CLOSED)  # grid A, signed and resolved by worker_a, today
    today = preset_period("today")
    place = root_place(cast.leader)
    grid_ids = [cast.grid_a.pk, cast.grid_b.pk, cast.grid_c.pk]
    before = rankings.worker_table(cast.leader, place, today, grid_ids)
    assert cells(before, "worker_a")["volume"].display == "0"  # not rolled up yet
    rollup_events(settle_seconds=0)
    workers = rankings.worker_table(cast.leader, place, today, grid_ids)
    a, b = cells(workers, "worker_a"), cells(workers, "worker_b")
    assert (a["volume"].display, a["volume"].rank, a["completion_rate"].display) == ("1", 1, "100.0%")
    assert (b["volume"].display, b["volume"].under_sample) == ("0", True)
    assert b["completion_rate"].display == "—"
    sewer = report(cast, category="T0201")  # 下水道堵塞: routed to 区住房城乡建委 on registration
    rollup_events(settle_seconds=0)
    departments = rankings.department_table(cast.leader, place, today)
    assert [(r.name, r.cells["volume"].display, r.cells["volume"].rank) for r in departments.rows] == [
        ("区住房城乡建委", "1", 1),
        ("区公安分局", "0", None),  # listed, 0 cases: under the minimum of 1
    ]
    # Each number opens the cases behind it.
    client: Client = login(cast.leader)
    listed = client.get(a["closed"].href).context["page"].object_list
    assert [c.pk for c in listed] == [closed.pk]
    assert list(client.get(b["volume"].href).context["page"].object_list) == []
    housing = departments.rows[0].cells["volume"]
    assert [c.pk for c in client.get(housing.href).context["page"].object_list] == [sewer.pk]


def test_metric_columns_follow_the_indicator_definitions() -> None:
    assert [m.label for m in CASE_METRICS] == ["受理量", "办结率", "结案率", "按期结案率", "满意率"]
