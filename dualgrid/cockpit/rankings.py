"""晾晒 (赛马比拼): towns, villages, departments and grid workers ranked on the cockpit's indicators.

Every table reads summed figures (the daily, monthly and yearly rows, ``selectors.period_sums``),
never the case or event tables: towns and
villages their total rows (``dim=total``), departments and grid workers the place's breakdown rows
(``dim=dept`` / ``worker``, kept by the rollup at every level down to the grid — see
``rollup.DEPARTMENT_KEY`` / ``WORKER_KEY``). So a department's or a worker's numbers here are the
ones the figures page shows for the same place and period (``figures.departments`` / ``workers``):
承办量 = dispatches to the department / the worker's signs, 结案 the closures counted for them,
办结率 = 结案 ÷ 承办量, 按期办结率 and 满意率 as there (``indicators.handler_values``), and each
number opens the same /cases/ list. Departments of the place's units and grid workers serving its
grids are listed even with nothing in the period; so is anyone else with figures there.

A number is ranked only when the sample behind it reaches ``settings.DUALGRID["RANKING_MIN_VOLUME"]``
(受理量 for a unit's case indicators, 承办量 for a department's or a worker's — 上报量 for itself —,
people due a visit for 走访达标率, key windows due for 巡群达标率): below it the unit is listed with
its figures but "样本不足，不排名", so a unit with two cases neither tops nor bottoms the table by
chance. Ties share a rank (1, 1, 3), compared as shown (to 0.1 %).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from dualgrid.accounts.models import Role, User
from dualgrid.lib.errors import Forbidden
from dualgrid.people.selectors import visit_compliance
from dualgrid.people.visit_rules import week_start
from dualgrid.places.models import AdminUnit, Department, UnitLevel
from dualgrid.places.selectors import grids_for_user
from dualgrid.watch.feed import MAX_REPORT_DAYS, patrol_report

from . import indicators as ind
from . import selectors
from .figures import case_link
from .models import COUNTER_FIELDS, Dim, Level
from .selectors import Place

UNDER_SAMPLE = "样本不足，不排名"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # "count" or "rate"
    definition: str


CASE_METRICS = [
    Metric("received", "受理量", "count", ind.BY_KEY["received"].definition),
    Metric("completion_rate", "办结率", "rate", ind.BY_KEY["completion_rate"].definition),
    Metric("closure_rate", "结案率", "rate", ind.BY_KEY["closure_rate"].definition),
    Metric("on_time_rate", "按期结案率", "rate", ind.BY_KEY["on_time_rate"].definition),
    Metric("satisfaction_rate", "满意率", "rate", ind.BY_KEY["satisfaction_rate"].definition),
]
VISITS = Metric(
    "visit_rate",
    "走访达标率",
    "rate",
    "走访达标率 = 本周已走访 ÷ 本周应走访（重点人员每周走访规则，与“走访统计”页相同；统计期最后一天所在的周）。",
)
PATROL = Metric(
    "patrol_rate",
    "巡群达标率",
    "rate",
    "巡群达标率 = 按时巡查的重点时段 ÷ 应巡查的重点时段（与“巡群统计”页相同；最多统计期最后31天）。",
)
METRICS = {m.key: m for m in [*CASE_METRICS, VISITS, PATROL]}
DEFAULT_SORT = "closure_rate"

# Departments and grid workers: the figures page's columns and definitions (indicators.handler_values).
_HANDLER = ind.HANDLER_DEFINITIONS
REPORTED = Metric("reported", "上报量", "count", "上报量 = 本期由该网格员登记（巡查上报）的事件数。")
DEPT_VOLUME = Metric("volume", "承办量", "count", _HANDLER["dept_volume"])
WORKER_VOLUME = Metric("volume", "承办量", "count", "承办量 = 本期该网格员签收的次数。")
HANDLER_RATES = [
    Metric("closed", "结案", "count", _HANDLER["closed"]),
    Metric("completion_rate", "办结率", "rate", _HANDLER["completion_rate"]),
    Metric("on_time_rate", "按期办结率", "rate", _HANDLER["on_time_rate"]),
    Metric("satisfaction_rate", "满意率", "rate", _HANDLER["satisfaction_rate"]),
]
DEPARTMENT_METRICS = [DEPT_VOLUME, *HANDLER_RATES]
WORKER_METRICS = [REPORTED, WORKER_VOLUME, *HANDLER_RATES]
HANDLER_SORT = "completion_rate"

KINDS = {"town": "镇街", "village": "村/社区", "department": "部门", "worker": "网格员"}


@dataclass
class Cell:
    value: float | None
    sample: int
    display: str
    rank: int | None = None
    under_sample: bool = False
    href: str = ""


@dataclass
class Row:
    key: int
    name: str
    parent: str = ""
    cells: dict[str, Cell] = field(default_factory=dict)
    ordered: list[Cell] = field(default_factory=list)  # the cells in the table's column order
    sorted_cell: Cell | None = None  # the cell of the column the table is sorted by


@dataclass
class Table:
    kind: str
    label: str
    metrics: list[Metric]
    rows: list[Row]
    sort: str


def min_volume() -> int:
    return int(settings.DUALGRID.get("RANKING_MIN_VOLUME", 10))


def _rank_key(value: float, kind: str) -> float:
    """The value as shown: rates to 0.1 %, so two units shown equal share a rank."""
    return round(value * 1000) if kind == "rate" else value


def rank(rows: list[Row], metric: Metric, minimum: int) -> None:
    """Competition ranks (1, 1, 3) on ``metric``, higher first, among the cells whose sample reaches
    ``minimum``; the others are marked under-sample and keep no rank."""
    ranked: list[Cell] = []
    for row in rows:
        cell = row.cells.get(metric.key)
        if cell is None:
            continue
        cell.rank = None
        cell.under_sample = cell.sample < minimum
        if not cell.under_sample and cell.value is not None:
            ranked.append(cell)
    ranked.sort(key=lambda c: -_rank_key(c.value or 0, metric.kind))
    previous: float | None = None
    for position, cell in enumerate(ranked, start=1):
        key = _rank_key(cell.value or 0, metric.kind)
        cell.rank = position if key != previous else ranked[position - 2].rank
        previous = key


def sort_rows(rows: list[Row], sort: str) -> list[Row]:
    """Ranked first by rank, then the unranked (under-sample or no value), each by name."""

    def order(row: Row) -> tuple[int, int, str]:
        cell = row.cells.get(sort)
        if cell is None or cell.rank is None:
            return (1, 0, row.name)
        return (0, cell.rank, row.name)

    return sorted(rows, key=order)


def _case_cells(counters: dict[str, int], links: Callable[[str], str] | None) -> dict[str, Cell]:
    values = ind.compute(counters)
    cells = {}
    for metric in CASE_METRICS:
        which = ind.BY_KEY[metric.key].cases
        cells[metric.key] = Cell(
            value=values[metric.key],
            sample=counters["received"],
            display=ind.display(metric.kind, values[metric.key]),
            href=links(which) if links else "",
        )
    return cells


def _handler_cells(
    counters: dict[str, int], dim: str, metrics: list[Metric], links: dict[str, str]
) -> dict[str, Cell]:
    """A department's (``dim`` "dept") or a worker's ("worker") cells, as on the figures page; the
    sample is 承办量 (上报量 for itself)."""
    values = ind.handler_values(counters, dim)
    cells = {}
    for metric in metrics:
        value = values[metric.key]
        cells[metric.key] = Cell(
            value=value,
            sample=int(values["reported" if metric.key == "reported" else "volume"] or 0),
            display=ind.display(metric.kind, value),
            href=links.get(metric.key, links["closed"]),
        )
    return cells


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTER_FIELDS, 0)


# --- scope -----------------------------------------------------------------------------------------


def _units_of(place: Place, level: UnitLevel) -> list[AdminUnit]:
    """The towns or villages inside ``place`` (the place itself when it is one)."""
    qs = AdminUnit.objects.filter(level=level).select_related("parent")
    depth = {Level.COUNTY: 1, Level.TOWN: 2, Level.VILLAGE: 3}
    own = depth[Level.TOWN] if level == UnitLevel.TOWN else depth[Level.VILLAGE]
    if place.county_ids:
        county = "parent__" * (own - 2) + "parent_id__in"
        qs = qs.filter(**{county: place.county_ids})
    elif place.level == Level.GRID:
        return []
    elif place.level != Level.ALL:
        steps = own - depth[Level(place.level)]
        if steps < 0:
            return []
        qs = (
            qs.filter(pk=place.id)
            if steps == 0
            else qs.filter(**{"parent__" * (steps - 1) + "parent_id": place.id})
        )
    return list(qs.order_by("code"))


def _grids_of(user: User, place: Place) -> list[int]:
    grids = grids_for_user(user).filter(active=True)
    if place.level == Level.GRID:
        grids = grids.filter(pk=place.id)
    elif place.county_ids:
        grids = grids.filter(county_id__in=place.county_ids)
    elif place.level != Level.ALL:
        column = {Level.COUNTY: "county_id", Level.TOWN: "town_id", Level.VILLAGE: "village_id"}[
            Level(place.level)
        ]
        grids = grids.filter(**{column: place.id})
    return list(grids.values_list("id", flat=True))


# --- counters --------------------------------------------------------------------------------------


def _unit_counters(level: Level, ids: list[int], period: ind.Period) -> dict[int, dict[str, int]]:
    return selectors.period_sums(Q(level=level, unit_id__in=ids), period, Dim.TOTAL, "unit_id")


def _handler_counters(place: Place, period: ind.Period, dim: Dim) -> dict[int, dict[str, int]]:
    """The place's department (``Dim.DEPARTMENT``) or worker rows over the period, summed per id —
    the figures page's read (``selectors.by_dim``): a few rows per day through the unique index."""
    rows = selectors.by_dim(place, period, dim)
    return {int(key): c for key, c in rows.items() if key.isdigit()}


