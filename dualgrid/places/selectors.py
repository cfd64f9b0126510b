"""Reads over places: locating the grid of a point, unit subtrees, grids and chat groups in a user's
scope, grid duties, and the 一格一群 coverage figures."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum, When
from shapely import STRtree, wkt
from shapely.geometry.base import BaseGeometry

from dualgrid.accounts.models import Role
from dualgrid.lib.errors import NotFound

from .models import AdminUnit, ChatGroup, Duty, Grid, GridTier, TierDuty, UnitLevel

if TYPE_CHECKING:
    from dualgrid.accounts.models import User


@dataclass(frozen=True)
class GridHit:
    grid_id: int
    village_id: int
    town_id: int
    county_id: int


@dataclass(frozen=True)
class _Index:
    tree: STRtree | None
    hits: list[GridHit]
    geoms: np.ndarray  # the prepared polygons, in tree order
    ids: np.ndarray  # grid id per tree position, for the vectorised lookup


_EMPTY = _Index(None, [], np.empty(0, dtype=object), np.empty(0, dtype=np.int64))
LOCATE_CHUNK = 32_768


class GridLocator:
    """Point-in-polygon over all active grids, with an STR-tree; rebuilt when grids change.

    A point is routed to its 一般网格: micro-grids are not indexed (they lie inside their grid), and a
    总网格 row with a boundary only catches points no grid covers.
    The index lives in process memory (10,000 grid polygons take a few MB) and is checked against
    the grid table at most every ``recheck_seconds``, so an edited boundary takes effect within that time.
    """

    def __init__(self, recheck_seconds: float = 30.0) -> None:
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._checked_at = 0.0
        self._static = False
        # One immutable snapshot, swapped whole, so a lookup never mixes an old tree with new ids.
        self._index = _EMPTY

    @classmethod
    def from_geometries(cls, hits: Sequence[GridHit], geoms: Sequence[BaseGeometry]) -> GridLocator:
        """A fixed index over the given shapes, not tied to the grid table (benches, tests)."""
        locator = cls()
        locator._index = _build_index(list(hits), list(geoms))
        locator._static = True
        return locator

    def _current_stamp(self) -> tuple:
        agg = Grid.objects.filter(active=True).aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
        return (agg["n"], agg["last"], agg["top"])

    def _refresh(self) -> None:
        if self._static:
            return
        now = time.monotonic()
        if self._stamp is not None and now - self._checked_at < self.recheck_seconds:
            return
        with self._lock:
            if self._stamp is not None and now - self._checked_at < self.recheck_seconds:
                return
            stamp = self._current_stamp()
            if stamp != self._stamp:
                # 一般网格 first: a point in a 总网格 row with a boundary and in one of its grids goes to
                # the grid (lowest index wins); a 总网格 only catches what no grid covers.
                rows = (
                    Grid.objects.filter(active=True, tier__in=[GridTier.GENERAL, GridTier.TOTAL])
                    .annotate(coarse=Case(When(tier=GridTier.TOTAL, then=1), default=0))
                    .order_by("coarse", "id")
                    .values_list("id", "village_id", "town_id", "county_id", "boundary")
                )
                hits, geoms = [], []
                for gid, vid, tid, cid, boundary in rows.iterator(chunk_size=2000):
                    if not boundary:
                        continue
                    hits.append(GridHit(gid, vid, tid, cid))
                    geoms.append(wkt.loads(boundary))
                self._index = _build_index(hits, geoms)
                self._stamp = stamp
            self._checked_at = now

    def invalidate(self) -> None:
        with self._lock:
            self._stamp = None

    def locate(self, lng: float, lat: float) -> GridHit | None:
        self._refresh()
        index = self._index
        if index.tree is None:
            return None
        idx = index.tree.query(shapely.Point(lng, lat), predicate="intersects")
        if len(idx) == 0:
            return None
        # A point on a shared edge touches two grids; the lowest index is a stable choice.
        return index.hits[int(min(idx))]

    def locate_many(self, lngs: Iterable[float], lats: Iterable[float]) -> list[int | None]:
        """The grid id of each point (None outside every grid), with the same rule as ``locate``
        (boundary points count, the lowest index wins a tie).

        Vectorised, in chunks: an STR-tree query by bounding box, then ``intersects_xy`` against the
        prepared candidate polygons. The result is exactly ``query(points, predicate="intersects")``'s,
        for about 20 % less CPU, and chunks keep the memory flat (bench/README-locate.md).
        """
        self._refresh()
        x = np.asarray(lngs if isinstance(lngs, np.ndarray) else list(lngs), dtype=float)
        y = np.asarray(lats if isinstance(lats, np.ndarray) else list(lats), dtype=float)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError("lngs and lats must be one-dimensional and of the same length")
        index = self._index
        n, size = len(x), len(index.hits)
        if index.tree is None or n == 0:
            return [None] * n
        best = np.full(n, size, dtype=np.int64)
        for start in range(0, n, LOCATE_CHUNK):
            xs, ys = x[start : start + LOCATE_CHUNK], y[start : start + LOCATE_CHUNK]
            points_idx, tree_idx = index.tree.query(shapely.points(xs, ys))
            inside = shapely.intersects_xy(index.geoms[tree_idx], xs[points_idx], ys[points_idx])
            np.minimum.at(best, start + points_idx[inside], tree_idx[inside])
        found = best < size
        ids = np.where(found, index.ids[np.minimum(best, size - 1)], -1)
        return [int(i) if i >= 0 else None for i in ids.tolist()]


def _build_index(hits: list[GridHit], geoms: list[BaseGeometry]) -> _Index:
    if not geoms:
        return _EMPTY
    shapes = np.array(geoms, dtype=object)
    shapely.prepare(shapes)
    ids = np.fromiter((h.grid_id for h in hits), dtype=np.int64, count=len(hits))
    return _Index(STRtree(shapes), hits, shapes, ids)


grid_locator = GridLocator()


def within_unit(unit: AdminUnit) -> Q:
    """Rows lying inside ``unit``, for any model with ``county``/``town``/``village`` columns
    (grids and cases both carry their ancestors, so this stays a single-column index lookup)."""
    if unit.level == UnitLevel.CITY:
        return Q(county__parent_id=unit.pk)
    column = {UnitLevel.COUNTY: "county_id", UnitLevel.TOWN: "town_id", UnitLevel.VILLAGE: "village_id"}[
        UnitLevel(unit.level)
    ]
    return Q(**{column: unit.pk})


# --- scope -----------------------------------------------------------------------------------------

NOT_IN_SCOPE = "网格不存在或不在您的管辖范围内"


def _is_admin(user: User) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMIN)


def grids_for_user(user: User) -> QuerySet[Grid]:
    """Every grid (active or not) the user may read: all for an administrator, a grid worker's own
    grids and their micro-grids, the unit's subtree for everyone else with a unit, else none."""
    qs = Grid.objects.all()
    if _is_admin(user):
        return qs
    if user.role == Role.GRIDWORKER:
        own = list(user.grids.values_list("id", flat=True))
        return qs.filter(Q(pk__in=own) | Q(parent_id__in=own))
    if user.unit_id and user.unit is not None:
        return qs.filter(within_unit(user.unit))
    return qs.none()


