"""每日一报告: one scope's report for one local day, built from the data as it stood at the end of
that day, archived with its PDF and Excel.

``build_report(place, day)`` reads the daily figures (so the day's and the month's counters are what
the rollup recorded for those days), what changed against the day before and the same weekday a week
earlier (``_changes``: per child unit, grids whose warning colour changed, newly overdue cases,
categories that jumped), the warnings raised or handled that day, the week's hot categories and
dispute places, the 交办 list and the town ranking. The 交办 list replays the case
timeline up to the end of the day: a case counts as overdue if a ``deadline_overdue`` event came
after its last change of state and it was still being signed for or handled, so a case closed later
still shows as it stood. Responsible units are the case's current ones (a re-dispatch after the day
is not replayed).
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from dualgrid.cases.models import Case, CaseEvent, Status
from dualgrid.cases.workflow import ACTIVE_STATES, FINAL_STATES
from dualgrid.places.models import AdminUnit, Grid, GridTier, UnitLevel

from . import grains, selectors
from . import indicators as ind
from .models import DailyReport, Dim, GridLoad, Level, ReportSubscription, Warning
from .rollup import counted_through, local_day_bounds
from .selectors import Place

log = logging.getLogger(__name__)

HOT_DAYS = 7
TOP_N = 10
# A case whose timeline last said "overdue" is late only while someone is still signing for or handling it.
CLOCK_STATES = {Status.PENDING_SIGN, Status.IN_PROGRESS}
# Longer lists go to the Excel in full; a PDF of thousands of rows is unread and slow to typeset.
PDF_ROWS = 200


def _case_scope(place: Place, prefix: str = "") -> Q:
    """Rows inside ``place`` for a model carrying grid/village/town/county (``prefix``: through a FK)."""
    if place.county_ids:
        return Q(**{f"{prefix}county_id__in": place.county_ids})
    column = {
        Level.COUNTY: "county_id",
        Level.TOWN: "town_id",
        Level.VILLAGE: "village_id",
        Level.GRID: "grid_id",
    }
    return Q(**{prefix + column[Level(place.level)]: place.id}) if place.level in column else Q()


def _figures(counters: dict[str, int]) -> list[dict[str, Any]]:
    values = ind.compute(counters)
    return [
        {
            "key": i.key,
            "label": i.label,
            "unit": "小时" if i.kind == "hours" else "",
            "value": values[i.key],
            "display": ind.display(i.kind, values[i.key]),
        }
        for i in ind.INDICATORS
    ]


def _warnings(place: Place, start: datetime, end: datetime) -> dict[str, list[dict[str, Any]]]:
    scoped = Warning.objects.filter(_case_scope(place)).select_related("grid", "town", "owner_unit")

    def row(w: Warning) -> dict[str, Any]:
        return {
            "id": w.pk,
            "level": w.level,
            "level_label": w.get_level_display(),
            "rule": w.get_rule_display(),
            "reason": w.reason,
            "place": w.grid.name if w.grid else (w.town.name if w.town else place.name),
            "owner": w.owner_unit.name if w.owner_unit else "",
            "raised_at": timezone.localtime(w.raised_at).strftime("%Y-%m-%d %H:%M"),
        }

    raised = [row(w) for w in scoped.filter(raised_at__gte=start, raised_at__lt=end).order_by("raised_at")]
    changed = []
    for w in scoped.filter(
        Q(acknowledged_at__gte=start, acknowledged_at__lt=end) | Q(closed_at__gte=start, closed_at__lt=end)
    ).order_by("id"):
        r = row(w)
        r["change"] = "已关闭" if w.closed_at and start <= w.closed_at < end else "已确认"
        r["note"] = w.close_note if r["change"] == "已关闭" else ""
        changed.append(r)
    active_at_end = scoped.filter(raised_at__lt=end).exclude(closed_at__lt=end).count()
    return {"raised": raised, "changed": changed, "active": [{"count": active_at_end}]}


def _hot(place: Place, day: date) -> dict[str, list[dict[str, Any]]]:
    """The week to ``day``: top categories by cases received (daily figures) and places with repeated
    disputes (the case table, registered that week)."""
    week = ind.Period(day - timedelta(days=HOT_DAYS - 1), day)
    by_category = selectors.by_dim(place, week, Dim.CATEGORY)
    names = selectors.category_names(by_category)
    top = sorted(by_category.items(), key=lambda kv: -kv[1]["received"])[:TOP_N]
    categories = [{"category": names.get(k, k), "received": c["received"]} for k, c in top if c["received"]]
    start, end = local_day_bounds(week.first, week.last)
    conf = settings.DUALGRID
    rows = (
        Case.objects.filter(
            _case_scope(place),
            created_at__gte=start,
            created_at__lt=end,
            category__code__startswith=conf["WARNING_DISPUTE_PREFIX"],
            grid__isnull=False,
        )
        .values_list("grid__name", "village__name")
        .order_by()
    )
    counts = Counter(rows)
    minimum = conf["WARNING_DISPUTE_LEVELS"][0]
    places = [
        {"grid": grid, "village": village or "", "disputes": n}
        for (grid, village), n in counts.most_common()
        if n >= minimum
    ]
    return {"categories": categories, "dispute_places": places}


def _overdue_at(place: Place, ends: list[datetime]) -> list[dict[int, tuple[str, datetime]]]:
    """The cases overdue at each of ``ends``, as their timeline stood then: case id → (state, overdue
    since). One read of the candidates' timelines, replayed up to each end."""
    first, last = min(ends), max(ends)
    candidates = set(
        CaseEvent.objects.filter(action="deadline_overdue", created_at__lt=last)
        .filter(Q(case__closed_at__isnull=True) | Q(case__closed_at__gte=first))
        .filter(_case_scope(place, "case__"))
        .values_list("case_id", flat=True)
    )
    found: list[dict[int, tuple[str, datetime]]] = [{} for _ in ends]
    if not candidates:
        return found
    timelines: dict[int, list[tuple[str, str, str, datetime]]] = {}
    events = (
        CaseEvent.objects.filter(case_id__in=candidates, created_at__lt=last)
        .order_by("case_id", "created_at", "id")
        .values_list("case_id", "action", "from_status", "to_status", "created_at")
    )
    for case_id, action, from_status, to_status, at in events.iterator(chunk_size=5000):
        timelines.setdefault(case_id, []).append((action, from_status, to_status, at))
    for case_id, timeline in timelines.items():
        for i, end in enumerate(ends):
            late, state, since = False, "", None
            for action, from_status, to_status, at in timeline:
                if at >= end:
                    break
                if to_status and to_status != from_status:
                    state, late = to_status, False
                elif action == "approve_extension":
                    late = False
                if action == "deadline_overdue":
                    if not late:
                        since = at
                    late = True
            if late and state in CLOCK_STATES and since is not None:
                found[i][case_id] = (state, since)
    return found


