"""Helpers of the places tests on top of the shared cast: GeoJSON features, a micro-grid, clients."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from shapely.geometry import box, mapping

from dualgrid.accounts.models import User
from dualgrid.conftest import Cast
from dualgrid.places.models import Grid, GridTier
from dualgrid.places.services import grid_save


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return dict(mapping(box(x0, y0, x1, y1)))


def feature(code: str, name: str, geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"code": code, "name": name, **props}}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def micro_grid(cast: Cast, parent: Grid, seq: str, x0: float, x1: float, **kw: Any) -> Grid:
    """A micro-grid of ``parent`` covering lon x0–x1 of its latitude band, saved through the service."""
    return grid_save(
        actor=cast.admin,
        grid=Grid(
            code=parent.code + seq,
            name=f"{parent.name}第{int(seq)}微网格",
            tier=GridTier.MICRO,
            parent=parent,
            village=parent.village,
            boundary=box(x0, 30.10, x1, 30.20).wkt,
            **kw,
        ),
    )


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.VAR_DIR = tmp_path
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def login() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