def grid_get_for_user(user: User, grid_id: int) -> Grid:
    """Fetch-and-check in one call: a grid outside the scope does not exist for this user."""
    grid = (
        grids_for_user(user).select_related("village", "town", "county", "parent").filter(pk=grid_id).first()
    )
    if grid is None:
        raise NotFound(NOT_IN_SCOPE, field="id", code="not_found")
    return grid


def sees_groups_without_grid(user: User) -> bool:
    """A group with no grid has no place in the hierarchy: district-wide readers see them."""
    if _is_admin(user):
        return True
    unit = user.unit if user.unit_id else None
    return user.role != Role.GRIDWORKER and unit is not None and unit.level <= UnitLevel.COUNTY


def _has_group() -> Exists:
    """A grid has a group when it or one of its micro-grids has one."""
    return Exists(ChatGroup.objects.filter(Q(grid_id=OuterRef("pk")) | Q(grid__parent_id=OuterRef("pk"))))


def grid_list(
    user: User,
    *,
    town_id: int | None = None,
    village_id: int | None = None,
    tier: str | None = None,
    kind: str | None = None,
    has_group: bool | None = None,
    query: str | None = None,
) -> QuerySet[Grid]:
    """Active grids in scope with their own groups counted (``group_count``, ``member_sum``)."""
    qs = (
        grids_for_user(user)
        .filter(active=True)
        .select_related("village", "town", "parent")
        .annotate(group_count=Count("chat_groups"), member_sum=Sum("chat_groups__member_count"))
    )
    if town_id:
        qs = qs.filter(town_id=town_id)
    if village_id:
        qs = qs.filter(village_id=village_id)
    if tier:
        qs = qs.filter(tier=tier)
    if kind:
        qs = qs.filter(kind=kind)
    if has_group is not None:
        qs = qs.filter(_has_group()) if has_group else qs.exclude(_has_group())
    if query and query.strip():
        term = query.strip()
        qs = qs.filter(Q(name__contains=term) | Q(code__startswith=term) | Q(village__name__contains=term))
    return qs.order_by("code")


