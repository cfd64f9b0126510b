"""晾晒 page and the big screen: thin over ``rankings`` and ``screen``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dualgrid.web.views import staff_page, staff_user

from . import rankings, screen, selectors
from .selectors import COCKPIT_ROLES, WARNING_LABELS
from .views import _period_context


@staff_page(*COCKPIT_ROLES)
@require_GET
def rankings_page(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    place = selectors.place_get_for_user(user, request.GET.get("place"))
    period, shown = _period_context(request, user, place)
    sort = request.GET.get("by", rankings.DEFAULT_SORT)
    data = rankings.rankings(user, place, period, kind=request.GET.get("kind", ""), sort=sort)
    context: dict[str, Any] = {**data, **shown, "under_sample": rankings.UNDER_SAMPLE}
    return render(request, "cockpit/rankings.html", context)


@staff_page(*COCKPIT_ROLES)
@require_GET
def screen_page(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    place = selectors.place_get_for_user(user, request.GET.get("place"))
    query = f"?place={place.token}"
    context = {
        "place": place,
        "warning_labels": WARNING_LABELS,
        "summary_url": reverse("cockpit:screen_summary") + query,
        "feed_url": reverse("cockpit:screen_feed") + query,
        "map_url": reverse("cockpit:map") + query,
    }
    return render(request, "cockpit/screen.html", context)


@never_cache
@staff_page(*COCKPIT_ROLES)
@require_GET
def screen_summary(request: HttpRequest) -> JsonResponse:
    # A wall screen polls this all day: each poll renews the session (sliding expiry), so a screen
    # that is running stays signed in; a closed one expires after SESSION_COOKIE_AGE as any other.
    request.session.modified = True
    user = staff_user(request)
    place = selectors.place_get_for_user(user, request.GET.get("place"))
    return JsonResponse(screen.summary(user, place), json_dumps_params={"ensure_ascii": False})


@never_cache
@staff_page(*COCKPIT_ROLES)
@require_GET
def screen_feed(request: HttpRequest) -> JsonResponse:
    user = staff_user(request)
    place = selectors.place_get_for_user(user, request.GET.get("place"))
    return JsonResponse(
        {
            "place": place.token,
            "cases": screen.feed(user, place),
            "case_url": reverse("web:case_detail", args=[0]),
        },
        json_dumps_params={"ensure_ascii": False},
    )
