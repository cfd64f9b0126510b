"""The demo's places data (dualgrid/demo/places_extra.py) on the shared cast: valid micro-grids,
groups reaching 40–90 % of the population, some groups without a grid, and a second run is a no-op."""

import random
from io import StringIO

from shapely import wkt

from dualgrid.demo import places_extra
from dualgrid.places.models import ChatGroup, Grid, GridTier
from dualgrid.places.services import grid_placement_errors


def test_the_demo_loader_splits_urban_grids_and_registers_groups(cast) -> None:
    Grid.objects.update(population=1500, households=520)
    out = StringIO()
    places_extra.load(random.Random(3), out)

    micro = list(Grid.objects.filter(tier=GridTier.MICRO).select_related("parent", "village"))
    assert micro, out.getvalue()
    for grid in micro:
        assert grid.parent is not None and grid.parent.town == cast.town_a
        assert not grid_placement_errors(
            code=grid.code, tier=grid.tier, village=grid.village, parent=grid.parent
        )
        assert wkt.loads(grid.parent.boundary).buffer(1e-7).covers(wkt.loads(grid.boundary))
    for parent_id in {g.parent_id for g in micro}:
        assert sum(Grid.objects.filter(parent_id=parent_id).values_list("population", flat=True)) == 1500

    for grid in Grid.objects.exclude(tier=GridTier.MICRO):
        members = sum(ChatGroup.objects.filter(grid=grid).values_list("member_count", flat=True))
        assert members == 0 or 0.4 * 1500 <= members <= 0.9 * 1500
    assert ChatGroup.objects.filter(grid__isnull=True).count() == len(places_extra.UNPLACED_GROUPS)
    assert all(g.owner_phone_hash for g in ChatGroup.objects.all())

    places_extra.load(random.Random(3), out)
    assert "已存在，跳过" in out.getvalue()
    assert Grid.objects.filter(tier=GridTier.MICRO).count() == len(micro)


def test_the_demo_reset_clears_groups_and_micro_grids_so_grids_can_go(cast) -> None:
    places_extra.load(random.Random(3), StringIO())
    places_extra.reset()
    assert not ChatGroup.objects.exists()
    assert not Grid.objects.filter(tier=GridTier.MICRO).exists()
    assert not Grid.objects.filter(children__isnull=False).exists()