def _case_rows(overdue: dict[int, tuple[str, datetime]], end: datetime) -> list[dict[str, Any]]:
    cases = (
        Case.objects.filter(pk__in=list(overdue))
        .select_related("category", "grid", "town", "assigned_grid", "assigned_department")
        .order_by("created_at")
    )
    rows = []
    for c in cases:
        state, since = overdue[c.pk]
        unit = (
            c.assigned_department.name
            if c.assigned_department
            else (c.assigned_grid.name if c.assigned_grid else "")
        )
        rows.append(
            {
                "number": c.number or "",
                "title": c.title,
                "category": c.category.name if c.category else "",
                "town": c.town.name if c.town else "",
                "grid": c.grid.name if c.grid else "",
                "status": Status(state).label,
                "unit": unit or "未派遣",
                "registered": timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
                "overdue_since": timezone.localtime(since).strftime("%Y-%m-%d %H:%M"),
                "days_overdue": (end - since).days,
            }
        )
    return rows


def _assignments(place: Place, end: datetime) -> list[dict[str, Any]]:
    """交办: the cases overdue at ``end`` as their timeline stood then."""
    return _case_rows(_overdue_at(place, [end])[0], end)


# --- what changed: the report day against the day before and the same weekday a week earlier --------

# A category "jumped" when the day's cases reach JUMP_MIN more than, and JUMP_FACTOR times, the larger
# of its two comparison days.
JUMP_MIN = 3
JUMP_FACTOR = 2
# The case column holding each child level's unit, for counting overdue cases per child.
PLACE_INDEX = {Level.COUNTY: 0, Level.TOWN: 1, Level.VILLAGE: 2, Level.GRID: 3}
NOWHERE = (None, None, None, None)
CHILD_COLUMN = {
    Level.COUNTY: "county_id",
    Level.TOWN: "town_id",
    Level.VILLAGE: "village_id",
    Level.GRID: "grid_id",
}


