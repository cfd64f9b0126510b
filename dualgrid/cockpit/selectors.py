"""Reads of the cockpit, always inside the reading user's scope: which places they may open, the
summed daily figures of a place and period, and the live state of the grids for the map."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import reduce
from operator import or_
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum

from dualgrid.accounts.models import Role, User
from dualgrid.cases.models import Case, Category, DeadlineState, Urgency
from dualgrid.cases.workflow import ACTIVE_STATES
from dualgrid.lib.errors import NotFound
from dualgrid.places.models import AdminUnit, Department, Grid, GridTier, UnitLevel
from dualgrid.places.selectors import grids_for_user, within_unit
from dualgrid.watch.models import GroupMessage, MessageState

from . import grains, visitload
from .indicators import Period
from .models import COUNTER_FIELDS, DailyFigure, Dim, Figures, GridLoad, Level, MonthlyFigure, YearlyFigure

COCKPIT_ROLES = (Role.LEADER, Role.DISPATCHER, Role.ADMIN)
NOT_IN_SCOPE = "单位不存在或不在您的管辖范围内"

UNIT_LEVELS = {UnitLevel.COUNTY: Level.COUNTY, UnitLevel.TOWN: Level.TOWN, UnitLevel.VILLAGE: Level.VILLAGE}
CHILD_LEVEL = {
    Level.ALL: Level.COUNTY,
    Level.COUNTY: Level.TOWN,
    Level.TOWN: Level.VILLAGE,
    Level.VILLAGE: Level.GRID,
}


@dataclass(frozen=True)
class Place:
    """A unit the cockpit shows: the whole platform, a city, county, town, village or grid."""

    level: int  # models.Level; a city is Level.ALL restricted to its counties
    id: int
    name: str
    county_ids: tuple[int, ...] = ()  # for a city: its counties

    @property
    def token(self) -> str:
        return f"{self.level}-{self.id}"

    @property
    def label(self) -> str:
        return Level(self.level).label if self.level != Level.ALL or self.county_ids else "全部"

    def rows(self) -> Q:
        """The DailyFigure rows holding this place's own figures."""
        if self.county_ids:
            return Q(level=Level.COUNTY, unit_id__in=self.county_ids)
        return Q(level=self.level, unit_id=self.id)

    def case_filter(self) -> dict[str, Any]:
        """The /cases/ query parameters that list this place's cases."""
        if self.level == Level.GRID:
            return {"grid": self.id}
        if self.level == Level.ALL:
            return {}  # everything, or a city: the reader's own scope already is that city
        return {"unit": self.id}


def _is_admin(user: User) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMIN)


def _unit_place(unit: AdminUnit) -> Place:
    if unit.level == UnitLevel.CITY:
        counties = tuple(AdminUnit.objects.filter(parent=unit).values_list("id", flat=True))
        return Place(Level.ALL, unit.pk, unit.name, county_ids=counties)
    return Place(UNIT_LEVELS[UnitLevel(unit.level)], unit.pk, unit.name)


def root_place(user: User) -> Place:
    """The widest place the user may open: everything for an administrator, else their unit."""
    if _is_admin(user):
        return Place(Level.ALL, 0, "全部")
    if user.role in COCKPIT_ROLES and user.unit is not None:
        return _unit_place(user.unit)
    raise NotFound(NOT_IN_SCOPE, field="place", code="not_found")


def _unit_in_scope(user: User, unit: AdminUnit) -> bool:
    if _is_admin(user):
        return True
    node: AdminUnit | None = unit
    while node is not None:
        if node.pk == user.unit_id:
            return True
        node = node.parent
    return False


