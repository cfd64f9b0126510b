"""Writes on cases. Every change of a case goes through a function here, inside one transaction,
and leaves a ``CaseEvent`` on the timeline."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.services import audit_record
from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import Conflict, Forbidden, Invalid, NotFound
from dualgrid.lib.privacy import is_phone, normalize_phone
from dualgrid.places.models import AdminUnit, Department, Grid, UnitLevel
from dualgrid.places.selectors import grid_locator

from . import config, deadlines
from .models import (
    AttachmentKind,
    Case,
    CaseAttachment,
    CaseEvent,
    Category,
    Channel,
    CloseReason,
    DeadlineState,
    Rating,
    Status,
    Urgency,
)
from .routing import route_case
from .selectors import case_get_for_user, case_in_scope
from .workflow import ACTION_LABELS, PUBLIC, SYSTEM, Action, transition_for

MAX_TITLE = 100
MAX_DESCRIPTION = 5000
ALLOWED_IMAGE_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "HEIC", "MPO"}


@dataclass
class CaseInput:
    description: str
    title: str = ""
    channel: str = Channel.WEB
    reporter_name: str = ""
    reporter_phone: str = ""
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    category_code: str | None = None
    urgency: str = Urgency.NORMAL
    grid_code: str | None = None
    idempotency_key: str | None = None
    photos: list[UploadedFile] = field(default_factory=list)


def actor_label(actor: User | None, public: bool = False) -> str:
    if actor is not None:
        return actor.label
    return "群众" if public else "系统"


def _validate_photos(photos: list[UploadedFile], errors: dict[str, str]) -> None:
    limit = int(settings.DUALGRID["MAX_PHOTOS"])
    max_bytes = int(settings.DUALGRID["MAX_PHOTO_BYTES"])
    if len(photos) > limit:
        errors["photos"] = f"最多上传{limit}张照片"
        return
    for photo in photos:
        if photo.size and photo.size > max_bytes:
            errors["photos"] = f"照片“{photo.name}”超过{max_bytes // (1024 * 1024)}MB，请压缩后再传"
            return
        try:
            photo.seek(0)
            with Image.open(io.BytesIO(photo.read())) as img:
                img.verify()
                fmt = img.format
            photo.seek(0)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            errors["photos"] = f"文件“{photo.name}”不是有效的图片"
            return
        if fmt not in ALLOWED_IMAGE_FORMATS:
            errors["photos"] = f"文件“{photo.name}”的格式{fmt}不受支持，请上传JPG或PNG图片"
            return


def _clean_input(
    data: CaseInput, *, phone_required: bool
) -> tuple[dict[str, Any], Category | None, Grid | None]:
    errors: dict[str, str] = {}
    description = (data.description or "").strip()
    title = (data.title or "").strip()
    if not description:
        errors["description"] = "请填写反映的问题"
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = f"问题描述不能超过{MAX_DESCRIPTION}字"
    if not title and description:
        title = description.splitlines()[0][:30]
    if len(title) > MAX_TITLE:
        errors["title"] = f"标题不能超过{MAX_TITLE}字"
    phone = normalize_phone(data.reporter_phone)
    if phone and not is_phone(phone):
        errors["reporter_phone"] = "请填写正确的手机号或固定电话"
    elif not phone and phone_required:
        errors["reporter_phone"] = "请留下联系电话，以便查询进度和回访"
    if len((data.reporter_name or "").strip()) > 32:
        errors["reporter_name"] = "姓名不能超过32字"
    if data.channel not in Channel.values:
        errors["channel"] = f"未知的来源渠道：{data.channel}"
    if data.urgency not in Urgency.values:
        errors["urgency"] = f"未知的紧急程度：{data.urgency}"
    if (data.lat is None) != (data.lng is None):
        errors["lat" if data.lat is None else "lng"] = "经纬度需同时填写"
    elif data.lat is not None and data.lng is not None:
        if not (-90 <= data.lat <= 90):
            errors["lat"] = "纬度应在-90到90之间"
        if not (-180 <= data.lng <= 180):
            errors["lng"] = "经度应在-180到180之间"
    if len((data.address or "").strip()) > 200:
        errors["address"] = "地址不能超过200字"
    if data.lat is None and not (data.address or "").strip() and not data.grid_code:
        errors["address"] = "请在地图上标记位置或填写地址"
    category = None
    if data.category_code:
        category = config.category_by_code(data.category_code)
        if category is None:
            errors["category_code"] = f"未知的事件分类：{data.category_code}"
    preset_grid = None
    if data.grid_code:
        preset_grid = Grid.objects.filter(code=data.grid_code, active=True).first()
        if preset_grid is None:
            errors["grid_code"] = f"未知的网格编码：{data.grid_code}"
    _validate_photos(data.photos, errors)
    if errors:
        raise Invalid(errors)
    cleaned = {
        "title": title,
        "description": description,
        "reporter_name": (data.reporter_name or "").strip(),
        "reporter_phone": phone,
        "reporter_phone_hash": keyed_hash(phone),
        "reporter_phone_last4": phone.replace("-", "")[-4:] if phone else "",
        "lat": data.lat,
        "lng": data.lng,
        "address": (data.address or "").strip(),
        "channel": data.channel,
        "urgency": data.urgency,
    }
    return cleaned, category, preset_grid


def _default_county(actor: User | None) -> AdminUnit | None:
    node = actor.unit if actor is not None and actor.unit_id else None
    while node is not None and node.level > UnitLevel.COUNTY:
        node = node.parent
    if node is not None and node.level == UnitLevel.COUNTY:
        return node
    code = getattr(settings, "DUALGRID_INTAKE_COUNTY", "")
    counties = AdminUnit.objects.filter(level=UnitLevel.COUNTY)
    if code:
        return counties.filter(code=code).first()
    return counties.first() if counties.count() == 1 else None


def _event(
    case: Case,
    *,
    actor: User | None,
    action: str,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    now: datetime,
    public: bool = False,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        actor_label=actor_label(actor, public),
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
        created_at=now,
    )


def _start_clock(case: Case, now: datetime) -> None:
    case.clock_started_at = now
    case.sign_due_at, case.resolve_due_at = deadlines.due_dates(
        now, deadlines.limit_for(case.category, case.urgency)
    )


def _restart_resolve_clock(case: Case, now: datetime) -> None:
    limit = deadlines.limit_for(case.category, case.urgency)
    case.clock_started_at = now
    case.resolve_due_at = deadlines.add_limit(now, limit.resolve_limit, limit.unit)


def _refresh_deadline(case: Case, now: datetime) -> None:
    state, check_at = deadlines.deadline_status(case, now)
    case.deadline_state = state
    case.deadline_check_at = check_at


def case_create(*, actor: User | None, data: CaseInput, now: datetime | None = None) -> tuple[Case, bool]:
    """Register a case from any channel; route it when a rule matches. Returns (case, created).

    A retry carrying the same idempotency key returns the case created the first time. ``now`` is for
    importing historical cases (and the demo district); live callers leave it to the clock.
    """
    if data.idempotency_key:
        existing = Case.objects.filter(idempotency_key=data.idempotency_key).first()
        if existing is not None:
            return existing, False
    if actor is not None and actor.role in {Role.LEADER}:
        raise Forbidden("您的角色不能登记事件", code="forbidden")
    public = actor is None
    cleaned, category, preset_grid = _clean_input(data, phone_required=public)
    hit = grid_locator.locate(cleaned["lng"], cleaned["lat"]) if cleaned["lat"] is not None else None
    now = now or timezone.now()
    case = Case(**cleaned, category=category, created_by=actor, created_at=now, status=Status.NEW)
    case.idempotency_key = data.idempotency_key or None
    if hit is not None:
        case.grid_id, case.village_id, case.town_id, case.county_id = (
            hit.grid_id,
            hit.village_id,
            hit.town_id,
            hit.county_id,
        )
    elif preset_grid is not None:
        case.grid_id, case.village_id, case.town_id, case.county_id = (
            preset_grid.id,
            preset_grid.village_id,
            preset_grid.town_id,
            preset_grid.county_id,
        )
    else:
        case.outside_grid = cleaned["lat"] is not None
        county = _default_county(actor)
        case.county_id = county.id if county else None
    grid = preset_grid if preset_grid is not None and case.grid_id == preset_grid.pk else None
    if case.grid_id and grid is None:
        grid = Grid.objects.get(pk=case.grid_id)
    case.grid = grid
    route = route_case(
        category=category,
        grid=grid,
        unit_ids=[uid for uid in (case.village_id, case.town_id, case.county_id) if uid],
    )
    try:
        with transaction.atomic():
            if route is not None:
                case.status = Status.PENDING_SIGN
                case.assigned_grid = route.grid
                case.assigned_department = route.department
                case.dispatched_at = now
                _start_clock(case, now)
                _refresh_deadline(case, now)
            case.save(force_insert=True)
            case.number = f"{timezone.localtime(now):%Y%m%d}{case.pk:06d}"
            with connection.cursor() as cursor:  # the hot path: skip the ORM's query compiler
                cursor.execute("UPDATE cases_case SET number = %s WHERE id = %s", [case.number, case.pk])
            events = [
                CaseEvent(
                    case=case,
                    actor=actor,
                    actor_label=actor_label(actor, public),
                    action="create",
                    to_status=Status.NEW,
                    note=f"通过{case.get_channel_display()}登记"
                    + ("；位置不在任何网格内" if case.outside_grid else ""),
                    created_at=now,
                )
            ]
            if route is not None:
                events.append(
                    CaseEvent(
                        case=case,
                        actor_label=actor_label(None),
                        action="auto_dispatch",
                        from_status=Status.NEW,
                        to_status=Status.PENDING_SIGN,
                        note=f"按分拨规则派至{route.label}",
                        # Which unit it went to, as ids: the cockpit counts a dispatch for its department.
                        data={"rule": route.rule.pk, **_dispatch_target(route.grid, route.department)},
                        created_at=now,
                    )
                )
            CaseEvent.objects.bulk_create(events)
            for photo in data.photos:
                CaseAttachment.objects.create(
                    case=case, event=events[0], kind=AttachmentKind.REPORT, file=photo
                )
    except IntegrityError:
        if data.idempotency_key:
            existing = Case.objects.filter(idempotency_key=data.idempotency_key).first()
            if existing is not None:
                return existing, False
        raise
    return case, True


def _dispatch_target(grid: Grid | None, department: Department | None) -> dict[str, int]:
    """A dispatch event's ``data``: the grid or department it went to (ids, for statistics)."""
    return {"grid": grid.pk} if grid is not None else {"department": department.pk} if department else {}


