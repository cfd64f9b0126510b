"""Reads over places: locating the grid of a point, unit subtrees."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import shapely
from django.db.models import Count, Max, Q
from shapely import STRtree, wkt

from .models import AdminUnit, Grid, UnitLevel


@dataclass(frozen=True)
class GridHit:
    grid_id: int
    village_id: int
    town_id: int
    county_id: int


class GridLocator:
    """Point-in-polygon over all active grids, with an STR-tree; rebuilt when grids change.

    The index lives in process memory (10,000 grid polygons take a few MB) and is checked against
    the grid table at most every ``recheck_seconds``, so an edited boundary takes effect within that time.
    """

    def __init__(self, recheck_seconds: float = 30.0) -> None:
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._checked_at = 0.0
        self._tree: STRtree | None = None
        self._hits: list[GridHit] = []
        self._geoms: list = []

    def _current_stamp(self) -> tuple:
        agg = Grid.objects.filter(active=True).aggregate(n=Count("id"), last=Max("updated_at"), top=Max("id"))
        return (agg["n"], agg["last"], agg["top"])

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._stamp is not None and now - self._checked_at < self.recheck_seconds:
            return
        with self._lock:
            if self._stamp is not None and now - self._checked_at < self.recheck_seconds:
                return
            stamp = self._current_stamp()
            if stamp != self._stamp:
                rows = Grid.objects.filter(active=True).values_list(
                    "id", "village_id", "town_id", "county_id", "boundary"
                )
                hits, geoms = [], []
                for gid, vid, tid, cid, boundary in rows.iterator(chunk_size=2000):
                    if not boundary:
                        continue
                    geom = wkt.loads(boundary)
                    shapely.prepare(geom)
                    hits.append(GridHit(gid, vid, tid, cid))
                    geoms.append(geom)
                self._tree = STRtree(geoms) if geoms else None
                self._hits, self._geoms = hits, geoms
                self._stamp = stamp
            self._checked_at = now

    def invalidate(self) -> None:
        with self._lock:
            self._stamp = None

    def locate(self, lng: float, lat: float) -> GridHit | None:
        self._refresh()
        if self._tree is None:
            return None
        idx = self._tree.query(shapely.Point(lng, lat), predicate="intersects")
        if len(idx) == 0:
            return None
        # A point on a shared edge touches two grids; the lowest index is a stable choice.
        return self._hits[int(min(idx))]


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
