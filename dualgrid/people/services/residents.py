"""Residents, households, tags, rental houses, business premises and key places; revealing a
resident's numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.services import audit_record
from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import Conflict, Forbidden, Invalid
from dualgrid.lib.idcard import parse_id
from dualgrid.places.models import Grid

from ..models import (
    BusinessCategory,
    BusinessPremise,
    Concern,
    Gender,
    Household,
    KeyPlace,
    KeyPlaceKind,
    RentalHouse,
    Resident,
    ResidentTag,
    Tag,
)
from ..selectors import (
    UNMASKING_ROLES,
    business_get_for_user,
    key_place_get_for_user,
    rental_house_get_for_user,
    resident_get_for_user,
    role_of,
)
from ..signals import announce_visit_duty_changed
from ..visit_rules import local_today
from .common import check_grid, clean_id, clean_name, clean_phone, grid_by_code, parse_date

# --- residents ---------------------------------------------------------------------------------------

RESIDENT_WRITERS: set[str] = {Role.ADMIN, Role.DISPATCHER, Role.GRIDWORKER}


@dataclass
class ResidentInput:
    name: str
    grid_code: str
    gender: str = ""
    birth_date: date | str | None = None
    id_number: str = ""
    phone: str = ""
    ethnicity: str = ""
    address: str = ""
    notes: str = ""
    household_id: int | None = None


def resident_clean(data: ResidentInput) -> dict[str, Any]:
    """Validate one resident (also what an import checks for every row before applying any)."""
    errors: dict[str, str] = {}
    name = clean_name(data.name, errors)
    grid = grid_by_code(data.grid_code, errors)
    if data.gender and data.gender not in Gender.values:
        errors["gender"] = "性别应为男或女"
    birth = None
    try:
        birth = parse_date(data.birth_date, "birth_date", "出生日期", required=False)
    except Invalid as exc:
        errors.update(exc.errors)
    if birth is not None and not (date(1890, 1, 1) <= birth <= local_today()):
        errors["birth_date"] = "出生日期不合理"
    id_number = clean_id(data.id_number, "id_number", errors, gender=data.gender, birth=birth)
    if id_number and "id_number" not in errors and birth is None:
        birth = parse_id(id_number).birth_date
    phone = clean_phone(data.phone, "phone", errors)
    if len(data.ethnicity or "") > 16:
        errors["ethnicity"] = "民族不能超过16字"
    if len(data.address or "") > 200:
        errors["address"] = "地址不能超过200字"
    household = None
    if data.household_id:
        household = Household.objects.filter(pk=data.household_id).first()
        if household is None:
            errors["household_id"] = "所属户不存在"
        elif grid is not None and household.grid_id != grid.pk:
            errors["household_id"] = "所属户不在该网格内"
    if id_number and "id_number" not in errors:
        if Resident.objects.filter(id_number_hash=keyed_hash(id_number)).exists():
            errors["id_number"] = "该身份证号已登记"
    if errors:
        raise Invalid(errors)
    gender = data.gender or (("M" if parse_id(id_number).male else "F") if id_number else "")
    return {
        "name": name,
        "grid": grid,
        "household": household,
        "gender": gender,
        "birth_date": birth,
        "id_number": id_number,
        "id_number_hash": keyed_hash(id_number),
        "phone": phone,
        "phone_hash": keyed_hash(phone),
        "ethnicity": (data.ethnicity or "").strip(),
        "address": (data.address or "").strip(),
        "notes": (data.notes or "").strip(),
    }


def resident_create(*, actor: User | None, data: ResidentInput) -> Resident:
    cleaned = resident_clean(data)
    check_grid(actor, cleaned["grid"], RESIDENT_WRITERS, "您的角色不能登记居民")
    try:
        with transaction.atomic():
            return Resident.objects.create(**cleaned)
    except IntegrityError:
        raise Invalid({"id_number": "该身份证号已登记"}) from None


def household_create(
    *, actor: User | None, grid: Grid, address: str, house_number: str = "", head_name: str = ""
) -> Household:
    check_grid(actor, grid, RESIDENT_WRITERS, "您的角色不能登记住户")
    errors: dict[str, str] = {}
    address = (address or "").strip()
    if not address:
        errors["address"] = "请填写地址"
    elif len(address) > 200:
        errors["address"] = "地址不能超过200字"
    if len(house_number or "") > 32:
        errors["house_number"] = "门牌号不能超过32字"
    if len(head_name or "") > 32:
        errors["head_name"] = "户主姓名不能超过32字"
    if errors:
        raise Invalid(errors)
    return Household.objects.create(
        grid=grid,
        address=address,
        house_number=(house_number or "").strip(),
        head_name=(head_name or "").strip(),
    )


def resident_tag_add(
    *,
    actor: User | None,
    resident: Resident,
    tag: Tag,
    level: str = Concern.NORMAL,
    since: date | str | None = None,
    note: str = "",
) -> ResidentTag:
    """Put a resident into a key population (from ``since``, default today); a tag asking for visits
    puts them on their grid workers' due list. A tag the resident already holds is a Conflict."""
    check_grid(actor, resident.grid, RESIDENT_WRITERS, "您的角色不能标注居民")
    errors: dict[str, str] = {}
    if level not in Concern.values:
        errors["level"] = "关注程度应为一般、中等或严重"
    since_date = None
    try:
        since_date = parse_date(since, "since", "纳入日期", required=False) or local_today()
    except Invalid as exc:
        errors.update(exc.errors)
    if since_date is not None and since_date > local_today():
        errors["since"] = "纳入日期不能晚于今天"
    if not tag.active:
        errors["tag"] = f"标签已停用：{tag.name}"
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = "备注不能超过200字"
    if errors:
        raise Invalid(errors)
    assert since_date is not None
    try:
        with transaction.atomic():
            added = ResidentTag.objects.create(
                resident=resident, tag=tag, level=level, since=since_date, note=note, created_by=actor
            )
            announce_visit_duty_changed(resident.grid_id)
            return added
    except IntegrityError:
        raise Conflict(f"{resident.name}已有标签“{tag.name}”", code="duplicate") from None


