"""Staff and their assignments, and the grid access (``User.grids``) that follows them.

Access: a grid worker's case scope is ``User.grids``. An assignment in a role that ``grants_access``
adds the grid to the linked account the day it starts and removes it the day it ends — in the same
transaction when that day is today or earlier, otherwise through ``assignments_sync`` (the worker
calls it every round). A grid stays with the account while another current access-granting
assignment of the same person still covers it. Grids an account was given by hand, for which the
person never had an assignment, are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.services import audit_record
from dualgrid.lib.crypto import keyed_hash
from dualgrid.lib.errors import Conflict, Forbidden, Invalid
from dualgrid.places.models import Grid

from ..models import Assignment, Gender, PostName, Staff, StaffRole
from ..selectors import MANAGING_ROLES, in_force, role_of, staff_get_for_user
from ..visit_rules import local_today
from .common import check_manage, clean_id, clean_name, clean_phone, parse_date

EARLIEST_ASSIGNMENT = date(2000, 1, 1)
MAX_DAYS_AHEAD = 366

# --- grid access ---------------------------------------------------------------------------------------


def _serves_with_access(staff_id: int, grid_id: int, today: date) -> bool:
    """Whether the person still has a current access-granting assignment in the grid."""
    return Assignment.objects.filter(
        in_force(today), staff_id=staff_id, grid_id=grid_id, role__grants_access=True
    ).exists()


def _sync_access(staff: Staff, grid_id: int, today: date) -> None:
    """Bring the linked account's hold on one grid in step with the person's assignments today."""
    if staff.user_id is None:
        return
    through = User.grids.through
    holds = through.objects.filter(user_id=staff.user_id, grid_id=grid_id)
    if _serves_with_access(staff.pk, grid_id, today):
        if not holds.exists():
            through.objects.create(user_id=staff.user_id, grid_id=grid_id)
    else:
        holds.delete()


def assignments_sync(today: date | None = None) -> int:
    """Apply future-dated starts and ends whose day has come; returns the number of grants and removals.

    Idempotent and two queries when nothing changed, so the worker may call it every round.
    """
    today = today or local_today()
    through = User.grids.through
    granting = Assignment.objects.filter(role__grants_access=True, staff__user__isnull=False)
    wanted = set(granting.filter(in_force(today)).values_list("staff__user_id", "grid_id"))
    ended = set(granting.filter(end_date__lte=today).values_list("staff__user_id", "grid_id"))
    users = {u for u, _ in wanted | ended}
    held = set(through.objects.filter(user_id__in=users).values_list("user_id", "grid_id"))
    grant = wanted - held
    revoke = (ended - wanted) & held
    if not grant and not revoke:
        return 0
    with transaction.atomic():
        through.objects.bulk_create([through(user_id=u, grid_id=g) for u, g in grant], ignore_conflicts=True)
        for user_id, grid_id in revoke:
            through.objects.filter(user_id=user_id, grid_id=grid_id).delete()
    return len(grant) + len(revoke)


# --- staff -------------------------------------------------------------------------------------------


@dataclass
class StaffInput:
    name: str
    gender: str = ""
    phone: str = ""
    id_number: str = ""
    username: str = ""  # an existing account to link (optional)


def staff_clean(data: StaffInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = clean_name(data.name, errors)
    if data.gender and data.gender not in Gender.values:
        errors["gender"] = "性别应为男或女"
    phone = clean_phone(data.phone, "phone", errors)
    id_number = clean_id(data.id_number, "id_number", errors, gender=data.gender)
    user = None
    username = (data.username or "").strip()
    if username:
        user = User.objects.filter(username=username).first()
        if user is None:
            errors["username"] = f"账号不存在：{username}"
        elif Staff.objects.filter(user=user).exists():
            errors["username"] = f"账号{username}已关联其他网格人员"
    if id_number and "id_number" not in errors:
        if Staff.objects.filter(id_number_hash=keyed_hash(id_number)).exists():
            errors["id_number"] = "该身份证号已登记为网格人员，请直接选择该人员"
    if errors:
        raise Invalid(errors)
    return {
        "name": name,
        "gender": data.gender,
        "phone": phone,
        "phone_hash": keyed_hash(phone),
        "id_number": id_number,
        "id_number_hash": keyed_hash(id_number),
        "user": user,
    }


def staff_create(*, actor: User | None, data: StaffInput) -> Staff:
    if actor is not None and role_of(actor) not in MANAGING_ROLES:
        raise Forbidden("您的角色不能登记网格人员", code="forbidden")
    cleaned = staff_clean(data)
    try:
        with transaction.atomic():
            return Staff.objects.create(**cleaned)
    except IntegrityError:
        raise Conflict("该人员或账号已登记，请刷新后重试", code="duplicate") from None


def staff_link_user(*, actor: User | None, staff: Staff, user: User | None) -> Staff:
    """Link (or unlink) the account a person logs in with; the grids follow their current assignments."""
    if actor is not None and role_of(actor) != Role.ADMIN:
        raise Forbidden("只有系统管理员可以关联账号", code="forbidden")
    today = local_today()
    with transaction.atomic():
        staff = Staff.objects.select_for_update().get(pk=staff.pk)
        if user is not None and Staff.objects.filter(user=user).exclude(pk=staff.pk).exists():
            raise Invalid({"username": f"账号{user.username}已关联其他网格人员"})
        grid_ids = set(
            Assignment.objects.filter(staff=staff, role__grants_access=True).values_list("grid_id", flat=True)
        )
        old_user_id = staff.user_id
        if old_user_id is not None:
            User.grids.through.objects.filter(user_id=old_user_id, grid_id__in=grid_ids).delete()
        staff.user = user
        staff.save(update_fields=["user"])
        for grid_id in grid_ids:
            _sync_access(staff, grid_id, today)
    return staff


def staff_unmask(*, actor: User, staff_id: int) -> Staff:
    """The full phone and ID number of one person, for an administrator or dispatcher; audited."""
    staff = staff_get_for_user(actor, staff_id)
    if role_of(actor) not in MANAGING_ROLES:
        raise Forbidden("您的角色不能查看完整个人信息", code="forbidden")
    with transaction.atomic():
        audit_record(
            user=actor, action="unmask", obj=staff, detail=f"查看网格人员{staff.name}的完整手机号和身份证号"
        )
    return staff


# --- assignments -------------------------------------------------------------------------------------


def _check_dates(start: date, end: date | None, errors: dict[str, str], today: date) -> None:
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if not EARLIEST_ASSIGNMENT <= start <= latest:
        errors["start_date"] = f"任职日期不合理，应在{EARLIEST_ASSIGNMENT:%Y-%m-%d}至{latest:%Y-%m-%d}之间"
    if end is not None:
        if end < start:
            errors["end_date"] = "离任日期不能早于任职日期"
        elif end > latest:
            errors["end_date"] = f"离任日期不合理，不能晚于{latest:%Y-%m-%d}"


def _overlapping(
    staff: Staff, grid: Grid, role: StaffRole, start: date, end: date | None
) -> Assignment | None:
    """An assignment of the same person to the same grid and role whose period meets [start, end)."""
    qs = Assignment.objects.filter(staff=staff, grid=grid, role=role).filter(
        Q(end_date__isnull=True) | Q(end_date__gt=start)
    )
    if end is not None:
        qs = qs.filter(start_date__lt=end)
    # A zero-length record (ended the day it started, e.g. entered by mistake) covers no day.
    return qs.exclude(end_date=F("start_date")).order_by("start_date").first()


def _open(
    *,
    actor: User | None,
    staff: Staff,
    grid: Grid,
    role: StaffRole,
    start: date,
    end: date | None,
    post_name: PostName | None,
    note: str,
    today: date,
) -> Assignment:
    clash = _overlapping(staff, grid, role, start, end)
    if clash is not None:
        until = f"{clash.end_date:%Y-%m-%d}" if clash.end_date else "至今"
        raise Invalid(
            {
                "start_date": f"{staff.name}已在{grid.name}担任{role.name}（{clash.start_date:%Y-%m-%d}起，"
                f"{until}），任职期间不能重叠"
            }
        )
    assignment = Assignment.objects.create(
        staff=staff,
        grid=grid,
        role=role,
        post_name=post_name,
        start_date=start,
        end_date=end,
        note=note,
        created_by=actor,
    )
    if role.grants_access and start <= today:
        _sync_access(staff, grid.pk, today)
    return assignment


def _check_parties(staff: Staff, grid: Grid, role: StaffRole, post_name: PostName | None) -> None:
    errors: dict[str, str] = {}
    if not staff.active:
        errors["staff"] = f"{staff.name}已不在册，不能任职"
    if not grid.active:
        errors["grid"] = f"网格已停用：{grid.name}"
    if not role.active:
        errors["role"] = f"角色已停用：{role.name}"
    if post_name is not None and not post_name.active:
        errors["post_name"] = f"岗位名称已停用：{post_name.name}"
    if errors:
        raise Invalid(errors)


def _resolve_staff(staff: Staff | StaffInput) -> Staff:
    """The person, locked (serialises overlap checks per person), or registered now from ``StaffInput``
    inside the caller's transaction, so a refused assignment leaves no stray person behind."""
    if isinstance(staff, StaffInput):
        try:
            with transaction.atomic():
                return Staff.objects.create(**staff_clean(staff))
        except IntegrityError:
            raise Conflict("该人员或账号已登记，请刷新后重试", code="duplicate") from None
    return Staff.objects.select_for_update().get(pk=staff.pk)


