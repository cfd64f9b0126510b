import io
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import load_workbook

from dualgrid.cases import services
from dualgrid.cases.models import Case, Category, RequestKind
from dualgrid.cases.tests.factories import act, rate, report
from dualgrid.cockpit.models import DailyReport, Level
from dualgrid.cockpit.report import SHEETS, build_report, report_generate, reports_generate_due
from dualgrid.cockpit.rollup import rollup_events
from dualgrid.cockpit.selectors import Place
from dualgrid.cockpit.warnings import raise_warnings
from dualgrid.conftest import Cast

from .stories import at, local

DAY = date(2026, 3, 4)


def close(cast: Cast, case: Case) -> Case:
    case = act(cast.worker_a, case, "sign")
    case = act(cast.worker_a, case, "resolve", "已处理")
    case = act(cast.dispatcher, case, "verify")
    return rate(case, "satisfied")


@pytest.fixture
def story(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> dict[str, Case]:
    """Late: 车辆乱停 auto-dispatched to grid A on Mon 2 March 10:00, never signed for; the sweep marks
    it overdue on 4 March 09:00; it is signed and closed on 6 March. Quick: reported and closed on 4
    March. Three 邻里纠纷 in grid A on 4 March raise a warning that evening."""
    monkeypatch.setitem(settings.DUALGRID, "RANKING_MIN_VOLUME", 1)
    top, _ = Category.objects.get_or_create(
        code="10", defaults={"name": "矛盾纠纷", "kind": RequestKind.HELP}
    )
    Category.objects.get_or_create(
        code="1001", defaults={"name": "邻里纠纷", "parent": top, "kind": RequestKind.HELP}
    )
    with at("2026-03-02 10:00"):
        late = report(cast, category="T0101")
    services.deadline_sweep(now=local("2026-03-04 09:00"))
    with at("2026-03-04 11:00"):
        quick = close(cast, report(cast, category="T0101", phone="13900002222"))
    for hour in (12, 13, 14):
        with at(f"2026-03-04 {hour}:00"):
            report(cast, category="1001", description="邻里之间因噪音发生纠纷，多次协商未果")
    raise_warnings(local("2026-03-04 20:00"))
    with at("2026-03-06 10:00"):
        late = close(cast, Case.objects.get(pk=late.pk))
    rollup_events(settle_seconds=0)
    return {"late": late, "quick": quick}


def county(cast: Cast) -> Place:
    return Place(Level.COUNTY, cast.county.pk, cast.county.name)


def figure(figures: list[dict[str, Any]], key: str) -> Any:
    return next(f for f in figures if f["key"] == key)


def test_a_past_days_report_shows_the_figures_and_overdue_cases_as_they_stood(
    cast: Cast, story: dict[str, Case]
) -> None:
    data = build_report(county(cast), DAY)

    assert figure(data["day_figures"], "received")["value"] == 4  # quick + 3 disputes
    assert figure(data["day_figures"], "closed")["value"] == 1
    assert figure(data["day_figures"], "completion_rate")["display"] == "25.0%"
    assert figure(data["month_figures"], "received")["value"] == 5
    assert figure(data["month_figures"], "closed")["value"] == 1  # the late case closed on 6 March

    [overdue] = data["assignments"]
    assert overdue["number"] == story["late"].number
    assert overdue["status"] == "待签收"
    assert overdue["unit"] == "大佛社区第1网格"
    assert overdue["overdue_since"] == "2026-03-04 09:00"

    # All five reports share the factory's address: the flood rule fires too.
    assert sorted(w["rule"] for w in data["warnings"]["raised"]) == [
        "同一地址集中反映",
        "同一网格矛盾纠纷多发",
    ]
    assert data["hot"]["dispute_places"] == [
        {"grid": "大佛社区第1网格", "village": "大佛社区", "disputes": 3}
    ]
    assert data["hot"]["categories"][0] == {"category": "邻里纠纷", "received": 3}

    ranking = {r["unit"]: r for r in data["ranking"]}
    assert ranking["桂林街道"]["rank"] == 1 and ranking["桂林街道"]["received"] == 5
    assert "rank" not in ranking["群力镇"]  # no cases: listed, not ranked


def test_what_changed_against_the_day_before_and_the_same_weekday_last_week(
    cast: Cast, story: dict[str, Case]
) -> None:
    """4 March (Wed) against 3 March and 25 February: grid A went from green to orange (end of day: 4
    open — the late case and the 3 disputes —, 1 overdue → yellow, 3 unresolved disputes → orange)."""
    changes = build_report(county(cast), DAY)["changes"]
    assert changes["days"] == ["2026-03-04", "2026-03-03", "2026-02-25"]
    assert changes["unit_label"] == "镇街"
    assert [(u["unit"], u["received"], u["closed"], u["overdue"]) for u in changes["units"]] == [
        ("合计", [4, 0, 0], [1, 0, 0], [1, 0, 0]),
        ("桂林街道", [4, 0, 0], [1, 0, 0], [1, 0, 0]),
        ("群力镇", [0, 0, 0], [0, 0, 0], [0, 0, 0]),
    ]
    assert changes["grids"] == [
        {
            "grid": "大佛社区第1网格",
            "village": "大佛社区",
            "level": "orange",
            "levels": ["橙色预警", "正常", "正常"],
            "direction": "升",
            "open": 4,
            "overdue": 1,
            "disputes": 3,
        }
    ]
    assert [a["number"] for a in changes["newly_overdue"]] == [story["late"].number]
    assert changes["categories"] == [{"category": "邻里纠纷", "counts": [3, 0, 0], "increase": 3}]


def test_the_next_days_changes_keep_the_colour_and_list_nothing_new(
    cast: Cast, story: dict[str, Case]
) -> None:
    changes = build_report(county(cast), date(2026, 3, 5))["changes"]
    assert changes["units"][0] == {
        "unit": "合计",
        "received": [0, 4, 0],
        "closed": [0, 1, 0],
        "overdue": [1, 1, 0],
    }
    [grid] = changes["grids"]  # orange on both days, green a week earlier
    assert (grid["levels"], grid["direction"]) == (["橙色预警", "橙色预警", "正常"], "—")
    assert changes["newly_overdue"] == [] and changes["categories"] == []
    # 6 March: the late case is closed — 3 open, none overdue, still 3 disputes: orange.
    changes = build_report(county(cast), date(2026, 3, 6))["changes"]
    assert changes["units"][0]["overdue"] == [0, 1, 0]
    assert (changes["grids"][0]["open"], changes["grids"][0]["overdue"]) == (3, 0)


def test_the_day_before_and_the_day_after_have_their_own_lists(cast: Cast, story: dict[str, Case]) -> None:
    assert build_report(county(cast), date(2026, 3, 3))["assignments"] == []  # not yet swept
    assert [a["number"] for a in build_report(county(cast), date(2026, 3, 5))["assignments"]] == [
        story["late"].number
    ]
    assert build_report(county(cast), date(2026, 3, 6))["assignments"] == []  # signed and closed


def test_a_town_without_the_cases_has_an_empty_report(cast: Cast, story: dict[str, Case]) -> None:
    data = build_report(Place(Level.TOWN, cast.town_b.pk, cast.town_b.name), DAY)
    assert figure(data["day_figures"], "received")["value"] == 0
    assert data["assignments"] == [] and data["warnings"]["raised"] == []


def test_the_pdf_and_the_excel_hold_the_report(cast: Cast, story: dict[str, Case], tmp_path: Path) -> None:
    saved, generated = report_generate(county(cast), DAY)
    assert generated

    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(bytes(saved.pdf))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "A4" in info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "潼南区 每日报告" in text
    assert "二、变化（与前一日、上周同日相比）" in text and "突增的事件分类" in text
    assert str(story["late"].number) in text

    book = load_workbook(io.BytesIO(bytes(saved.xlsx)))
    assert tuple(book.sheetnames) == SHEETS
    summary = {row[0]: row[1:] for row in book["概况"].iter_rows(min_row=3, values_only=True)}
    assert summary["受理量"] == (4, 5)
    assert [row[0] for row in book["交办清单"].iter_rows(min_row=2, values_only=True)] == [
        story["late"].number
    ]
    assert book["排名"]["B2"].value == "桂林街道"
    assert [c.value for c in book["单位对比"][2]] == ["合计", 4, 0, 0, 1, 0, 0, 1, 0, 0]
    assert [c.value for c in book["网格变色"][2]][:6] == [
        "大佛社区第1网格",
        "大佛社区",
        "正常",
        "正常",
        "橙色预警",
        "升",
    ]
    assert book["新增超期"]["A2"].value == story["late"].number
    assert [c.value for c in book["分类突增"][2]] == ["邻里纠纷", 3, 0, 0, 3]


def test_generation_is_idempotent_per_scope_and_day(cast: Cast, story: dict[str, Case]) -> None:
    assert report_generate(county(cast), DAY)[1] is True
    assert report_generate(county(cast), DAY)[1] is False
    assert DailyReport.objects.count() == 1


def test_the_worker_generates_yesterdays_county_report_after_the_configured_time(
    cast: Cast, story: dict[str, Case]
) -> None:
    assert reports_generate_due(local("2026-03-05 07:00")) == 0
    assert reports_generate_due(local("2026-03-05 07:31")) == 1
    assert reports_generate_due(local("2026-03-05 09:00")) == 0
    saved = DailyReport.objects.get()
    assert (saved.name, saved.day, saved.level) == ("潼南区", DAY, Level.COUNTY)


def test_the_command_generates_a_units_report(cast: Cast, story: dict[str, Case]) -> None:
    out = io.StringIO()
    call_command("cockpit_report", "--date", "2026-03-04", "--unit", cast.town_a.code, stdout=out)
    assert "桂林街道 2026-03-04" in out.getvalue()
    assert DailyReport.objects.get().level == Level.TOWN


def test_the_archive_generates_on_demand_and_downloads_in_scope(
    cast: Cast, story: dict[str, Case], login: Any
) -> None:
    leader: Client = login(cast.leader)
    assert leader.get("/cockpit/reports/").status_code == 200
    leader.post("/cockpit/reports/", {"day": "2026-03-04"})
    saved = DailyReport.objects.get()
    page = leader.get("/cockpit/reports/").content.decode()
    assert "2026-03-04" in page and f"/cockpit/reports/{saved.pk}.pdf" in page

    pdf = leader.get(f"/cockpit/reports/{saved.pk}.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = leader.get(f"/cockpit/reports/{saved.pk}.xlsx")
    assert xlsx.content.startswith(b"PK")

    town_b: Client = login(cast.town_dispatcher)
    assert town_b.get(f"/cockpit/reports/{saved.pk}.pdf").status_code == 404


def test_no_report_is_archived_before_the_rollup_has_counted_its_day(
    cast: Cast, story: dict[str, Case], login: Any
) -> None:
    """After an outage (or on a fresh install) the timeline holds events of the report day above the
    watermark: the worker waits, the command and the page say why, and nothing with zeros is archived."""
    with at("2026-03-04 16:00"):
        report(cast, category="T0101", phone="13900003333")  # recorded, not yet rolled up
    assert reports_generate_due(local("2026-03-05 07:31")) == 0
    with pytest.raises(CommandError, match="尚未汇总完成"):
        call_command("cockpit_report", "--date", "2026-03-04", stdout=io.StringIO())
    leader: Client = login(cast.leader)
    page = leader.post("/cockpit/reports/", {"day": "2026-03-04"}, follow=True).content.decode()
    assert "当日数据尚未汇总完成" in page
    assert not DailyReport.objects.exists()

    rollup_events(settle_seconds=0)
    assert reports_generate_due(local("2026-03-05 07:32")) == 1
    saved = DailyReport.objects.get()
    # quick + 3 disputes (as in the first test) + the one recorded after the first rollup
    assert figure(saved.data["day_figures"], "received")["value"] == 5


def test_unresolved_disputes_at_past_ends_follow_each_case(cast: Cast, story: dict[str, Case]) -> None:
    """The three 邻里纠纷 of 4 March: one closed (满意) on 6 March, one waiting for its rating (待评价)
    from 5 March, one still open; a fourth registered on 4 March and rejected (不予受理) that day. At
    each day's end the disputes registered and not yet closed or voided — read from the open ones,
    the 待评价 ones and those closed since the first end."""
    from dualgrid.cockpit.report import _disputes_at
    from dualgrid.cockpit.rollup import local_day_bounds

    closed, waiting, _open = Case.objects.filter(category__code="1001").order_by("pk")
    with at("2026-03-04 15:00"):
        rejected = report(cast, category="1001", description="邻里之间因噪音发生纠纷，多次协商未果")
        act(cast.dispatcher, act(cast.dispatcher, rejected, "accept"), "reject", "重复反映")
    with at("2026-03-05 09:00"):
        for case in (closed, waiting):
            case = act(
                cast.dispatcher, act(cast.dispatcher, case, "accept"), "dispatch", grid_id=cast.grid_a.pk
            )
            case = act(cast.worker_a, case, "sign")
            case = act(cast.worker_a, case, "resolve", "已调解")
            act(cast.dispatcher, case, "verify")
    with at("2026-03-06 10:30"):
        rate(Case.objects.get(pk=closed.pk), "satisfied")
    assert Case.objects.get(pk=waiting.pk).status == "pending_rating"

    days = [date(2026, 3, d) for d in (3, 4, 5, 6, 7)]
    ends = [local_day_bounds(d, d)[1] for d in days]
    grid = cast.grid_a.pk
    expected = [{}, {grid: 3}, {grid: 3}, {grid: 2}, {grid: 2}]
    assert _disputes_at(county(cast), ends) == expected
    # Every subset of the ends gives the same per end (the first end decides what is read).
    for i in range(len(ends)):
        assert _disputes_at(county(cast), ends[i:]) == expected[i:]
    town_b = Place(Level.TOWN, cast.town_b.pk, cast.town_b.name)
    assert _disputes_at(town_b, ends) == [{}] * 5
