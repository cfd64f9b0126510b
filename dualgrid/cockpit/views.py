"""驾驶舱 pages and their JSON: thin over ``selectors`` and ``figures``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dualgrid.accounts.models import User
from dualgrid.web.views import staff_page, staff_user

from . import figures, selectors
from .indicators import Period
from .selectors import COCKPIT_ROLES, WARNING_LABELS

MAX_DAYS = 3 * 366


def _period(request: HttpRequest) -> tuple[Period, str]:
    """The period asked for: ``from``/``to`` (local dates, at most three years), else a preset."""
    try:
        first = date.fromisoformat(request.GET.get("from", ""))
        last = date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        pass
    else:
        if first <= last and (last - first).days < MAX_DAYS:
            return Period(first, last), "custom"
    preset = request.GET.get("period", "month")
    if preset not in figures.PRESETS:
        preset = "month"
    return figures.preset_period(preset), preset


def _period_context(
    request: HttpRequest, user: User, place: selectors.Place
) -> tuple[Period, dict[str, Any]]:
    """The period asked for and what the cockpit's pages show about it (trail, presets, the query
    string that keeps it in their links)."""
    period, preset = _period(request)
    period_query = f"from={period.first}&to={period.last}" if preset == "custom" else f"period={preset}"
    return period, {
        "place": place,
        "trail": selectors.place_trail(user, place),
        "period": period,
        "preset": preset,
        "presets": figures.PRESETS.items(),
        "period_query": period_query,
        "today": figures.today(),
    }


@staff_page(*COCKPIT_ROLES)
@require_GET
def cockpit(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    place = selectors.place_get_for_user(user, request.GET.get("place"))
    period, shown = _period_context(request, user, place)
    context: dict[str, Any] = {
        **shown,
        "data": figures.figures(user, place, period),
        "earliest": figures.today() - timedelta(days=MAX_DAYS - 1),
        "warning_labels": WARNING_LABELS,
        "map_url": f"{reverse('cockpit:map')}?place={place.token}",
    }
    return render(request, "cockpit/cockpit.html", context)


@staff_page(*COCKPIT_ROLES)
@require_GET
def figures_json(request: HttpRequest) -> JsonResponse:
    user = staff_user(request)
    place = selectors.place_get_for_user(user, request.GET.get("place"))
    period, _ = _period(request)
    return JsonResponse(figures.figures(user, place, period), json_dumps_params={"ensure_ascii": False})


@staff_page(*COCKPIT_ROLES)
@require_GET
def map_json(request: HttpRequest) -> JsonResponse:
    """The grids of the place with their open/overdue cases and warning colour (polygons come from
    /geo/grids.geojson, cached and shared with the other maps)."""
    user = staff_user(request)
    place = selectors.place_get_for_user(user, request.GET.get("place"))
    grids = selectors.grid_states(user, place)
    counts = {level: 0 for level in selectors.WARNING_LEVELS}
    for grid in grids:
        counts[grid["level"]] += 1
    return JsonResponse(
        {
            "place": place.token,
            "thresholds": {
                "open": list(settings.DUALGRID["COCKPIT_OPEN_THRESHOLDS"]),
                "overdue": list(settings.DUALGRID["COCKPIT_OVERDUE_THRESHOLDS"]),
            },
            "counts": counts,
            "labels": WARNING_LABELS,
            # The grid page of grid <id>: replace the 0 (one template, not 10,000 URLs).
            "grid_url": reverse("places:grid_detail", args=[0]),
            "grids": grids,
        },
        json_dumps_params={"ensure_ascii": False},
    )