# --- transitions -----------------------------------------------------------------------------------


def _role_of(actor: User | None, public: bool) -> str:
    if actor is None:
        return PUBLIC if public else SYSTEM
    if actor.is_superuser:
        return Role.ADMIN
    return actor.role


def case_is_assigned_to(user: User, case: Case) -> bool:
    """Grid workers and handlers act only on cases assigned to their grids or department; others pass."""
    if user.role == Role.GRIDWORKER:
        return case.assigned_grid_id is not None and user.grids.filter(pk=case.assigned_grid_id).exists()
    if user.role == Role.HANDLER:
        return case.assigned_department_id is not None and case.assigned_department_id == user.department_id
    return True


def _check_assignment(actor: User, case: Case) -> None:
    if not case_is_assigned_to(actor, case):
        unit = "网格" if actor.role == Role.GRIDWORKER else "部门"
        raise Forbidden(f"该事件未派给您所在的{unit}", code="not_assigned")


def _require_note(note: str, message: str) -> None:
    if not note.strip():
        raise Invalid({"note": message})


def _int_param(params: dict[str, Any], name: str, message: str) -> int:
    value = params.get(name)
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid({name: message}) from None


def _apply_classification(case: Case, params: dict[str, Any], changes: dict[str, Any]) -> None:
    code = params.get("category_code")
    if code:
        category = config.category_by_code(code)
        if category is None:
            raise Invalid({"category_code": f"未知的事件分类：{code}"})
        if category.pk != case.category_id:
            changes["category"] = category.name
            case.category = category
    urgency = params.get("urgency")
    if urgency:
        if urgency not in Urgency.values:
            raise Invalid({"urgency": f"未知的紧急程度：{urgency}"})
        if urgency != case.urgency:
            changes["urgency"] = Urgency(urgency).label
            case.urgency = urgency