def _grids_in(place: Place) -> dict[int, tuple[str, str]]:
    """The place's active (non-micro) grids, as the map draws them: id → (name, village)."""
    grids = Grid.objects.filter(active=True).exclude(tier=GridTier.MICRO)
    if place.level == Level.GRID:
        grids = grids.filter(pk=place.id)
    elif place.county_ids:
        grids = grids.filter(county_id__in=place.county_ids)
    elif place.level != Level.ALL:
        grids = grids.filter(**{CHILD_COLUMN[Level(place.level)]: place.id})
    return {
        pk: (name, village or "") for pk, name, village in grids.values_list("id", "name", "village__name")
    }


def _open_at(grid_ids: list[int], days: list[date]) -> list[dict[int, int]]:
    """Each grid's open cases at the end of each of ``days``: the rollup's tally now (GridLoad) less
    the registrations, rejections and closures counted after that day (up to today: whole months and
    years from their rows, ``selectors.period_sums``, so a report for a date long past reads a few
    rows per grid, not one per grid and day)."""
    now = dict(GridLoad.objects.filter(grid_id__in=grid_ids).values_list("grid_id", "open"))
    result = []
    for d in days:
        at_end = dict(now)
        later = selectors.period_sums(
            Q(level=Level.GRID, unit_id__in=grid_ids),
            ind.Period(d + timedelta(days=1), grains.today()),
            Dim.TOTAL,
            "unit_id",
        )
        for grid_id, c in later.items():
            at_end[grid_id] = at_end.get(grid_id, 0) - (c["received"] - c["rejected"] - c["closed"])
        result.append(at_end)
    return result


def _disputes_at(place: Place, ends: list[datetime]) -> list[dict[int, int]]:
    """Each grid's unresolved disputes (cases of the 矛盾纠纷 tree registered and not yet closed or
    voided) at each of ``ends``.

    A case gets ``closed_at`` when it enters a final state (结案 or 不予受理), in the same step as
    the event that takes it there, and never leaves it. So the cases not closed before the first end
    are those still open now — read through the open-dispute index (``case_open_category``) and the
    status index for 待评价 — and those closed at or after it (``case_county_closed``).
    One query over every dispute of the place instead read a district's whole history (a lossy bitmap
    scan of ≈ 590k case pages, 4.5 s warm at 10M cases)."""
    first, last = min(ends), max(ends)
    dispute_ids = selectors.dispute_category_ids()
    result: list[dict[int, int]] = [{} for _ in ends]
    if not dispute_ids:
        return result
    disputes = (
        Case.objects.filter(
            _case_scope(place), category_id__in=dispute_ids, grid__isnull=False, created_at__lt=last
        )
        .values_list("grid_id", "created_at", "closed_at")
        .order_by()
    )
    parts = (
        disputes.filter(status__in=sorted(ACTIVE_STATES)),
        disputes.filter(status__in=sorted(set(Status.values) - ACTIVE_STATES - FINAL_STATES)),  # 待评价
        disputes.filter(closed_at__gte=first),
    )
    for part in parts:
        for grid_id, created, closed in part:
            for i, end in enumerate(ends):
                if created < end and (closed is None or closed >= end):
                    result[i][grid_id] = result[i].get(grid_id, 0) + 1
    return result