# --- compliance ------------------------------------------------------------------------------------


@dataclass
class Tally:
    done: int = 0
    due: int = 0

    def cell(self) -> Cell:
        value = ind.ratio(self.done, self.due)
        return Cell(value=value, sample=self.due, display=ind.display("rate", value))


def _visits(user: User, period: ind.Period, grid_ids: set[int]) -> tuple[dict[str, dict[int, Tally]], str]:
    """走访达标 per town, village and worker (by account) for the week holding the period's last day."""
    monday = week_start(period.last)
    tallies: dict[str, dict[int, Tally]] = {"town": {}, "village": {}, "worker": {}}
    try:
        compliance = visit_compliance(user, monday)
    except Forbidden:
        return tallies, ""
    for row in compliance.grids:
        grid = row.grid
        if grid is None or grid.pk not in grid_ids:
            continue
        for kind, unit_id in (("town", grid.town_id), ("village", grid.village_id)):
            if unit_id is None:
                continue
            tally = tallies[kind].setdefault(unit_id, Tally())
            tally.done += row.visited
            tally.due += row.due
    for row in compliance.workers:
        if row.staff is None or not row.staff.user_id:
            continue
        if not any(g.pk in grid_ids for g in row.grids):
            continue
        tallies["worker"][row.staff.user_id] = Tally(row.visited, row.due)
    return tallies, f"{monday:%m-%d}起一周"


