"""Writes on places: grids (tree and tier checks), duty approval, chat groups, GeoJSON boundary import.

Keyword-only, atomic; each write that matters for accountability leaves an audit row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from dualgrid.accounts.models import Role
from dualgrid.accounts.services import audit_record
from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import Forbidden, Invalid
from dualgrid.lib.privacy import is_phone, normalize_phone

from .geoimport import GridDraft, ImportReport, changed_fields, plan_import
from .models import AdminUnit, ChatGroup, Duty, Grid, GridTier, Platform, UnitLevel
from .rules import ParentRef, placement_errors
from .selectors import grid_locator

if TYPE_CHECKING:
    from dualgrid.accounts.models import User

__all__ = [
    "ImportReport",
    "chat_group_save",
    "chat_group_upsert",
    "duty_approve",
    "grid_placement_errors",
    "grid_save",
    "grids_import_geojson",
]


def _require_admin(actor: User | None, message: str) -> None:
    """``None`` is the command line (run by whoever runs the server); anyone else must be an administrator."""
    if actor is not None and not (actor.is_superuser or actor.role == Role.ADMIN):
        raise Forbidden(message)


def _invalidate_locator() -> None:
    transaction.on_commit(grid_locator.invalidate)


# --- grids -----------------------------------------------------------------------------------------


def grid_placement_errors(
    *, code: str, tier: str, village: AdminUnit | None, parent: Grid | None
) -> dict[str, str]:
    ref = ParentRef(parent.code, parent.tier, parent.village_id) if parent is not None else None
    return placement_errors(code=code, tier=tier, village=village, parent=ref)


@transaction.atomic
def grid_save(*, actor: User | None, grid: Grid) -> Grid:
    """Save a grid edited in the admin: checks its place in the tree and fills in town and county
    from the village, so the denormalised ancestors can never disagree with it."""
    _require_admin(actor, "只有系统管理员可以维护网格")
    village = grid.village if grid.village_id else None
    parent = grid.parent if grid.parent_id else None
    errors = grid_placement_errors(code=grid.code, tier=grid.tier, village=village, parent=parent)
    if errors:
        raise Invalid(errors)
    assert village is not None and village.parent is not None and village.parent.parent is not None
    grid.town = village.parent
    grid.county = village.parent.parent
    grid.save()
    _invalidate_locator()
    return grid


# --- duties ----------------------------------------------------------------------------------------


@transaction.atomic
def duty_approve(*, actor: User | None, duty_ids: list[int]) -> int:
    """Approve new duties (网格事项准入): from now on they count for grids and can be assigned."""
    _require_admin(actor, "只有系统管理员可以批准网格职责事项")
    now = timezone.now()
    approved = 0
    for duty in Duty.objects.filter(pk__in=duty_ids, approved=False):
        # Compare-and-set: a concurrent approval of the same duty changes nothing the second time.
        if Duty.objects.filter(pk=duty.pk, approved=False).update(approved=True, approved_at=now) == 1:
            audit_record(user=actor, action="duty_approve", obj=duty, detail=f"批准网格职责事项：{duty.name}")
            approved += 1
    return approved


# --- chat groups -----------------------------------------------------------------------------------


def _clean_owner_phone(raw: str) -> tuple[str, str]:
    phone = normalize_phone(raw or "")
    if phone and not is_phone(phone):
        raise Invalid({"owner_phone": "群主手机号格式不正确"})
    return phone, keyed_hash(phone)


@transaction.atomic
def chat_group_save(*, actor: User | None, group: ChatGroup) -> ChatGroup:
    """Save a group edited in the admin: the owner's phone is normalised, stored encrypted, and its
    keyed hash kept for exact search."""
    _require_admin(actor, "只有系统管理员可以维护网格群")
    group.owner_phone, group.owner_phone_hash = _clean_owner_phone(group.owner_phone or "")
    group.full_clean()
    group.save()
    return group


@transaction.atomic
def chat_group_upsert(
    *,
    actor: User | None,
    platform: str,
    external_id: str,
    name: str,
    grid: Grid | None,
    member_count: int,
    owner_name: str = "",
    owner_phone: str = "",
) -> tuple[ChatGroup, bool]:
    """Register a group or refresh it, keyed by (platform, external id): importing a list twice
    changes nothing the second time. Returns the group and whether it was created."""
    _require_admin(actor, "只有系统管理员可以维护网格群")
    errors: dict[str, str] = {}
    if platform not in Platform.values:
        errors["platform"] = "平台应为 微信、企业微信 或 QQ"
    if not (external_id or "").strip():
        errors["external_id"] = "请填写群号/群ID"
    if not (name or "").strip():
        errors["name"] = "请填写群名称"
    if member_count < 0:
        errors["member_count"] = "群成员数不能为负数"
    if errors:
        raise Invalid(errors)
    phone, phone_hash = _clean_owner_phone(owner_phone)
    values = {
        "name": name.strip(),
        "grid": grid,
        "member_count": member_count,
        "owner_name": owner_name.strip(),
        "owner_phone": phone,
        "owner_phone_hash": phone_hash,
    }
    group = (
        ChatGroup.objects.select_for_update()
        .filter(platform=platform, external_id=external_id.strip())
        .order_by("pk")  # not the default ordering: it joins the grid, and FOR UPDATE refuses outer joins
        .first()
    )
    if group is None:
        return ChatGroup.objects.create(platform=platform, external_id=external_id.strip(), **values), True
    if any(getattr(group, key) != value for key, value in values.items()):
        for key, value in values.items():
            setattr(group, key, value)
        group.save()
    return group, False


# --- GeoJSON boundaries ----------------------------------------------------------------------------


def grids_import_geojson(
    *,
    actor: User | None,
    data: bytes | str | dict,
    village: AdminUnit | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import grid boundaries from a GeoJSON FeatureCollection: all or nothing, idempotent by code.

    Every feature is checked first (geometry, WGS84 range, code against village and parent, the grid
    inside its village, the micro-grid inside its grid); one error anywhere and nothing is written.
    Overlaps and gaps are warnings. ``dry_run`` returns the same report without writing.
    """
    _require_admin(actor, "只有系统管理员可以导入网格边界")
    drafts, report = plan_import(data, village=village)
    report.dry_run = dry_run
    if report.errors or dry_run:
        return report
    with transaction.atomic():
        _write(drafts)
        audit_record(
            user=actor,
            action="grids_import",
            object_type="places.Grid",
            detail=(
                f"GeoJSON 导入网格边界{f'（{village.name}）' if village else ''}：{report.features} 个要素，新增 {report.created}，"
                f"更新 {report.updated}，未变 {report.unchanged}"
            ),
        )
        _invalidate_locator()
    report.applied = True
    return report


