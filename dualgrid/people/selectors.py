"""Reads over staff, residents, the register of places and visits, always through the reading user's
scope.

Scope: an administrator sees everything; a dispatcher, call-taker or leader the grids inside their
unit; a grid worker their own grids (``User.grids``); anyone else nothing. Outside the scope a record
does not exist (NotFound → 404).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.db.models import Count, Max, Model, Prefetch, Q, QuerySet

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.models import effective_role as role_of
from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import Forbidden, NotFound
from dualgrid.lib.idcard import looks_like_id, normalize_id
from dualgrid.lib.privacy import is_phone, normalize_phone
from dualgrid.places.models import AdminUnit, Grid, UnitLevel
from dualgrid.places.selectors import within_unit

from .models import (
    Assignment,
    BusinessPremise,
    Household,
    KeyPlace,
    RentalHouse,
    Resident,
    ResidentTag,
    Staff,
    Visit,
)
from .visit_rules import (
    STATE_ORDER,
    Rule,
    Status,
    VisitState,
    day_start,
    local_day,
    local_today,
    required_week,
    rule_of,
    status_of,
    visited_in_week,
    week_start,
)

UNIT_SCOPED: set[str] = {Role.DISPATCHER, Role.CALLTAKER, Role.LEADER}
MANAGING_ROLES: set[str] = {Role.ADMIN, Role.DISPATCHER}
SUPERVISING_ROLES: set[str] = {Role.ADMIN, Role.DISPATCHER, Role.LEADER}
UNMASKING_ROLES: set[str] = {Role.ADMIN, Role.DISPATCHER, Role.GRIDWORKER}

M = TypeVar("M", bound=Model)


# --- grids -------------------------------------------------------------------------------------------


def grids_for_user(user: User) -> QuerySet[Grid]:
    """Every grid (active or not) inside the user's scope."""
    qs = Grid.objects.all()
    role = role_of(user)
    if role == Role.ADMIN:
        return qs
    if role == Role.GRIDWORKER:
        return qs.filter(pk__in=user.grids.values("pk"))
    if role in UNIT_SCOPED and user.unit is not None:
        return qs.filter(within_unit(user.unit))
    return qs.none()


def grid_get_for_user(user: User, grid_id: int) -> Grid:
    grid = grids_for_user(user).select_related("village", "town").filter(pk=grid_id).first()
    if grid is None:
        raise NotFound("网格不存在或不在您的管辖范围内", field="grid", code="not_found")
    return grid


def grid_get_for_manage(user: User, grid_id: int) -> Grid:
    """A grid whose staff the user may change: an administrator, or a dispatcher of its unit."""
    if role_of(user) not in MANAGING_ROLES:
        raise Forbidden("您的角色不能管理网格人员", code="forbidden")
    return grid_get_for_user(user, grid_id)


def towns_for_user(user: User) -> QuerySet[AdminUnit]:
    """The towns (镇街) a supervisor may filter by."""
    qs = AdminUnit.objects.filter(level=UnitLevel.TOWN)
    role = role_of(user)
    if role == Role.ADMIN:
        return qs
    unit = user.unit
    if unit is None or role not in UNIT_SCOPED:
        return qs.none()
    if unit.level == UnitLevel.CITY:
        return qs.filter(parent__parent_id=unit.pk)
    if unit.level == UnitLevel.COUNTY:
        return qs.filter(parent_id=unit.pk)
    if unit.level == UnitLevel.TOWN:
        return qs.filter(pk=unit.pk)
    return qs.filter(pk=unit.parent_id) if unit.parent_id is not None else qs.none()


# --- staff and assignments ---------------------------------------------------------------------------


def in_force(day: date) -> Q:
    """Assignments serving on ``day``: started on or before it, not yet ended (end is exclusive)."""
    return Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gt=day))


def who_served(grid: Grid, day: date) -> QuerySet[Assignment]:
    """The people serving ``grid`` on ``day`` (a past day answers from the history)."""
    return (
        Assignment.objects.filter(in_force(day), grid=grid)
        .select_related("staff", "role", "post_name", "staff__user")
        .order_by("role__sort", "start_date", "id")
    )


