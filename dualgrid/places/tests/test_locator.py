"""Point location: the bulk lookup agrees with the single one; micro-grids are not routing targets."""

import random

import numpy as np
from shapely.geometry import box

from dualgrid.conftest import POINT_IN_A, POINT_OUTSIDE
from dualgrid.places import selectors
from dualgrid.places.models import Grid, GridTier
from dualgrid.places.selectors import GridHit, GridLocator, grid_locator
from dualgrid.places.services import grid_save

from .conftest import micro_grid


def test_locate_many_agrees_with_locate_on_random_points(cast, monkeypatch) -> None:
    monkeypatch.setattr(selectors, "LOCATE_CHUNK", 97)  # many chunks, one of them partial
    rng = random.Random(7)
    lngs = [rng.uniform(105.78, 106.02) for _ in range(2000)]
    lats = [rng.uniform(30.08, 30.22) for _ in range(2000)]
    # Points exactly on shared edges and corners, where two grids touch.
    lngs += [105.85, 105.90, 105.85, 105.80]
    lats += [30.15, 30.15, 30.10, 30.20]
    single = [
        hit.grid_id if (hit := grid_locator.locate(x, y)) else None for x, y in zip(lngs, lats, strict=True)
    ]
    assert grid_locator.locate_many(lngs, lats) == single
    assert {cast.grid_a.pk, cast.grid_b.pk, cast.grid_c.pk, None} == set(single)


def test_locate_many_takes_numpy_arrays_and_empty_input(cast) -> None:
    lat, lng = POINT_IN_A
    far_lat, far_lng = POINT_OUTSIDE
    found = grid_locator.locate_many(np.array([lng, far_lng]), np.array([lat, far_lat]))
    assert found == [cast.grid_a.pk, None]
    assert grid_locator.locate_many([], []) == []


def test_a_point_in_a_micro_grid_is_located_in_its_grid(cast) -> None:
    micro_grid(cast, cast.grid_a, "01", 105.80, 105.83)
    grid_locator.invalidate()
    lat, lng = POINT_IN_A
    assert grid_locator.locate(lng, lat).grid_id == cast.grid_a.pk  # type: ignore[union-attr]
    assert grid_locator.locate_many([lng], [lat]) == [cast.grid_a.pk]


def test_a_fixed_locator_needs_no_database() -> None:
    shapes = [box(0, 0, 1, 1), box(1, 0, 2, 1)]
    locator = GridLocator.from_geometries([GridHit(10, 0, 0, 0), GridHit(20, 0, 0, 0)], shapes)
    assert locator.locate_many([0.5, 1.5, 1.0, 3.0], [0.5, 0.5, 0.5, 0.5]) == [10, 20, 10, None]
    assert locator.locate(1.5, 0.5) == GridHit(20, 0, 0, 0)


def test_a_total_grid_only_catches_what_no_grid_covers(cast) -> None:
    total = grid_save(
        actor=cast.admin,
        grid=Grid(
            code="500152001001000",
            name="大佛社区总网格",
            tier=GridTier.TOTAL,
            village=cast.village_a,
            boundary=box(105.70, 30.10, 105.90, 30.20).wkt,
        ),
    )
    grid_locator.invalidate()
    lat, lng = POINT_IN_A
    assert grid_locator.locate(lng, lat).grid_id == cast.grid_a.pk  # type: ignore[union-attr]
    assert grid_locator.locate(105.75, 30.15).grid_id == total.pk  # type: ignore[union-attr]
    assert grid_locator.locate_many([lng, 105.75], [lat, 30.15]) == [cast.grid_a.pk, total.pk]