def place_get_for_user(user: User, token: str | None) -> Place:
    """Fetch-and-check in one call: ``token`` is "<level>-<id>" (Place.token); empty = the user's root."""
    root = root_place(user)
    if not token or token == root.token:
        return root
    try:
        level, pk = (int(part) for part in token.split("-", 1))
    except ValueError:
        raise NotFound(NOT_IN_SCOPE, field="place", code="not_found") from None
    if level == Level.GRID:
        grid = grids_for_user(user).filter(pk=pk).only("id", "name").first()
        if grid is None:
            raise NotFound(NOT_IN_SCOPE, field="place", code="not_found")
        return Place(Level.GRID, grid.pk, grid.name)
    unit = AdminUnit.objects.select_related("parent__parent__parent").filter(pk=pk).first()
    if unit is None or unit.level not in UNIT_LEVELS or UNIT_LEVELS[UnitLevel(unit.level)] != level:
        raise NotFound(NOT_IN_SCOPE, field="place", code="not_found")
    if not _unit_in_scope(user, unit):
        raise NotFound(NOT_IN_SCOPE, field="place", code="not_found")
    return _unit_place(unit)


def place_trail(user: User, place: Place) -> list[Place]:
    """The places from the user's root down to ``place``, for the breadcrumb."""
    root = root_place(user)
    trail = [place]
    if place.level == Level.GRID:
        grid = (
            Grid.objects.select_related("village")
            .only("village__id", "village__name", "village__level")
            .get(pk=place.id)
        )
        unit: AdminUnit | None = grid.village
    elif place.level == Level.ALL:
        unit = None
    else:
        unit = AdminUnit.objects.get(pk=place.id).parent
    while unit is not None and trail[0].token != root.token:
        if unit.level == UnitLevel.CITY or unit.level not in UNIT_LEVELS:
            break
        trail.insert(0, _unit_place(unit))
        unit = unit.parent
    if trail[0].token != root.token:
        trail.insert(0, root)
    return trail


def children(place: Place) -> list[Place]:
    """The places one level down: counties, towns, villages, then (non-micro) grids."""
    if place.county_ids:
        units = AdminUnit.objects.filter(pk__in=place.county_ids)
        return [Place(Level.COUNTY, u.pk, u.name) for u in units.only("id", "name")]
    child = CHILD_LEVEL.get(Level(place.level))
    if child is None:
        return []
    if child == Level.GRID:
        grids = Grid.objects.filter(village_id=place.id, active=True).exclude(tier=GridTier.MICRO)
        return [Place(Level.GRID, g.pk, g.name) for g in grids.only("id", "name").order_by("code")]
    qs = (
        AdminUnit.objects.filter(level=UnitLevel.COUNTY)
        if place.level == Level.ALL
        else AdminUnit.objects.filter(parent_id=place.id)
    )
    return [Place(child, u.pk, u.name) for u in qs.only("id", "name").order_by("code")]


# --- figures ---------------------------------------------------------------------------------------

SUMS = {name: Sum(name) for name in COUNTER_FIELDS}


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTER_FIELDS, 0)


def _clean(row: dict[str, Any]) -> dict[str, int]:
    return {name: int(row.get(name) or 0) for name in COUNTER_FIELDS}


def _period_sql(rows: Q, period: Period, dim: str, group: str) -> tuple[str, list[Any]] | None:
    """The SQL (and its parameters) of ``period_sums``: one row per ``group`` with every counter
    summed over the period, or None for an empty period. Its columns are ``group`` and then
    ``COUNTER_FIELDS`` under their own names."""
    pieces = grains.split(period.first, period.last)
    parts: list[QuerySet[Any]] = []
    model: type[Figures]
    for model, ranges in (
        (YearlyFigure, pieces.years),
        (MonthlyFigure, pieces.months),
        (DailyFigure, pieces.days),
    ):
        if ranges:
            days = reduce(or_, (Q(day__gte=a, day__lte=b) for a, b in ranges))
            parts.append(model._default_manager.filter(rows, days, dim=dim).order_by())
    if not parts:
        return None
    if len(parts) == 1:
        sql, params = parts[0].values(group).annotate(**SUMS).query.sql_with_params()
        return sql, list(params)
    # The grains' rows themselves, summed once (summing each grain first and then the sums made the
    # outer sums numeric and cost a second aggregation: ≈ 60 ms of a city's 3 years of workers).
    compiled = [part.values(group, *COUNTER_FIELDS).query.sql_with_params() for part in parts]
    q = connection.ops.quote_name
    union = " UNION ALL ".join(f"SELECT * FROM ({sql}) {q(f'g{i}')}" for i, (sql, _) in enumerate(compiled))
    sums = ", ".join(f"SUM({q(name)}) AS {q(name)}" for name in COUNTER_FIELDS)
    sql = f"SELECT {q(group)}, {sums} FROM ({union}) {q('u')} GROUP BY {q(group)}"
    return sql, [param for _, part_params in compiled for param in part_params]


