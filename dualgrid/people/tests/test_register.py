"""The register pages: households, rental houses, business premises and key places — scoped lists with
filters, detail pages, masked numbers with an audited reveal."""

import pytest

from dualgrid.accounts.models import AuditEntry
from dualgrid.people.tests.conftest import ELDER_ID, ELDER_PHONE, LANDLORD_PHONE, SCHOOL_PHONE, SHOP_PHONE

LISTS = ("/people/households/", "/people/rentals/", "/people/businesses/", "/people/key-places/")


def detail_urls(register):  # type: ignore[no-untyped-def]
    """Each kind of record in grid A, grid B and grid C (town B)."""
    return {
        "households": [
            f"/people/households/{h.pk}/" for h in (register.home_a, register.home_b, register.home_c)
        ],
        "rentals": [
            f"/people/rentals/{h.pk}/" for h in (register.rental_a, register.rental_b, register.rental_c)
        ],
        "businesses": [
            f"/people/businesses/{s.pk}/" for s in (register.shop_a, register.shop_b, register.shop_c)
        ],
        "key_places": [
            f"/people/key-places/{p.pk}/"
            for p in (register.school_a, register.station_b, register.reservoir_c)
        ],
    }


@pytest.mark.parametrize("kind", ["households", "rentals", "businesses", "key_places"])
def test_a_grid_worker_opens_their_grid_and_gets_404_elsewhere(cast, register, login, kind) -> None:  # type: ignore[no-untyped-def]
    in_a, in_b, in_c = detail_urls(register)[kind]
    client = login(cast.worker_a)
    assert client.get(in_a).status_code == 200
    assert client.get(in_b).status_code == 404
    assert client.get(in_c).status_code == 404


@pytest.mark.parametrize("kind", ["households", "rentals", "businesses", "key_places"])
def test_a_town_sees_its_town_only(cast, register, login, kind) -> None:  # type: ignore[no-untyped-def]
    in_a, in_b, in_c = detail_urls(register)[kind]
    client = login(cast.town_dispatcher)  # town B
    assert client.get(in_c).status_code == 200
    assert client.get(in_a).status_code == 404
    assert client.get(in_b).status_code == 404


@pytest.mark.parametrize(
    ("url", "mine", "theirs"),
    [
        ("/people/households/", "大佛社区3栋", "大佛社区9栋"),
        ("/people/rentals/", "张德福", "刘长青"),
        ("/people/businesses/", "老王面馆", "顺心超市"),
        ("/people/key-places/", "大佛小学", "大佛加油站"),
    ],
)
def test_lists_hold_only_the_grid_workers_grids(cast, register, login, url, mine, theirs) -> None:  # type: ignore[no-untyped-def]
    body = login(cast.worker_a).get(url).content.decode()
    assert mine in body and theirs not in body and "白兔" not in body


def test_the_county_sees_every_town_and_filters_by_town(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.dispatcher)
    body = client.get("/people/key-places/").content.decode()
    assert all(name in body for name in ("大佛小学", "大佛加油站", "白兔水库"))
    body = client.get("/people/key-places/", {"town": cast.town_b.pk}).content.decode()
    assert "白兔水库" in body and "大佛小学" not in body


@pytest.mark.parametrize("url", LISTS)
def test_register_lists_are_closed_to_handlers(cast, login, url) -> None:  # type: ignore[no-untyped-def]
    assert login(cast.handler).get(url).status_code == 403


def test_filters_by_grid_kind_and_text(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.dispatcher)
    body = client.get("/people/businesses/", {"kind": "catering"}).content.decode()
    assert "老王面馆" in body and "白兔农家乐" in body and "顺心超市" not in body
    body = client.get("/people/businesses/", {"kind": "catering", "grid": cast.grid_c.pk}).content.decode()
    assert "白兔农家乐" in body and "老王面馆" not in body
    body = client.get("/people/key-places/", {"kind": "fuel"}).content.decode()
    assert "大佛加油站" in body and "大佛小学" not in body
    body = client.get("/people/rentals/", {"q": "刘长青"}).content.decode()
    assert "大佛社区9栋1-1" in body and "大佛社区5栋2-1" not in body


def test_a_full_phone_finds_the_record_and_a_members_household(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.dispatcher)
    body = client.get("/people/rentals/", {"q": LANDLORD_PHONE}).content.decode()
    assert "张德福" in body and "刘长青" not in body
    body = client.get("/people/households/", {"q": ELDER_PHONE}).content.decode()
    assert "大佛社区3栋" in body and "大佛社区9栋" not in body


def test_the_household_page_lists_members_masked(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    body = login(cast.worker_a).get(f"/people/households/{register.home_a.pk}/").content.decode()
    assert "王秀英" in body and "李德明" in body and "（户主）" in body
    assert f"{ELDER_ID[:4]}**********{ELDER_ID[-4:]}" in body and "138****0001" in body
    assert ELDER_ID not in body and ELDER_PHONE not in body
    assert f"/people/residents/{register.elder.pk}/unmask/" in body


@pytest.mark.parametrize(
    ("url", "phone"),
    [
        ("/people/rentals/", LANDLORD_PHONE),
        ("/people/rentals/{rental}/", LANDLORD_PHONE),
        ("/people/businesses/", SHOP_PHONE),
        ("/people/businesses/{shop}/", SHOP_PHONE),
        ("/people/key-places/", SCHOOL_PHONE),
        ("/people/key-places/{school}/", SCHOOL_PHONE),
    ],
)
def test_contact_phones_are_masked_on_the_pages(cast, register, login, url, phone) -> None:  # type: ignore[no-untyped-def]
    ids = {"rental": register.rental_a.pk, "shop": register.shop_a.pk, "school": register.school_a.pk}
    body = login(cast.leader).get(url.format(**ids)).content.decode()
    assert f"{phone[:3]}****{phone[-4:]}" in body and phone not in body
    assert "unmask-form" not in body  # a leader may not reveal


def test_revealing_a_landlord_phone_is_audited(cast, register, login) -> None:  # type: ignore[no-untyped-def]
    resp = login(cast.worker_a).post(
        f"/people/rentals/{register.rental_a.pk}/unmask/", HTTP_HX_REQUEST="true"
    )
    assert resp.status_code == 200 and LANDLORD_PHONE in resp.content.decode()
    entry = AuditEntry.objects.get()
    assert (entry.user, entry.action, entry.object_type, entry.object_id) == (
        cast.worker_a,
        "unmask",
        "people.RentalHouse",
        str(register.rental_a.pk),
    )


@pytest.mark.parametrize(
    ("who", "status"), [("worker_b", 404), ("town_dispatcher", 404), ("leader", 403), ("dispatcher", 200)]
)
def test_who_may_reveal_a_key_places_phone(cast, register, login, who, status) -> None:  # type: ignore[no-untyped-def]
    resp = login(getattr(cast, who)).post(f"/people/key-places/{register.school_a.pk}/unmask/")
    assert resp.status_code == status
    assert (SCHOOL_PHONE in resp.content.decode()) is (status == 200)
    assert AuditEntry.objects.filter(action="unmask").exists() is (status == 200)


def test_the_register_is_in_the_navigation(cast, login) -> None:  # type: ignore[no-untyped-def]
    body = login(cast.worker_a).get("/people/households/").content.decode()
    assert 'href="/people/households/"' in body and "户与场所" in body
    assert all(f'href="{url}"' in body for url in LISTS)
