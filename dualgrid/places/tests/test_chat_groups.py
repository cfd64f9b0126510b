"""Chat groups (online grids): one row per platform and external id, the owner's phone encrypted."""

import pytest
from django.db import connection

from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import Invalid
from dualgrid.places.models import ChatGroup, Platform
from dualgrid.places.services import chat_group_upsert


def upsert(cast, **kw):  # type: ignore[no-untyped-def]
    values = {
        "actor": cast.admin,
        "platform": Platform.WECHAT,
        "external_id": "wx-001",
        "name": "大佛社区1网格群",
        "grid": cast.grid_a,
        "member_count": 120,
        "owner_name": "张红",
        "owner_phone": "138 1234 5678",
    }
    return chat_group_upsert(**(values | kw))


def test_registering_a_group_twice_keeps_one_row(cast) -> None:
    group, created = upsert(cast)
    again, created_again = upsert(cast, member_count=130)
    assert created and not created_again and again.pk == group.pk
    assert ChatGroup.objects.count() == 1 and ChatGroup.objects.get().member_count == 130


def test_the_same_external_id_on_another_platform_is_another_group(cast) -> None:
    upsert(cast)
    upsert(cast, platform=Platform.QQ)
    assert ChatGroup.objects.count() == 2


def test_the_owner_phone_is_encrypted_at_rest_and_searchable_by_hash(cast) -> None:
    group, _ = upsert(cast)
    with connection.cursor() as cursor:
        cursor.execute("SELECT owner_phone FROM places_chatgroup WHERE id = %s", [group.pk])
        stored = cursor.fetchone()[0]
    assert "13812345678" not in stored and stored.startswith("enc1:")
    assert ChatGroup.objects.get(owner_phone_hash=keyed_hash("13812345678")) == group
    assert ChatGroup.objects.get().owner_phone == "13812345678"


def test_a_bad_owner_phone_is_refused(cast) -> None:
    with pytest.raises(Invalid) as err:
        upsert(cast, owner_phone="12345")
    assert err.value.errors == {"owner_phone": "群主手机号格式不正确"}
    assert not ChatGroup.objects.exists()


def test_deleting_a_grid_leaves_its_groups_without_grid(cast) -> None:
    from dualgrid.places.models import Grid

    group, _ = upsert(cast, grid=cast.grid_c)
    Grid.objects.filter(pk=cast.grid_c.pk).delete()
    group.refresh_from_db()
    assert group.grid is None
