"""Tests for the synthetic demo geography (no Django, no DB)."""

from __future__ import annotations

import re
import time
from functools import cache

import numpy as np
import shapely
from shapely.geometry import Polygon

from dualgrid.demo.geo import (
    COUNTY_CODE,
    GRID_KIND_DEDICATED,
    GRID_KIND_RURAL,
    GRID_KIND_URBAN,
    District,
    Village,
    build_district,
)


@cache
def district(seed: int = 0) -> District:
    return build_district(seed)


def _assert_exact_partition(parent: Polygon, children: list[Polygon], what: str) -> None:
    """Children must not overlap and must cover the parent without gaps."""
    arr = np.array(children, dtype=object)
    assert shapely.coverage_is_valid(arr), f"{what}: children do not form a valid coverage"
    union = shapely.union_all(arr)
    diff = union.symmetric_difference(parent).area
    assert diff < 1e-9 * parent.area, f"{what}: union differs from parent by {diff}"
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            area = children[i].intersection(children[j]).area
            assert area <= 1e-15 * parent.area, f"{what}: children {i} and {j} overlap ({area})"


def test_counts_in_range() -> None:
    d = district()
    assert d.name == "潼南区"
    assert len(d.towns) == 6
    assert [t.kind for t in d.towns].count("街道") == 2
    assert [t.kind for t in d.towns].count("镇") == 4
    villages = list(d.iter_villages())
    grids = list(d.iter_grids())
    assert 35 <= len(villages) <= 48
    assert 350 <= len(grids) <= 450
    for town in d.towns:
        kinds = [v.kind for v in town.villages]
        if town.kind == "街道":
            assert kinds.count("社区") > kinds.count("村")
        else:
            assert kinds.count("村") > kinds.count("社区")
    # Urban communities have more, smaller grids than rural villages.
    urban = [v for t in d.towns if t.kind == "街道" for v in t.villages if v.kind == "社区"]
    rural = [v for t in d.towns if t.kind == "镇" for v in t.villages if v.kind == "村"]
    assert _mean_grid_count(urban) > _mean_grid_count(rural)
    assert _mean_grid_area(urban) * 4 < _mean_grid_area(rural)


def _mean_grid_count(villages: list[Village]) -> float:
    return sum(len(v.grids) for v in villages) / len(villages)


def _mean_grid_area(villages: list[Village]) -> float:
    grids = [g for v in villages for g in v.grids]
    return sum(g.polygon.area for g in grids) / len(grids)


def test_codes_unique_and_well_formed() -> None:
    d = district()
    assert d.code12 == COUNTY_CODE + "000000" == "500152000000"
    codes: list[str] = [d.code12]
    for town in d.towns:
        assert re.fullmatch(r"\d{12}", town.code12)
        assert town.code12.startswith(COUNTY_CODE) and town.code12.endswith("000")
        assert town.code12[6] == ("0" if town.kind == "街道" else "1")
        codes.append(town.code12)
        for village in town.villages:
            assert re.fullmatch(r"\d{12}", village.code12)
            assert village.code12[:9] == town.code12[:9]
            assert village.code12[9:] != "000"
            assert village.code12[9] == ("0" if village.kind == "社区" else "2")
            codes.append(village.code12)
            for seq, grid in enumerate(village.grids, start=1):
                assert re.fullmatch(r"\d{15}", grid.code15)
                assert grid.code15[:12] == village.code12
                assert grid.code15[12:] == f"{seq:03d}"
                assert grid.name == f"{village.name}第{seq}网格"
                codes.append(grid.code15)
    assert len(codes) == len(set(codes))
    names = [v.name for v in d.iter_villages()]
    assert len(names) == len(set(names))


def test_kinds_households_population() -> None:
    d = district()
    for village in d.iter_villages():
        for grid in village.grids:
            if village.kind == "村":
                assert grid.kind == GRID_KIND_RURAL
                assert 150 <= grid.households <= 400
            elif grid.kind == GRID_KIND_URBAN:
                assert 300 <= grid.households <= 600
            else:
                assert grid.kind == GRID_KIND_DEDICATED
                assert grid.households > 0
            ratio = grid.population / grid.households
            assert 2.59 <= ratio <= 3.01
    kinds = {g.kind for g in d.iter_grids()}
    assert kinds == {GRID_KIND_URBAN, GRID_KIND_RURAL, GRID_KIND_DEDICATED}


def test_every_polygon_valid_and_simple() -> None:
    d = district()
    polys = [d.polygon] + [t.polygon for t in d.towns]
    polys += [v.polygon for v in d.iter_villages()] + [g.polygon for g in d.iter_grids()]
    for poly in polys:
        assert isinstance(poly, Polygon)
        assert poly.is_valid and not poly.is_empty
        assert len(poly.interiors) == 0
    assert len(d.polygon.exterior.coords) < 1500
    assert max(len(g.polygon.exterior.coords) for g in d.iter_grids()) < 200


def test_location_and_extent() -> None:
    d = district()
    minx, miny, maxx, maxy = d.polygon.bounds
    assert 0.4 <= maxx - minx <= 0.6
    assert 0.32 <= maxy - miny <= 0.48
    c = d.polygon.centroid
    assert abs(c.x - 105.84) < 0.05 and abs(c.y - 30.19) < 0.05
    # The two 街道 (county seat) lie near the centre.
    for town in d.towns:
        if town.kind == "街道":
            assert town.polygon.distance(shapely.Point(105.84, 30.19)) < 0.03


def test_no_overlaps_no_gaps_at_every_level() -> None:
    d = district()
    _assert_exact_partition(d.polygon, [t.polygon for t in d.towns], "district")
    for town in d.towns:
        _assert_exact_partition(town.polygon, [v.polygon for v in town.villages], town.name)
        for village in town.villages:
            _assert_exact_partition(village.polygon, [g.polygon for g in village.grids], village.name)
    # And across the whole district at the finest level.
    _assert_exact_partition(d.polygon, [g.polygon for g in d.iter_grids()], "all grids")


def test_grid_numbering_runs_north_to_south_west_to_east() -> None:
    d = district()
    for village in d.iter_villages():
        cents = np.array([g.polygon.centroid.coords[0] for g in village.grids])
        n = len(cents)
        if n < 4:
            continue
        # The first grid is in the northernmost row, the last in the southernmost.
        row_h = (village.polygon.area / n) ** 0.5
        assert cents[0, 1] >= cents[:, 1].max() - row_h
        assert cents[-1, 1] <= cents[:, 1].min() + row_h
        assert cents[: n // 2, 1].mean() > cents[n // 2 :, 1].mean()


def test_deterministic() -> None:
    a, b = district(0), build_district(0)
    assert [g.code15 for g in a.iter_grids()] == [g.code15 for g in b.iter_grids()]
    assert [g.households for g in a.iter_grids()] == [g.households for g in b.iter_grids()]
    for ga, gb in zip(a.iter_grids(), b.iter_grids(), strict=True):
        assert ga.polygon.wkb == gb.polygon.wkb
    assert a.polygon.wkb == b.polygon.wkb
    c = district(1)
    assert c.polygon.wkb != a.polygon.wkb


def test_other_seeds_valid() -> None:
    for seed in (1, 2, 3):
        d = district(seed)
        grids = list(d.iter_grids())
        assert 350 <= len(grids) <= 450
        _assert_exact_partition(d.polygon, [g.polygon for g in grids], f"seed {seed}")


def test_runtime() -> None:
    # CPU time, so that a busy CI machine does not make the test flaky.
    start = time.process_time()
    build_district(7)
    assert time.process_time() - start < 3.0
