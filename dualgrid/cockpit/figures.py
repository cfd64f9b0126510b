"""The cockpit's figures for one place and period, as plain data: the page renders it and
``/cockpit/figures.json`` returns it. Every number carries the /cases/ link that lists what is behind it."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from dualgrid.cases.models import Channel, Status

from . import grains, selectors
from . import indicators as ind
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
    return grains.today()


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


# Which case column a drill-down filters on by date: registered, closed, last dispatched, signed, resolved.
DATE_FILTERS = {"dispatched": "dispatched", "signed": "signed", "resolved": "resolved"}


def case_link(place: Place, period: ind.Period, which: str = "received", **extra: Any) -> str:
    """/cases/ listing the place's cases received (登记), closed (结案), or last dispatched, signed for
    or reported resolved (派遣, 签收, 办结反馈) in the period."""
    params: dict[str, Any] = dict(place.case_filter())
    if which == "closed":
        params |= {"status": Status.CLOSED, "closed_from": period.first, "closed_to": period.last}
    elif which in DATE_FILTERS:
        params |= {f"{which}_from": period.first, f"{which}_to": period.last}
    else:
        params |= {"created_from": period.first, "created_to": period.last}
    params |= {k: v for k, v in extra.items() if v}
    return f"{_case_list_url()}?{urlencode(params)}"


@cache
def _case_list_url() -> str:
    """reverse() once: a page builds a link per number (3 years: ≈ 1,900 of them, ≈ 40 µs each)."""
    return reverse("web:case_list")


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


# Longer department / worker lists are cut on the page (all of them are on 晾晒).
HANDLER_ROWS = 100


def _handler_row(
    dim: str, key: int, name: str, parent: str, c: dict[str, int], links: dict[str, str]
) -> dict[str, Any]:
    values = ind.handler_values(c, dim)
    return {
        "key": key,
        "name": name,
        "parent": parent,
        "reported": c["received"],
        "volume": c[ind.HANDLER_VOLUME[dim]],
        "closed": c["closed"],
        "completion": ind.display("rate", values["completion_rate"]),
        "on_time": ind.display("rate", values["on_time_rate"]),
        "satisfaction": ind.display("rate", values["satisfaction_rate"]),
        "sign_hours": ind.display("hours", values["avg_sign_hours"]),
        "resolve_hours": ind.display("hours", values["avg_resolve_hours"]),
        **links,
    }


def _ranked(rows: dict[str, dict[str, int]], dim: str) -> list[tuple[int, dict[str, int]]]:
    volume = ind.HANDLER_VOLUME[dim]
    found = [(int(key), c) for key, c in rows.items() if key.isdigit() and any(c.values())]
    return sorted(found, key=lambda kc: (-kc[1][volume], -kc[1]["closed"], kc[0]))


def departments(place: Place, period: ind.Period) -> dict[str, Any]:
    """The departments that handled the place's cases in the period: 承办量 (dispatches to them),
    结案, rates and times, from the department rows of the daily figures."""
    ranked = _ranked(selectors.by_dim(place, period, Dim.DEPARTMENT), "dept")
    names = selectors.department_names([pk for pk, _ in ranked[:HANDLER_ROWS]])
    rows = []
    for pk, c in ranked[:HANDLER_ROWS]:
        name, unit = names.get(pk, (f"部门#{pk}", ""))

        def link(which: str, pk: int = pk) -> str:
            return case_link(place, period, which, department=pk)

        links = {
            "volume_href": link("dispatched"),
            "closed_href": link("closed"),
            "sign_href": link("signed"),
            "resolve_href": link("resolved"),
        }
        rows.append(_handler_row("dept", pk, name, unit, c, links))
    return {"rows": rows, "total": len(ranked), "cut": len(ranked) > HANDLER_ROWS}


def workers(place: Place, period: ind.Period) -> dict[str, Any]:
    """The grid workers who reported, signed for or resolved the place's cases in the period (the
    people behind the worker rows of the daily figures; other roles — a department's handlers, the
    call-takers who register — are under 部门 or not shown)."""
    # Ranked and cut in the database; names and grids of the rows shown only (a city has 10,000
    # workers: 370 ms for the names of all of them, ≈ 140 ms to rank them in Python).
    ranked, total = selectors.top_workers(place, period, ind.HANDLER_VOLUME["worker"], HANDLER_ROWS)
    people = selectors.grid_workers([pk for pk, _ in ranked])
    rows = []
    for pk, c in ranked:
        name, grids = people[pk]

        def link(which: str, pk: int = pk) -> str:
            if which == "received":
                return case_link(place, period, "received", creator=pk)
            return case_link(place, period, which, assignee=pk)

        links = {
            "reported_href": link("received"),
            "volume_href": link("signed"),
            "closed_href": link("closed"),
            "sign_href": link("signed"),
            "resolve_href": link("resolved"),
        }
        rows.append(_handler_row("worker", pk, name, grids, c, links))
    return {"rows": rows, "total": total, "cut": total > HANDLER_ROWS}


def category_tree(place: Place, period: ind.Period) -> list[dict[str, Any]]:
    """The category hierarchy (大类 → 小类, as the cases use it) with each node's counters: a leaf's
    own row, summed into every ancestor; a grid has top-level rows only. Nodes without cases received
    or closed in the period are left out; siblings by 受理 (descending)."""
    grid = place.level == Level.GRID
    rows = selectors.by_dim(place, period, Dim.TOP_CATEGORY if grid else Dim.CATEGORY)
    categories = selectors.category_nodes()
    sums: dict[int, dict[str, int]] = {}
    for key, c in rows.items():
        pk = int(key) if key.isdigit() else 0
        node: int | None = pk
        seen: set[int] = set()
        while node is not None and node not in seen:  # the node and each ancestor (cycle-safe)
            seen.add(node)
            acc = sums.setdefault(node, dict.fromkeys(c, 0))
            for name, value in c.items():
                acc[name] += value
            node = categories[node][3] if node in categories else None

    def build(pk: int, depth: int) -> dict[str, Any]:
        c = sums[pk]
        values = ind.compute(c)
        code, name = (categories[pk][0], categories[pk][1]) if pk in categories else ("", "未分类")
        kids = [k for k in children.get(pk, []) if k in sums and (sums[k]["received"] or sums[k]["closed"])]
        kids.sort(key=lambda k: (-sums[k]["received"], categories[k][2], categories[k][0]))
        return {
            "id": pk,
            "code": code,
            "name": name,
            "depth": depth,
            "received": c["received"],
            "closed": c["closed"],
            "completion": ind.display("rate", values["completion_rate"]),
            "on_time": ind.display("rate", values["on_time_rate"]),
            "satisfaction": ind.display("rate", values["satisfaction_rate"]),
            "received_href": case_link(place, period, category=code) if code else "",
            "closed_href": case_link(place, period, "closed", category=code) if code else "",
            "children": [build(k, depth + 1) for k in kids],
        }

    children: dict[int | None, list[int]] = {}
    for pk, (_code, _name, _sort, parent) in categories.items():
        children.setdefault(parent, []).append(pk)
    roots = [pk for pk in children.get(None, []) if pk in sums] + ([0] if 0 in sums else [])
    roots = [pk for pk in roots if sums[pk]["received"] or sums[pk]["closed"]]
    roots.sort(key=lambda k: (-sums[k]["received"], k == 0, categories.get(k, ("", "", 0, None))[0]))
    return [build(pk, 0) for pk in roots]


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
        "category_tree": category_tree(place, period),
        "departments": departments(place, period),
        "workers": workers(place, period),
        "handler_definitions": ind.HANDLER_DEFINITIONS,
    }
