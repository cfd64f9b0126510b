"""Hand-made case histories at chosen local times, driven through the real services, for the cockpit's
tests. Each story's expected counters are written out in the test that uses it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from dualgrid.cases import services
from dualgrid.cases.models import Case
from dualgrid.cases.tests.factories import act, rate, report
from dualgrid.conftest import POINT_IN_A, POINT_IN_B, Cast

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """An aware time from a local (Asia/Shanghai) ``YYYY-MM-DD HH:MM``."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


@contextmanager
def at(text: str) -> Iterator[None]:
    with time_machine.travel(local(text), tick=False):
        yield


def midnight_case(cast: Cast) -> Case:
    """车辆乱停 (auto-dispatched to grid A) reported 23:50 on 1 March, closed 满意 at 00:10 on 2 March."""
    with at("2026-03-01 23:50"):
        case = report(cast, category="T0101")
    with at("2026-03-01 23:55"):
        case = act(cast.worker_a, case, "sign")
    with at("2026-03-01 23:58"):
        case = act(cast.worker_a, case, "resolve", "已劝离")
    with at("2026-03-02 00:05"):
        case = act(cast.dispatcher, case, "verify")
    with at("2026-03-02 00:10"):
        rate(case, "satisfied")
    return Case.objects.get(pk=case.pk)


def extended_reworked_unrated_case(cast: Cast) -> Case:
    """A dispute (no routing rule) on 3 March: accepted and dispatched by hand, an extension approved,
    rated 不满意 (rework), reported done again, then never rated: auto-closed on 7 March."""
    with at("2026-03-03 09:00"):
        case = report(cast, category="T03", description="邻里因漏水发生纠纷")
    with at("2026-03-03 09:10"):
        case = act(cast.dispatcher, case, "accept")
    with at("2026-03-03 09:20"):
        case = act(cast.dispatcher, case, "dispatch", grid_id=cast.grid_a.pk)
    with at("2026-03-03 10:20"):
        case = act(cast.worker_a, case, "sign")
    with at("2026-03-03 11:00"):
        case = act(cast.worker_a, case, "request_extension", "需协调物业", hours=24)
    with at("2026-03-03 11:30"):
        case = act(cast.dispatcher, case, "approve_extension")
    with at("2026-03-03 13:20"):
        case = act(cast.worker_a, case, "resolve", "已调解")
    with at("2026-03-03 14:00"):
        case = act(cast.dispatcher, case, "verify")
    with at("2026-03-03 15:00"):
        rate(case, "unsatisfied")
    with at("2026-03-03 17:00"):
        case = act(cast.worker_a, Case.objects.get(pk=case.pk), "resolve", "再次调解，双方签字")
    with at("2026-03-03 18:00"):
        case = act(cast.dispatcher, case, "verify")
    with at("2026-03-07 09:00"):
        services.rating_sweep()
    return Case.objects.get(pk=case.pk)


def rejected_case(cast: Cast) -> Case:
    """A consultation in grid B on 3 March, not accepted (不予受理)."""
    with at("2026-03-03 10:00"):
        case = report(cast, category="T04", point=POINT_IN_B, description="咨询医保政策")
    with at("2026-03-03 10:30"):
        return act(cast.dispatcher, case, "reject", "非本平台受理范围")


def returned_by_department_case(cast: Cast, *, between: Callable[[], object] = lambda: None) -> Case:
    """A dispute (no routing rule) on 3 March: dispatched by hand to 区住房城乡建委 at 09:20, signed by
    its handler at 10:20 and returned at 11:00 (not theirs); dispatched to grid A at 11:30, signed by
    worker_a at 12:00, resolved at 14:30, verified, rated 满意 at 15:30. ``between`` runs right after
    the department signed (e.g. a rollup, so the department's steps are counted before it moves)."""
    with at("2026-03-03 09:00"):
        case = report(cast, category="T03", description="楼上漏水，邻里协商不成")
    with at("2026-03-03 09:10"):
        case = act(cast.dispatcher, case, "accept")
    with at("2026-03-03 09:20"):
        case = act(cast.dispatcher, case, "dispatch", department_id=cast.housing.pk)
    with at("2026-03-03 10:20"):
        case = act(cast.handler, case, "sign")
    between()
    with at("2026-03-03 11:00"):
        case = act(cast.handler, case, "return", "属邻里纠纷，请网格调解")
    with at("2026-03-03 11:30"):
        case = act(cast.dispatcher, case, "dispatch", grid_id=cast.grid_a.pk)
    with at("2026-03-03 12:00"):
        case = act(cast.worker_a, case, "sign")
    with at("2026-03-03 14:30"):
        case = act(cast.worker_a, case, "resolve", "已调解")
    with at("2026-03-03 15:00"):
        case = act(cast.dispatcher, case, "verify")
    with at("2026-03-03 15:30"):
        rate(case, "satisfied")
    return Case.objects.get(pk=case.pk)


def patrol_report_case(cast: Cast) -> Case:
    """worker_a registers 车辆乱停 on patrol in grid A at 08:00 on 4 March (上报; auto-dispatched to
    grid A, nobody signs)."""
    with at("2026-03-04 08:00"):
        case, _ = services.case_create(
            actor=cast.worker_a,
            data=services.CaseInput(
                description="巡查发现车辆占用消防通道",
                channel="patrol",
                lat=POINT_IN_A[0],
                lng=POINT_IN_A[1],
                address="大佛社区5栋",
                category_code="T0101",
            ),
        )
    return Case.objects.get(pk=case.pk)