def towns_in_scope(user: User) -> QuerySet[AdminUnit]:
    town_ids = grids_for_user(user).values("town_id")
    return AdminUnit.objects.filter(level=UnitLevel.TOWN, pk__in=town_ids).order_by("code")


def villages_in_scope(user: User, town_id: int | None = None) -> QuerySet[AdminUnit]:
    grids = grids_for_user(user)
    if town_id:
        grids = grids.filter(town_id=town_id)
    return AdminUnit.objects.filter(level=UnitLevel.VILLAGE, pk__in=grids.values("village_id")).order_by(
        "code"
    )


def grid_groups(grid: Grid) -> QuerySet[ChatGroup]:
    return ChatGroup.objects.filter(grid=grid).order_by("platform", "name")


def grid_children(grid: Grid) -> QuerySet[Grid]:
    return (
        Grid.objects.filter(parent=grid, active=True)
        .annotate(group_count=Count("chat_groups"))
        .order_by("code")
    )


def grid_neighbourhood(grid: Grid) -> QuerySet[Grid]:
    """The shapes drawn around a grid on its map: its village's grids of the same tier (siblings under
    the same parent for a micro-grid), its parent and its micro-grids."""
    if grid.tier == GridTier.MICRO:
        near = Q(parent_id=grid.parent_id) | Q(pk=grid.parent_id)
    else:
        near = (Q(village_id=grid.village_id) & ~Q(tier=GridTier.MICRO)) | Q(parent_id=grid.pk)
    return Grid.objects.filter(near, active=True).exclude(boundary="").order_by("code")


# --- duties ----------------------------------------------------------------------------------------


def approved_duties() -> QuerySet[Duty]:
    """Duties a grid worker may be assigned: approved and active."""
    return Duty.objects.filter(approved=True, active=True)


def grid_duties(grid: Grid) -> list[Duty]:
    """The grid's effective duty list: its own list if it has one, else its tier's default; only
    approved, active duties count."""
    own = list(grid.duties.all())
    if own:
        return sorted((d for d in own if d.approved and d.active), key=lambda d: (d.sort, d.code))
    return list(approved_duties().filter(tiers__tier=grid.tier).order_by("sort", "code"))


def grid_pending_duties(grid: Grid) -> list[Duty]:
    """Duties on the grid's own list still waiting for approval (shown, not yet in force)."""
    return list(grid.duties.filter(approved=False, active=True).order_by("sort", "code"))


def tier_duties(tier: str) -> list[Duty]:
    return [td.duty for td in TierDuty.objects.filter(tier=tier).select_related("duty")]


