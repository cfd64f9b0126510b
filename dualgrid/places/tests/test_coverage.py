"""一格一群 coverage: groups per grid, micro-grid groups rolled up, reach versus population, findings."""

import pytest

from dualgrid.places.models import ChatGroup, Grid, GridTier, Platform
from dualgrid.places.selectors import coverage_for_user, sort_rows
from dualgrid.places.services import chat_group_upsert, grid_save

from .conftest import micro_grid


@pytest.fixture
def groups(cast):  # type: ignore[no-untyped-def]
    """Grid A: two groups (300 + 200 of 1,000); grid B: none of its own, one in its micro-grid (400 of
    800); grid C: none (500); and one group without a grid."""
    Grid.objects.filter(pk=cast.grid_a.pk).update(population=1000, households=400)
    Grid.objects.filter(pk=cast.grid_b.pk).update(population=800, households=300)
    Grid.objects.filter(pk=cast.grid_c.pk).update(population=500, households=200)
    micro = micro_grid(cast, cast.grid_b, "01", 105.85, 105.87, population=300)

    def group(ext: str, grid: Grid | None, members: int, platform: str = Platform.WECHAT) -> ChatGroup:
        return chat_group_upsert(
            actor=cast.admin,
            platform=platform,
            external_id=ext,
            name=f"群{ext}",
            grid=grid,
            member_count=members,
        )[0]

    group("a1", cast.grid_a, 300)
    group("a2", cast.grid_a, 200, Platform.WECOM)
    group("b01", micro, 400, Platform.QQ)
    group("lost", None, 50)
    return cast


def test_totals_count_grids_groups_members_and_population(groups) -> None:
    total = coverage_for_user(groups.dispatcher).total
    assert (total.grids, total.grids_with_group, total.groups) == (3, 2, 3)
    assert (total.members, total.population, total.households) == (900, 2300, 900)
    assert total.compliance == pytest.approx(200 / 3)
    assert total.reach == pytest.approx(900 / 23)


def test_micro_grids_are_not_counted_as_grids_but_their_groups_count_for_their_grid(groups) -> None:
    rows = {r.code: r for r in coverage_for_user(groups.dispatcher).grids}
    assert set(rows) == {groups.grid_a.code, groups.grid_b.code, groups.grid_c.code}
    b = rows[groups.grid_b.code]
    assert (b.groups, b.members, b.grids_with_group) == (1, 400, 1)
    assert b.reach == 50.0


def test_figures_per_town_and_village(groups) -> None:
    data = coverage_for_user(groups.dispatcher)
    towns = {r.name: (r.grids, r.grids_with_group, r.groups, r.members, r.population) for r in data.towns}
    assert towns == {"桂林街道": (2, 2, 3, 900, 1800), "群力镇": (1, 0, 0, 0, 500)}
    villages = {r.name: (r.grids, r.grids_without_group, r.reach) for r in data.villages}
    assert villages == {"大佛社区": (2, 0, 50.0), "白兔村": (1, 1, 0.0)}


def test_grids_without_a_group_and_groups_without_a_grid_are_listed(groups) -> None:
    data = coverage_for_user(groups.dispatcher)
    assert [r.code for r in data.grids_without_group] == [groups.grid_c.code]
    assert [g.external_id for g in data.groups_without_grid] == ["lost"]


def test_a_town_account_sees_its_town_only_and_no_unplaced_groups(groups) -> None:
    data = coverage_for_user(groups.town_dispatcher)
    assert [r.name for r in data.towns] == ["群力镇"]
    assert [r.code for r in data.grids] == [groups.grid_c.code]
    assert data.groups_without_grid == []


def test_a_grid_worker_sees_their_grid(groups) -> None:
    data = coverage_for_user(groups.worker_b)
    assert [(r.code, r.members) for r in data.grids] == [(groups.grid_b.code, 400)]


def test_a_town_filter_narrows_the_figures(groups) -> None:
    data = coverage_for_user(groups.dispatcher, town_id=groups.town_b.pk)
    assert data.total.grids == 1 and data.total.population == 500


def test_a_grid_without_population_has_no_reach_and_sorts_last(groups) -> None:
    Grid.objects.filter(pk=groups.grid_c.pk).update(population=0)
    rows = sort_rows(coverage_for_user(groups.dispatcher).grids, "reach", descending=True)
    assert [r.code for r in rows] == [groups.grid_a.code, groups.grid_b.code, groups.grid_c.code]
    assert rows[-1].reach is None


def test_a_total_grid_is_no_grid_row_but_its_groups_count_for_its_village(groups) -> None:
    total_grid = grid_save(
        actor=groups.admin,
        grid=Grid(
            code="500152001001000",
            name="大佛社区总网格",
            tier=GridTier.TOTAL,
            village=groups.village_a,
            boundary="",
            population=1800,
        ),
    )
    chat_group_upsert(
        actor=groups.admin,
        platform=Platform.WECHAT,
        external_id="all",
        name="大佛社区群",
        grid=total_grid,
        member_count=100,
    )
    data = coverage_for_user(groups.dispatcher)
    assert total_grid.code not in [r.code for r in data.grids]
    village = next(r for r in data.villages if r.name == "大佛社区")
    assert (village.grids, village.groups, village.members, village.population) == (2, 4, 1000, 1800)
    assert (data.total.grids, data.total.groups, data.total.population) == (3, 4, 2300)