def _changes(place: Place, day: date) -> dict[str, Any]:
    """The report day (D) against the day before (D−1) and the same weekday a week earlier (D−7):
    received / closed / overdue at day's end per child unit, grids whose warning colour changed,
    cases newly overdue, categories that jumped."""
    days = [day, day - timedelta(days=1), day - timedelta(days=7)]
    ends = [local_day_bounds(d, d)[1] for d in days]
    overdue = _overdue_at(place, ends)
    case_places = {
        pk: (county, town, village, grid)
        for pk, county, town, village, grid in Case.objects.filter(
            pk__in=set().union(*[set(o) for o in overdue])
        ).values_list("pk", "county_id", "town_id", "village_id", "grid_id")
    }

    # Units one level down (towns of a county …), and the whole place.
    kids = selectors.children(place)
    by_day = [dict((kid.id, c) for kid, c in selectors.by_children(place, ind.Period(d, d))) for d in days]
    totals = [selectors.totals(place, ind.Period(d, d)) for d in days]
    column = PLACE_INDEX[Level(kids[0].level)] if kids else 0
    units = [
        {
            "unit": "合计",
            "received": [t["received"] for t in totals],
            "closed": [t["closed"] for t in totals],
            "overdue": [len(o) for o in overdue],
        }
    ]
    for kid in kids:
        units.append(
            {
                "unit": kid.name,
                "received": [b.get(kid.id, {}).get("received", 0) for b in by_day],
                "closed": [b.get(kid.id, {}).get("closed", 0) for b in by_day],
                "overdue": [
                    sum(1 for pk in o if case_places.get(pk, NOWHERE)[column] == kid.id) for o in overdue
                ],
            }
        )

    # Grids whose colour (open, overdue and unresolved disputes as they stood) differs from D−1 or D−7.
    grids = _grids_in(place)
    opened = _open_at(list(grids), days)
    disputes = _disputes_at(place, ends)
    late_by_grid: list[dict[int, int]] = []
    for o in overdue:
        counts: dict[int, int] = {}
        for pk in o:
            grid_id = case_places.get(pk, NOWHERE)[3]
            if grid_id is not None:
                counts[grid_id] = counts.get(grid_id, 0) + 1
        late_by_grid.append(counts)
    changed: list[dict[str, Any]] = []
    order = {level: i for i, level in enumerate(selectors.WARNING_LEVELS)}
    for grid_id, (name, village) in grids.items():
        levels = [
            selectors.warning_level(
                max(0, opened[i].get(grid_id, 0)),
                late_by_grid[i].get(grid_id, 0),
                0,
                disputes[i].get(grid_id, 0),
            )
            for i in range(3)
        ]
        if levels[0] == levels[1] and levels[0] == levels[2]:
            continue
        changed.append(
            {
                "grid": name,
                "village": village,
                "level": levels[0],
                "levels": [selectors.WARNING_LABELS[level] for level in levels],
                "direction": "升"
                if order[levels[0]] > order[levels[1]]
                else "降"
                if order[levels[0]] < order[levels[1]]
                else "—",
                "open": max(0, opened[0].get(grid_id, 0)),
                "overdue": late_by_grid[0].get(grid_id, 0),
                "disputes": disputes[0].get(grid_id, 0),
            }
        )
    changed.sort(key=lambda g: (-order[g["level"]], g["direction"] != "升", g["village"], g["grid"]))

    # Newly overdue: overdue at the end of D, not at the end of D−1.
    newly = {pk: v for pk, v in overdue[0].items() if pk not in overdue[1]}

    # Categories that jumped (leaf categories; a grid has its top-level ones only).
    dim = Dim.TOP_CATEGORY if place.level == Level.GRID else Dim.CATEGORY
    per_day = [selectors.by_dim(place, ind.Period(d, d), dim) for d in days]
    names = selectors.category_names(per_day[0])
    jumped: list[dict[str, Any]] = []
    for key, c in per_day[0].items():
        now, before, week = (
            c["received"],
            per_day[1].get(key, {}).get("received", 0),
            per_day[2].get(key, {}).get("received", 0),
        )
        base = max(before, week)
        if now - base >= JUMP_MIN and now >= JUMP_FACTOR * base:
            jumped.append(
                {"category": names.get(key, key), "counts": [now, before, week], "increase": now - base}
            )
    jumped.sort(key=lambda j: (-j["increase"], j["category"]))

    return {
        "days": [d.isoformat() for d in days],
        "unit_label": Level(kids[0].level).label if kids else "",
        "units": units,
        "grids": changed,
        "newly_overdue": _case_rows(newly, ends[0]),
        "categories": jumped,
        "jump_rule": f"当日受理比前一日与上周同日中较多者多 {JUMP_MIN} 件以上且达其 {JUMP_FACTOR} 倍",
    }


def _ranking(place: Place, month: ind.Period) -> list[dict[str, Any]]:
    """The child units (towns for a county) on the month to date, by 办结率 then 受理量; units below the
    minimum volume are listed, not ranked."""
    minimum = int(settings.DUALGRID.get("RANKING_MIN_VOLUME", 10))
    rows: list[dict[str, Any]] = []
    for child, counters in selectors.by_children(place, month):
        values = ind.compute(counters)
        rows.append(
            {
                "unit": child.name,
                "received": counters["received"],
                "closed": counters["closed"],
                "completion_rate": values["completion_rate"],
                "on_time_rate": values["on_time_rate"],
                "satisfaction_rate": values["satisfaction_rate"],
                "ranked": counters["received"] >= minimum,
            }
        )
    ranked = sorted(
        (r for r in rows if r["ranked"]),
        key=lambda r: (-(r["completion_rate"] or 0), -r["received"], r["unit"]),
    )
    for position, r in enumerate(ranked, 1):
        r["rank"] = position
    return ranked + sorted((r for r in rows if not r["ranked"]), key=lambda r: r["unit"])