# --- 一格一群 coverage ------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    """Figures of one town, village or grid. Grids counted are 一般网格: a micro-grid's groups count for
    its grid, a 总网格's for its village. ``members`` is the sum of the groups' member counts."""

    id: int
    code: str
    name: str
    town: str = ""
    village: str = ""
    grids: int = 0
    grids_with_group: int = 0
    groups: int = 0
    members: int = 0
    population: int = 0
    households: int = 0

    @property
    def grids_without_group(self) -> int:
        return self.grids - self.grids_with_group

    @property
    def compliance(self) -> float | None:
        """一格一群 达标率, % of grids with at least one group."""
        return 100.0 * self.grids_with_group / self.grids if self.grids else None

    @property
    def reach(self) -> float | None:
        """Residents reached versus population, %."""
        return 100.0 * self.members / self.population if self.population else None

    def add(self, other: CoverageRow) -> None:
        self.grids += other.grids
        self.grids_with_group += other.grids_with_group
        self.groups += other.groups
        self.members += other.members
        self.population += other.population
        self.households += other.households


@dataclass
class Coverage:
    total: CoverageRow
    towns: list[CoverageRow]
    villages: list[CoverageRow]
    grids: list[CoverageRow]
    groups_without_grid: list[ChatGroup] = field(default_factory=list)

    @property
    def grids_without_group(self) -> list[CoverageRow]:
        return [row for row in self.grids if row.grids_with_group == 0]


SORT_KEYS: dict[str, Callable[[CoverageRow], Any]] = {
    "code": lambda r: r.code,
    "name": lambda r: r.name,
    "grids": lambda r: r.grids,
    "without": lambda r: r.grids_without_group,
    "groups": lambda r: r.groups,
    "members": lambda r: r.members,
    "population": lambda r: r.population,
    "compliance": lambda r: r.compliance,
    "reach": lambda r: r.reach,
}


def sort_rows(rows: list[CoverageRow], key: str, descending: bool = False) -> list[CoverageRow]:
    """Rows sorted by one of SORT_KEYS (unknown → code); rows without a figure (no population) go last."""
    get = SORT_KEYS.get(key, SORT_KEYS["code"])
    present = [r for r in rows if get(r) is not None]
    missing = [r for r in rows if get(r) is None]
    by_code = sorted(present, key=lambda r: r.code)  # ties stay in code order either way (stable sort)
    return sorted(by_code, key=get, reverse=descending) + missing


def coverage_for_user(user: User, *, town_id: int | None = None) -> Coverage:
    """一格一群 coverage of the user's scope (optionally one town) at grid, village and town level."""
    grids = grids_for_user(user).filter(active=True)
    if town_id:
        grids = grids.filter(town_id=town_id)
    rows = grids.filter(tier=GridTier.GENERAL).values_list(
        "id",
        "code",
        "name",
        "population",
        "households",
        "village_id",
        "village__code",
        "village__name",
        "town_id",
        "town__code",
        "town__name",
    )
    root = Case(When(grid__tier=GridTier.MICRO, then=F("grid__parent_id")), default=F("grid_id"))
    stats = {
        item["root"]: (item["n"], item["members"] or 0)
        for item in ChatGroup.objects.filter(grid__in=grids)
        .annotate(root=root)
        .values("root")
        .annotate(n=Count("id"), members=Sum("member_count"))
    }
    grid_rows: list[CoverageRow] = []
    villages: dict[int, CoverageRow] = {}
    towns: dict[int, CoverageRow] = {}
    town_of: dict[int, int] = {}
    total = CoverageRow(id=0, code="", name="合计")
    for gid, code, name, pop, hh, vid, vcode, vname, tid, tcode, tname in rows:
        groups, members = stats.get(gid, (0, 0))
        row = CoverageRow(
            id=gid,
            code=code,
            name=name,
            town=tname,
            village=vname,
            grids=1,
            grids_with_group=1 if groups else 0,
            groups=groups,
            members=members,
            population=pop,
            households=hh,
        )
        grid_rows.append(row)
        villages.setdefault(vid, CoverageRow(id=vid, code=vcode, name=vname, town=tname)).add(row)
        town_of[vid] = tid
        towns.setdefault(tid, CoverageRow(id=tid, code=tcode, name=tname)).add(row)
        total.add(row)
    # A 总网格 row is its village again: its groups count for the village, its population does not.
    for gid, vid in grids.filter(tier=GridTier.TOTAL).values_list("id", "village_id"):
        groups, members = stats.get(gid, (0, 0))
        if groups and vid in villages:
            extra = CoverageRow(id=0, code="", name="", groups=groups, members=members)
            villages[vid].add(extra)
            towns[town_of[vid]].add(extra)
            total.add(extra)
    without_grid: list[ChatGroup] = []
    if sees_groups_without_grid(user) and not town_id:
        without_grid = list(ChatGroup.objects.filter(grid__isnull=True).order_by("platform", "name"))
    return Coverage(
        total=total,
        towns=sorted(towns.values(), key=lambda r: r.code),
        villages=sorted(villages.values(), key=lambda r: r.code),
        grids=sorted(grid_rows, key=lambda r: r.code),
        groups_without_grid=without_grid,
    )


def coverage_groups(user: User, *, town_id: int | None = None) -> QuerySet[ChatGroup]:
    """The chat groups the coverage page counts (those of the active grids in scope, optionally of one
    town in scope) and, for district-wide readers looking at every town, the groups with no grid."""
    grids = grids_for_user(user).filter(active=True)
    if town_id:
        grids = grids.filter(town_id=town_id)
    groups = Q(grid__in=grids)
    if sees_groups_without_grid(user) and not town_id:
        groups |= Q(grid__isnull=True)
    return (
        ChatGroup.objects.filter(groups)
        .select_related("grid__village", "grid__town")
        .order_by(F("grid__code").asc(nulls_last=True), "platform", "name", "id")
    )
