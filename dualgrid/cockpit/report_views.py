"""预警 and 每日报告 pages: thin over ``warnings`` and ``report``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from dualgrid.accounts.models import User
from dualgrid.lib.errors import Conflict, Invalid
from dualgrid.web.views import staff_page

from . import warnings
from .models import WarningLevel, WarningStatus
from .selectors import COCKPIT_ROLES


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@staff_page(*COCKPIT_ROLES)
@require_GET
def warning_list(request: HttpRequest) -> HttpResponse:
    qs = warnings.warnings_for_user(_user(request))
    level = request.GET.get("level", "")
    status = request.GET.get("status", "active")
    if level in WarningLevel.values:
        qs = qs.filter(level=level)
    if status == "active":
        qs = qs.filter(status__in=[WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED])
    elif status in WarningStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.annotate(n_cases=Count("cases")), 50).get_page(request.GET.get("page"))
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
    user = _user(request)
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
        warnings.warning_acknowledge(actor=_user(request), warning_id=warning_id)
        messages.success(request, "已确认预警")
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("cockpit:warning_detail", warning_id)


@staff_page(*COCKPIT_ROLES)
@require_POST
def warning_close(request: HttpRequest, warning_id: int) -> HttpResponse:
    try:
        warnings.warning_close(actor=_user(request), warning_id=warning_id, note=request.POST.get("note", ""))
        messages.success(request, "预警已关闭")
    except Invalid as exc:
        messages.error(request, "；".join(exc.errors.values()))
    except Conflict as exc:
        messages.error(request, exc.message)
    return redirect("cockpit:warning_detail", warning_id)