def build_report(place: Place, day: date) -> dict[str, Any]:
    start, end = local_day_bounds(day, day)
    month = ind.Period(day.replace(day=1), day)
    return {
        "place": {"token": place.token, "name": place.name, "label": place.label},
        "day": day.isoformat(),
        "month": {"from": month.first.isoformat(), "to": month.last.isoformat()},
        "day_figures": _figures(selectors.totals(place, ind.Period(day, day))),
        "month_figures": _figures(selectors.totals(place, month)),
        "changes": _changes(place, day),
        "warnings": _warnings(place, start, end),
        "hot": _hot(place, day),
        "assignments": _assignments(place, end),
        "ranking": _ranking(place, month),
        "minimum_volume": int(settings.DUALGRID.get("RANKING_MIN_VOLUME", 10)),
    }


# --- files -----------------------------------------------------------------------------------------


def render_pdf(data: dict[str, Any]) -> bytes:
    from weasyprint import HTML  # heavy import, only when printing

    context = {"r": data, "pdf_limit": PDF_ROWS, "pdf_rows": f":{PDF_ROWS}"}
    html = render_to_string("cockpit/report_pdf.html", context)
    pdf = HTML(string=html).write_pdf()
    assert pdf is not None
    return bytes(pdf)


SHEETS = ("概况", "单位对比", "网格变色", "新增超期", "分类突增", "预警", "热点", "交办清单", "排名")


