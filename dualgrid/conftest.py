"""The shared cast of the tests: one district with two towns, grids A and B, and a user per role."""

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from shapely.geometry import box

from dualgrid.accounts.models import Role, User
from dualgrid.cases import config as workflow_config
from dualgrid.cases.models import Category, HandlerKind, RequestKind, RoutingRule
from dualgrid.places.models import AdminUnit, Department, Grid, UnitLevel
from dualgrid.places.selectors import grid_locator

# Grid A covers lon 105.80–105.85, grid B lon 105.85–105.90 (lat 30.10–30.20); town B holds grid C further east.
POINT_IN_A = (30.15, 105.82)
POINT_IN_B = (30.15, 105.88)
POINT_IN_C = (30.15, 105.95)
POINT_OUTSIDE = (31.50, 107.00)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_workflow_config() -> Iterator[None]:
    """Each test reads the categories, rules and limits it created, not a previous test's."""
    workflow_config.invalidate()
    yield
    workflow_config.invalidate()


@pytest.fixture
def login() -> Callable[[User], Client]:
    """A test client logged in as the given user."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def jpeg() -> Callable[[str], SimpleUploadedFile]:
    """A small real JPEG upload."""

    def make(name: str = "photo.jpg") -> SimpleUploadedFile:
        buf = io.BytesIO()
        Image.new("RGB", (32, 24), "#5b7a99").save(buf, "JPEG")
        return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")

    return make


@dataclass
class Cast:
    county: AdminUnit
    town_a: AdminUnit
    town_b: AdminUnit
    village_a: AdminUnit
    village_c: AdminUnit
    grid_a: Grid
    grid_b: Grid
    grid_c: Grid
    police: Department
    housing: Department
    parking: Category
    sewer: Category
    dispute: Category
    consult: Category
    admin: User
    dispatcher: User
    town_dispatcher: User
    calltaker: User
    leader: User
    worker_a: User
    worker_b: User
    handler: User


def _user(username: str, role: str, **kw: Any) -> User:
    return User.objects.create_user(username, password="pw-123456", role=role, display_name=username, **kw)


@pytest.fixture
def cast(db: None) -> Cast:
    county = AdminUnit.objects.create(code="500152000000", name="潼南区", level=UnitLevel.COUNTY)
    town_a = AdminUnit.objects.create(
        code="500152001000", name="桂林街道", level=UnitLevel.TOWN, parent=county
    )
    town_b = AdminUnit.objects.create(code="500152101000", name="群力镇", level=UnitLevel.TOWN, parent=county)
    village_a = AdminUnit.objects.create(
        code="500152001001", name="大佛社区", level=UnitLevel.VILLAGE, parent=town_a
    )
    village_c = AdminUnit.objects.create(
        code="500152101201", name="白兔村", level=UnitLevel.VILLAGE, parent=town_b
    )

    def grid(code: str, name: str, village: AdminUnit, x0: float, x1: float) -> Grid:
        assert village.parent is not None
        return Grid.objects.create(
            code=code,
            name=name,
            village=village,
            town=village.parent,
            county=county,
            boundary=box(x0, 30.10, x1, 30.20).wkt,
        )

    grid_a = grid("500152001001001", "大佛社区第1网格", village_a, 105.80, 105.85)
    grid_b = grid("500152001001002", "大佛社区第2网格", village_a, 105.85, 105.90)
    grid_c = grid("500152101201001", "白兔村第1网格", village_c, 105.90, 106.00)
    grid_locator.invalidate()
    police = Department.objects.create(code="GA", name="区公安分局", unit=county)
    housing = Department.objects.create(code="ZJ", name="区住房城乡建委", unit=county)

    city = Category.objects.create(code="T01", name="市容环境", kind=RequestKind.COMPLAINT)
    parking = Category.objects.create(code="T0101", name="车辆乱停", parent=city, kind=RequestKind.COMPLAINT)
    infra = Category.objects.create(code="T02", name="公用设施", kind=RequestKind.HELP)
    sewer = Category.objects.create(code="T0201", name="下水道堵塞", parent=infra, kind=RequestKind.HELP)
    dispute = Category.objects.create(code="T03", name="矛盾纠纷", kind=RequestKind.HELP)
    consult = Category.objects.create(code="T04", name="政策咨询", kind=RequestKind.CONSULT)
    RoutingRule.objects.create(category=city, handler=HandlerKind.GRID)
    RoutingRule.objects.create(category=sewer, handler=HandlerKind.DEPARTMENT, department=housing)
    # Time limits are the shipped defaults (migration cases/0002): 1 + 10 working days, 咨询 2, urgent 2 h + 24 h.

    worker_a = _user("worker_a", Role.GRIDWORKER)
    worker_a.grids.add(grid_a)
    worker_b = _user("worker_b", Role.GRIDWORKER)
    worker_b.grids.add(grid_b)
    return Cast(
        county=county,
        town_a=town_a,
        town_b=town_b,
        village_a=village_a,
        village_c=village_c,
        grid_a=grid_a,
        grid_b=grid_b,
        grid_c=grid_c,
        police=police,
        housing=housing,
        parking=parking,
        sewer=sewer,
        dispute=dispute,
        consult=consult,
        admin=_user("admin", Role.ADMIN),
        dispatcher=_user("dispatcher", Role.DISPATCHER, unit=county),
        town_dispatcher=_user("town_b_dispatcher", Role.DISPATCHER, unit=town_b),
        calltaker=_user("calltaker", Role.CALLTAKER, unit=county),
        leader=_user("leader", Role.LEADER, unit=county),
        worker_a=worker_a,
        worker_b=worker_b,
        handler=_user("housing_handler", Role.HANDLER, department=housing),
    )