def _write(drafts: list[GridDraft]) -> None:
    # Grids before micro-grids, so a micro-grid's parent exists when it is written.
    for tier_group in (
        [d for d in drafts if d.tier != GridTier.MICRO],
        [d for d in drafts if d.tier == GridTier.MICRO],
    ):
        parents = {
            g.code: g
            for g in Grid.objects.filter(code__in={d.parent_code for d in tier_group if d.parent_code})
        }
        towns = {
            v.pk: v
            for v in AdminUnit.objects.filter(
                pk__in={d.village.parent_id for d in tier_group}, level=UnitLevel.TOWN
            ).select_related("parent")
        }
        for draft in tier_group:
            town = towns[draft.village.parent_id]  # type: ignore[index]
            parent = parents.get(draft.parent_code) if draft.parent_code else None
            _write_one(draft, town, parent)


def _write_one(draft: GridDraft, town: AdminUnit, parent: Grid | None) -> None:
    old = draft.existing
    county = town.parent
    assert county is not None, "a town always has its county"
    if old is None:
        Grid.objects.create(
            code=draft.code,
            name=draft.name,
            tier=draft.tier,
            kind=draft.kind,
            parent=parent,
            village=draft.village,
            town=town,
            county=county,
            boundary=draft.geom.wkt,
            households=draft.households or 0,
            population=draft.population or 0,
        )
        return
    changed = changed_fields(draft)
    if parent is not None and old.parent_id != parent.pk:
        changed.append("parent")
    if not changed:
        return
    old.name, old.tier, old.kind = draft.name, draft.tier, draft.kind
    old.village, old.town, old.county = draft.village, town, county
    if parent is not None:
        old.parent = parent
    if draft.households is not None:
        old.households = draft.households
    if draft.population is not None:
        old.population = draft.population
    if "boundary" in changed:
        old.boundary = draft.geom.wkt
    old.save()