def current_staff(grid: Grid, on: date | None = None) -> QuerySet[Assignment]:
    return who_served(grid, on or local_today())


def grid_staff_history(grid: Grid) -> QuerySet[Assignment]:
    """Every assignment the grid ever had, newest first (nothing is ever deleted)."""
    return (
        Assignment.objects.filter(grid=grid)
        .select_related("staff", "role", "post_name", "created_by", "ended_by")
        .order_by("-start_date", "-id")
    )


def staff_for_user(user: User) -> QuerySet[Staff]:
    """Staff who serve or served a grid in the user's scope (an administrator sees everyone)."""
    if role_of(user) == Role.ADMIN:
        return Staff.objects.all()
    grids = grids_for_user(user).values("pk")
    return Staff.objects.filter(pk__in=Assignment.objects.filter(grid_id__in=grids).values("staff_id"))


def staff_to_pick(user: User, grid: Grid) -> QuerySet[Staff]:
    """People a manager may put into ``grid``: active staff in their scope who serve or served a grid
    of the same town (a new person is registered in the same form)."""
    same_town = Assignment.objects.filter(grid__town_id=grid.town_id).values("staff_id")
    return staff_for_user(user).filter(active=True, pk__in=same_town).order_by("name", "id")


def staff_get_for_user(user: User, staff_id: int) -> Staff:
    staff = staff_for_user(user).select_related("user").filter(pk=staff_id).first()
    if staff is None:
        raise NotFound("人员不存在或不在您的管辖范围内", field="staff", code="not_found")
    return staff


def _personal_search(query: str, phone_field: str, id_field: str | None) -> Q | None:
    """A full phone or ID number is matched by its keyed hash; None when the query is neither."""
    phone = normalize_phone(query)
    if is_phone(phone):
        return Q(**{phone_field: keyed_hash(phone)})
    if id_field and looks_like_id(query):
        return Q(**{id_field: keyed_hash(normalize_id(query))})
    return None


def staff_list(
    user: User, *, query: str = "", grid_id: int | None = None, current_only: bool = True
) -> QuerySet[Staff]:
    today = local_today()
    qs = staff_for_user(user).select_related("user")
    if grid_id:
        served = Assignment.objects.filter(grid_id=grid_id)
        if current_only:
            served = served.filter(in_force(today))
        qs = qs.filter(pk__in=served.values("staff_id"))
    elif current_only:
        served = Assignment.objects.filter(in_force(today), grid_id__in=grids_for_user(user).values("pk"))
        qs = qs.filter(pk__in=served.values("staff_id"))
    query = (query or "").strip()
    if query:
        exact = _personal_search(query, "phone_hash", "id_number_hash")
        qs = qs.filter(exact if exact is not None else Q(name__contains=query))
    current = Assignment.objects.filter(in_force(today)).select_related("grid", "role").order_by("role__sort")
    return qs.prefetch_related(Prefetch("assignments", queryset=current, to_attr="current")).order_by(
        "name", "id"
    )


# --- residents ---------------------------------------------------------------------------------------


def current_tags() -> QuerySet[ResidentTag]:
    """Tags not ended (an end date is never later than today): what ``resident.tags`` holds on pages."""
    return ResidentTag.objects.filter(ended_on__isnull=True).select_related("tag")


def in_force_tags(day: date) -> Q:
    """Tags that applied on ``day``: not ended, or ended after it (``ended_on`` is exclusive)."""
    return Q(ended_on__isnull=True) | Q(ended_on__gt=day)


def resident_tag_history(resident: Resident) -> QuerySet[ResidentTag]:
    """The resident's ended tags, latest end first (the caller fetched the resident through
    ``resident_get_for_user``)."""
    return (
        ResidentTag.objects.filter(resident=resident, ended_on__isnull=False)
        .select_related("tag", "created_by", "ended_by")
        .order_by("-ended_on", "-id")
    )


