"""People-test helpers on top of the shared cast (dualgrid/conftest.py): roles, staff linked to the
cast's grid workers, residents with valid ID numbers, logged-in clients."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.cache import cache

from dualgrid.accounts.models import User
from dualgrid.lib.idcard import make_id
from dualgrid.people import services
from dualgrid.people.models import Resident, Staff, StaffRole, Tag
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