def case_transition(
    *,
    actor: User | None,
    case_id: int,
    action: str,
    version: int | None,
    note: str = "",
    params: dict[str, Any] | None = None,
    photos: list[UploadedFile] | None = None,
    public: bool = False,
    now: datetime | None = None,
) -> Case:
    """Apply one workflow action. Raises NotFound, Forbidden, Conflict (stale version or wrong state)
    or Invalid; on any error nothing is written."""
    params = params or {}
    photos = photos or []
    note = (note or "").strip()
    role = _role_of(actor, public)
    if actor is not None:
        case_in_scope(actor, case_id)  # scope check first: outside the scope is a 404
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("category", "category__parent")
            .filter(pk=case_id)
            .first()
        )
        if case is None:
            raise NotFound("事件不存在", field="id", code="not_found")
        if version is not None and version != case.version:
            raise Conflict("该事件已被他人更新，请刷新后重试", field="version", code="stale_version")
        transition = transition_for(case.status, action)
        if transition is None:
            raise Conflict(
                f"事件当前状态为“{case.get_status_display()}”，不能执行“{ACTION_LABELS.get(action, action)}”",
                field="action",
                code="invalid_transition",
            )
        if role not in transition.roles:
            raise Forbidden(
                f"您的角色不能执行“{ACTION_LABELS.get(action, action)}”", field="action", code="forbidden"
            )
        if actor is not None and role in {Role.GRIDWORKER, Role.HANDLER}:
            _check_assignment(actor, case)
        now = now or timezone.now()
        before = case.status
        rating = params.get("rating")
        extra: dict[str, Any] = {}
        photo_errors: dict[str, str] = {}
        _validate_photos(photos, photo_errors)
        if photo_errors:
            raise Invalid(photo_errors)
        to_status = transition.next_state(rating)

        if action == Action.ACCEPT:
            _apply_classification(case, params, extra)
        elif action == Action.REJECT:
            _require_note(note, "请填写不予受理的理由")
            case.closed_at = now
        elif action == Action.DISPATCH:
            _apply_classification(case, params, extra)
            grid_id, dept_id = params.get("grid_id") or 0, params.get("department_id") or 0
            if bool(grid_id) == bool(dept_id):
                raise Invalid({"grid_id": "请选择一个承办网格或承办部门"})
            if grid_id:
                grid = Grid.objects.filter(pk=grid_id, active=True).first()
                if grid is None:
                    raise Invalid({"grid_id": "承办网格不存在"})
                case.assigned_grid, case.assigned_department = grid, None
                extra["to"] = grid.name
                extra |= _dispatch_target(grid, None)
            else:
                dept = Department.objects.filter(pk=dept_id, active=True).first()
                if dept is None:
                    raise Invalid({"department_id": "承办部门不存在"})
                case.assigned_grid, case.assigned_department = None, dept
                extra["to"] = dept.name
                extra |= _dispatch_target(None, dept)
            case.assignee = None
            case.dispatched_at = now
            _start_clock(case, now)
        elif action in {Action.RETURN, Action.RECALL}:
            _require_note(note, "请填写退回的理由" if action == Action.RETURN else "请填写撤回的理由")
            extra["from"] = (case.assigned_grid or case.assigned_department or "").__str__()
            case.assigned_grid = case.assigned_department = case.assignee = None
            case.sign_due_at = case.resolve_due_at = case.clock_started_at = None
            case.extension_pending, case.extension_hours = False, 0
            if action == Action.RETURN:
                case.return_count += 1
        elif action == Action.SIGN:
            case.assignee = actor
            case.signed_at = now
        elif action == Action.REQUEST_EXTENSION:
            if case.extension_pending:
                raise Conflict("已有延期申请待审批", field="action", code="extension_pending")
            hours = _int_param(params, "hours", "请填写申请延期的时长（小时）")
            if not 1 <= hours <= 24 * 60:
                raise Invalid({"hours": "延期时长应在1小时到60天之间"})
            _require_note(note, "请填写延期理由")
            if case.resolve_due_at and now > case.resolve_due_at:
                raise Conflict("已超过办结时限，不能再申请延期", field="action", code="too_late")
            case.extension_pending, case.extension_hours = True, hours
            extra["hours"] = hours
        elif action in {Action.APPROVE_EXTENSION, Action.DENY_EXTENSION}:
            if not case.extension_pending:
                raise Conflict("没有待审批的延期申请", field="action", code="no_extension")
            if action == Action.APPROVE_EXTENSION:
                assert case.resolve_due_at is not None
                case.resolve_due_at = case.resolve_due_at + timedelta(hours=case.extension_hours)
                case.extension_count += 1
                extra["hours"] = case.extension_hours
                extra["resolve_due_at"] = case.resolve_due_at.isoformat()
            else:
                _require_note(note, "请填写驳回理由")
            case.extension_pending, case.extension_hours = False, 0
        elif action == Action.RESOLVE:
            _require_note(note, "请填写处置结果")
            case.resolved_at = now
            case.resolved_on_time = case.resolve_due_at is None or now <= case.resolve_due_at
            case.extension_pending, case.extension_hours = False, 0
        elif action == Action.VERIFY:
            case.rating_due_at = now + timedelta(hours=int(settings.DUALGRID["RATING_WINDOW_HOURS"]))
        elif action == Action.SEND_BACK:
            _require_note(note, "请填写核查不通过的原因")
            case.rework_count += 1
            case.resolved_at = None
            _restart_resolve_clock(case, now)
        elif action == Action.RATE:
            if rating not in Rating.values:
                raise Invalid({"rating": "请选择满意、基本满意或不满意"})
            extra["rating"] = Rating(rating).label
            if rating == Rating.UNSATISFIED:
                case.rework_count += 1
                case.rating = ""
                case.resolved_at = None
                case.rating_due_at = None
                _restart_resolve_clock(case, now)
            else:
                case.rating = rating
                case.close_reason = CloseReason.RATED
                case.closed_at = now
                case.rating_due_at = None
        elif action == Action.CLOSE:
            case.close_reason = CloseReason.CENTRE
            case.closed_at = now
            case.rating_due_at = None
        elif action == Action.AUTO_CLOSE:
            case.close_reason = CloseReason.UNRATED
            case.closed_at = now
            case.rating_due_at = None

        case.status = to_status
        _refresh_deadline(case, now)
        case.version += 1
        case.save()
        event = _event(
            case,
            actor=actor,
            action=action,
            from_status=before,
            to_status=to_status,
            note=note,
            data=extra,
            now=now,
            public=public,
        )
        kind = AttachmentKind.RESULT if action == Action.RESOLVE else AttachmentKind.REPORT
        for photo in photos:
            CaseAttachment.objects.create(case=case, event=event, kind=kind, file=photo)
    return case