def resident_tag_get(resident: Resident, resident_tag_id: int) -> ResidentTag:
    """One of the resident's tags (the resident already fetched in the user's scope)."""
    found = ResidentTag.objects.select_related("tag", "resident__grid").filter(
        pk=resident_tag_id, resident=resident
    )
    resident_tag = found.first()
    if resident_tag is None:
        raise NotFound("标签不存在", field="resident_tag", code="not_found")
    return resident_tag


def residents_for_user(user: User) -> QuerySet[Resident]:
    if role_of(user) == Role.ADMIN:
        return Resident.objects.all()
    return Resident.objects.filter(grid_id__in=grids_for_user(user).values("pk"))


def resident_get_for_user(user: User, resident_id: int) -> Resident:
    resident = (
        residents_for_user(user)
        .select_related("grid", "grid__village", "household")
        .prefetch_related(Prefetch("tags", queryset=current_tags()))
        .filter(pk=resident_id)
        .first()
    )
    if resident is None:
        raise NotFound("居民不存在或不在您的管辖范围内", field="resident", code="not_found")
    return resident


def resident_list(
    user: User, *, query: str = "", grid_id: int | None = None, tag_id: int | None = None
) -> QuerySet[Resident]:
    qs = residents_for_user(user).select_related("grid", "household")
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    if tag_id:
        qs = qs.filter(tags__tag_id=tag_id, tags__ended_on__isnull=True)
    query = (query or "").strip()
    if query:
        exact = _personal_search(query, "phone_hash", "id_number_hash")
        if exact is not None:
            qs = qs.filter(exact)
        else:
            qs = qs.filter(
                Q(name__contains=query) | Q(address__contains=query) | Q(household__address__contains=query)
            )
    return qs.prefetch_related(Prefetch("tags", queryset=current_tags())).order_by("grid__code", "name", "id")


# --- the register: households, rental houses, business premises, key places ----------------------------


def _register_for_user(user: User, model: type[M]) -> QuerySet[M]:
    qs: QuerySet[M] = model._default_manager.all()
    if role_of(user) == Role.ADMIN:
        return qs
    return qs.filter(grid_id__in=grids_for_user(user).values("pk"))


def _register_get(user: User, model: type[M], pk: int, what: str) -> M:
    obj = _register_for_user(user, model).select_related("grid__village", "grid__town").filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{what}不存在或不在您的管辖范围内", field="id", code="not_found")
    return obj


def _in_place(qs: QuerySet[M], town_id: int | None, grid_id: int | None) -> QuerySet[M]:
    if town_id:
        qs = qs.filter(grid__town_id=town_id)
    if grid_id:
        qs = qs.filter(grid_id=grid_id)
    return qs


def household_list(
    user: User,
    *,
    query: str = "",
    town_id: int | None = None,
    grid_id: int | None = None,
    with_members: bool = False,
) -> QuerySet[Household]:
    """Households in scope with ``member_count`` (and, ``with_members``, their members with their
    current tags); a full phone or ID number finds its member's household."""
    qs = _in_place(_register_for_user(user, Household), town_id, grid_id)
    query = (query or "").strip()
    if query:
        exact = _personal_search(query, "phone_hash", "id_number_hash")
        if exact is not None:
            qs = qs.filter(pk__in=Resident.objects.filter(exact).values("household_id"))
        else:
            qs = qs.filter(
                Q(address__contains=query) | Q(house_number__contains=query) | Q(head_name__contains=query)
            )
    if with_members:
        members = Resident.objects.prefetch_related(Prefetch("tags", queryset=current_tags())).order_by(
            "name", "id"
        )
        qs = qs.prefetch_related(Prefetch("members", queryset=members))
    return (
        qs.select_related("grid", "grid__village")
        .annotate(member_count=Count("members"))
        .order_by("grid__code", "address", "house_number", "id")
    )


def household_get_for_user(user: User, household_id: int) -> Household:
    return _register_get(user, Household, household_id, "户")


def household_members(household: Household) -> QuerySet[Resident]:
    """The members of a household fetched through ``household_get_for_user``, with their current tags."""
    return (
        Resident.objects.filter(household=household)
        .select_related("grid", "household")
        .prefetch_related(Prefetch("tags", queryset=current_tags()))
        .order_by("name", "id")
    )


