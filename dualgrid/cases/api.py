"""REST endpoints for cases: thin over services and selectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Field, Query, Router, Schema
from ninja import Status as Reply

from dualgrid.lib.errors import NotFound
from dualgrid.lib.files import private_file_response
from dualgrid.lib.privacy import mask_phone

from . import selectors, services
from .models import Case, CaseEvent, Category, Channel, DeadlineState, Status, Urgency
from .workflow import ACTION_LABELS

router = Router(tags=["cases"])
COUNT_CAP = 10000


class CaseIn(Schema):
    title: str = Field("", max_length=200)
    description: str
    channel: str = Channel.HOTLINE
    reporter_name: str = ""
    reporter_phone: str = ""
    lat: float | None = None
    lng: float | None = None
    address: str = ""
    category_code: str | None = None
    urgency: str = Urgency.NORMAL
    grid_code: str | None = None


class Ref(Schema):
    id: int
    name: str
    code: str | None = None


class Handler(Schema):
    type: Literal["grid", "department"]
    id: int
    name: str


class EventOut(Schema):
    time: datetime
    actor: str
    action: str
    action_label: str
    from_status: str
    to_status: str
    note: str
    data: dict[str, Any]


class CaseOut(Schema):
    id: int
    number: str
    title: str
    description: str
    channel: str
    status: str
    status_label: str
    urgency: str
    category: Ref | None
    grid: Ref | None
    outside_grid: bool
    assignee: Handler | None
    signed_by: str | None
    reporter_name: str
    reporter_phone: str
    address: str
    lat: float | None
    lng: float | None
    created_at: datetime
    due_at: datetime | None
    sign_due_at: datetime | None
    resolve_due_at: datetime | None
    deadline_state: str
    deadline_label: str
    extension_pending: bool
    rating: str
    rework_count: int
    version: int


class CaseDetailOut(CaseOut):
    timeline: list[EventOut]
    photos: list[str]


class CasePage(Schema):
    items: list[CaseOut]
    page: int
    page_size: int
    has_next: bool
    count: int | None = None


class TransitionIn(Schema):
    action: str
    version: int
    note: str = Field("", max_length=2000)
    rating: str | None = None
    grid_id: int | None = None
    department_id: int | None = None
    hours: int | None = None
    category_code: str | None = None
    urgency: str | None = None


class CaseFilters(Schema):
    status: list[str] | None = None
    grid: int | None = None
    unit: int | None = None
    category: str | None = None
    overdue: bool | None = None
    deadline_state: str | None = None
    q: str | None = None
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=200)
    with_count: bool = False


class PhoneOut(Schema):
    phone: str


class CategoryOut(Schema):
    code: str
    name: str
    parent: str | None
    kind: str


def case_out(case: Case) -> dict[str, Any]:
    handler = None
    if case.assigned_grid_id and case.assigned_grid:
        handler = {"type": "grid", "id": case.assigned_grid.id, "name": case.assigned_grid.name}
    elif case.assigned_department_id and case.assigned_department:
        handler = {
            "type": "department",
            "id": case.assigned_department.id,
            "name": case.assigned_department.name,
        }
    due = case.sign_due_at if case.status == Status.PENDING_SIGN else case.resolve_due_at
    return {
        "id": case.pk,
        "number": case.number or "",
        "title": case.title,
        "description": case.description,
        "channel": case.channel,
        "status": case.status,
        "status_label": case.get_status_display(),
        "urgency": case.urgency,
        "category": {"id": case.category.id, "name": case.category.name, "code": case.category.code}
        if case.category_id and case.category
        else None,
        "grid": {"id": case.grid.id, "name": case.grid.name, "code": case.grid.code}
        if case.grid_id and case.grid
        else None,
        "outside_grid": case.outside_grid,
        "assignee": handler,
        "signed_by": str(case.assignee) if case.assignee_id and case.assignee else None,
        "reporter_name": case.reporter_name,
        "reporter_phone": mask_phone(case.reporter_phone),
        "address": case.address,
        "lat": case.lat,
        "lng": case.lng,
        "created_at": case.created_at,
        "due_at": due if case.status in (Status.PENDING_SIGN, Status.IN_PROGRESS) else None,
        "sign_due_at": case.sign_due_at,
        "resolve_due_at": case.resolve_due_at,
        "deadline_state": case.deadline_state,
        "deadline_label": DeadlineState(case.deadline_state).label,
        "extension_pending": case.extension_pending,
        "rating": case.rating,
        "rework_count": case.rework_count,
        "version": case.version,
    }


def event_out(event: CaseEvent) -> dict[str, Any]:
    return {
        "time": event.created_at,
        "actor": event.actor_label,
        "action": event.action,
        "action_label": ACTION_LABELS.get(event.action, event.action),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "data": event.data,
    }


def case_detail_out(case: Case) -> dict[str, Any]:
    body = case_out(case)
    body["timeline"] = [event_out(e) for e in case.events.all()]
    body["photos"] = [
        reverse("api:case_photo", kwargs={"case_id": case.pk, "attachment_id": a.pk})
        for a in case.attachments.all()
    ]
    return body


@router.post("/cases", response={201: CaseOut, 200: CaseOut}, summary="登记事件")
def create_case(request: HttpRequest, payload: CaseIn) -> Reply:
    key = request.headers.get("Idempotency-Key") or None
    case, created = services.case_create(
        actor=request.user,  # type: ignore[arg-type]
        data=services.CaseInput(**payload.dict(), idempotency_key=key),
    )
    # The new case object already carries what the response shows; a replayed one is re-read in scope.
    case = case if created else selectors.case_get_for_user(request.user, case.pk)  # type: ignore[arg-type]
    return Reply(201 if created else 200, case_out(case))


@router.get("/cases", response=CasePage, summary="事件列表（按管辖范围）")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    qs = selectors.case_list(
        request.user,  # type: ignore[arg-type]
        status=filters.status,
        grid_id=filters.grid,
        unit_id=filters.unit,
        category_code=filters.category,
        deadline_state=DeadlineState.OVERDUE if filters.overdue else filters.deadline_state,
        query=filters.q,
    )
    if filters.overdue is False:
        qs = qs.exclude(deadline_state=DeadlineState.OVERDUE)
    start = (filters.page - 1) * filters.page_size
    rows = list(qs[start : start + filters.page_size + 1])
    return {
        "items": [case_out(c) for c in rows[: filters.page_size]],
        "page": filters.page,
        "page_size": filters.page_size,
        "has_next": len(rows) > filters.page_size,
        # Counting a city's million cases is a table scan: past COUNT_CAP the answer is COUNT_CAP + 1.
        "count": min(qs[: COUNT_CAP + 1].count(), COUNT_CAP + 1) if filters.with_count else None,
    }


@router.get("/cases/{case_id}", response=CaseDetailOut, summary="事件详情与办理记录")
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return case_detail_out(selectors.case_get_for_user(request.user, case_id))  # type: ignore[arg-type]


@router.post("/cases/{case_id}/transitions", response=CaseDetailOut, summary="办理动作（受理、派单、签收…）")
def transition(request: HttpRequest, case_id: int, payload: TransitionIn) -> dict[str, Any]:
    params = payload.dict(exclude={"action", "version", "note"}, exclude_none=True)
    services.case_transition(
        actor=request.user,  # type: ignore[arg-type]
        case_id=case_id,
        action=payload.action,
        version=payload.version,
        note=payload.note,
        params=params,
    )
    return case_detail_out(selectors.case_get_for_user(request.user, case_id))  # type: ignore[arg-type]


@router.get(
    "/cases/{case_id}/photos/{attachment_id}",
    response={200: None},
    url_name="case_photo",
    summary="事件照片（按管辖范围）",
)
def case_photo(request: HttpRequest, case_id: int, attachment_id: int) -> FileResponse:
    case = selectors.case_get_for_user(request.user, case_id)  # type: ignore[arg-type]
    attachment = case.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound("照片不存在")
    return private_file_response(attachment.file)


@router.post("/cases/{case_id}/reveal-phone", response=PhoneOut, summary="查看完整电话（留痕）")
def reveal_phone(request: HttpRequest, case_id: int) -> dict[str, str]:
    return {"phone": services.case_reveal_phone(actor=request.user, case_id=case_id)}  # type: ignore[arg-type]


@router.get("/categories", response=list[CategoryOut], summary="事件分类")
def categories(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"code": c.code, "name": c.name, "parent": c.parent.code if c.parent else None, "kind": c.kind}
        for c in Category.objects.filter(active=True).select_related("parent")
    ]
