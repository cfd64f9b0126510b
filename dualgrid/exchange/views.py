"""Excel pages: upload an import, follow its job, download templates and error reports, export lists.

Views parse input, call a service or selector and render; NotFound/Forbidden become 404/403 pages
through ``staff_page``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from dualgrid.accounts.models import Role, User
from dualgrid.accounts.services import audit_record
from dualgrid.cases import selectors as case_selectors
from dualgrid.lib.errors import Invalid, NotFound
from dualgrid.people import selectors as people_selectors
from dualgrid.people.forms import (
    BusinessFilterForm,
    HouseholdFilterForm,
    KeyPlaceFilterForm,
    RentalFilterForm,
)
from dualgrid.people.visit_rules import local_today, week_label, week_start
from dualgrid.places import selectors as place_selectors
from dualgrid.places.forms import grid_filter_form
from dualgrid.web import lookups
from dualgrid.web.forms import CaseFilterForm
from dualgrid.web.views import is_htmx, staff_page, staff_user

from . import exports, selectors, services
from .blanks import build_template, sheet_title
from .importers import IMPORTERS
from .models import ImportJob

IMPORTERS_ROLES = (Role.ADMIN, Role.DISPATCHER)
RESIDENT_READERS = (Role.ADMIN, Role.DISPATCHER, Role.LEADER, Role.GRIDWORKER)
STAFF_READERS = (Role.ADMIN, Role.DISPATCHER, Role.LEADER)
RECENT_JOBS = 10


def _kinds_for(user: User) -> list[tuple[str, str]]:
    is_admin = user.is_superuser or user.role == Role.ADMIN
    return [(kind, cls.label) for kind, cls in IMPORTERS.items() if is_admin or not cls.admin_only]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="导入内容")
    file = forms.FileField(
        label="Excel文件（.xlsx）",
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
        error_messages={"required": "请选择要上传的Excel文件"},
    )

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]


@staff_page(*IMPORTERS_ROLES)
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    kinds = _kinds_for(user)
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES, kinds=kinds)
        if form.is_valid():
            try:
                job = services.importjob_create(
                    user=user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
                )
            except Invalid as exc:
                form.add_error("file", exc.errors.get("file", exc.message))
            else:
                if services.importjob_is_small(job):
                    services.importjob_process(job_id=job.pk)
                return redirect("exchange:job", job_id=job.pk)
        status = 422
    else:
        initial = request.GET.get("kind", "")
        form = UploadForm(initial={"kind": initial} if initial in IMPORTERS else None, kinds=kinds)
    context = {
        "form": form,
        "kinds": [
            (kind, label, "、".join(c.header for c in IMPORTERS[kind].columns if c.required))
            for kind, label in kinds
        ],
        "jobs": selectors.importjobs_for_user(user)[:RECENT_JOBS],
        "max_mb": services.import_max_bytes() // (1024 * 1024),
    }
    return render(request, "exchange/import.html", context, status=status)


def _job_context(job: ImportJob) -> dict[str, Any]:
    cls = IMPORTERS.get(job.kind)
    return {
        "job": job,
        "label": cls.label if cls else job.kind,
        "more_errors": job.error_count - len(job.errors),
    }


@staff_page(*IMPORTERS_ROLES)
@require_GET
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.importjob_get_for_user(staff_user(request), job_id)
    template = "exchange/_job_status.html" if is_htmx(request) else "exchange/job.html"
    return render(request, template, _job_context(job))


@staff_page(*IMPORTERS_ROLES)
@require_GET
def job_report(request: HttpRequest, job_id: int) -> HttpResponse:
    user = staff_user(request)
    job = selectors.importjob_get_for_user(user, job_id)
    if not job.error_report:
        raise NotFound("该任务没有错误报告")
    audit_record(user=user, action="download", obj=job, detail=f"下载导入错误报告《{job.original_name}》")
    name = f"错误报告-{job.original_name.rsplit('.', 1)[0]}.xlsx"
    with job.error_report.open("rb") as report:
        response = HttpResponse(report.read(), content_type=exports.XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "no-store"
    return response


@staff_page()
@require_GET
def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    cls = services.importer_class(kind)
    response = HttpResponse(build_template(cls), content_type=exports.XLSX_TYPE)
    name = f"{sheet_title(cls)}导入模板.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


# --- exports ---------------------------------------------------------------------------------------


def _unmasked(request: HttpRequest) -> bool:
    return request.GET.get("unmasked") == "1"


def _refused(request: HttpRequest, exc: Invalid, back: str) -> HttpResponse:
    messages.error(request, exc.message)
    return redirect(f"{back}?{request.GET.urlencode()}" if request.GET else back)


@staff_page()
@require_GET
def export_cases(request: HttpRequest) -> HttpResponse:
    """The case list (/cases/) with the same query parameters, as .xlsx."""
    user = staff_user(request)
    form = CaseFilterForm(request.GET or None, categories=lookups.category_choices())
    filters = form.selector_kwargs()
    qs = case_selectors.case_list(user, **filters).select_related("category")
    return _export(
        request, exports.CASE_COLUMNS, qs, "事件列表.xlsx", "cases.Case", filters, back="web:case_list"
    )


@staff_page(*RESIDENT_READERS)
@require_GET
def export_residents(request: HttpRequest) -> HttpResponse:
    """The resident list (/people/residents/) with the same query parameters (q, grid, tag)."""
    user = staff_user(request)
    query, grid_id, tag_id = (
        request.GET.get("q", ""),
        _int(request.GET.get("grid")),
        _int(request.GET.get("tag")),
    )
    filters = {"query": query, "grid_id": grid_id, "tag_id": tag_id}
    qs = people_selectors.resident_list(user, query=query, grid_id=grid_id, tag_id=tag_id)
    return _export(
        request,
        exports.RESIDENT_COLUMNS,
        qs,
        "实有人口.xlsx",
        "people.Resident",
        filters,
        back="people:resident_list",
    )


@staff_page(*STAFF_READERS)
@require_GET
def export_staff(request: HttpRequest) -> HttpResponse:
    """The staff list (/people/staff/) with the same query parameters (q, grid, all)."""
    user = staff_user(request)
    query, grid_id, current_only = (
        request.GET.get("q", ""),
        _int(request.GET.get("grid")),
        request.GET.get("all") != "1",
    )
    filters = {"query": query, "grid_id": grid_id, "current_only": current_only}
    qs = people_selectors.staff_list(user, query=query, grid_id=grid_id, current_only=current_only)
    return _export(
        request, exports.STAFF_COLUMNS, qs, "网格人员.xlsx", "people.Staff", filters, back="people:staff_list"
    )


@staff_page(*RESIDENT_READERS)
@require_GET
def export_households(request: HttpRequest) -> HttpResponse:
    """The household list (/people/households/) with the same query parameters (q, town, grid)."""
    user = staff_user(request)
    filters = HouseholdFilterForm(request.GET, user=user).selector_kwargs()
    qs = people_selectors.household_list(user, **filters, with_members=True)
    return _export(
        request,
        exports.HOUSEHOLD_COLUMNS,
        qs,
        "户.xlsx",
        "people.Household",
        filters,
        back="people:household_list",
    )


@staff_page(*RESIDENT_READERS)
@require_GET
def export_rentals(request: HttpRequest) -> HttpResponse:
    """The rental house list (/people/rentals/) with the same query parameters (q, town, grid)."""
    user = staff_user(request)
    filters = RentalFilterForm(request.GET, user=user).selector_kwargs()
    qs = people_selectors.rental_house_list(user, **filters)
    return _export(
        request,
        exports.RENTAL_COLUMNS,
        qs,
        "出租房.xlsx",
        "people.RentalHouse",
        filters,
        back="people:rental_list",
    )


@staff_page(*RESIDENT_READERS)
@require_GET
def export_businesses(request: HttpRequest) -> HttpResponse:
    """The business premise list (/people/businesses/) with the same query parameters (q, town, grid, kind)."""
    user = staff_user(request)
    filters = BusinessFilterForm(request.GET, user=user).selector_kwargs()
    qs = people_selectors.business_list(user, **filters)
    return _export(
        request,
        exports.BUSINESS_COLUMNS,
        qs,
        "经营场所.xlsx",
        "people.BusinessPremise",
        filters,
        back="people:business_list",
    )


@staff_page(*RESIDENT_READERS)
@require_GET
def export_key_places(request: HttpRequest) -> HttpResponse:
    """The key place list (/people/key-places/) with the same query parameters (q, town, grid, kind)."""
    user = staff_user(request)
    filters = KeyPlaceFilterForm(request.GET, user=user).selector_kwargs()
    qs = people_selectors.key_place_list(user, **filters)
    return _export(
        request,
        exports.KEY_PLACE_COLUMNS,
        qs,
        "重点场所.xlsx",
        "people.KeyPlace",
        filters,
        back="people:key_place_list",
    )


@staff_page(Role.GRIDWORKER)
@require_GET
def export_visits(request: HttpRequest) -> HttpResponse:
    """This week's visit list (/people/visits/), overdue first, as the grid worker's phone shows it."""
    user = staff_user(request)
    today = local_today()
    items = people_selectors.visits_due(user, today)
    filters = {"week": week_label(week_start(today))}
    return _export(
        request,
        exports.VISIT_DUE_COLUMNS,
        items,
        "本周走访.xlsx",
        "people.Visit",
        filters,
        back="people:visits",
    )


@staff_page()
@require_GET
def export_grids(request: HttpRequest) -> HttpResponse:
    """The grid list (/places/grids/) with the same query parameters (town, village, tier, kind, has_group, q)."""
    user = staff_user(request)
    filters = grid_filter_form(request.GET, user).selector_kwargs()
    qs = place_selectors.grid_list(user, **filters)
    return _export(
        request, exports.GRID_COLUMNS, qs, "网格.xlsx", "places.Grid", filters, back="places:grid_list"
    )


@staff_page()
@require_GET
def export_chat_groups(request: HttpRequest) -> HttpResponse:
    """The chat groups behind the coverage page (/places/coverage/), of one town when it shows one."""
    user = staff_user(request)
    town_id = _int(request.GET.get("town"))
    town = place_selectors.towns_in_scope(user).filter(pk=town_id).first() if town_id else None
    filters = {"town_id": town.pk if town else None}
    qs = place_selectors.coverage_groups(user, **filters)
    return _export(
        request,
        exports.CHAT_GROUP_COLUMNS,
        qs,
        "网格群.xlsx",
        "places.ChatGroup",
        filters,
        back="places:coverage",
    )


def _export(
    request: HttpRequest,
    spec: Any,
    qs: Any,
    filename: str,
    object_type: str,
    filters: dict[str, Any],
    *,
    back: str,
) -> HttpResponse:
    """One list as .xlsx (masked unless asked and allowed; audited), or back to the list with the reason."""
    try:
        return exports.export_xlsx(
            user=staff_user(request),
            rows_spec=spec,
            queryset=qs,
            filename=filename,
            object_type=object_type,
            filters=filters,
            unmasked=_unmasked(request),
        )
    except Invalid as exc:
        return _refused(request, exc, reverse(back))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