def household_visits(household: Household) -> QuerySet[Visit]:
    """Visits to the household or one of its members, newest first."""
    subject = Q(household=household) | Q(resident__household=household)
    return (
        Visit.objects.filter(subject)
        .select_related("visitor", "resident", "raised_case")
        .order_by("-visited_at", "-id")
    )


def rental_house_list(
    user: User, *, query: str = "", town_id: int | None = None, grid_id: int | None = None
) -> QuerySet[RentalHouse]:
    qs = _in_place(_register_for_user(user, RentalHouse), town_id, grid_id)
    query = (query or "").strip()
    if query:
        exact = _personal_search(query, "landlord_phone_hash", None)
        qs = qs.filter(
            exact
            if exact is not None
            else Q(address__contains=query) | Q(landlord_name__contains=query) | Q(note__contains=query)
        )
    return qs.select_related("grid", "grid__village").order_by("grid__code", "address", "id")


def rental_house_get_for_user(user: User, house_id: int) -> RentalHouse:
    return _register_get(user, RentalHouse, house_id, "出租房")


def business_list(
    user: User,
    *,
    query: str = "",
    town_id: int | None = None,
    grid_id: int | None = None,
    category: str | None = None,
) -> QuerySet[BusinessPremise]:
    qs = _in_place(_register_for_user(user, BusinessPremise), town_id, grid_id)
    if category:
        qs = qs.filter(category=category)
    query = (query or "").strip()
    if query:
        exact = _personal_search(query, "contact_phone_hash", None)
        qs = qs.filter(
            exact
            if exact is not None
            else Q(name__contains=query)
            | Q(address__contains=query)
            | Q(contact_name__contains=query)
            | Q(licence_no=query)
        )
    return qs.select_related("grid", "grid__village").order_by("grid__code", "name", "id")


def business_get_for_user(user: User, business_id: int) -> BusinessPremise:
    return _register_get(user, BusinessPremise, business_id, "经营场所")


def key_place_list(
    user: User,
    *,
    query: str = "",
    town_id: int | None = None,
    grid_id: int | None = None,
    kind: str | None = None,
) -> QuerySet[KeyPlace]:
    qs = _in_place(_register_for_user(user, KeyPlace), town_id, grid_id)
    if kind:
        qs = qs.filter(kind=kind)
    query = (query or "").strip()
    if query:
        exact = _personal_search(query, "contact_phone_hash", None)
        qs = qs.filter(
            exact
            if exact is not None
            else Q(name__contains=query) | Q(address__contains=query) | Q(contact_name__contains=query)
        )
    return qs.select_related("grid", "grid__village").order_by("grid__code", "name", "id")


def key_place_get_for_user(user: User, place_id: int) -> KeyPlace:
    return _register_get(user, KeyPlace, place_id, "重点场所")


def resident_visits(resident: Resident) -> QuerySet[Visit]:
    """Visits to the resident or their household, newest first (the caller fetched the resident
    through ``resident_get_for_user``)."""
    subject = Q(resident=resident)
    if resident.household_id:
        subject |= Q(household_id=resident.household_id)
    return Visit.objects.filter(subject).select_related("visitor", "raised_case").order_by("-visited_at")


def visits_for_user(user: User) -> QuerySet[Visit]:
    if role_of(user) == Role.ADMIN:
        return Visit.objects.all()
    return Visit.objects.filter(grid_id__in=grids_for_user(user).values("pk"))


# --- visit rules -------------------------------------------------------------------------------------


@dataclass
class DueItem:
    resident: Resident
    rule: Rule
    status: Status
    last_visit: datetime | None
    tags: list[ResidentTag] = field(default_factory=list)