def assignment_start(
    *,
    actor: User | None,
    staff: Staff | StaffInput,
    grid: Grid,
    role: StaffRole,
    start: date | str,
    post_name: PostName | None = None,
    note: str = "",
) -> Assignment:
    """A person (existing, or new from ``StaffInput``) starts serving a grid in a role; a start today
    or earlier gives their account the grid at once."""
    check_manage(actor, grid)
    if isinstance(staff, StaffInput) and actor is not None and role_of(actor) not in MANAGING_ROLES:
        raise Forbidden("您的角色不能登记网格人员", code="forbidden")
    start_date = parse_date(start, "start_date", "任职日期")
    assert start_date is not None
    today = local_today()
    errors: dict[str, str] = {}
    _check_dates(start_date, None, errors, today)
    if len(note or "") > 200:
        errors["note"] = "备注不能超过200字"
    if errors:
        raise Invalid(errors)
    with transaction.atomic():
        person = _resolve_staff(staff)
        _check_parties(person, grid, role, post_name)
        return _open(
            actor=actor,
            staff=person,
            grid=grid,
            role=role,
            start=start_date,
            end=None,
            post_name=post_name,
            note=(note or "").strip(),
            today=today,
        )


def _close(*, actor: User | None, assignment: Assignment, end: date, reason: str, today: date) -> Assignment:
    if assignment.end_date is not None and assignment.end_date <= today:
        raise Conflict(
            f"{assignment.staff.name}的这条任职已于{assignment.end_date:%Y-%m-%d}结束", code="already_ended"
        )
    if end < assignment.start_date:
        raise Invalid({"end_date": f"离任日期不能早于任职日期（{assignment.start_date:%Y-%m-%d}）"})
    assignment.end_date = end
    assignment.end_reason = reason
    assignment.ended_by = actor
    assignment.save(update_fields=["end_date", "end_reason", "ended_by"])
    if assignment.role.grants_access and end <= today:
        _sync_access(assignment.staff, assignment.grid_id, today)
    return assignment


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid({"reason": "请填写变动原因"})
    if len(reason) > 200:
        raise Invalid({"reason": "变动原因不能超过200字"})
    return reason