def _patrols(user: User, period: ind.Period) -> tuple[dict[int, Tally], str]:
    first = max(period.first, period.last - timedelta(days=MAX_REPORT_DAYS - 1))
    report = patrol_report(user, first, period.last)
    tallies: dict[int, Tally] = {}
    for day in report.rows:
        tally = tallies.setdefault(day.worker.pk, Tally())
        tally.done += day.windows_done
        tally.due += day.windows_due
    return tallies, f"{first:%m-%d}至{period.last:%m-%d}"


# --- the tables ------------------------------------------------------------------------------------


def _finish(
    kind: str, metrics: list[Metric], rows: list[Row], sort: str, default: str = DEFAULT_SORT
) -> Table:
    minimum = min_volume()
    for metric in metrics:
        rank(rows, metric, minimum)
    if sort not in {m.key for m in metrics}:
        sort = default
    for row in rows:
        row.ordered = [row.cells[m.key] for m in metrics]
        row.sorted_cell = row.cells[sort]
    return Table(kind, KINDS[kind], metrics, sort_rows(rows, sort), sort)


def unit_table(
    user: User, place: Place, period: ind.Period, kind: str, *, sort: str = DEFAULT_SORT, visits: Any = None
) -> Table:
    """Towns (kind "town") or villages ("village") inside ``place``."""
    level, unit_level = (Level.TOWN, UnitLevel.TOWN) if kind == "town" else (Level.VILLAGE, UnitLevel.VILLAGE)
    units = _units_of(place, unit_level)
    counters = _unit_counters(level, [u.pk for u in units], period)
    rows = []
    for unit in units:
        unit_place = Place(level, unit.pk, unit.name)
        row = Row(unit.pk, unit.name, parent=unit.parent.name if unit.parent else "")
        row.cells = _case_cells(
            counters.get(unit.pk, _zero()),
            lambda which, p=unit_place: case_link(p, period, which),  # type: ignore[misc]
        )
        if visits is not None:
            row.cells[VISITS.key] = visits.get(unit.pk, Tally()).cell()
        rows.append(row)
    metrics = [*CASE_METRICS, *([VISITS] if visits is not None else [])]
    return _finish(kind, metrics, rows, sort)


def _unit_ids(place: Place) -> list[int] | None:
    """The administrative units at or under ``place`` (None: every unit)."""
    if place.level == Level.ALL and not place.county_ids:
        return None
    if place.level == Level.GRID:
        return []
    own = list(place.county_ids) if place.county_ids else [place.id]
    towns = [u.pk for u in _units_of(place, UnitLevel.TOWN)]
    villages = [u.pk for u in _units_of(place, UnitLevel.VILLAGE)]
    return own + towns + villages