def _rules(grid_ids: QuerySet[Grid] | list[int], on: date) -> dict[int, tuple[Rule, int, int | None]]:
    """resident id → (rule, grid id, household id) for residents in the grids whose tags in force on
    ``on`` ask for visits (an ended tag asks for none)."""
    # No ordering: the default one (resident → grid code, name; tag) joins the grids and sorts every
    # row — a third of this query's time for a county of 21,600 tagged residents.
    rows = (
        ResidentTag.objects.filter(
            in_force_tags(on), resident__grid_id__in=grid_ids, tag__active=True, tag__visit_every_days__gt=0
        )
        .order_by()
        .values_list(
            "resident_id", "resident__grid_id", "resident__household_id", "tag__visit_every_days", "since"
        )
    )
    tags: dict[int, list[tuple[int, date]]] = defaultdict(list)
    where: dict[int, tuple[int, int | None]] = {}
    for resident_id, grid_id, household_id, days, since in rows:
        tags[resident_id].append((days, since))
        where[resident_id] = (grid_id, household_id)
    out = {}
    for resident_id, pairs in tags.items():
        rule = rule_of(pairs)
        if rule is not None:
            out[resident_id] = (rule, *where[resident_id])
    return out


def _visit_days(
    grid_ids: QuerySet[Grid] | list[int], start: datetime, end: datetime
) -> tuple[dict[int, list[date]], dict[int, list[date]], list[tuple[int | None, int | None, date, int]]]:
    """Local days of the visits in the grids between ``start`` and ``end``: by resident, by household,
    and the raw rows (resident, household, day, visitor)."""
    by_resident: dict[int, list[date]] = defaultdict(list)
    by_household: dict[int, list[date]] = defaultdict(list)
    rows: list[tuple[int | None, int | None, date, int]] = []
    for resident_id, household_id, visited_at, visitor_id in Visit.objects.filter(
        grid_id__in=grid_ids, visited_at__gte=start, visited_at__lt=end
    ).values_list("resident_id", "household_id", "visited_at", "visitor_id"):
        day = local_day(visited_at)
        if resident_id:
            by_resident[resident_id].append(day)
        if household_id:
            by_household[household_id].append(day)
        rows.append((resident_id, household_id, day, visitor_id))
    return by_resident, by_household, rows


def _days_of(
    resident_id: int,
    household_id: int | None,
    by_resident: dict[int, list[date]],
    by_household: dict[int, list[date]],
) -> list[date]:
    days = list(by_resident.get(resident_id, []))
    if household_id:
        days.extend(by_household.get(household_id, []))
    return days


def _last_visits(
    grid_ids: QuerySet[Grid] | list[int],
    since: datetime | None = None,
    residents: list[int] | None = None,
    households: list[int] | None = None,
) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """resident id → their last visit, household id → its last visit, of the visits in the grids; only
    from ``since`` on, and only of the given ``residents`` and ``households``, when given."""
    visits = Visit.objects.filter(grid_id__in=grid_ids)
    if residents is not None or households is not None:
        visits = visits.filter(Q(resident_id__in=residents or []) | Q(household_id__in=households or []))
    if since is not None:
        visits = visits.filter(visited_at__gte=since)
    by_resident = dict(
        visits.filter(resident__isnull=False)
        .values("resident_id")
        .annotate(last=Max("visited_at"))
        .values_list("resident_id", "last")
    )
    by_household = dict(
        visits.filter(household__isnull=False)
        .values("household_id")
        .annotate(last=Max("visited_at"))
        .values_list("household_id", "last")
    )
    return by_resident, by_household


def visits_due(user: User, today: date | None = None) -> list[DueItem]:
    """Everyone with a visit rule in the user's grids and their state, overdue first, then due, then done.

    For a grid worker the grids are their own; see ``visit_rules`` for the definitions.
    """
    today = today or local_today()
    grid_ids = list(grids_for_user(user).filter(active=True).values_list("pk", flat=True))
    rules = _rules(grid_ids, today)
    if not rules:
        return []
    # Two weeks back covers the weekly rule; the rolling rule needs only the last visit ever.
    start = day_start(week_start(today) - timedelta(days=7))
    by_resident, by_household, _ = _visit_days(grid_ids, start, day_start(today + timedelta(days=1)))
    last_resident, last_household = _last_visits(grid_ids)
    residents = (
        Resident.objects.filter(pk__in=list(rules))
        .select_related("household", "grid")
        .prefetch_related(Prefetch("tags", queryset=current_tags()))
    )
    items = []
    for resident in residents:
        rule, _, household_id = rules[resident.pk]
        days = _days_of(resident.pk, household_id, by_resident, by_household)
        last = max(
            (
                t
                for t in (last_resident.get(resident.pk), last_household.get(household_id or 0))
                if t is not None
            ),
            default=None,
        )
        if not rule.weekly and last is not None:
            days.append(local_day(last))
        if rule.since > today:
            continue
        items.append(
            DueItem(
                resident=resident,
                rule=rule,
                status=status_of(rule, days, today),
                last_visit=last,
                tags=list(resident.tags.all()),
            )
        )
    items.sort(key=lambda i: (STATE_ORDER[i.status.state], i.status.due_on, i.resident.name, i.resident.pk))
    return items