def assignment_end(*, actor: User | None, assignment: Assignment, end: date | str, reason: str) -> Assignment:
    """A person stops serving (``end`` is the first day they no longer serve); today or earlier takes
    the grid's access away at once unless another current assignment still covers it."""
    check_manage(actor, assignment.grid)
    end_date = parse_date(end, "end_date", "离任日期")
    assert end_date is not None
    today = local_today()
    errors: dict[str, str] = {}
    _check_dates(assignment.start_date, end_date, errors, today)
    if errors:
        raise Invalid(errors)
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("staff", "role", "grid")
            .get(pk=assignment.pk)
        )
        return _close(actor=actor, assignment=locked, end=end_date, reason=reason, today=today)


def assignment_replace(
    *,
    actor: User | None,
    grid: Grid,
    role: StaffRole,
    old_staff: Staff,
    new_staff: Staff | StaffInput,
    on_date: date | str,
    reason: str,
    post_name: PostName | None = None,
) -> tuple[Assignment, Assignment]:
    """变动即报、即时更新: in one transaction the old person's assignment ends on ``on_date`` and the
    new person's starts that day; on or before today the old account loses the grid and the new one
    gains it at the same moment. Returns (closed, opened)."""
    check_manage(actor, grid)
    day = parse_date(on_date, "on_date", "变动日期")
    assert day is not None
    today = local_today()
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if not EARLIEST_ASSIGNMENT <= day <= latest:
        raise Invalid(
            {"on_date": f"变动日期不合理，应在{EARLIEST_ASSIGNMENT:%Y-%m-%d}至{latest:%Y-%m-%d}之间"}
        )
    if isinstance(new_staff, Staff) and old_staff.pk == new_staff.pk:
        raise Invalid({"new_staff": "接任人员与原任人员相同"})
    reason = _clean_reason(reason)
    with transaction.atomic():
        # Lock both people in a fixed order, so two opposite replacements cannot deadlock.
        ids = sorted({old_staff.pk, new_staff.pk} if isinstance(new_staff, Staff) else {old_staff.pk})
        locked = {p.pk: p for p in Staff.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        successor = locked[new_staff.pk] if isinstance(new_staff, Staff) else _resolve_staff(new_staff)
        old = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("staff", "role", "grid")
            .filter(in_force(day), staff=old_staff, grid=grid, role=role)
            .first()
        )
        if old is None:
            raise Conflict(
                f"{old_staff.name}在{day:%Y-%m-%d}没有担任{grid.name}的{role.name}，请刷新后重试",
                code="not_serving",
            )
        _check_parties(successor, grid, role, post_name)
        closed = _close(actor=actor, assignment=old, end=day, reason=reason, today=today)
        opened = _open(
            actor=actor,
            staff=successor,
            grid=grid,
            role=role,
            start=day,
            end=None,
            post_name=post_name if post_name is not None else old.post_name,
            note=f"接替{old_staff.name}：{reason}"[:200],
            today=today,
        )
    return closed, opened
