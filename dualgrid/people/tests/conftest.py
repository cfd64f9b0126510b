"""People-test helpers on top of the shared cast (dualgrid/conftest.py): roles, staff linked to the
cast's grid workers, residents with valid ID numbers, the register of places, logged-in clients."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.core.cache import cache

from dualgrid.accounts.models import User
from dualgrid.lib.idcard import make_id
from dualgrid.people import services
from dualgrid.people.models import (
    BusinessCategory,
    BusinessPremise,
    Household,
    KeyPlace,
    KeyPlaceKind,
    RentalHouse,
    Resident,
    Staff,
    StaffRole,
    Tag,
)
from dualgrid.places.models import Grid


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


def role(code: str) -> StaffRole:
    return StaffRole.objects.get(code=code)


def tag(group: str, code: str) -> Tag:
    return Tag.objects.get(group=group, code=code)


@pytest.fixture
def make_staff() -> Callable[..., Staff]:
    counter = iter(range(100, 999, 2))

    def make(name: str, user: User | None = None, **kw: Any) -> Staff:
        data = services.StaffInput(
            name=name,
            gender="M",
            phone=kw.pop("phone", f"1390000{next(counter):04d}"),
            id_number=kw.pop("id_number", make_id("500152", date(1985, 3, 4), next(counter) + 1)),
            username=user.username if user else "",
        )
        return services.staff_create(actor=None, data=data)

    return make


@pytest.fixture
def make_resident() -> Callable[..., Resident]:
    counter = iter(range(1, 999))

    def make(grid: Grid, name: str = "王秀英", **kw: Any) -> Resident:
        seq = next(counter)
        data = services.ResidentInput(
            name=name,
            grid_code=grid.code,
            id_number=kw.pop("id_number", make_id("500152", date(1948, 5, 6), seq * 2)),
            phone=kw.pop("phone", f"1380000{seq:04d}"),
            **kw,
        )
        return services.resident_create(actor=None, data=data)

    return make


@dataclass
class Register:
    """Households, rental houses, business premises and key places in grids A, B and C (town B)."""

    home_a: Household
    home_b: Household
    home_c: Household
    elder: Resident
    son: Resident
    rental_a: RentalHouse
    rental_b: RentalHouse
    rental_c: RentalHouse
    shop_a: BusinessPremise
    shop_b: BusinessPremise
    shop_c: BusinessPremise
    school_a: KeyPlace
    station_b: KeyPlace
    reservoir_c: KeyPlace


ELDER_ID = make_id("500152", date(1946, 2, 3), 21)
ELDER_PHONE = "13800000001"
LANDLORD_PHONE = "13811112222"
SHOP_PHONE = "13822223333"
SCHOOL_PHONE = "13833334444"


def build_register(cast: Any) -> Register:
    """The register through the real services (as the system: no actor)."""
    homes = [
        services.household_create(actor=None, grid=grid, address=address, house_number=number, head_name=head)
        for grid, address, number, head in (
            (cast.grid_a, "大佛社区3栋", "1-2", "王秀英"),
            (cast.grid_b, "大佛社区9栋", "2-1", "刘桂兰"),
            (cast.grid_c, "白兔村4组", "17号", "陈大勇"),
        )
    ]

    def person(name: str, id_number: str, phone: str) -> Resident:
        data = services.ResidentInput(
            name=name, grid_code=cast.grid_a.code, id_number=id_number, phone=phone, household_id=homes[0].pk
        )
        return services.resident_create(actor=None, data=data)

    elder = person("王秀英", ELDER_ID, ELDER_PHONE)
    son = person("李德明", make_id("500152", date(1972, 8, 9), 33), "13800000002")
    rentals = [
        services.rental_house_create(
            actor=None, grid=grid, address=address, landlord_name=landlord, landlord_phone=phone, tenants=n
        )
        for grid, address, landlord, phone, n in (
            (cast.grid_a, "大佛社区5栋2-1", "张德福", LANDLORD_PHONE, 3),
            (cast.grid_b, "大佛社区9栋1-1", "刘长青", "13855556666", 2),
            (cast.grid_c, "白兔村2组8号", "陈二娃", "13866667777", 4),
        )
    ]
    shops = [
        services.business_premise_create(
            actor=None,
            grid=grid,
            name=name,
            address=address,
            category=category,
            contact_name="老板",
            contact_phone=phone,
        )
        for grid, name, address, category, phone in (
            (cast.grid_a, "老王面馆", "大佛社区1栋底商", BusinessCategory.CATERING, SHOP_PHONE),
            (cast.grid_b, "顺心超市", "大佛社区8栋底商", BusinessCategory.RETAIL, "13877778888"),
            (cast.grid_c, "白兔农家乐", "白兔村1组", BusinessCategory.CATERING, "13888889999"),
        )
    ]
    places = [
        services.key_place_create(
            actor=None,
            grid=grid,
            name=name,
            kind=kind,
            address=address,
            contact_name="负责人",
            contact_phone=phone,
        )
        for grid, name, kind, address, phone in (
            (cast.grid_a, "大佛小学", KeyPlaceKind.SCHOOL, "大佛社区学府路1号", SCHOOL_PHONE),
            (cast.grid_b, "大佛加油站", KeyPlaceKind.FUEL, "大佛社区滨江路", "13899990000"),
            (cast.grid_c, "白兔水库", KeyPlaceKind.WATER, "白兔村5组", ""),
        )
    ]
    return Register(
        home_a=homes[0],
        home_b=homes[1],
        home_c=homes[2],
        elder=elder,
        son=son,
        rental_a=rentals[0],
        rental_b=rentals[1],
        rental_c=rentals[2],
        shop_a=shops[0],
        shop_b=shops[1],
        shop_c=shops[2],
        school_a=places[0],
        station_b=places[1],
        reservoir_c=places[2],
    )


@pytest.fixture
def register(cast: Any) -> Register:
    return build_register(cast)