# --- compliance --------------------------------------------------------------------------------------


@dataclass
class ComplianceRow:
    label: str
    due: int = 0
    visited: int = 0
    overdue: int = 0
    visits_logged: int = 0
    grid: Grid | None = None
    staff: Staff | None = None
    grids: list[Grid] = field(default_factory=list)
    people: list[str] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return self.due - self.visited

    @property
    def rate(self) -> float | None:
        return round(100 * self.visited / self.due, 1) if self.due else None


@dataclass
class Compliance:
    monday: date
    in_progress: bool
    total: ComplianceRow
    grids: list[ComplianceRow]
    workers: list[ComplianceRow]


def visit_compliance(user: User, monday: date, *, town_id: int | None = None) -> Compliance:
    """Weekly visit compliance per grid and per worker for the ISO week starting ``monday``.

    应走访: residents whose weekly rule was in force on that Monday; 已走访: visited that week (by
    anyone); 逾期: required that week and the week before and visited in neither (for the current
    week, exactly the people the workers' phones show as 已逾期). A worker's row covers the grids
    they served with an access-granting role during that week; 本人走访 counts the visits they logged.
    """
    if role_of(user) not in SUPERVISING_ROLES:
        raise Forbidden("您的角色不能查看走访统计", code="forbidden")
    monday = week_start(monday)
    grids_qs = grids_for_user(user).filter(active=True)
    if town_id:
        grids_qs = grids_qs.filter(town_id=town_id)
    grids = list(grids_qs.select_related("village").order_by("code"))
    grid_ids = [g.pk for g in grids]
    previous = monday - timedelta(days=7)
    rules = {rid: r for rid, r in _rules(grid_ids, monday).items() if r[0].weekly}
    by_resident, by_household, rows = _visit_days(
        grid_ids, day_start(previous), day_start(monday + timedelta(7))
    )

    per_grid = {g.pk: ComplianceRow(label=g.name, grid=g) for g in grids}
    total = ComplianceRow(label="合计")
    status_by_resident: dict[int, tuple[int, bool, bool]] = {}  # resident → (grid, visited, overdue)
    for resident_id, (rule, grid_id, household_id) in rules.items():
        if not required_week(rule, monday):
            continue
        days = _days_of(resident_id, household_id, by_resident, by_household)
        visited = visited_in_week(days, monday)
        overdue = not visited and required_week(rule, previous) and not visited_in_week(days, previous)
        status_by_resident[resident_id] = (grid_id, visited, overdue)
        for row in (per_grid[grid_id], total):
            row.due += 1
            row.visited += visited
            row.overdue += overdue

    logged: dict[int, int] = defaultdict(int)
    for _, _, day, visitor_id in rows:
        if day >= monday:
            logged[visitor_id] += 1
    total.visits_logged = sum(logged.values())

    week_end = monday + timedelta(days=7)
    served = (
        Assignment.objects.filter(grid_id__in=grid_ids, role__grants_access=True, start_date__lt=week_end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gt=monday))
        .select_related("staff", "role")
        .order_by("role__sort", "start_date")
    )
    workers: dict[int, ComplianceRow] = {}
    grid_by_id = {g.pk: g for g in grids}
    for assignment in served:
        per_grid[assignment.grid_id].people.append(f"{assignment.staff.name}（{assignment.role.name}）")
        row = workers.setdefault(
            assignment.staff_id, ComplianceRow(label=assignment.staff.name, staff=assignment.staff)
        )
        if grid_by_id[assignment.grid_id] not in row.grids:
            row.grids.append(grid_by_id[assignment.grid_id])
    for row in workers.values():
        ids = {g.pk for g in row.grids}
        for grid_id, visited, overdue in status_by_resident.values():
            if grid_id in ids:
                row.due += 1
                row.visited += visited
                row.overdue += overdue
        if row.staff is not None and row.staff.user_id:
            row.visits_logged = logged.get(row.staff.user_id, 0)

    # Most people left unvisited first: a rate over one or two people says little on its own.
    def order(row: ComplianceRow) -> tuple[int, int, float, str]:
        return (-row.missed, -row.overdue, row.rate if row.rate is not None else 101.0, row.label)

    return Compliance(
        monday=monday,
        in_progress=monday == week_start(local_today()),
        total=total,
        grids=sorted(per_grid.values(), key=order),
        workers=sorted(workers.values(), key=order),
    )