def resident_tag_end(
    *, actor: User | None, resident_tag: ResidentTag, ended_on: date | str | None, reason: str
) -> ResidentTag:
    """The resident leaves the key population on ``ended_on`` (the first day the tag no longer applies,
    today at the latest): the tag stays as history and stops asking for visits. Ending a tag twice is
    a Conflict (two people ending it at once: the second sees the first's end)."""
    check_grid(actor, resident_tag.resident.grid, RESIDENT_WRITERS, "您的角色不能标注居民")
    errors: dict[str, str] = {}
    day = None
    try:
        day = parse_date(ended_on, "ended_on", "结束日期")
    except Invalid as exc:
        errors.update(exc.errors)
    if day is not None and day > local_today():
        errors["ended_on"] = "结束日期不能晚于今天"
    elif day is not None and day < resident_tag.since:
        errors["ended_on"] = f"结束日期不能早于纳入日期（{resident_tag.since:%Y-%m-%d}）"
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "请填写结束原因"
    elif len(reason) > 200:
        errors["reason"] = "结束原因不能超过200字"
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        ended = ResidentTag.objects.filter(pk=resident_tag.pk, ended_on__isnull=True).update(
            ended_on=day, end_reason=reason, ended_by=actor
        )
        announce_visit_duty_changed(resident_tag.resident.grid_id)
        if ended != 1:
            raise Conflict(f"标签“{resident_tag.tag.name}”已经结束", code="stale")
    resident_tag.refresh_from_db()
    return resident_tag


def resident_tag_remove(*, actor: User | None, resident_tag: ResidentTag) -> None:
    check_grid(actor, resident_tag.resident.grid, RESIDENT_WRITERS, "您的角色不能标注居民")
    resident_tag.delete()


def resident_unmask(*, actor: User, resident_id: int) -> Resident:
    """One resident's full ID and phone number for an administrator, a dispatcher of the unit or
    the resident's own grid worker; writes an audit row. Others in scope get 403, outside 404."""
    resident = resident_get_for_user(actor, resident_id)
    if role_of(actor) not in UNMASKING_ROLES:
        raise Forbidden("您的角色不能查看完整个人信息", code="forbidden")
    with transaction.atomic():
        audit_record(
            user=actor, action="unmask", obj=resident, detail=f"查看居民{resident.name}的完整身份证号和手机号"
        )
    return resident


