"""The places admin: pages render, grid and group edits go through the services."""

import pytest
from shapely.geometry import box

from dualgrid.lib.crypto import keyed_hash
from dualgrid.places.models import ChatGroup, Grid, GridTier, Platform


@pytest.fixture
def admin_client(cast, login):  # type: ignore[no-untyped-def]
    cast.admin.is_staff = cast.admin.is_superuser = True
    cast.admin.save()
    return login(cast.admin)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/places/grid/",
        "/admin/places/grid/add/",
        "/admin/places/duty/",
        "/admin/places/duty/add/",
        "/admin/places/chatgroup/",
        "/admin/places/chatgroup/add/",
        "/admin/places/chatgroup/?linked=no",
    ],
)
def test_admin_pages_render(admin_client, url) -> None:
    assert admin_client.get(url).status_code == 200


def test_adding_a_micro_grid_in_the_admin_fills_in_its_ancestors(cast, admin_client) -> None:
    resp = admin_client.post(
        "/admin/places/grid/add/",
        {
            "code": cast.grid_a.code + "01",
            "name": "第1微网格",
            "tier": GridTier.MICRO,
            "kind": "urban",
            "parent": cast.grid_a.pk,
            "village": cast.village_a.pk,
            "active": "on",
            "households": 60,
            "population": 170,
            "boundary": box(105.80, 30.10, 105.81, 30.11).wkt,
            "chat_groups-TOTAL_FORMS": 0,
            "chat_groups-INITIAL_FORMS": 0,
        },
    )
    assert resp.status_code == 302
    micro = Grid.objects.get(code=cast.grid_a.code + "01")
    assert (micro.town, micro.county, micro.parent) == (cast.town_a, cast.county, cast.grid_a)


def test_the_group_admin_never_shows_the_full_owner_phone_and_stores_a_new_one_encrypted(
    cast, admin_client
) -> None:
    resp = admin_client.post(
        "/admin/places/chatgroup/add/",
        {
            "grid": cast.grid_a.pk,
            "platform": Platform.WECHAT,
            "name": "大佛一格群",
            "external_id": "123@chatroom",
            "member_count": 300,
            "owner_name": "周敏",
            "new_owner_phone": "13512345678",
        },
    )
    assert resp.status_code == 302
    group = ChatGroup.objects.get()
    assert group.owner_phone == "13512345678" and group.owner_phone_hash == keyed_hash("13512345678")
    page = admin_client.get(f"/admin/places/chatgroup/{group.pk}/change/").content.decode()
    assert "135****5678" in page and "13512345678" not in page
    listing = admin_client.get("/admin/places/chatgroup/?q=13512345678").content.decode()
    assert "大佛一格群" in listing and "135****5678" in listing  # found by the keyed hash of the full number
