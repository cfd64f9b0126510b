"""The big screen (大屏) of the command centre: today's figures, the town ranking and the live feed of
new and urgent cases, as plain data for ``/cockpit/screen/*.json``. The map is ``/cockpit/map.json``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from dualgrid.accounts.models import User
from dualgrid.cases.models import DeadlineState, Urgency
from dualgrid.cases.selectors import cases_for_user
from dualgrid.cases.workflow import ACTIVE_STATES
from dualgrid.lib.privacy import mask_phone

from . import figures, rankings, selectors
from . import indicators as ind
from .models import Level
from .selectors import Place

FEED_SIZE = 12
URGENT_HOURS = 24


def _in_place(place: Place) -> Q:
    if place.level == Level.GRID:
        return Q(grid_id=place.id)
    if place.county_ids:
        return Q(county_id__in=place.county_ids)
    column = {Level.COUNTY: "county_id", Level.TOWN: "town_id", Level.VILLAGE: "village_id"}.get(
        Level(place.level)
    )
    return Q(**{column: place.id}) if column else Q()


def feed(user: User, place: Place, *, size: int = FEED_SIZE) -> list[dict[str, Any]]:
    """The newest cases of the place in the user's scope, phones masked. Urgent cases still open and
    registered in the last URGENT_HOURS come first, at most half the list, so that a backlog of old
    urgent cases never hides what is coming in now."""
    cases = cases_for_user(user).filter(_in_place(place)).select_related("category", "grid")
    since = timezone.now() - timedelta(hours=URGENT_HOURS)
    open_urgent = cases.filter(
        urgency=Urgency.URGENT, status__in=sorted(ACTIVE_STATES), created_at__gte=since
    )
    urgent = list(open_urgent.order_by("-created_at", "-id")[: size // 2])
    shown = {c.pk for c in urgent}
    latest = [c for c in cases.order_by("-created_at", "-id")[: size + len(urgent)] if c.pk not in shown]
    items = []
    for case in [*urgent, *latest][:size]:
        created = timezone.localtime(case.created_at)
        items.append(
            {
                "id": case.pk,
                "number": case.number or "",
                "title": case.title,
                "category": case.category.name if case.category else "未分类",
                "urgent": case.urgency == Urgency.URGENT,
                "status": case.get_status_display(),
                "overdue": case.deadline_state == DeadlineState.OVERDUE,
                "place": case.grid.name if case.grid else (case.address or "位置未定"),
                "phone": mask_phone(case.reporter_phone),
                "time": created.strftime("%H:%M")
                if created.date() == figures.today()
                else created.strftime("%m-%d %H:%M"),
            }
        )
    return items


def overdue_now(user: User, place: Place) -> int:
    return (
        cases_for_user(user)
        .filter(_in_place(place), deadline_state=DeadlineState.OVERDUE, status__in=sorted(ACTIVE_STATES))
        .count()
    )


def summary(user: User, place: Place) -> dict[str, Any]:
    """Today's figures (Asia/Shanghai day), overdue cases now, and the ranking of the month so far."""
    today = figures.preset_period("today")
    counters = selectors.totals(place, today)
    values = ind.compute(counters)
    month = figures.preset_period("month")
    month_values = ind.compute(selectors.totals(place, month))
    table = rankings.town_ranking(user, place, month)
    rate = rankings.METRICS[table.sort]
    return {
        "place": {"token": place.token, "name": place.name},
        "day": today.first.isoformat(),
        "updated": timezone.localtime().strftime("%H:%M:%S"),
        "today": {
            "received": counters["received"],
            "closed": counters["closed"],
            "completion": ind.display("rate", values["completion_rate"]),
            # A day's 办结率 counts today's closures of older cases too (a flow): the month's beside it.
            "month_completion": ind.display("rate", month_values["completion_rate"]),
            "overdue": overdue_now(user, place),
            "received_href": figures.case_link(place, today),
            "closed_href": figures.case_link(place, today, "closed"),
        },
        "ranking": {
            "label": f"{table.label}{rate.label}排名（本月）",
            "min_volume": rankings.min_volume(),
            "rows": [
                {
                    "name": row.name,
                    "rank": row.cells[table.sort].rank,
                    "received": row.cells["received"].display,
                    "value": row.cells[table.sort].display,
                    "under_sample": row.cells[table.sort].under_sample,
                }
                for row in table.rows
            ],
        },
    }
