"""Reads over cases, always through the reading user's scope."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from dualgrid.accounts.models import Role, User
from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import NotFound
from dualgrid.lib.privacy import is_phone, normalize_phone
from dualgrid.places.selectors import within_unit

from .models import Case, Status

UNIT_SCOPED = {Role.DISPATCHER, Role.CALLTAKER, Role.LEADER}
# Grid polygons (≈1–2 KB of WKT each) are never shown in case lists: don't fetch them per row.
HEAVY_GRID_FIELDS = ("grid__boundary", "assigned_grid__boundary")


def scope_filter(user: User) -> Q | None:
    """The Q restricting cases to the user's scope; None means everything (system admin)."""
    if user.role == Role.ADMIN or user.is_superuser:
        return None
    if user.role in UNIT_SCOPED and user.unit is not None:
        return within_unit(user.unit)
    if user.role == Role.HANDLER and user.department_id:
        return Q(assigned_department_id=user.department_id)
    if user.role == Role.GRIDWORKER:
        grid_ids = list(user.grids.values_list("id", flat=True))
        return Q(grid_id__in=grid_ids) | Q(assigned_grid_id__in=grid_ids)
    return Q(pk__in=[])


def cases_for_user(user: User) -> QuerySet[Case]:
    qs = Case.objects.all()
    scope = scope_filter(user)
    return qs if scope is None else qs.filter(scope)


def case_get_for_user(user: User, case_id: int) -> Case:
    """Fetch-and-check in one call: a case outside the scope does not exist for this user."""
    case = (
        cases_for_user(user)
        .select_related(
            "category", "grid", "assigned_grid", "assigned_department", "assignee", "town", "village"
        )
        .defer(*HEAVY_GRID_FIELDS, "town__boundary", "village__boundary")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotFound("事件不存在或不在您的管辖范围内", field="id", code="not_found")
    return case


def case_in_scope(user: User, case_id: int) -> None:
    """Raise NotFound unless the case is inside the user's scope (a cheap existence check)."""
    if not cases_for_user(user).filter(pk=case_id).exists():
        raise NotFound("事件不存在或不在您的管辖范围内", field="id", code="not_found")


def case_list(
    user: User,
    *,
    status: list[str] | None = None,
    grid_id: int | None = None,
    unit_id: int | None = None,
    category_code: str | None = None,
    deadline_state: str | None = None,
    query: str | None = None,
    channel: str | None = None,
    department_id: int | None = None,
    assignee_id: int | None = None,
    creator_id: int | None = None,
    created: tuple[date | None, date | None] = (None, None),
    closed: tuple[date | None, date | None] = (None, None),
    dispatched: tuple[date | None, date | None] = (None, None),
    signed: tuple[date | None, date | None] = (None, None),
    resolved: tuple[date | None, date | None] = (None, None),
) -> QuerySet[Case]:
    """``created``/``closed``/``dispatched`` (the last dispatch)/``signed``/``resolved``: local dates
    (first, last), either end open."""
    qs = (
        cases_for_user(user)
        .select_related("category", "grid", "assigned_grid", "assigned_department", "assignee")
        .defer(*HEAVY_GRID_FIELDS)
    )
    if status:
        qs = qs.filter(status__in=status)
    if grid_id:
        qs = qs.filter(Q(grid_id=grid_id) | Q(assigned_grid_id=grid_id))
    if unit_id:
        qs = qs.filter(Q(county_id=unit_id) | Q(town_id=unit_id) | Q(village_id=unit_id))
    if category_code:
        qs = qs.filter(Q(category__code=category_code) | Q(category__parent__code=category_code))
    if deadline_state:
        qs = qs.filter(deadline_state=deadline_state)
    if channel:
        qs = qs.filter(channel=channel)
    if department_id:
        qs = qs.filter(assigned_department_id=department_id)
    if assignee_id:
        qs = qs.filter(assignee_id=assignee_id)
    if creator_id:
        qs = qs.filter(created_by_id=creator_id)
    qs = qs.filter(_local_days("created_at", *created) & _local_days("closed_at", *closed))
    for column, days in (("dispatched_at", dispatched), ("signed_at", signed), ("resolved_at", resolved)):
        if days != (None, None):
            qs = qs.filter(_local_days(column, *days))
    if query:
        query = query.strip()
        phone = normalize_phone(query)
        if is_phone(phone):
            qs = qs.filter(reporter_phone_hash=keyed_hash(phone))
        else:
            qs = qs.filter(Q(number=query) | Q(title__contains=query) | Q(address__contains=query))
    return qs.order_by("-created_at", "-id")


def _local_days(column: str, first: date | None, last: date | None) -> Q:
    """``column`` within the local days first … last (either may be open)."""
    q = Q()
    if first is not None:
        q &= Q(**{f"{column}__gte": timezone.make_aware(datetime.combine(first, time.min))})
    if last is not None:
        q &= Q(**{f"{column}__lt": timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))})
    return q


def dispatcher_queue(user: User) -> QuerySet[Case]:
    """What the centre must act on: new, waiting for dispatch, waiting for verification, extensions."""
    return case_list(user).filter(
        Q(status__in=[Status.NEW, Status.PENDING_DISPATCH, Status.PENDING_VERIFY])
        | Q(status=Status.IN_PROGRESS, extension_pending=True)
    )


def my_tasks(user: User) -> QuerySet[Case]:
    """A grid worker's or department handler's open tasks."""
    qs = Case.objects.select_related("category", "grid", "assigned_grid", "assigned_department").defer(
        *HEAVY_GRID_FIELDS
    )
    if user.role == Role.GRIDWORKER:
        qs = qs.filter(assigned_grid__in=user.grids.all())
    elif user.role == Role.HANDLER and user.department_id:
        qs = qs.filter(assigned_department_id=user.department_id)
    else:
        return qs.none()
    return qs.filter(status__in=[Status.PENDING_SIGN, Status.IN_PROGRESS]).order_by("resolve_due_at", "id")


def case_track(number: str, phone_last4: str) -> Case | None:
    """A resident's lookup by case number and the last four digits of the phone they gave."""
    if not number or len(phone_last4 or "") != 4:
        return None
    return Case.objects.filter(number=number.strip(), reporter_phone_last4=phone_last4).first()
