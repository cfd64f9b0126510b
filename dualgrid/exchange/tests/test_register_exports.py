"""Exports of the register, the visit list, the grids and the chat groups: the list's scope and
filters, personal numbers masked unless an allowed role asks, an audit row for each."""

import io
import json
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from dualgrid.accounts.models import AuditEntry
from dualgrid.exchange.xlsx import Workbook
from dualgrid.people import services as people
from dualgrid.people.models import ResidentTag
from dualgrid.people.tests.conftest import ELDER_PHONE, LANDLORD_PHONE, SHOP_PHONE, build_register, tag
from dualgrid.places.models import Platform
from dualgrid.places.services import chat_group_upsert


def sheet(response) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """The rows of an exported workbook as dicts keyed by the header."""
    assert response.status_code == 200, response.content[:300]
    with Workbook(io.BytesIO(response.content)) as book:
        rows = [values for _, values in book.rows(book.sheets[0])]
    header, *body = rows
    return [dict(zip(header, row, strict=False)) for row in body]


def audit() -> tuple[AuditEntry, dict[str, object]]:
    entry = AuditEntry.objects.get(action="export")
    return entry, json.loads(entry.detail)


@pytest.fixture
def register(cast):  # type: ignore[no-untyped-def]
    return build_register(cast)


@pytest.fixture
def groups(cast):  # type: ignore[no-untyped-def]
    def group(external_id: str, name: str, grid, phone: str):  # type: ignore[no-untyped-def]
        made, _ = chat_group_upsert(
            actor=None,
            platform=Platform.WECHAT,
            external_id=external_id,
            name=name,
            grid=grid,
            member_count=120,
            owner_name="张建国",
            owner_phone=phone,
        )
        return made

    return [
        group("wx-a", "大佛社区第1网格居民群", cast.grid_a, "13912340001"),
        group("wx-c", "白兔村第1网格群", cast.grid_c, "13912340003"),
        group("wx-x", "来历不明的群", None, "13912340009"),
    ]


# --- the register ------------------------------------------------------------------------------------