def visit_state_counts(items: list[DueItem]) -> dict[str, int]:
    counts = {state.value: 0 for state in VisitState}
    for item in items:
        counts[item.status.state] += 1
    return counts


def _last_rolling_visits(
    grid_ids: QuerySet[Grid, Any] | list[int], rules: dict[int, tuple[Rule, int, int | None]], today: date
) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """The last visits the rolling rules need, without reading the grids' whole visit history.

    A resident with a rolling rule of P days is overdue exactly when today is past (last visit or, with
    none, the rule's start) + P. A last visit before today − P (the longest P among the rules) makes them
    overdue whatever its date, so only the visits since that horizon are read; an older one still
    decides for whoever has none since and a rule younger than its period (with no visit at all, they
    are not overdue yet) — those few are read by resident and household. Same answers as reading every
    visit (city bench: 7M visits, a county's last visits 0.9 s → a month of them)."""
    rolling = [(rule, household_id) for rule, _, household_id in rules.values() if not rule.weekly]
    if not rolling:
        return {}, {}
    horizon = today - timedelta(days=max(rule.period for rule, _ in rolling))
    by_resident, by_household = _last_visits(grid_ids, since=day_start(horizon))
    young = [
        (resident_id, household_id)
        for resident_id, (rule, _, household_id) in rules.items()
        if not rule.weekly
        and rule.since + timedelta(days=rule.period) >= today
        and resident_id not in by_resident
        and (household_id or 0) not in by_household
    ]
    if young:
        older_residents, older_households = _last_visits(
            grid_ids, residents=[r for r, _ in young], households=[h for _, h in young if h]
        )
        by_resident.update(older_residents)
        by_household.update(older_households)
    return by_resident, by_household


def overdue_visits_by_grid(
    grid_ids: QuerySet[Grid, Any] | list[int], today: date | None = None
) -> dict[int, int]:
    """grid id → residents whose visit rule makes them overdue on ``today``, the same computation as
    ``visits_due`` for many grids at once in a bounded number of queries (tags in force; visits of the
    last two weeks; for rolling rules the last visits within the longest period, see
    ``_last_rolling_visits``)."""
    today = today or local_today()
    rules = _rules(grid_ids, today)
    if not rules:
        return {}
    start = day_start(week_start(today) - timedelta(days=7))
    by_resident, by_household, _ = _visit_days(grid_ids, start, day_start(today + timedelta(days=1)))
    last_resident, last_household = _last_rolling_visits(grid_ids, rules, today)
    counts: dict[int, int] = defaultdict(int)
    for resident_id, (rule, grid_id, household_id) in rules.items():
        if rule.since > today:
            continue
        days = _days_of(resident_id, household_id, by_resident, by_household)
        if not rule.weekly:
            last = max(
                (t for t in (last_resident.get(resident_id), last_household.get(household_id or 0)) if t),
                default=None,
            )
            if last is not None:
                days.append(local_day(last))
        if status_of(rule, days, today).state == VisitState.OVERDUE:
            counts[grid_id] += 1
    return dict(counts)