def _contact_unmask(actor: User, place: RentalHouse | BusinessPremise | KeyPlace, detail: str) -> None:
    if role_of(actor) not in UNMASKING_ROLES:
        raise Forbidden("您的角色不能查看完整个人信息", code="forbidden")
    with transaction.atomic():
        audit_record(user=actor, action="unmask", obj=place, detail=detail)


def rental_house_unmask(*, actor: User, house_id: int) -> RentalHouse:
    """A rental house's landlord phone in full, on the same terms and with the same audit row as a
    resident's numbers."""
    house = rental_house_get_for_user(actor, house_id)
    _contact_unmask(actor, house, f"查看出租房{house.address}房东{house.landlord_name}的完整电话")
    return house


def business_unmask(*, actor: User, business_id: int) -> BusinessPremise:
    business = business_get_for_user(actor, business_id)
    _contact_unmask(actor, business, f"查看经营场所{business.name}联系人的完整电话")
    return business


def key_place_unmask(*, actor: User, place_id: int) -> KeyPlace:
    place = key_place_get_for_user(actor, place_id)
    _contact_unmask(actor, place, f"查看重点场所{place.name}联系人的完整电话")
    return place


# --- places ------------------------------------------------------------------------------------------


def _place_common(grid: Grid, address: str, errors: dict[str, str]) -> str:
    address = (address or "").strip()
    if not address:
        errors["address"] = "请填写地址"
    elif len(address) > 200:
        errors["address"] = "地址不能超过200字"
    return address


def rental_house_create(
    *,
    actor: User | None,
    grid: Grid,
    address: str,
    landlord_name: str,
    landlord_phone: str = "",
    tenants: int = 0,
) -> RentalHouse:
    check_grid(actor, grid, RESIDENT_WRITERS, "您的角色不能登记出租房")
    errors: dict[str, str] = {}
    address = _place_common(grid, address, errors)
    name = clean_name(landlord_name, errors, "房东姓名", "landlord_name")
    phone = clean_phone(landlord_phone, "landlord_phone", errors)
    if not 0 <= tenants <= 500:
        errors["tenants"] = "租住人数应在0到500之间"
    if errors:
        raise Invalid(errors)
    return RentalHouse.objects.create(
        grid=grid,
        address=address,
        landlord_name=name,
        landlord_phone=phone,
        landlord_phone_hash=keyed_hash(phone),
        tenants=tenants,
    )


def business_premise_create(
    *,
    actor: User | None,
    grid: Grid,
    name: str,
    address: str,
    category: str = BusinessCategory.OTHER,
    licence_no: str = "",
    contact_name: str = "",
    contact_phone: str = "",
) -> BusinessPremise:
    check_grid(actor, grid, RESIDENT_WRITERS, "您的角色不能登记经营场所")
    errors: dict[str, str] = {}
    address = _place_common(grid, address, errors)
    if not (name or "").strip():
        errors["name"] = "请填写名称"
    if category not in BusinessCategory.values:
        errors["category"] = f"未知的经营类别：{category}"
    if len(licence_no or "") > 32:
        errors["licence_no"] = "执照号不能超过32位"
    phone = clean_phone(contact_phone, "contact_phone", errors)
    if errors:
        raise Invalid(errors)
    return BusinessPremise.objects.create(
        grid=grid,
        name=name.strip()[:100],
        address=address,
        category=category,
        licence_no=(licence_no or "").strip(),
        contact_name=(contact_name or "").strip()[:32],
        contact_phone=phone,
        contact_phone_hash=keyed_hash(phone),
    )


def key_place_create(
    *,
    actor: User | None,
    grid: Grid,
    name: str,
    kind: str,
    address: str,
    contact_name: str = "",
    contact_phone: str = "",
) -> KeyPlace:
    check_grid(actor, grid, RESIDENT_WRITERS, "您的角色不能登记重点场所")
    errors: dict[str, str] = {}
    address = _place_common(grid, address, errors)
    if not (name or "").strip():
        errors["name"] = "请填写名称"
    if kind not in KeyPlaceKind.values:
        errors["kind"] = f"未知的场所类别：{kind}"
    phone = clean_phone(contact_phone, "contact_phone", errors)
    if errors:
        raise Invalid(errors)
    return KeyPlace.objects.create(
        grid=grid,
        name=name.strip()[:100],
        kind=kind,
        address=address,
        contact_name=(contact_name or "").strip()[:32],
        contact_phone=phone,
        contact_phone_hash=keyed_hash(phone),
    )