def render_xlsx(data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: list[list[Any]]) -> None:
        ws = book.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append(row)
        for column, width in zip("ABCDEFGHIJ", (14, 24, 18, 18, 18, 16, 16, 16, 16, 16), strict=False):
            ws.column_dimensions[column].width = width

    book.remove(book.active)  # type: ignore[arg-type]
    day_values = {f["key"]: f for f in data["day_figures"]}
    sheet(
        "概况",
        ["指标", f"{data['day']}", f"本月（{data['month']['from']} 至 {data['month']['to']}）"],
        [[f["label"], day_values[f["key"]]["value"], f["value"]] for f in data["month_figures"]],
    )
    book["概况"].insert_rows(1)
    book["概况"]["A1"] = f"{data['place']['name']} 每日报告 {data['day']}"
    book["概况"]["A1"].font = bold
    changes = data["changes"]
    day, before, week = changes["days"]
    sheet(
        "单位对比",
        [
            changes["unit_label"] or "范围",
            *(f"受理量 {d}" for d in (day, before, week)),
            *(f"结案数 {d}" for d in (day, before, week)),
            *(f"日终超期 {d}" for d in (day, before, week)),
        ],
        [[u["unit"], *u["received"], *u["closed"], *u["overdue"]] for u in changes["units"]],
    )
    sheet(
        "网格变色",
        [
            "网格",
            "村/社区",
            f"上周同日 {week}",
            f"前一日 {before}",
            f"当日 {day}",
            "升/降",
            "在办",
            "超期",
            "纠纷",
        ],
        [
            [g["grid"], g["village"], g["levels"][2], g["levels"][1], g["levels"][0], g["direction"]]
            + [g["open"], g["overdue"], g["disputes"]]
            for g in changes["grids"]
        ],
    )
    sheet(
        "新增超期",
        ["事件编号", "标题", "分类", "镇街", "网格", "当时状态", "责任单位", "登记时间", "超期时间"],
        [
            [a["number"], a["title"], a["category"], a["town"], a["grid"], a["status"], a["unit"]]
            + [a["registered"], a["overdue_since"]]
            for a in changes["newly_overdue"]
        ],
    )
    sheet(
        "分类突增",
        ["事件分类", f"当日 {day}", f"前一日 {before}", f"上周同日 {week}", "增加"],
        [[j["category"], *j["counts"], j["increase"]] for j in changes["categories"]],
    )
    warnings = data["warnings"]
    sheet(
        "预警",
        ["变化", "级别", "规则", "原因", "地点", "责任单位", "预警时间"],
        [
            ["新增", w["level_label"], w["rule"], w["reason"], w["place"], w["owner"], w["raised_at"]]
            for w in warnings["raised"]
        ]
        + [
            [w["change"], w["level_label"], w["rule"], w["reason"], w["place"], w["owner"], w["raised_at"]]
            for w in warnings["changed"]
        ],
    )
    hot = data["hot"]
    sheet(
        "热点",
        ["类型", "名称", "所属", "事件数（近7天）"],
        [["事件分类", c["category"], "", c["received"]] for c in hot["categories"]]
        + [["矛盾纠纷多发地点", p["grid"], p["village"], p["disputes"]] for p in hot["dispute_places"]],
    )
    sheet(
        "交办清单",
        [
            "事件编号",
            "标题",
            "分类",
            "镇街",
            "网格",
            "当时状态",
            "责任单位",
            "登记时间",
            "超期时间",
            "超期天数",
        ],
        [
            [
                a["number"],
                a["title"],
                a["category"],
                a["town"],
                a["grid"],
                a["status"],
                a["unit"],
                a["registered"],
                a["overdue_since"],
                a["days_overdue"],
            ]
            for a in data["assignments"]
        ],
    )
    sheet(
        "排名",
        ["名次", "单位", "受理量", "结案数", "办结率", "按期结案率", "满意率"],
        [
            [
                r.get("rank", "不排名"),
                r["unit"],
                r["received"],
                r["closed"],
                r["completion_rate"],
                r["on_time_rate"],
                r["satisfaction_rate"],
            ]
            for r in data["ranking"]
        ],
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- archive ---------------------------------------------------------------------------------------


def place_of_unit(unit: AdminUnit) -> Place:
    # The worker has no user to scope by: the unit's own place, as root_place builds it for its accounts.
    return selectors._unit_place(unit)


class FiguresNotReady(Exception):
    """The rollup has not yet counted every event of the report day: a report now would archive
    incomplete figures (zeros, after an outage or on a fresh install)."""

    message = "当日数据尚未汇总完成（后台正在统计），请稍后再生成报告。"


def figures_ready(day: date) -> bool:
    """Every event up to the end of ``day`` (local midnight) is in the daily figures."""
    _, end = local_day_bounds(day, day)
    return counted_through(end)


def report_generate(place: Place, day: date, *, replace: bool = False) -> tuple[DailyReport, bool]:
    """The archived report of ``place`` for ``day``, generated if missing (or ``replace``). Returns
    (report, generated). Raises FiguresNotReady while the rollup is still behind that day."""
    existing = DailyReport.objects.filter(level=place.level, unit_id=place.id, day=day).first()
    if existing is not None and not replace:
        return existing, False
    if not figures_ready(day):
        raise FiguresNotReady(FiguresNotReady.message)
    data = build_report(place, day)
    pdf, xlsx = render_pdf(data), render_xlsx(data)
    values = {"name": place.name, "data": data, "pdf": pdf, "xlsx": xlsx, "generated_at": timezone.now()}
    try:
        with transaction.atomic():
            report, _ = DailyReport.objects.update_or_create(
                level=place.level, unit_id=place.id, day=day, defaults=values
            )
    except IntegrityError:  # generated by another process in the meantime
        return DailyReport.objects.get(level=place.level, unit_id=place.id, day=day), False
    return report, True


def subscribed_places() -> list[Place]:
    """The scopes that get a report each morning: the subscribed units, or every county if none."""
    units = [s.unit for s in ReportSubscription.objects.filter(active=True).select_related("unit")]
    if not units:
        units = list(AdminUnit.objects.filter(level=UnitLevel.COUNTY).order_by("code"))
    return [place_of_unit(u) for u in units]


def reports_generate_due(now: datetime | None = None) -> int:
    """After the configured local time (DUALGRID REPORT_TIME), yesterday's report of every subscribed
    scope that does not have it yet. Idempotent; returns how many were generated."""
    now = timezone.localtime(now or timezone.now())
    hour, minute = (int(part) for part in settings.DUALGRID["REPORT_TIME"].split(":"))
    if now.time() < time(hour, minute):
        return 0
    day = now.date() - timedelta(days=1)
    if not figures_ready(day):
        # The worker is still rolling up (after downtime, or a backlog): try again next round.
        log.info("daily reports for %s wait for the rollup to count that day", day)
        return 0
    done = 0
    for place in subscribed_places():
        _, generated = report_generate(place, day)
        done += generated
    return done
