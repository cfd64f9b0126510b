"""The cockpit's figures for one place and period, as plain data: the page renders it and
``/cockpit/figures.json`` returns it. Every number carries the /cases/ link that lists what is behind it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from dualgrid.cases.models import Channel, Status

from . import indicators as ind
from . import selectors
from .models import Dim, Level
from .selectors import Place

TOP_N = 10
PRESETS = {
    "today": "今日",
    "yesterday": "昨日",
    "7d": "近7天",
    "month": "本月",
    "last_month": "上月",
    "year": "本年",
}


def today() -> date:
    return timezone.localdate()


def preset_period(name: str, *, on: date | None = None) -> ind.Period:
    day = on or today()
    if name == "today":
        return ind.Period(day, day)
    if name == "yesterday":
        return ind.Period(day - timedelta(days=1), day - timedelta(days=1))
    if name == "7d":
        return ind.Period(day - timedelta(days=6), day)
    if name == "last_month":
        last = day.replace(day=1) - timedelta(days=1)
        return ind.Period(last.replace(day=1), last)
    if name == "year":
        return ind.Period(day.replace(month=1, day=1), day)
    return ind.Period(day.replace(day=1), day)


def case_link(place: Place, period: ind.Period, which: str = "received", **extra: Any) -> str:
    """/cases/ listing the place's cases received (登记) or closed (结案) in the period."""
    params: dict[str, Any] = dict(place.case_filter())
    if which == "closed":
        params |= {"status": Status.CLOSED, "closed_from": period.first, "closed_to": period.last}
    else:
        params |= {"created_from": period.first, "created_to": period.last}
    params |= {k: v for k, v in extra.items() if v}
    return f"{reverse('web:case_list')}?{urlencode(params)}"


def _cards(place: Place, period: ind.Period) -> list[dict[str, Any]]:
    current = selectors.totals(place, period)
    year_ago = selectors.totals(place, ind.year_ago(period))
    before = selectors.totals(place, ind.previous(period))
    now, yoy, mom = ind.compute(current), ind.compute(year_ago), ind.compute(before)
    cards = []
    for i in ind.INDICATORS:
        yoy_change = ind.change(i.kind, now[i.key], yoy[i.key])
        mom_change = ind.change(i.kind, now[i.key], mom[i.key])
        cards.append(
            {
                "key": i.key,
                "label": i.label,
                "kind": i.kind,
                "unit": {"rate": "", "hours": "小时", "count": "件"}[i.kind],
                "value": now[i.key],
                "display": ind.display(i.kind, now[i.key]),
                "definition": i.definition,
                "yoy": yoy_change,
                "yoy_display": ind.display_change(i.kind, yoy_change),
                "yoy_class": ind.change_class(i, yoy_change),
                "mom": mom_change,
                "mom_display": ind.display_change(i.kind, mom_change),
                "mom_class": ind.change_class(i, mom_change),
                "href": case_link(place, period, i.cases),
            }
        )
    return cards


def _rate(closed: int, received: int) -> str:
    return ind.display("rate", ind.ratio(closed, received))


def figures(user: Any, place: Place, period: ind.Period) -> dict[str, Any]:
    daily = selectors.by_day(place, period)
    by_day = {day: c for day, c in daily}
    days = [period.first + timedelta(days=n) for n in range(period.days)]
    channels = selectors.by_dim(place, period, Dim.CHANNEL) if place.level != Level.GRID else {}
    tops = selectors.by_dim(place, period, Dim.TOP_CATEGORY)
    leaves = selectors.by_dim(place, period, Dim.CATEGORY) if place.level != Level.GRID else {}
    names = selectors.category_names([*tops, *leaves])
    codes = selectors.category_codes([*tops, *leaves])

    def category_rows(rows: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
        ranked = sorted(rows.items(), key=lambda kv: (-kv[1]["received"], kv[0]))[:TOP_N]
        return [
            {
                "key": key,
                "name": names.get(key, key),
                "received": c["received"],
                "closed": c["closed"],
                "completion": _rate(c["closed"], c["received"]),
                "href": case_link(place, period, category=codes.get(key, "")),
            }
            for key, c in ranked
            if c["received"] or c["closed"]
        ]

    channel_rows = [
        {
            "key": key,
            "name": Channel(key).label if key in Channel.values else key,
            "received": c["received"],
            "closed": c["closed"],
            "completion": _rate(c["closed"], c["received"]),
            "href": case_link(place, period, channel=key),
        }
        for key, c in sorted(channels.items(), key=lambda kv: -kv[1]["received"])
        if c["received"] or c["closed"]
    ]
    units = []
    for kid, c in selectors.by_children(place, period):
        values = ind.compute(c)
        units.append(
            {
                "token": kid.token,
                "name": kid.name,
                "level": Level(kid.level).label,
                "received": c["received"],
                "closed": c["closed"],
                "completion": ind.display("rate", values["completion_rate"]),
                "on_time": ind.display("rate", values["on_time_rate"]),
                "satisfaction": ind.display("rate", values["satisfaction_rate"]),
                "rework": ind.display("rate", values["rework_rate"]),
                "received_href": case_link(kid, period),
                "closed_href": case_link(kid, period, "closed"),
            }
        )
    return {
        "place": {"token": place.token, "name": place.name, "level": place.label},
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat()},
        "compare": {
            "yoy": {
                "from": ind.year_ago(period).first.isoformat(),
                "to": ind.year_ago(period).last.isoformat(),
            },
            "mom": {
                "from": ind.previous(period).first.isoformat(),
                "to": ind.previous(period).last.isoformat(),
            },
        },
        "cards": _cards(place, period),
        "daily": [
            {
                "day": d.isoformat(),
                "received": by_day.get(d, {}).get("received", 0),
                "closed": by_day.get(d, {}).get("closed", 0),
                "href": case_link(place, ind.Period(d, d)),
            }
            for d in days
        ],
        "channels": channel_rows,
        "top_categories": category_rows(tops),
        "categories": category_rows(leaves),
        "units": units,
    }
