"""The cockpit's indicators, computed from summed daily counters (``rollup.COUNTERS``).

Formulas follow STANDARDS.md (数字城管 assessment rules). A division by zero is ``None``, shown "—".

Decisions written down here because the standard leaves them open:
* 应结案数 is the number of dispatches in the period (派遣数); 缓办数 the extensions approved in the
  period less the cases closed in the period after an approved extension (so a deferred case that
  still closes inside the period is not taken out of the denominator). Figures are flows of the
  period: a period that closes a backlog from before it can show 结案率 above 100 %.
* 满意率 counts only 满意 (满意 / 已评价, as written); 基本满意 closes the case but is not 满意.
  满意及基本满意率 is shown next to it. Cases closed without a rating are not 已评价.
* 办结率 = 结案数 / 受理登记数 (cases rejected as 不予受理 stay in the denominator: they were received).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

Counters = Mapping[str, int]


def ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0 else numerator / denominator


def deferred_open(c: Counters) -> int:
    """缓办数: extensions approved in the period whose case did not close in it (never negative)."""
    return max(0, c["deferred"] - c["deferred_closed"])


def due_to_close(c: Counters) -> int:
    """应结案数 − 缓办数."""
    return c["dispatched"] - deferred_open(c)


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    kind: str  # "count", "rate" (0…1, shown as %) or "hours"
    definition: str
    compute: Callable[[Counters], float | None]
    # Which case list the number drills into: cases "received" or "closed" in the period.
    cases: str = "received"
    # Which way is an improvement ("up", "down"), for colouring 同比/环比; "" = neither (volumes).
    better: str = "up"


INDICATORS: list[Indicator] = [
    Indicator(
        "received", "受理量", "count", "本期登记的事件数（含不予受理）。", lambda c: c["received"], better=""
    ),
    Indicator(
        "closed", "结案数", "count", "本期进入“已结案”的事件数。", lambda c: c["closed"], cases="closed"
    ),
    Indicator(
        "completion_rate",
        "办结率",
        "rate",
        "办结率 = 结案数 ÷ 受理量。",
        lambda c: ratio(c["closed"], c["received"]),
        cases="closed",
    ),
    Indicator(
        "closure_rate",
        "结案率",
        "rate",
        "结案率 = 结案数 ÷（应结案数 − 缓办数）；应结案数 = 本期派遣数，缓办数 = 本期批准延期且本期未结案的件数。",
        lambda c: ratio(c["closed"], due_to_close(c)),
        cases="closed",
    ),
    Indicator(
        "on_time_rate",
        "按期结案率",
        "rate",
        "按期结案率 = 按期结案数 ÷（应结案数 − 缓办数）；按期 = 最后一次办结反馈不晚于办结时限（含批准的延期）。",
        lambda c: ratio(c["closed_on_time"], due_to_close(c)),
        cases="closed",
    ),
    Indicator(
        "satisfaction_rate",
        "满意率",
        "rate",
        "满意率 = 满意 ÷ 已评价；基本满意不计入满意，未评价自动结案的不算已评价。",
        lambda c: ratio(c["satisfied"], c["rated"]),
        cases="closed",
    ),
    Indicator(
        "basic_satisfaction_rate",
        "满意及基本满意率",
        "rate",
        "（满意 + 基本满意）÷ 已评价。",
        lambda c: ratio(c["satisfied"] + c["basic_satisfied"], c["rated"]),
        cases="closed",
    ),
    Indicator(
        "rework_rate",
        "返工率",
        "rate",
        "返工率 = 返工数 ÷ 派遣数；返工 = 核查不通过或评价“不满意”。",
        lambda c: ratio(c["reworked"], c["dispatched"]),
        better="down",
    ),
    Indicator(
        "deferral_rate",
        "延期率",
        "rate",
        "延期率 = 批准延期数 ÷ 派遣数。",
        lambda c: ratio(c["deferred"], c["dispatched"]),
        better="down",
    ),
    Indicator(
        "avg_sign_hours",
        "平均签收时长",
        "hours",
        "每次签收距此前最近一次派遣的时长的平均值（小时）。",
        lambda c: ratio(c["sign_seconds_sum"] / 3600, c["signed"]),
        better="down",
    ),
    Indicator(
        "avg_resolve_hours",
        "平均处置时长",
        "hours",
        "每次办结反馈距处置计时起点（派遣、核查不通过或“不满意”评价）的时长的平均值（小时）。",
        lambda c: ratio(c["resolve_seconds_sum"] / 3600, c["resolved"]),
        better="down",
    ),
]
BY_KEY = {i.key: i for i in INDICATORS}


def compute(counters: Counters) -> dict[str, float | None]:
    return {i.key: i.compute(counters) for i in INDICATORS}


# --- handling departments and grid workers ---------------------------------------------------------
# Their rows (Dim.DEPARTMENT / Dim.WORKER) hold the events counted for them (rollup.DEPARTMENT_KEY,
# WORKER_KEY). A department's or a worker's volume is what it took on, not what was registered:
# 承办量 = dispatches to the department, or cases the worker signed for.

HANDLER_VOLUME = {"dept": "dispatched", "worker": "signed"}
HANDLER_DEFINITIONS = {
    "dept_volume": "承办量 = 本期派至该部门的次数（派单与平台派单；退回后再派另计一次）。",
    "worker_volume": "承办量 = 本期该网格员签收的次数；上报量 = 本期由该网格员登记（巡查上报）的事件数。",
    "closed": "结案数 = 本期结案、且结案时承办部门（签收人）为其的事件数。",
    "completion_rate": "办结率 = 结案数 ÷ 承办量。",
    "on_time_rate": "按期办结率 = 按期结案数 ÷（承办量 − 缓办数）；按期 = 最后一次办结反馈不晚于办结时限（含批准的延期）。",
    "satisfaction_rate": "满意率 = 满意 ÷ 已评价（基本满意不计入满意）。",
    "hours": "平均签收 / 处置时长：同上方指标，只计该部门（网格员）的签收与办结反馈（小时）。",
}


def handler_values(c: Counters, dim: str) -> dict[str, float | None]:
    """The figures of one department (``dim`` "dept") or grid worker ("worker")."""
    volume = c[HANDLER_VOLUME[dim]]
    return {
        "reported": c["received"],
        "volume": volume,
        "closed": c["closed"],
        "completion_rate": ratio(c["closed"], volume),
        "on_time_rate": ratio(c["closed_on_time"], volume - deferred_open(c)),
        "satisfaction_rate": ratio(c["satisfied"], c["rated"]),
        "avg_sign_hours": ratio(c["sign_seconds_sum"] / 3600, c["signed"]),
        "avg_resolve_hours": ratio(c["resolve_seconds_sum"] / 3600, c["resolved"]),
    }


def change(kind: str, current: float | None, previous: float | None) -> float | None:
    """同比/环比: percentage points for a rate, relative change (0.1 = +10 %) for counts and hours."""
    if current is None or previous is None:
        return None
    if kind == "rate":
        return current - previous
    return ratio(current - previous, previous)


def change_class(indicator: Indicator, value: float | None) -> str:
    """ "better", "worse" or "" for a 同比/环比 change of ``indicator``."""
    if value is None or round(value * 100, 1) == 0 or not indicator.better:
        return ""  # no change as shown (to 0.1 %)
    return "better" if (value > 0) == (indicator.better == "up") else "worse"


def display(kind: str, value: float | None) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def display_change(kind: str, value: float | None) -> str:
    if value is None:
        return "—"
    shown = round(value * 100, 1) + 0.0  # + 0.0: no "-0.0"
    return f"{shown:+.1f}个百分点" if kind == "rate" else f"{shown:+.1f}%"


# --- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def is_whole_months(self) -> bool:
        return (
            self.first.day == 1 and self.last.day == calendar.monthrange(self.last.year, self.last.month)[1]
        )


def _add_months(day: date, months: int, *, end: bool = False) -> date:
    month0 = day.year * 12 + day.month - 1 + months
    year, month = divmod(month0, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, last_day if end else min(day.day, last_day))


def year_ago(p: Period) -> Period:
    """同比: the same dates one year earlier (29 Feb → 28 Feb)."""
    return Period(_add_months(p.first, -12), _add_months(p.last, -12, end=p.is_whole_months()))


def previous(p: Period) -> Period:
    """环比: whole months → as many months just before; this month so far (1st … day n) → 1st … day n
    of the month before; any other span → as many days just before."""
    if p.is_whole_months():
        months = (p.last.year - p.first.year) * 12 + p.last.month - p.first.month + 1
        return Period(_add_months(p.first, -months), _add_months(p.last, -months, end=True))
    if p.first.day == 1 and p.first.month == p.last.month and p.first.year == p.last.year:
        return Period(_add_months(p.first, -1), _add_months(p.last, -1))  # month to date
    return Period(p.first - timedelta(days=p.days), p.first - timedelta(days=1))