def test_a_grid_worker_exports_the_households_of_their_grids_with_members(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    people.resident_tag_add(
        actor=None, resident=register.elder, tag=tag("care", "01"), since=date(2025, 1, 6)
    )
    rows = sheet(login(cast.worker_a).get(reverse("exchange:export_households")))
    assert [(r["地址"], r["门牌号"], r["成员数"]) for r in rows] == [("大佛社区3栋", "1-2", 2)]
    assert rows[0]["成员"] == "李德明、王秀英" and rows[0]["重点人群"] == "王秀英：空巢(独居)老人"
    entry, detail = audit()
    assert (entry.user, entry.object_type, detail["rows"]) == (cast.worker_a, "people.Household", 1)


def test_the_rental_export_masks_the_landlord_phone_and_is_audited(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    rows = sheet(login(cast.worker_a).get(reverse("exchange:export_rentals")))
    assert [(r["地址"], r["房东姓名"], r["房东电话"]) for r in rows] == [
        ("大佛社区5栋2-1", "张德福", "138****2222")
    ]
    entry, detail = audit()
    assert (entry.user, entry.object_type) == (cast.worker_a, "people.RentalHouse")
    assert detail == {"filters": {}, "rows": 1, "masked": True}


def test_a_dispatcher_may_export_contact_phones_unmasked(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("exchange:export_businesses") + f"?grid={cast.grid_a.pk}&unmasked=1"
    rows = sheet(login(cast.dispatcher).get(url))
    assert [(r["名称"], r["联系电话"]) for r in rows] == [("老王面馆", SHOP_PHONE)]
    assert audit()[1]["masked"] is False


@pytest.mark.parametrize(
    "name", ["export_households", "export_rentals", "export_businesses", "export_key_places", "export_visits"]
)
def test_a_grid_worker_may_not_export_unmasked(cast, register, login, name) -> None:  # type: ignore[no-untyped-def]
    response = login(cast.worker_a).get(reverse(f"exchange:{name}") + "?unmasked=1")
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()


def test_the_exports_apply_the_lists_filters(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.dispatcher)
    url = reverse("exchange:export_businesses") + f"?kind=catering&grid={cast.grid_c.pk}"
    assert [r["名称"] for r in sheet(client.get(url))] == ["白兔农家乐"]
    assert audit()[1]["filters"] == {"category": "catering", "grid_id": cast.grid_c.pk}
    url = reverse("exchange:export_key_places") + f"?town={cast.town_a.pk}&kind=fuel"
    assert [r["名称"] for r in sheet(client.get(url))] == ["大佛加油站"]
    assert [r["地址"] for r in sheet(client.get(reverse("exchange:export_rentals") + "?q=刘长青"))] == [
        "大佛社区9栋1-1"
    ]
    assert [
        r["户主"] for r in sheet(client.get(reverse("exchange:export_households") + f"?q={ELDER_PHONE}"))
    ] == ["王秀英"]


def test_a_town_exports_its_town_only(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    rows = sheet(login(cast.town_dispatcher).get(reverse("exchange:export_key_places")))
    assert [r["名称"] for r in rows] == ["白兔水库"]
    rows = sheet(
        login(cast.town_dispatcher).get(reverse("exchange:export_rentals") + f"?grid={cast.grid_a.pk}")
    )
    assert rows == []


@pytest.mark.parametrize(
    ("page", "export"),
    [
        ("/people/households/", "/exchange/export/households.xlsx"),
        ("/people/rentals/", "/exchange/export/rentals.xlsx"),
        ("/people/businesses/", "/exchange/export/businesses.xlsx"),
        ("/people/key-places/", "/exchange/export/key-places.xlsx"),
        ("/places/grids/", "/exchange/export/grids.xlsx"),
        ("/places/coverage/", "/exchange/export/chat-groups.xlsx"),
    ],
)
def test_each_list_links_its_export_with_the_current_query(cast, login, page, export) -> None:  # type: ignore[no-untyped-def]
    body = login(cast.dispatcher).get(page, {"town": cast.town_b.pk, "q": "白兔"}).content.decode()
    assert f'href="{export}?town={cast.town_b.pk}&amp;q=%E7%99%BD%E5%85%94"' in body
    assert "导出Excel" in body


# --- the visit list ----------------------------------------------------------------------------------


@time_machine.travel("2025-11-19 10:00 +08:00", tick=False)
def test_the_visit_list_export_is_the_workers_due_list_masked(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    people.resident_tag_add(
        actor=None, resident=register.elder, tag=tag("care", "01"), since=date(2025, 10, 1)
    )
    client = login(cast.worker_a)
    assert "/exchange/export/visits.xlsx" in client.get("/people/visits/").content.decode()
    rows = sheet(client.get(reverse("exchange:export_visits")))
    assert [(r["姓名"], r["手机号"], r["走访要求"], r["状态"]) for r in rows] == [
        ("王秀英", "138****0001", "每周", "已逾期")
    ]
    assert rows[0]["人员标签"] == "空巢(独居)老人" and ELDER_PHONE not in str(rows)
    entry, detail = audit()
    assert (entry.object_type, detail["filters"]) == (
        "people.Visit",
        {"week": "2025年第47周（11-17至11-23）"},
    )


@time_machine.travel("2025-11-19 10:00 +08:00", tick=False)
def test_an_ended_tag_is_not_in_the_visit_list_export(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    held = people.resident_tag_add(
        actor=None, resident=register.elder, tag=tag("care", "01"), since=date(2025, 10, 1)
    )
    people.resident_tag_end(actor=cast.worker_a, resident_tag=held, ended_on="2025-11-19", reason="已搬离")
    assert sheet(login(cast.worker_a).get(reverse("exchange:export_visits"))) == []
    assert ResidentTag.objects.get().ended_on == date(2025, 11, 19)


def test_the_visit_list_export_is_for_grid_workers(cast, login) -> None:  # type: ignore[no-untyped-def]
    assert login(cast.dispatcher).get(reverse("exchange:export_visits")).status_code == 403


# --- grids and chat groups ---------------------------------------------------------------------------


def test_the_grid_export_keeps_scope_and_filters(cast, login) -> None:  # type: ignore[no-untyped-def]
    rows = sheet(login(cast.worker_a).get(reverse("exchange:export_grids")))
    assert [r["网格编码"] for r in rows] == [cast.grid_a.code]
    rows = sheet(login(cast.dispatcher).get(reverse("exchange:export_grids") + f"?town={cast.town_a.pk}"))
    assert [r["网格名称"] for r in rows] == ["大佛社区第1网格", "大佛社区第2网格"]
    entries = AuditEntry.objects.filter(action="export", object_type="places.Grid")
    assert entries.count() == 2
    assert json.loads(entries.get(user=cast.dispatcher).detail)["filters"] == {"town_id": cast.town_a.pk}


def test_the_chat_group_export_masks_owner_phones(cast, groups, login) -> None:  # type: ignore[no-untyped-def]
    rows = sheet(login(cast.dispatcher).get(reverse("exchange:export_chat_groups")))
    assert [(r["群名称"], r["所属网格"], r["群主手机号"]) for r in rows] == [
        ("大佛社区第1网格居民群", "大佛社区第1网格", "139****0001"),
        ("白兔村第1网格群", "白兔村第1网格", "139****0003"),
        ("来历不明的群", "（未关联网格）", "139****0009"),
    ]
    entry, detail = audit()
    assert (entry.object_type, detail["rows"], detail["masked"]) == ("places.ChatGroup", 3, True)


def test_the_chat_group_export_follows_the_coverage_pages_town_and_scope(cast, groups, login) -> None:  # type: ignore[no-untyped-def]
    rows = sheet(
        login(cast.dispatcher).get(reverse("exchange:export_chat_groups") + f"?town={cast.town_b.pk}")
    )
    assert [r["群名称"] for r in rows] == ["白兔村第1网格群"]
    rows = sheet(login(cast.worker_a).get(reverse("exchange:export_chat_groups")))
    assert [r["群名称"] for r in rows] == ["大佛社区第1网格居民群"]


def test_a_dispatchers_default_export_is_masked_too(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    rows = sheet(login(cast.dispatcher).get(reverse("exchange:export_rentals")))
    assert len(rows) == 3 and LANDLORD_PHONE not in str(rows) and "138****2222" in str(rows)
