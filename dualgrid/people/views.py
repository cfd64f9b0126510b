"""People pages: a grid's staff (replace, add, end), the staff and resident lists (masked, per-record
unmask), the register of households, rental houses, business premises and key places, the grid
worker's weekly visit list and visit form, and supervisors' visit compliance.

Each view parses input, calls a selector or service, and renders; NotFound/Forbidden become the
404/403 pages through ``staff_page``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dualgrid.accounts.models import Role, User
from dualgrid.lib.errors import Conflict, Invalid
from dualgrid.lib.files import private_file_response
from dualgrid.web import lookups
from dualgrid.web.views import is_htmx, staff_page, staff_user

from . import selectors, services
from .forms import (
    AssignmentAddForm,
    BusinessFilterForm,
    EndForm,
    HouseholdFilterForm,
    KeyPlaceFilterForm,
    RegisterFilterForm,
    RentalFilterForm,
    ReplaceForm,
    SearchForm,
    TagAddForm,
    TagEndForm,
    VisitForm,
    put_errors,
)
from .models import (
    Assignment,
    BusinessPremise,
    KeyPlace,
    RentalHouse,
    Resident,
    Staff,
    Tag,
)
from .visit_rules import local_today, recent_weeks, week_label, week_start

PAGE_SIZE = 20
SUPERVISORS = (Role.ADMIN, Role.DISPATCHER, Role.LEADER)
MANAGERS = (Role.ADMIN, Role.DISPATCHER)
VISITORS = (Role.ADMIN, Role.DISPATCHER, Role.GRIDWORKER)
RESIDENT_READERS = (Role.ADMIN, Role.DISPATCHER, Role.LEADER, Role.GRIDWORKER)
# One tap fills the usual findings on the visit form.
QUICK_TEXTS = (
    "身体良好，生活正常",
    "身体不适，已提醒就医",
    "生活有困难，需要帮扶",
    "家中有安全隐患",
    "电话未接通",
)


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


# --- a grid's staff ------------------------------------------------------------------------------------


def _people_to_pick(user: User, grid: Any) -> list[Staff]:
    return list(selectors.staff_to_pick(user, grid))


def _staff_context(
    request: HttpRequest,
    grid_id: int,
    add_form: AssignmentAddForm | None = None,
    replace_form: ReplaceForm | None = None,
    end_forms: dict[int, EndForm] | None = None,
    error: str = "",
) -> dict[str, Any]:
    user = staff_user(request)
    grid = selectors.grid_get_for_manage(user, grid_id)
    today = local_today()
    current = list(selectors.current_staff(grid, on=today))
    people = _people_to_pick(user, grid)
    initial_day = {
        "start_date": today.isoformat(),
        "on_date": today.isoformat(),
        "end_date": today.isoformat(),
    }
    add_form = add_form or AssignmentAddForm(people=people, initial=initial_day)
    replace_form = replace_form or ReplaceForm(people=people, current=current, initial=initial_day)
    end_forms = end_forms or {}
    on = (
        services.parse_date(request.GET.get("on"), "on", "日期", required=False)
        if request.GET.get("on")
        else None
    )
    return {
        "grid": grid,
        "today": today,
        "current": [
            (a, end_forms.get(a.pk) or EndForm(initial=initial_day, prefix=f"end{a.pk}")) for a in current
        ],
        "history": selectors.grid_staff_history(grid),
        "add_form": add_form,
        "replace_form": replace_form,
        "open_form": "add" if add_form.is_bound else "replace" if replace_form.is_bound else "",
        "error": error,
        "on": on,
        "served_on": list(selectors.who_served(grid, on)) if on else None,
    }


@staff_page(*MANAGERS)
@require_GET
def grid_staff(request: HttpRequest, grid_id: int) -> HttpResponse:
    try:
        context = _staff_context(request, grid_id)
    except Invalid as exc:
        messages.error(request, exc.message)
        return redirect("people:grid_staff", grid_id=grid_id)
    return render(request, "people/grid_staff.html", context)


@staff_page(*MANAGERS)
@require_POST
def assignment_add(request: HttpRequest, grid_id: int) -> HttpResponse:
    user = staff_user(request)
    grid = selectors.grid_get_for_manage(user, grid_id)
    form = AssignmentAddForm(request.POST, people=_people_to_pick(user, grid))
    error = ""
    if form.is_valid():
        try:
            assignment = services.assignment_start(
                actor=user,
                staff=form.person(),
                grid=grid,
                role=form.role_obj(),
                start=form.cleaned_data["start_date"],
                post_name=form.post_name_obj(),
                note=form.cleaned_data["note"],
            )
        except Invalid as exc:
            put_errors(form, exc.errors)
        except Conflict as exc:
            error = exc.message
        else:
            messages.success(request, f"已新增：{assignment.staff.name}任{assignment.role.name}")
            return redirect("people:grid_staff", grid_id=grid.pk)
    return render(
        request,
        "people/grid_staff.html",
        _staff_context(request, grid.pk, add_form=form, error=error),
        status=422,
    )


@staff_page(*MANAGERS)
@require_POST
def assignment_replace(request: HttpRequest, grid_id: int) -> HttpResponse:
    user = staff_user(request)
    grid = selectors.grid_get_for_manage(user, grid_id)
    current = list(selectors.current_staff(grid))
    form = ReplaceForm(request.POST, people=_people_to_pick(user, grid), current=current)
    error = ""
    if form.is_valid():
        old = form.current[form.cleaned_data["assignment"]]
        try:
            closed, opened = services.assignment_replace(
                actor=user,
                grid=grid,
                role=old.role,
                old_staff=old.staff,
                new_staff=form.person(),
                on_date=form.cleaned_data["on_date"],
                reason=form.cleaned_data["reason"],
            )
        except Invalid as exc:
            put_errors(form, exc.errors, {"start_date": "on_date"})
        except Conflict as exc:
            error = exc.message
        else:
            messages.success(
                request,
                f"已更换：{opened.staff.name}接替{closed.staff.name}任{opened.role.name}（{opened.start_date:%Y-%m-%d}起）",
            )
            return redirect("people:grid_staff", grid_id=grid.pk)
    context = _staff_context(request, grid.pk, replace_form=form, error=error)
    return render(request, "people/grid_staff.html", context, status=422)


@staff_page(*MANAGERS)
@require_POST
def assignment_end(request: HttpRequest, grid_id: int, assignment_id: int) -> HttpResponse:
    user = staff_user(request)
    grid = selectors.grid_get_for_manage(user, grid_id)
    assignment = (
        Assignment.objects.select_related("staff", "role", "grid").filter(pk=assignment_id, grid=grid).first()
    )
    if assignment is None:
        return redirect("people:grid_staff", grid_id=grid.pk)
    form = EndForm(request.POST, prefix=f"end{assignment.pk}")
    error = ""
    if form.is_valid():
        try:
            services.assignment_end(
                actor=user,
                assignment=assignment,
                end=form.cleaned_data["end_date"],
                reason=form.cleaned_data["reason"],
            )
        except Invalid as exc:
            put_errors(form, exc.errors)
        except Conflict as exc:
            error = exc.message
        else:
            messages.success(request, f"已登记离任：{assignment.staff.name}（{assignment.role.name}）")
            return redirect("people:grid_staff", grid_id=grid.pk)
    context = _staff_context(request, grid.pk, end_forms={assignment.pk: form}, error=error)
    context["open_end"] = assignment.pk
    return render(request, "people/grid_staff.html", context, status=422)


# --- staff list ----------------------------------------------------------------------------------------


@staff_page(*RESIDENT_READERS)
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = SearchForm(request.GET or None)
    grid_id = form.value("grid") if form.is_bound else None
    show_all = request.GET.get("all") == "1"
    qs = selectors.staff_list(user, query=form.value("q") or "", grid_id=grid_id, current_only=not show_all)
    context = {
        "form": form,
        "page": _page(request, qs),
        "base_query": _query_without_page(request),
        "show_all": show_all,
        "can_unmask": selectors.role_of(user) in selectors.MANAGING_ROLES,
        "can_manage": selectors.role_of(user) in selectors.MANAGING_ROLES,
        "grid": selectors.grid_get_for_user(user, grid_id) if grid_id else None,
    }
    return render(request, "people/staff_list.html", context)


@staff_page(*MANAGERS)
@require_POST
def staff_unmask(request: HttpRequest, staff_id: int) -> HttpResponse:
    staff = services.staff_unmask(actor=staff_user(request), staff_id=staff_id)
    return _unmasked(request, staff, "s", reverse("people:staff_list"))


def _unmasked(request: HttpRequest, person: Staff | Resident, kind: str, back: str) -> HttpResponse:
    return _revealed(
        request,
        kind=kind,
        pk=person.pk,
        name=person.name,
        id_number=person.id_number,
        phone=person.phone,
        back=back,
    )


def _revealed(
    request: HttpRequest, *, kind: str, pk: int, name: str, id_number: str | None, phone: str, back: str
) -> HttpResponse:
    """The revealed numbers: a fragment filling them in place of the masked ones (htmx), or a small
    page without JavaScript. ``id_number`` None: the record has none (a place's contact)."""
    context = {"pk": pk, "kind": kind, "name": name, "id_number": id_number, "phone": phone, "back": back}
    template = "people/_unmasked.html" if is_htmx(request) else "people/unmasked.html"
    return render(request, template, context)


# --- residents -----------------------------------------------------------------------------------------


def _tag_choices() -> list[tuple[str, str]]:
    return [(str(t.pk), f"{t.get_group_display()}·{t.name}") for t in Tag.objects.filter(active=True)]


@staff_page(*RESIDENT_READERS)
@require_GET
def resident_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = SearchForm(request.GET or None, tags=_tag_choices())
    tag_id = _int(form.value("tag")) if form.is_bound else None
    grid_id = form.value("grid") if form.is_bound else None
    qs = selectors.resident_list(user, query=form.value("q") or "", grid_id=grid_id, tag_id=tag_id)
    context = {
        "form": form,
        "page": _page(request, qs),
        "base_query": _query_without_page(request),
        "can_unmask": selectors.role_of(user) in selectors.UNMASKING_ROLES,
    }
    return render(request, "people/resident_list.html", context)


def _active_tags() -> list[Tag]:
    return list(Tag.objects.filter(active=True))


def _resident_context(
    request: HttpRequest,
    resident: Resident,
    *,
    add_form: TagAddForm | None = None,
    end_forms: dict[int, TagEndForm] | None = None,
    error: str = "",
) -> dict[str, Any]:
    user = staff_user(request)
    current = list(resident.tags.all())
    held = {rt.tag_id for rt in current}
    today = local_today().isoformat()
    end_forms = end_forms or {}
    return {
        "resident": resident,
        "tags": current,
        "tag_rows": [
            (rt, end_forms.get(rt.pk) or TagEndForm(initial={"ended_on": today}, prefix=f"end{rt.pk}"))
            for rt in current
        ],
        "tag_history": list(selectors.resident_tag_history(resident)),
        "add_form": add_form
        or TagAddForm(tags=_active_tags(), held=held, initial={"since": today, "level": "normal"}),
        "tag_error": error,
        "visits": selectors.resident_visits(resident)[:50],
        "can_unmask": selectors.role_of(user) in selectors.UNMASKING_ROLES,
        "can_visit": selectors.role_of(user) in VISITORS,
        "can_tag": selectors.role_of(user) in services.RESIDENT_WRITERS,
    }


@staff_page(*RESIDENT_READERS)
@require_GET
def resident_detail(request: HttpRequest, resident_id: int) -> HttpResponse:
    resident = selectors.resident_get_for_user(staff_user(request), resident_id)
    return render(request, "people/resident_detail.html", _resident_context(request, resident))


@staff_page(*VISITORS)
@require_POST
def resident_tag_add(request: HttpRequest, resident_id: int) -> HttpResponse:
    user = staff_user(request)
    resident = selectors.resident_get_for_user(user, resident_id)
    form = TagAddForm(request.POST, tags=_active_tags(), held={rt.tag_id for rt in resident.tags.all()})
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            added = services.resident_tag_add(
                actor=user,
                resident=resident,
                tag=data["tag"],
                level=data["level"],
                since=data["since"],
                note=data["note"],
            )
        except Invalid as exc:
            put_errors(form, exc.errors)
        except Conflict as exc:
            error = exc.message
        else:
            messages.success(
                request, f"已为{resident.name}添加标签：{added.tag.name}（{added.get_level_display()}）"
            )
            return redirect("people:resident_detail", resident_id=resident.pk)
    context = _resident_context(request, resident, add_form=form, error=error)
    return render(request, "people/resident_detail.html", context, status=422)


@staff_page(*VISITORS)
@require_POST
def resident_tag_end(request: HttpRequest, resident_id: int, resident_tag_id: int) -> HttpResponse:
    user = staff_user(request)
    resident = selectors.resident_get_for_user(user, resident_id)
    resident_tag = selectors.resident_tag_get(resident, resident_tag_id)
    form = TagEndForm(request.POST, prefix=f"end{resident_tag.pk}")
    error = ""
    if form.is_valid():
        try:
            services.resident_tag_end(
                actor=user,
                resident_tag=resident_tag,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["reason"],
            )
        except Invalid as exc:
            put_errors(form, exc.errors)
        except Conflict as exc:
            error = exc.message
        else:
            messages.success(request, f"已结束{resident.name}的标签：{resident_tag.tag.name}")
            return redirect("people:resident_detail", resident_id=resident.pk)
    context = _resident_context(request, resident, end_forms={resident_tag.pk: form}, error=error)
    context["open_end"] = resident_tag.pk
    return render(request, "people/resident_detail.html", context, status=422)


@staff_page(*RESIDENT_READERS)
@require_POST
def resident_unmask(request: HttpRequest, resident_id: int) -> HttpResponse:
    resident = services.resident_unmask(actor=staff_user(request), resident_id=resident_id)
    back = reverse("people:resident_detail", args=[resident.pk])
    return _unmasked(request, resident, "r", back)


# --- the register: households, rental houses, business premises, key places ----------------------------


def _register_list(
    request: HttpRequest, template: str, form: RegisterFilterForm, qs: Any, **extra: Any
) -> HttpResponse:
    user = staff_user(request)
    grid_id = form.value("grid")
    context = {
        "form": form,
        "page": _page(request, qs),
        "base_query": _query_without_page(request),
        "grid_options": lookups.grid_options(user, selected_id=grid_id),
        "selected_grid": grid_id,
        "can_unmask": selectors.role_of(user) in selectors.UNMASKING_ROLES,
        **extra,
    }
    return render(request, template, context)


@staff_page(*RESIDENT_READERS)
@require_GET
def household_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = HouseholdFilterForm(request.GET, user=user)
    qs = selectors.household_list(user, **form.selector_kwargs())
    return _register_list(request, "people/household_list.html", form, qs)


@staff_page(*RESIDENT_READERS)
@require_GET
def household_detail(request: HttpRequest, household_id: int) -> HttpResponse:
    user = staff_user(request)
    household = selectors.household_get_for_user(user, household_id)
    context = {
        "household": household,
        "members": list(selectors.household_members(household)),
        "visits": selectors.household_visits(household)[:50],
        "can_unmask": selectors.role_of(user) in selectors.UNMASKING_ROLES,
    }
    return render(request, "people/household_detail.html", context)


@staff_page(*RESIDENT_READERS)
@require_GET
def rental_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = RentalFilterForm(request.GET, user=user)
    qs = selectors.rental_house_list(user, **form.selector_kwargs())
    return _register_list(request, "people/rental_list.html", form, qs)


@staff_page(*RESIDENT_READERS)
@require_GET
def business_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = BusinessFilterForm(request.GET, user=user)
    qs = selectors.business_list(user, **form.selector_kwargs())
    return _register_list(request, "people/business_list.html", form, qs)


@staff_page(*RESIDENT_READERS)
@require_GET
def key_place_list(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    form = KeyPlaceFilterForm(request.GET, user=user)
    qs = selectors.key_place_list(user, **form.selector_kwargs())
    return _register_list(request, "people/key_place_list.html", form, qs)


def _place_detail(
    request: HttpRequest, place: RentalHouse | BusinessPremise | KeyPlace, template: str
) -> HttpResponse:
    context = {
        "place": place,
        "can_unmask": selectors.role_of(staff_user(request)) in selectors.UNMASKING_ROLES,
    }
    return render(request, template, context)


@staff_page(*RESIDENT_READERS)
@require_GET
def rental_detail(request: HttpRequest, house_id: int) -> HttpResponse:
    house = selectors.rental_house_get_for_user(staff_user(request), house_id)
    return _place_detail(request, house, "people/rental_detail.html")


@staff_page(*RESIDENT_READERS)
@require_GET
def business_detail(request: HttpRequest, business_id: int) -> HttpResponse:
    business = selectors.business_get_for_user(staff_user(request), business_id)
    return _place_detail(request, business, "people/business_detail.html")


@staff_page(*RESIDENT_READERS)
@require_GET
def key_place_detail(request: HttpRequest, place_id: int) -> HttpResponse:
    place = selectors.key_place_get_for_user(staff_user(request), place_id)
    return _place_detail(request, place, "people/key_place_detail.html")


@staff_page(*RESIDENT_READERS)
@require_POST
def rental_unmask(request: HttpRequest, house_id: int) -> HttpResponse:
    house = services.rental_house_unmask(actor=staff_user(request), house_id=house_id)
    back = reverse("people:rental_detail", args=[house.pk])
    name = f"{house.address} · 房东{house.landlord_name}"
    return _revealed(
        request, kind="rh", pk=house.pk, name=name, id_number=None, phone=house.landlord_phone, back=back
    )


@staff_page(*RESIDENT_READERS)
@require_POST
def business_unmask(request: HttpRequest, business_id: int) -> HttpResponse:
    business = services.business_unmask(actor=staff_user(request), business_id=business_id)
    back = reverse("people:business_detail", args=[business.pk])
    name = f"{business.name} · {business.contact_name or '联系人'}"
    return _revealed(
        request, kind="bp", pk=business.pk, name=name, id_number=None, phone=business.contact_phone, back=back
    )


@staff_page(*RESIDENT_READERS)
@require_POST
def key_place_unmask(request: HttpRequest, place_id: int) -> HttpResponse:
    place = services.key_place_unmask(actor=staff_user(request), place_id=place_id)
    back = reverse("people:key_place_detail", args=[place.pk])
    name = f"{place.name} · {place.contact_name or '联系人'}"
    return _revealed(
        request, kind="kp", pk=place.pk, name=name, id_number=None, phone=place.contact_phone, back=back
    )


# --- visits --------------------------------------------------------------------------------------------


@staff_page(Role.GRIDWORKER)
@require_GET
def visits(request: HttpRequest) -> HttpResponse:
    today = local_today()
    items = selectors.visits_due(staff_user(request), today)
    context = {
        "items": [i for i in items if i.status.state != "done"],
        "done": [i for i in items if i.status.state == "done"],
        "counts": selectors.visit_state_counts(items),
        "week": week_label(week_start(today)),
        "today": today,
    }
    return render(request, "people/visits.html", context)


@staff_page(*VISITORS)
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, resident_id: int) -> HttpResponse:
    user = staff_user(request)
    resident = selectors.resident_get_for_user(user, resident_id)
    status = 200
    if request.method == "POST":
        form = VisitForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                visit = services.visit_log(actor=user, data=form.visit_input(resident.pk))
            except Invalid as exc:
                put_errors(form, exc.errors, {"resident": "found"})
            else:
                note = f"，已上报事件 {visit.raised_case.number}" if visit.raised_case else ""
                messages.success(request, f"已记录对{resident.name}的走访{note}")
                target = (
                    "people:visits"
                    if selectors.role_of(user) == Role.GRIDWORKER
                    else "people:resident_detail"
                )
                if target == "people:visits":
                    return redirect(target)
                return redirect(target, resident_id=resident.pk)
        status = 422
    else:
        form = VisitForm()
    context = {
        "resident": resident,
        "tags": list(resident.tags.all()),
        "form": form,
        "last_visit": selectors.resident_visits(resident).first(),
        "quick_texts": QUICK_TEXTS,
        "can_unmask": selectors.role_of(user) in selectors.UNMASKING_ROLES,
    }
    return render(request, "people/visit_form.html", context, status=status)


@staff_page(*SUPERVISORS)
@require_GET
def compliance(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    today = local_today()
    weeks = recent_weeks(today)
    try:
        # By default the last complete week: the current one is still running.
        monday = date.fromisoformat(request.GET.get("week", "")) if request.GET.get("week") else weeks[1]
    except ValueError:
        monday = weeks[1]
    monday = week_start(monday)
    town_id = _int(request.GET.get("town"))
    report = selectors.visit_compliance(user, monday, town_id=town_id)
    context = {
        "report": report,
        "weeks": [(m, week_label(m)) for m in weeks],
        "monday": monday,
        "week": week_label(monday),
        "towns": list(selectors.towns_for_user(user).order_by("code")),
        "town_id": town_id,
        "staff_url": reverse("people:staff_list"),
        "can_manage": selectors.role_of(user) in selectors.MANAGING_ROLES,
    }
    return render(request, "people/compliance.html", context)


@staff_page(*RESIDENT_READERS)
@require_GET
def visit_photo(request: HttpRequest, visit_id: int) -> FileResponse:
    """A visit's photo (people in their homes): only for staff whose grids hold the visit."""
    visit = get_object_or_404(selectors.visits_for_user(staff_user(request)), pk=visit_id)
    return private_file_response(visit.photo)
