"""预警 and 每日报告 pages: thin over ``warnings`` and ``report``."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dualgrid.accounts.models import User
from dualgrid.lib.errors import Conflict, Invalid, NotFound
from dualgrid.web.views import staff_page, staff_user

from . import figures, report, selectors, warnings
from .models import DailyReport, Level, WarningLevel, WarningStatus
from .selectors import COCKPIT_ROLES


@staff_page(*COCKPIT_ROLES)
@require_GET
def warning_list(request: HttpRequest) -> HttpResponse:
    qs = warnings.warnings_for_user(staff_user(request))
    level = request.GET.get("level", "")
    status = request.GET.get("status", "active")
    if level in WarningLevel.values:
        qs = qs.filter(level=level)
    if status == "active":
        qs = qs.filter(status__in=[WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED])
    elif status in WarningStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.annotate(n_cases=Count("cases")).order_by("-raised_at", "-id"), 50).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "cockpit/warning_list.html",
        {
            "page": page,
            "level": level,
            "status": status,
            "levels": WarningLevel.choices,
            "statuses": [("active", "未关闭"), *WarningStatus.choices, ("all", "全部")],
            "base_query": urlencode({"level": level, "status": status}),
        },
    )


@staff_page(*COCKPIT_ROLES)
@require_GET
def warning_detail(request: HttpRequest, warning_id: int) -> HttpResponse:
    user = staff_user(request)
    warning = warnings.warning_get_for_user(user, warning_id)
    cases = warning.cases.select_related("category", "grid", "assigned_grid", "assigned_department").order_by(
        "-created_at"
    )
    return render(
        request,
        "cockpit/warning_detail.html",
        {"w": warning, "cases": cases, "can_act": warnings.can_act(user, warning)},
    )


@staff_page(*COCKPIT_ROLES)
@require_POST
def warning_acknowledge(request: HttpRequest, warning_id: int) -> HttpResponse:
    try:
        warnings.warning_acknowledge(actor=staff_user(request), warning_id=warning_id)
        messages.success(request, "已确认预警")
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("cockpit:warning_detail", warning_id)


@staff_page(*COCKPIT_ROLES)
@require_POST
def warning_close(request: HttpRequest, warning_id: int) -> HttpResponse:
    try:
        warnings.warning_close(
            actor=staff_user(request), warning_id=warning_id, note=request.POST.get("note", "")
        )
        messages.success(request, "预警已关闭")
    except Invalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("cockpit:warning_detail", warning_id)


# --- the daily report ------------------------------------------------------------------------------


@staff_page(*COCKPIT_ROLES)
@require_http_methods(["GET", "POST"])
def report_list(request: HttpRequest) -> HttpResponse:
    """The archive of one place (default: the user's own unit), and a form to generate any past date."""
    user = staff_user(request)
    place = selectors.place_get_for_user(user, request.POST.get("place") or request.GET.get("place"))
    yesterday = figures.today() - timedelta(days=1)
    if request.method == "POST":
        try:
            day = date.fromisoformat(request.POST.get("day", ""))
        except ValueError:
            messages.error(request, "请选择报告日期")
        else:
            if day > yesterday:
                messages.error(request, "只能生成昨天及以前的报告")
            else:
                try:
                    saved, _ = report.report_generate(place, day, replace=True)
                except report.FiguresNotReady as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(request, f"已生成 {saved.name} {saved.day} 的报告")
        return redirect(f"{reverse('cockpit:reports')}?place={place.token}")
    archive = DailyReport.objects.filter(level=place.level, unit_id=place.id).only(
        "id", "name", "day", "generated_at", "level", "unit_id"
    )
    return render(
        request,
        "cockpit/report_list.html",
        {
            "place": place,
            "trail": selectors.place_trail(user, place),
            "children": selectors.children(place) if place.level != Level.GRID else [],
            "page": Paginator(archive, 31).get_page(request.GET.get("page")),
            "base_query": urlencode({"place": place.token}),
            "yesterday": yesterday,
            "report_time": settings.DUALGRID["REPORT_TIME"],
        },
    )


def _report_for_user(user: User, report_id: int) -> DailyReport:
    saved = DailyReport.objects.filter(pk=report_id).first()
    if saved is None:
        raise NotFound("报告不存在或不在您的管辖范围内", code="not_found")
    selectors.place_get_for_user(user, saved.token)  # raises NotFound outside the user's scope
    return saved


@staff_page(*COCKPIT_ROLES)
@require_GET
def report_download(request: HttpRequest, report_id: int, fmt: str) -> HttpResponse:
    saved = _report_for_user(staff_user(request), report_id)
    if fmt == "pdf":
        content, mime = bytes(saved.pdf), "application/pdf"
    else:
        content, mime = bytes(saved.xlsx), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(content, content_type=mime)
    filename = quote(f"{saved.name}每日报告{saved.day}.{fmt}")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response