def period_sums(rows: Q, period: Period, dim: str, group: str) -> dict[Any, dict[str, int]]:
    """The counters of the slice rows ``rows`` (a place's level and unit ids) and ``dim``, summed over
    the period per ``group`` ("key", "unit_id", or "dim" for one total): whole years from the yearly
    rows, whole months from the monthly rows, the days left over from the daily rows
    (``grains.split``) — one query: when it needs more than one grain, a UNION ALL of the grains' rows
    summed once; each grain an index range read of ``(level, unit_id, dim, day, key)``."""
    found = _period_sql(rows, period, dim, group)
    if found is None:
        return {}
    sql, params = found
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: _clean(dict(zip(COUNTER_FIELDS, row[1:], strict=True))) for row in cursor.fetchall()}


def top_workers(
    place: Place, period: Period, volume: str, limit: int
) -> tuple[list[tuple[int, dict[str, int]]], int]:
    """The grid workers' rows of the place over the period, ranked in the database: the first
    ``limit`` by ``volume`` (a counter), then 结案, then id — each (user id, counters) — and how many
    grid workers have a row with any counter set. A city's 10,000 workers are ranked and cut in SQL
    rather than turned into Python dicts (≈ 140 ms of a city's year before)."""
    found = _period_sql(place.rows(), period, Dim.WORKER, "key")
    if found is None:
        return [], 0
    sql, params = found
    q = connection.ops.quote_name
    key = q("key")
    anything = " OR ".join(f"{q(name)} <> 0" for name in COUNTER_FIELDS)
    columns = ", ".join(q(name) for name in COUNTER_FIELDS)
    users, role, pk = User._meta.db_table, User._meta.get_field("role").column, User._meta.pk.column
    ranked = (
        f"SELECT {key}, {columns}, COUNT(*) OVER () FROM ({sql}) {q('s')} "
        f"WHERE ({anything}) AND {key} IN (SELECT CAST({q(pk)} AS VARCHAR(20)) FROM {q(users)} WHERE {q(role)} = %s) "
        f"ORDER BY {q(volume)} DESC, {q('closed')} DESC, CAST({key} AS INTEGER) LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(ranked, [*params, Role.GRIDWORKER, limit])
        rows = cursor.fetchall()
    total = rows[0][-1] if rows else 0
    return [(int(row[0]), _clean(dict(zip(COUNTER_FIELDS, row[1:-1], strict=True)))) for row in rows], total


def totals(place: Place, period: Period) -> dict[str, int]:
    return period_sums(place.rows(), period, Dim.TOTAL, "dim").get(Dim.TOTAL, _zero())


def by_day(place: Place, period: Period) -> list[tuple[date, dict[str, int]]]:
    """Per day (the trend chart): the daily rows, totals only."""
    rows = (
        DailyFigure.objects.filter(place.rows(), day__gte=period.first, day__lte=period.last, dim=Dim.TOTAL)
        .values("day")
        .annotate(**SUMS)
        .order_by("day")
    )
    return [(row["day"], _clean(row)) for row in rows]


def by_dim(place: Place, period: Period, dim: Dim) -> dict[str, dict[str, int]]:
    """Counters per channel code or category id (as text) of the place over the period."""
    return period_sums(place.rows(), period, dim, "key")


def by_children(place: Place, period: Period) -> list[tuple[Place, dict[str, int]]]:
    kids = children(place)
    if not kids:
        return []
    found = period_sums(
        Q(level=kids[0].level, unit_id__in=[k.id for k in kids]), period, Dim.TOTAL, "unit_id"
    )
    return [(kid, found.get(kid.id, _zero())) for kid in kids]


def category_names(ids: Iterable[str]) -> dict[str, str]:
    wanted = [int(i) for i in ids if i.isdigit() and i != "0"]
    names = {str(pk): name for pk, name in Category.objects.filter(pk__in=wanted).values_list("pk", "name")}
    names["0"] = "未分类"
    return names


def category_codes(ids: Iterable[str]) -> dict[str, str]:
    wanted = [int(i) for i in ids if i.isdigit() and i != "0"]
    return {str(pk): code for pk, code in Category.objects.filter(pk__in=wanted).values_list("pk", "code")}


def category_nodes() -> dict[int, tuple[str, str, int, int | None]]:
    """Every category: id → (code, name, sort, parent id) — the whole tree, a few hundred rows."""
    return {
        pk: (code, name, sort, parent)
        for pk, code, name, sort, parent in Category.objects.values_list(
            "pk", "code", "name", "sort", "parent_id"
        )
    }


def department_names(ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id → (department name, its unit's name)."""
    rows = Department.objects.filter(pk__in=list(ids)).values_list("pk", "name", "unit__name")
    return {pk: (name, unit or "") for pk, name, unit in rows}


def grid_workers(ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """The grid workers among ``ids``: id → (name, the grids they serve now, joined)."""
    wanted = list(ids)
    people: dict[int, tuple[str, list[str]]] = {
        pk: (display or username, [])
        for pk, display, username in User.objects.filter(pk__in=wanted, role=Role.GRIDWORKER).values_list(
            "pk", "display_name", "username"
        )
    }
    grids: dict[int, list[str]] = {}
    for user_id, name in (
        Grid.objects.filter(workers__in=list(people), active=True)
        .order_by("code")
        .values_list("workers", "name")
    ):
        grids.setdefault(user_id, []).append(name)
    return {pk: (name, "、".join(grids.get(pk, []))) for pk, (name, _) in people.items()}


# --- the map: live state of the grids --------------------------------------------------------------

WARNING_LEVELS = ("green", "yellow", "orange", "red")
WARNING_LABELS = {"green": "正常", "yellow": "黄色预警", "orange": "橙色预警", "red": "红色预警"}


def warning_level(
    open_cases: int, overdue: int, urgent_messages: int = 0, disputes: int = 0, overdue_visits: int = 0
) -> str:
    """Green … red: the highest of the levels reached by open cases, by overdue cases, by urgent
    group messages nobody has handled yet, by unresolved disputes (open cases of the 矛盾纠纷 tree)
    and by key-population residents overdue for a visit (thresholds in settings:
    DUALGRID_COCKPIT_OPEN_THRESHOLDS / _OVERDUE_THRESHOLDS / _URGENT_MESSAGE_THRESHOLDS /
    _DISPUTE_THRESHOLDS / _OVERDUE_VISIT_THRESHOLDS, each yellow,orange,red)."""
    conf = settings.DUALGRID
    level = 0
    for value, thresholds in (
        (open_cases, conf["COCKPIT_OPEN_THRESHOLDS"]),
        (overdue, conf["COCKPIT_OVERDUE_THRESHOLDS"]),
        (urgent_messages, conf.get("COCKPIT_URGENT_MESSAGE_THRESHOLDS", (1, 1, 3))),
        (disputes, conf.get("COCKPIT_DISPUTE_THRESHOLDS", (1, 3, 5))),
        (overdue_visits, conf.get("COCKPIT_OVERDUE_VISIT_THRESHOLDS", (1, 3, 5))),
    ):
        level = max(level, sum(1 for threshold in thresholds if value >= threshold))
    return WARNING_LEVELS[level]


def dispute_category_ids() -> list[int]:
    """The categories of the 矛盾纠纷 tree (code prefix ``WARNING_DISPUTE_PREFIX``), sorted: a few ids, so
    case queries filter on ``category_id`` and can use ``case_open_category``."""
    return sorted(
        Category.objects.filter(code__startswith=settings.DUALGRID["WARNING_DISPUTE_PREFIX"]).values_list(
            "pk", flat=True
        )
    )


def grid_states(user: User, place: Place) -> list[dict[str, Any]]:
    """Every (non-micro) grid of ``place`` in the user's scope with its open cases (the rollup's
    tally, never a count over the case table), its overdue cases now (the few rows of the partial
    index on late cases), its urgent group messages, its unresolved disputes, its residents overdue
    for a visit, and its warning level."""
    grids = grids_for_user(user).filter(active=True).exclude(tier=GridTier.MICRO)
    late = Case.objects.filter(deadline_state=DeadlineState.OVERDUE, status__in=sorted(ACTIVE_STATES))
    # Unresolved disputes: open cases of the 矛盾纠纷 tree (the few category ids of the prefix).
    dispute_ids = dispute_category_ids()
    open_disputes = Case.objects.filter(status__in=sorted(ACTIVE_STATES), category_id__in=dispute_ids)
    # Cases are filtered by their own place columns, like the late ones (a grid subquery made the
    # planner loop: 109 ms against 34 ms for a county on the bench database).
    if place.level == Level.GRID:
        grids, late = grids.filter(pk=place.id), late.filter(grid_id=place.id)
        open_disputes = open_disputes.filter(grid_id=place.id)
    elif place.county_ids:
        grids, late = (
            grids.filter(county_id__in=place.county_ids),
            late.filter(county_id__in=place.county_ids),
        )
        open_disputes = open_disputes.filter(county_id__in=place.county_ids)
    elif place.level != Level.ALL:
        unit = AdminUnit(pk=place.id, level={v: k for k, v in UNIT_LEVELS.items()}[Level(place.level)])
        grids, late = grids.filter(within_unit(unit)), late.filter(within_unit(unit))
        open_disputes = open_disputes.filter(within_unit(unit))
    rows = list(grids.values_list("id", "name", "village__name").order_by("code"))
    # The grids as a subquery, not a list: 10,000 bound ids cost more than the query itself.
    open_cases = dict(GridLoad.objects.filter(grid_id__in=grids.values("id")).values_list("grid_id", "open"))
    # COUNT(*), not COUNT(id): read index-only from case_open_overdue (≈ 11 ms for the city's 23k).
    overdue = dict(late.values("grid_id").annotate(n=Count("*")).order_by().values_list("grid_id", "n"))
    # Urgent group messages still waiting in the patrol feed (the partial index on flagged messages).
    urgent = dict(
        GroupMessage.objects.filter(
            state=MessageState.FLAGGED, urgency=Urgency.URGENT, grid_id__in=grids.values("id")
        )
        .values("grid_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("grid_id", "n")
    )
    # One grouped query over the active statuses and the dispute ids (category and status indexes).
    disputes = (
        dict(open_disputes.values("grid_id").annotate(n=Count("*")).order_by().values_list("grid_id", "n"))
        if dispute_ids
        else {}
    )
    # Key-population residents overdue for a visit: the people app's own rule, kept per grid by the
    # worker and by the visit/tag services (visitload.py), computed live only for grids without a row.
    overdue_visits = visitload.overdue_by_grid(grids)
    states = []
    for grid_id, name, village in rows:
        n_open, n_overdue = max(0, open_cases.get(grid_id, 0)), overdue.get(grid_id, 0)
        n_urgent = urgent.get(grid_id, 0)
        n_disputes, n_visits = disputes.get(grid_id, 0), overdue_visits.get(grid_id, 0)
        level = warning_level(n_open, n_overdue, n_urgent, n_disputes, n_visits)
        states.append(
            {
                "id": grid_id,
                "name": name,
                "village": village,
                "open": n_open,
                "overdue": n_overdue,
                "urgent_messages": n_urgent,
                "disputes": n_disputes,
                "overdue_visits": n_visits,
                "level": level,
            }
        )
    return states
