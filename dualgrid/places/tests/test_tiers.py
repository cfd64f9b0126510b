"""Grid tiers and micro-grids: codes follow the tree (village + 3 digits, grid + 2 digits)."""

import pytest
from shapely.geometry import box

from dualgrid.lib.errors import Forbidden, Invalid
from dualgrid.places.models import Grid, GridTier
from dualgrid.places.services import grid_save

from .conftest import micro_grid


def test_a_grid_is_general_tier_by_default(cast) -> None:
    assert cast.grid_a.tier == GridTier.GENERAL
    assert cast.grid_a.parent is None


def test_a_micro_grid_code_is_its_grid_code_plus_two_digits(cast) -> None:
    micro = micro_grid(cast, cast.grid_a, "01", 105.80, 105.82)
    assert micro.code == "50015200100100101"
    assert micro.parent == cast.grid_a
    assert list(cast.grid_a.children.all()) == [micro]


def test_saving_a_grid_fills_in_town_and_county_from_its_village(cast) -> None:
    micro = micro_grid(cast, cast.grid_a, "01", 105.80, 105.82)
    assert micro.town == cast.town_a and micro.county == cast.county


@pytest.mark.parametrize(
    ("code", "field", "message"),
    [
        ("500152001001001", "code", "微网格编码应为17位数字"),
        ("5001520010010011", "code", "微网格编码应为17位数字"),
        ("50015200100100201", "code", "应为上级网格编码 500152001001001 加2位序号"),
    ],
)
def test_a_micro_grid_with_a_wrong_code_is_refused(cast, code, field, message) -> None:
    grid = Grid(
        code=code,
        name="错",
        tier=GridTier.MICRO,
        parent=cast.grid_a,
        village=cast.village_a,
        boundary=box(105.80, 30.10, 105.81, 30.11).wkt,
    )
    before = Grid.objects.count()
    with pytest.raises(Invalid) as err:
        grid_save(actor=cast.admin, grid=grid)
    assert message in err.value.errors[field]
    assert Grid.objects.count() == before


def test_a_micro_grid_needs_a_general_grid_as_parent(cast) -> None:
    orphan = Grid(
        code="50015200100100101", name="孤", tier=GridTier.MICRO, village=cast.village_a, boundary=""
    )
    with pytest.raises(Invalid) as err:
        grid_save(actor=cast.admin, grid=orphan)
    assert err.value.errors["parent"] == "微网格须指定上级网格"
    micro = micro_grid(cast, cast.grid_a, "01", 105.80, 105.82)
    nested = Grid(
        code=micro.code + "01",
        name="套",
        tier=GridTier.MICRO,
        parent=micro,
        village=cast.village_a,
        boundary="",
    )
    with pytest.raises(Invalid) as err:
        grid_save(actor=cast.admin, grid=nested)
    assert err.value.errors["parent"] == "微网格的上级应为一般网格"


def test_a_grid_code_must_start_with_its_village_code(cast) -> None:
    grid = Grid(code="500152101201009", name="错村", village=cast.village_a, boundary="")
    with pytest.raises(Invalid) as err:
        grid_save(actor=cast.admin, grid=grid)
    assert "500152001001" in err.value.errors["code"]


def test_a_general_grid_may_sit_under_a_total_grid_of_its_village_only(cast) -> None:
    total = grid_save(
        actor=cast.admin,
        grid=Grid(
            code="500152001001000",
            name="大佛社区总网格",
            tier=GridTier.TOTAL,
            village=cast.village_a,
            boundary="",
        ),
    )
    cast.grid_a.parent = total
    assert grid_save(actor=cast.admin, grid=cast.grid_a).parent == total
    cast.grid_b.parent = cast.grid_a
    with pytest.raises(Invalid) as err:
        grid_save(actor=cast.admin, grid=cast.grid_b)
    assert "只能是总网格" in err.value.errors["parent"]


def test_only_an_administrator_may_save_grids(cast) -> None:
    with pytest.raises(Forbidden):
        grid_save(actor=cast.dispatcher, grid=cast.grid_a)


def test_the_admin_form_shows_the_tree_rule_next_to_the_field(cast, login) -> None:
    cast.admin.is_staff = cast.admin.is_superuser = True
    cast.admin.save()
    resp = login(cast.admin).post(
        "/admin/places/grid/add/",
        {
            "code": "500152001001009",
            "name": "微网格编码错",
            "tier": GridTier.MICRO,
            "kind": "urban",
            "parent": cast.grid_a.pk,
            "village": cast.village_a.pk,
            "active": "on",
            "households": 0,
            "population": 0,
            "boundary": box(105.80, 30.10, 105.81, 30.11).wkt,
            "chat_groups-TOTAL_FORMS": 0,
            "chat_groups-INITIAL_FORMS": 0,
        },
    )
    assert resp.status_code == 200
    assert "微网格编码应为17位数字" in resp.content.decode()
    assert not Grid.objects.filter(code="500152001001009").exists()
