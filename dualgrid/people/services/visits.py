"""Logging visits; a visit that found a problem raises a case in the closed loop."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from dualgrid.accounts.models import Role, User
from dualgrid.cases.services import CaseInput, case_create
from dualgrid.lib.errors import Forbidden, Invalid, NotFound

from ..models import Household, Visit, VisitKind
from ..selectors import grids_for_user, resident_get_for_user, role_of
from ..signals import announce_visit_duty_changed

VISIT_BACKFILL_DAYS = 30
MAX_FOUND = 2000
ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "HEIC", "MPO"}

# --- visits ------------------------------------------------------------------------------------------

VISITING_ROLES: set[str] = {Role.ADMIN, Role.DISPATCHER, Role.GRIDWORKER}


@dataclass
class VisitInput:
    resident_id: int | None = None
    household_id: int | None = None
    visited_at: datetime | None = None
    kind: str = VisitKind.HOME
    found: str = ""
    photo: UploadedFile | None = None
    raise_case: bool = False


def _check_photo(photo: UploadedFile, errors: dict[str, str]) -> None:
    max_bytes = int(settings.DUALGRID["MAX_PHOTO_BYTES"])
    if photo.size and photo.size > max_bytes:
        errors["photo"] = f"照片超过{max_bytes // (1024 * 1024)}MB，请压缩后再传"
        return
    try:
        photo.seek(0)
        with Image.open(io.BytesIO(photo.read())) as img:
            img.verify()
            fmt = img.format
        photo.seek(0)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        errors["photo"] = "上传的文件不是有效的图片"
        return
    if fmt not in ALLOWED_IMAGE_FORMATS:
        errors["photo"] = f"图片格式{fmt}不受支持，请上传JPG或PNG图片"


def visit_log(*, actor: User, data: VisitInput, now: datetime | None = None) -> Visit:
    """Record a visit; with ``raise_case`` what was found also enters the closed loop as a patrol
    case in the subject's grid, linked to the visit (both or neither are written)."""
    now = now or timezone.now()
    resident = household = None
    if data.resident_id:
        resident = resident_get_for_user(actor, data.resident_id)
        grid = resident.grid
    elif data.household_id:
        household = (
            Household.objects.filter(pk=data.household_id, grid_id__in=grids_for_user(actor).values("pk"))
            .select_related("grid")
            .first()
        )
        if household is None:
            raise NotFound("住户不存在或不在您的管辖范围内", field="household", code="not_found")
        grid = household.grid
    else:
        raise Invalid({"resident": "请选择走访对象"})
    if role_of(actor) not in VISITING_ROLES:
        raise Forbidden("您的角色不能登记走访", code="forbidden")

    errors: dict[str, str] = {}
    visited_at = data.visited_at or now
    if visited_at > now + timedelta(minutes=5):
        errors["visited_at"] = "走访时间不能晚于当前时间"
    elif visited_at < now - timedelta(days=VISIT_BACKFILL_DAYS):
        errors["visited_at"] = f"只能补录{VISIT_BACKFILL_DAYS}天内的走访"
    if data.kind not in VisitKind.values:
        errors["kind"] = "请选择走访方式"
    found = (data.found or "").strip()
    if not found:
        errors["found"] = "请填写发现的问题" if data.raise_case else "请填写走访情况"
    elif len(found) > MAX_FOUND:
        errors["found"] = f"走访情况不能超过{MAX_FOUND}字"
    if data.photo is not None:
        _check_photo(data.photo, errors)
    if errors:
        raise Invalid(errors)

    with transaction.atomic():
        case = None
        if data.raise_case:
            subject = resident.name if resident is not None else (household.head_name if household else "")
            address = ""
            if resident is not None:
                address = resident.address or (str(resident.household) if resident.household else "")
            elif household is not None:
                address = str(household)
            case, _ = case_create(
                actor=actor,
                data=CaseInput(
                    description=found,
                    title=f"走访发现：{found.splitlines()[0][:24]}",
                    channel="patrol",
                    grid_code=grid.code,
                    address=address[:200] or grid.name,
                    reporter_name=f"网格员走访（{subject}）"[:32],
                    photos=[data.photo] if data.photo is not None else [],
                ),
                now=now,
            )
        visit = Visit(
            resident=resident,
            household=household,
            grid=grid,
            visitor=actor,
            visited_at=visited_at,
            kind=data.kind,
            found=found,
            raised_case=case,
        )
        if data.photo is not None:
            data.photo.seek(0)
            visit.photo = data.photo  # type: ignore[assignment]
        visit.save()
        announce_visit_duty_changed(grid.pk)
    return visit