def department_table(user: User, place: Place, period: ind.Period, *, sort: str = HANDLER_SORT) -> Table:
    """Departments of the place's units, and any other department with figures in the place: the
    department rows of the daily figures (what was dispatched to it, what it signed, resolved and
    closed), as on the figures page."""
    counters = _handler_counters(place, period, Dim.DEPARTMENT)
    units = _unit_ids(place)
    own = Q(active=True) if units is None else Q(active=True, unit_id__in=units)
    rows = []
    for dept in (
        Department.objects.filter(own | Q(pk__in=list(counters))).select_related("unit").order_by("code")
    ):

        def link(which: str, pk: int = dept.pk) -> str:
            return case_link(place, period, which, department=pk)

        row = Row(dept.pk, dept.name, parent=dept.unit.name)
        row.cells = _handler_cells(
            counters.get(dept.pk, _zero()),
            "dept",
            DEPARTMENT_METRICS,
            {"volume": link("dispatched"), "closed": link("closed")},
        )
        rows.append(row)
    return _finish("department", DEPARTMENT_METRICS, rows, sort, HANDLER_SORT)


def worker_table(
    user: User,
    place: Place,
    period: ind.Period,
    grid_ids: list[int],
    *,
    sort: str = HANDLER_SORT,
    visits: dict[int, Tally] | None = None,
    patrols: dict[int, Tally] | None = None,
) -> Table:
    """Grid workers serving a grid of ``place`` (``grid_ids``), and any other grid worker with
    figures in the place (a substitute): the worker rows of the daily figures — what they reported
    (上报), signed, and the cases they signed for closed —, their weekly visits and their key-window
    patrols. Beside each name, the grids they serve now."""
    counters = _handler_counters(place, period, Dim.WORKER)
    serving = User.objects.filter(role=Role.GRIDWORKER, is_active=True, grids__in=grid_ids).values_list(
        "pk", flat=True
    )
    people = selectors.grid_workers({*serving, *counters})
    rows = []
    for pk, (name, grids) in people.items():

        def link(which: str, pk: int = pk) -> str:
            if which == "received":
                return case_link(place, period, "received", creator=pk)
            return case_link(place, period, which, assignee=pk)

        row = Row(pk, name, parent=grids)
        row.cells = _handler_cells(
            counters.get(pk, _zero()),
            "worker",
            WORKER_METRICS,
            {"reported": link("received"), "volume": link("signed"), "closed": link("closed")},
        )
        row.cells[VISITS.key] = (visits or {}).get(pk, Tally()).cell()
        row.cells[PATROL.key] = (patrols or {}).get(pk, Tally()).cell()
        rows.append(row)
    return _finish("worker", [*WORKER_METRICS, VISITS, PATROL], rows, sort, HANDLER_SORT)


def kinds_for(place: Place) -> list[str]:
    """Which tables a place has: towns only above a town, villages above a grid."""
    kinds = []
    if place.level in (Level.ALL, Level.COUNTY) or place.county_ids:
        kinds.append("town")
    if place.level != Level.GRID:
        kinds.append("village")
    return [*kinds, "department", "worker"]


def rankings(
    user: User, place: Place, period: ind.Period, *, kind: str = "", sort: str = DEFAULT_SORT
) -> dict[str, Any]:
    """One table for the page (``kind``; default the first the place has): a district has hundreds of
    grid workers, so the tables are tabs, and only the one shown is computed."""
    kinds = kinds_for(place)
    if kind not in kinds:
        kind = kinds[0]
    visit_week = patrol_span = ""
    if kind == "department":
        table = department_table(user, place, period, sort=sort)
    else:
        grid_ids = _grids_of(user, place)
        visits, visit_week = _visits(user, period, set(grid_ids))
        if kind == "worker":
            patrols, patrol_span = _patrols(user, period)
            table = worker_table(
                user, place, period, grid_ids, sort=sort, visits=visits["worker"], patrols=patrols
            )
        else:
            table = unit_table(user, place, period, kind, sort=sort, visits=visits[kind])
    return {
        "tables": [table],
        "kind": kind,
        "kinds": [(k, KINDS[k]) for k in kinds],
        "min_volume": min_volume(),
        "visit_week": visit_week,
        "patrol_span": patrol_span,
        "metrics": table.metrics,
        "sort": table.sort,
    }


def town_ranking(user: User, place: Place, period: ind.Period) -> Table:
    """The big screen's table: towns (or, inside a town, its villages) on the case indicators only."""
    kind = "town" if place.level in (Level.ALL, Level.COUNTY) or place.county_ids else "village"
    return unit_table(user, place, period, kind)