def case_reveal_phone(*, actor: User, case_id: int) -> str:
    """Show one case's full phone number to a role that must call back, and record that on the timeline."""
    case = case_get_for_user(actor, case_id)
    if actor.role not in {Role.ADMIN, Role.DISPATCHER, Role.CALLTAKER, Role.HANDLER, Role.GRIDWORKER}:
        raise Forbidden("您的角色不能查看完整电话", code="forbidden")
    if actor.role in {Role.GRIDWORKER, Role.HANDLER}:
        _check_assignment(actor, case)
    with transaction.atomic():
        _event(case, actor=actor, action="reveal_phone", note="查看反映人完整电话", now=timezone.now())
        audit_record(user=actor, action="unmask", obj=case, detail="查看反映人完整电话")
    return case.reporter_phone


# --- background work -------------------------------------------------------------------------------


def deadline_sweep(*, now: datetime | None = None, batch: int = 500) -> int:
    """Record 即将超期 / 已超期 as they happen. Claims each case with a compare-and-swap on
    ``deadline_check_at`` so several workers never record the same change twice."""
    now = now or timezone.now()
    changed = 0
    due = (
        Case.objects.filter(deadline_check_at__lte=now)
        .select_related("category")
        .order_by("deadline_check_at")[:batch]
    )
    for case in due:
        state, next_check = deadlines.deadline_status(case, now)
        with transaction.atomic():
            claimed = Case.objects.filter(
                pk=case.pk, deadline_check_at=case.deadline_check_at, status=case.status
            ).update(deadline_state=state, deadline_check_at=next_check)
            if claimed != 1:
                continue
            if state != case.deadline_state and state in {DeadlineState.WARNING, DeadlineState.OVERDUE}:
                label = "签收" if case.status == Status.PENDING_SIGN else "办结"
                due_at = case.sign_due_at if case.status == Status.PENDING_SIGN else case.resolve_due_at
                _event(
                    case,
                    actor=None,
                    action=f"deadline_{state}",
                    note=f"{label}时限{timezone.localtime(due_at):%Y-%m-%d %H:%M}" if due_at else "",
                    data={"stage": label},
                    now=now,
                )
                changed += 1
    return changed


def rating_sweep(*, now: datetime | None = None, batch: int = 500) -> int:
    """Close cases whose rating window passed without a rating (已结案·未评价)."""
    now = now or timezone.now()
    closed = 0
    ids = list(
        Case.objects.filter(status=Status.PENDING_RATING, rating_due_at__lte=now).values_list(
            "pk", flat=True
        )[:batch]
    )
    for case_id in ids:
        closed += rating_sweep_one(case_id, now=now)
    return closed


def rating_sweep_one(case_id: int, *, now: datetime) -> int:
    """Close one case whose rating window passed (1), or nothing if someone acted first (0)."""
    try:
        case_transition(
            actor=None,
            case_id=case_id,
            action=Action.AUTO_CLOSE,
            version=None,
            note="评价期满未评价",
            now=now,
        )
    except Conflict:
        return 0
    return 1
