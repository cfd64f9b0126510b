"""What every people service shares: parsing dates and personal numbers with Chinese errors, and
the write check on a grid."""

from __future__ import annotations

import re
from datetime import date, datetime

from dualgrid.accounts.models import User
from dualgrid.lib.errors import Forbidden, Invalid, NotFound
from dualgrid.lib.idcard import IdCardError, normalize_id, parse_id
from dualgrid.lib.privacy import is_phone, normalize_phone
from dualgrid.places.models import Grid

from ..models import Gender
from ..selectors import MANAGING_ROLES, grids_for_user, role_of
from ..visit_rules import local_today

# --- small parsers -----------------------------------------------------------------------------------


def parse_date(
    value: date | str | None, field_name: str, label: str, *, required: bool = True
) -> date | None:
    """A date from a date or 'YYYY-MM-DD' text (forms, Excel); a Chinese error for anything else."""
    if value is None or value == "":
        if required:
            raise Invalid({field_name: f"请填写{label}"})
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = re.fullmatch(r"\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*", str(value))
    if not match:
        raise Invalid({field_name: f"{label}格式应为YYYY-MM-DD"})
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise Invalid({field_name: f"{label}不存在：{value}"}) from None


def clean_phone(raw: str, field_name: str, errors: dict[str, str]) -> str:
    phone = normalize_phone(raw or "")
    if phone and not is_phone(phone):
        errors[field_name] = "请填写正确的手机号或固定电话"
    return phone


def clean_id(
    raw: str, field_name: str, errors: dict[str, str], *, gender: str = "", birth: date | None = None
) -> str:
    number = normalize_id(raw or "")
    if not number:
        return ""
    try:
        card = parse_id(number, today=local_today())
    except IdCardError as exc:
        errors[field_name] = exc.message
        return number
    if gender and gender != (Gender.MALE if card.male else Gender.FEMALE):
        errors["gender"] = "性别与身份证号不一致"
    if birth is not None and birth != card.birth_date:
        errors["birth_date"] = f"出生日期与身份证号不一致（身份证号为{card.birth_date:%Y-%m-%d}）"
    return number


def clean_name(raw: str, errors: dict[str, str], label: str = "姓名", field_name: str = "name") -> str:
    name = (raw or "").strip()
    if not name:
        errors[field_name] = f"请填写{label}"
    elif len(name) > 32:
        errors[field_name] = f"{label}不能超过32字"
    return name


def grid_by_code(code: str, errors: dict[str, str]) -> Grid | None:
    grid = Grid.objects.filter(code=(code or "").strip()).first() if code else None
    if grid is None:
        errors["grid_code"] = f"网格不存在：{code}" if code else "请选择网格"
    elif not grid.active:
        errors["grid_code"] = f"网格已停用：{grid.name}"
    return grid


# --- permissions -------------------------------------------------------------------------------------


def check_grid(actor: User | None, grid: Grid, roles: set[str], message: str) -> None:
    """``actor`` may write in ``grid``: the grid is in their scope (else 404) and their role allows it
    (else 403). ``None`` is the system (imports, the demo, the worker)."""
    if actor is None:
        return
    if not grids_for_user(actor).filter(pk=grid.pk).exists():
        raise NotFound("网格不存在或不在您的管辖范围内", field="grid", code="not_found")
    if role_of(actor) not in roles:
        raise Forbidden(message, code="forbidden")


def check_manage(actor: User | None, grid: Grid) -> None:
    check_grid(actor, grid, MANAGING_ROLES, "您的角色不能管理网格人员")
