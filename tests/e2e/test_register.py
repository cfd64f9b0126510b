"""Issue #3 in a real browser: the registers behind the grids, from Excel import to the notice board.

(1) Last Sunday the county administrator imports a new community's grids and the town dispatcher
    imports the residents (with their care tags) from the downloaded Excel templates; a file with bad
    rows is refused row by row and writes nothing.
(2) Today the administrator replaces grid A's worker in one step; access to the grid's cases moves
    from the old account to the new one at once.
(3) The new worker, on a phone, visits a resident due this week (photo, raise a case); the person
    drops off the due list and the town's compliance page counts the visit.
(4) The administrator prints the 公示牌 PDFs (A4, A3, a whole community) showing the new worker.

The starting cast (district, towns, grids A/B/C, accounts) comes from dualgrid/conftest.py; the test
adds only accounts and units (a town dispatcher, the new worker's account, the new community), worker
A's current assignment and one case in grid A, all through the real services. Everything else goes
through the pages; the database is read only to check what the pages did.
"""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.conf import settings as django_settings
from openpyxl import load_workbook
from playwright.sync_api import expect

from dualgrid.accounts.models import Role, User
from dualgrid.cases.models import Status
from dualgrid.cases.tests.factories import case_in_state
from dualgrid.exchange.models import ImportJob, JobStatus
from dualgrid.exchange.services import importjobs_process_next
from dualgrid.lib.idcard import make_id
from dualgrid.people import services as people
from dualgrid.people.models import Assignment, Resident, Staff, StaffRole, Visit
from dualgrid.people.visit_rules import SHANGHAI, local_today, week_start
from dualgrid.places.models import AdminUnit, Grid, UnitLevel

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-123456"  # the cast's (dualgrid/conftest.py), which the login fixture types
# The data migrations that seed the shipped configuration: staff roles and tags, standard duties,
# categories and time limits.
SEEDS = (
    "dualgrid.cases.migrations.0002_default_configuration",
    "dualgrid.places.migrations.0003_standard_duties",
    "dualgrid.people.migrations.0002_default_configuration",
)
POPPLER = ("pdfinfo", "pdftoppm", "pdftotext")
NEW_VILLAGE = ("500152001002", "书院社区")
NEW_GRIDS = [
    ("500152001002001", "书院社区第1网格", 210, 560),
    ("500152001002002", "书院社区第2网格", 180, 470),
]
OLD_WORKER = "陈志强"
NEW_WORKER = "李明华"
NEW_WORKER_PHONE = "13987654321"
VISITED = "王秀英"
# Weekly care residents in grid A (the new worker's visit list) and one in the new community.
CARE_IN_A = [VISITED, "刘德福", "张小雨"]
REFUSED_GOOD_ROW = "周明"


def ident(birth: date, sequence: int) -> str:
    return make_id("500152", birth, sequence)


def wrong_checksum(number: str) -> str:
    return number[:-1] + ("1" if number[-1] == "0" else "0")


def require_poppler() -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the notice-board checks need Debian's poppler-utils "
            "(apt-get install poppler-utils; .ci/run does it).",
            pytrace=False,
        )


def download_template(page: Any, label: str, tmp_path: Path) -> Path:
    """Click 下载模板 next to ``label`` on /exchange/import/ and keep the file."""
    row = page.locator(".xl-templates li").filter(
        has=page.locator(".xl-template-name", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    with page.expect_download() as info:
        row.get_by_role("link", name="下载模板").click()
    download = info.value
    assert download.suggested_filename == f"{label}导入模板.xlsx", download.suggested_filename
    path = tmp_path / f"template-{label}.xlsx"
    download.save_as(str(path))
    return path


def fill_template(template: Path, rows: list[dict[str, Any]], out: Path) -> list[str]:
    """Write ``rows`` (header → value) over the template's example row and below; returns the headers."""
    book = load_workbook(template)
    sheet = book.worksheets[0]
    headers = [str(cell.value or "").lstrip("*") for cell in sheet[1]]
    for number, values in enumerate(rows, start=2):
        unknown = set(values) - set(headers)
        assert not unknown, f"not in the template: {unknown}"
        for column, header in enumerate(headers, start=1):
            # (``cell(..., value=None)`` would leave the example's value in place.)
            sheet.cell(row=number, column=column).value = values.get(header)
    book.save(out)
    return headers


def upload(page: Any, base: str, kind: str, path: Path) -> None:
    page.goto(f"{base}/exchange/import/")
    page.locator("#id_kind").select_option(kind)
    page.locator("#id_file").set_input_files(str(path))
    expect(page.locator(".xl-chosen")).to_have_text(path.name)
    page.get_by_role("button", name="上传并校验").click()
    expect(page).to_have_url(re.compile(r"/exchange/import/\d+/$"))


def follow_job(page: Any, shot: Any, name: str, rows: int, outcome: str) -> None:
    """The job page of a queued import polls itself (htmx, every second) until the job ends.

    Stand-in for the background worker: ``dualgrid worker`` calls ``importjobs_process_next()`` once a
    round; here the test calls that same function between the page's polls, then waits for the page
    to show the outcome (完成 or 失败) on its own.
    """
    status = page.locator("#job-status .xl-status")
    expect(status).to_have_text("排队")
    expect(page.locator("#job-status")).to_contain_text(f"排队中，稍后自动开始（共 {rows} 行）")
    assert page.locator("#job-status").get_attribute("hx-trigger") == "every 1s"
    shot(page, f"{name}-queued")
    assert importjobs_process_next() is True
    expect(status).to_have_text(re.compile("^(完成|失败)$"))
    # Finished: the fragment no longer asks to be polled.
    assert page.locator("#job-status").get_attribute("hx-get") is None
    assert status.inner_text() == outcome, page.locator("#job-status").inner_text()


def stat(page: Any, label: str) -> Any:
    return (
        page.locator(".stat")
        .filter(has=page.locator(".stat-label", has_text=re.compile(f"^{re.escape(label)}$")))
        .locator("strong")
    )


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def fetch_pdf(page: Any, url: str, tmp_path: Path, name: str, *, pages: int, paper: str) -> tuple[Path, str]:
    """GET a PDF with the page's logged-in session; check it, render page 1 to a screenshot PNG."""
    response = page.context.request.get(url)
    assert response.status == 200, (url, response.status)
    assert response.headers["content-type"] == "application/pdf", response.headers
    assert response.headers["content-disposition"].startswith("inline;"), response.headers
    body = response.body()
    assert body[:5] == b"%PDF-", body[:20]
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(body)
    info = pdf_info(path)
    assert info["Pages"] == str(pages), (url, info)
    assert f"({paper})" in info["Page size"], (url, info["Page size"])
    png = Path(django_settings.VAR_DIR) / "screenshots" / "e2e" / name
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(path), str(png)],
        check=True,
    )
    assert png.with_suffix(".png").stat().st_size > 10_000
    return path, pdf_text(path)


@pytest.fixture
def register_cast(cast, settings, tmp_path):  # type: ignore[no-untyped-def]
    """The shared cast plus what this journey starts from, through the real services."""
    # A transactional test that ran before this one flushed the tables, seeds included; their loaders
    # are idempotent (get_or_create), so run them again.
    for seed in SEEDS:
        importlib.import_module(seed).load(django_apps, None)
    settings.DUALGRID = {
        **settings.DUALGRID,
        "PRIVATE_ROOT": str(tmp_path / "private"),
        # Every upload goes to the background worker (by default only files of 2,000 rows or more do).
        "IMPORT_INLINE_ROWS": 1,
    }
    code, name = NEW_VILLAGE
    village = AdminUnit.objects.create(code=code, name=name, level=UnitLevel.VILLAGE, parent=cast.town_a)
    town_desk = User.objects.create_user(
        "guilin_dispatcher",
        password=PASSWORD,
        role=Role.DISPATCHER,
        display_name="桂林街道调度员",
        unit=cast.town_a,
    )
    newcomer = User.objects.create_user(
        "worker_new", password=PASSWORD, role=Role.GRIDWORKER, display_name=NEW_WORKER
    )
    # Worker A has served grid A as 专职网格员 since 2024 (the person behind the worker_a account).
    old = people.staff_create(
        actor=None,
        data=people.StaffInput(
            name=OLD_WORKER,
            gender="M",
            phone="13900001111",
            id_number=ident(date(1982, 7, 9), 31),
            username=cast.worker_a.username,
        ),
    )
    people.assignment_start(
        actor=None,
        staff=old,
        grid=cast.grid_a,
        role=StaffRole.objects.get(code="full_time"),
        start="2024-03-01",
    )
    case = case_in_state(cast, Status.PENDING_SIGN)  # waiting in grid A for its worker to sign
    return {"village": village, "town_desk": town_desk, "newcomer": newcomer, "case": case}


def test_register_import_replace_visit_notice(  # type: ignore[no-untyped-def]
    site, cast, register_cast, new_page, login, shot, jpeg_path, page_errors, tmp_path
) -> None:
    require_poppler()
    base = site.url
    village = register_cast["village"]
    case = register_cast["case"]
    monday = week_start(local_today())
    # Part 1 happens last Sunday (time_machine; the live server runs in this process, so it moves
    # too): residents tagged before this Monday are required visits this week, so the compliance
    # figures count them (one tagged mid-week is on the phone list at once, in the figures next week).
    last_sunday = datetime.combine(monday - timedelta(days=1), time(10, 0), tzinfo=SHANGHAI)

    admin = new_page("admin", "desktop")
    town = new_page("town-dispatcher", "desktop")
    with time_machine.travel(last_sunday, tick=True):
        # (1a) The county administrator downloads the 网格 template and imports the new community's grids.
        login(admin, base, "admin")
        admin.get_by_role("link", name="数据导入").click()
        expect(admin.locator("h1")).to_have_text("数据导入")
        expect(admin.locator(".xl-templates")).to_contain_text("网格人员任职")
        shot(admin, "register-01-admin-import-page")
        template = download_template(admin, "网格", tmp_path)
        headers = fill_template(
            template,
            [
                {
                    "网格编码": grid_code,
                    "网格名称": grid_name,
                    "所属村/社区代码": NEW_VILLAGE[0],
                    "网格层级": "一般网格",
                    "网格类型": "城市社区网格",
                    "户数": households,
                    "人口": population,
                    "是否启用": "是",
                }
                for grid_code, grid_name, households, population in NEW_GRIDS
            ],
            tmp_path / "书院社区网格.xlsx",
        )
        assert headers[:3] == ["网格编码", "网格名称", "所属村/社区代码"], headers
        upload(admin, base, "grids", tmp_path / "书院社区网格.xlsx")
        expect(admin.locator("h1")).to_have_text("导入任务 · 网格")
        follow_job(admin, shot, "register-02-admin-grids-job", 2, "完成")
        expect(admin.locator("#job-status .alert-success")).to_have_text(
            "导入完成：共 2 行，新增 2，更新 0，未变 0。"
        )
        shot(admin, "register-03-admin-grids-done")

        # (1b) The town dispatcher imports the residents (with households and care tags).
        login(town, base, "guilin_dispatcher")
        town.get_by_role("link", name="数据导入").click()
        # The places tree (units, grids) is the administrator's: not offered to a town dispatcher.
        expect(town.locator(".xl-templates")).not_to_contain_text("行政区划")
        template = download_template(town, "实有人口（含户）", tmp_path)
        residents = [
            {
                "网格编码": cast.grid_a.code,
                "姓名": VISITED,
                "身份证号": ident(date(1948, 5, 6), 22),
                "手机号": "13800001001",
                "现住址": "大佛社区3栋2单元501",
                "户地址": "大佛社区3栋",
                "门牌号": "2单元501",
                "是否户主": "是",
                "人员标签": "空巢(独居)老人",
            },
            {
                "网格编码": cast.grid_a.code,
                "姓名": "刘德福",
                "身份证号": ident(date(1941, 2, 3), 13),
                "现住址": "大佛社区5栋1单元102",
                "人员标签": "行动不便人员、低保对象",
                "关注程度": "中等",
            },
            {
                "网格编码": cast.grid_a.code,
                "姓名": "张小雨",
                "身份证号": ident(date(2015, 9, 1), 24),
                "现住址": "大佛社区3栋1单元301",
                "人员标签": "留守儿童",
            },
            {
                "网格编码": NEW_GRIDS[0][0],
                "姓名": "赵建国",
                "身份证号": ident(date(1980, 1, 15), 35),
                "手机号": "13800001004",
                "现住址": "书院社区1栋",
            },
            {
                "网格编码": NEW_GRIDS[1][0],
                "姓名": "孙桂兰",
                "身份证号": ident(date(1950, 12, 8), 46),
                "现住址": "书院社区8栋",
                "人员标签": "空巢(独居)老人",
            },
        ]
        fill_template(template, residents, tmp_path / "桂林街道实有人口.xlsx")
        upload(town, base, "residents", tmp_path / "桂林街道实有人口.xlsx")
        follow_job(town, shot, "register-04-town-residents-job", 5, "完成")
        expect(town.locator("#job-status .alert-success")).to_have_text(
            "导入完成：共 5 行，新增 5，更新 0，未变 0。"
        )
        shot(town, "register-05-town-residents-done")

        # (1c) A file with bad rows: every error is listed by row and column, and nothing is written.
        bad_rows = [
            {"网格编码": cast.grid_a.code, "姓名": REFUSED_GOOD_ROW, "身份证号": ident(date(1990, 4, 4), 51)},
            {
                "网格编码": cast.grid_a.code,
                "姓名": "吴芳",
                "身份证号": wrong_checksum(ident(date(1975, 6, 6), 62)),
            },
            {"网格编码": cast.grid_c.code, "姓名": "郑强", "身份证号": ident(date(1966, 3, 3), 73)},
        ]
        fill_template(template, bad_rows, tmp_path / "有错误的名单.xlsx")
        upload(town, base, "residents", tmp_path / "有错误的名单.xlsx")
        follow_job(town, shot, "register-06-town-bad-file-job", 3, "失败")
        expect(town.locator("#job-status .alert-error")).to_contain_text("发现 2 行有错误，未导入任何数据")
        errors = town.locator("table.xl-errors tbody tr")
        expect(errors).to_have_count(2)
        expect(errors.nth(0).locator("td")).to_have_text(
            ["第 3 行", "身份证号", "身份证号校验位错误，请核对"]
        )
        expect(errors.nth(1).locator("td")).to_have_text(
            ["第 4 行", "网格编码", "网格“白兔村第1网格”不在您的管辖范围（桂林街道）内，不能导入"]
        )
        shot(town, "register-07-town-bad-file-errors")
        # The error report: the uploaded sheet with an added 错误原因 column.
        with town.expect_download() as info:
            town.get_by_role("link", name=re.compile("下载错误报告")).click()
        assert info.value.suggested_filename == "错误报告-有错误的名单.xlsx", info.value.suggested_filename
        info.value.save_as(str(tmp_path / "错误报告.xlsx"))
        report = load_workbook(tmp_path / "错误报告.xlsx").worksheets[0]
        report_rows = list(report.iter_rows(values_only=True))
        assert str(report_rows[0][-1]).endswith("错误原因"), report_rows[0]
        assert [row[1] for row in report_rows[1:4]] == [REFUSED_GOOD_ROW, "吴芳", "郑强"], report_rows
        assert (
            not report_rows[1][-1] and "校验位错误" in report_rows[2][-1] and "管辖范围" in report_rows[3][-1]
        )
        # The good row of the refused file was not written: the register does not know 周明.
        town.get_by_role("link", name="实有人口").click()
        town.locator("input[name=q]").fill(REFUSED_GOOD_ROW)
        town.locator("input[name=q]").press("Enter")
        expect(town.locator("table tbody")).not_to_contain_text(REFUSED_GOOD_ROW)
        expect(town.locator("table tbody")).to_contain_text("没有符合条件的居民")

    assert list(
        Grid.objects.filter(village=village).order_by("code").values_list("code", "name", "households")
    ) == [(c, n, h) for c, n, h, _ in NEW_GRIDS]
    assert set(Resident.objects.values_list("name", flat=True)) == {r["姓名"] for r in residents}
    statuses = list(ImportJob.objects.order_by("id").values_list("kind", "status"))
    assert statuses == [
        ("grids", JobStatus.DONE),
        ("residents", JobStatus.DONE),
        ("residents", JobStatus.FAILED),
    ]

    # (2) Today (last Sunday's sessions have long expired): the administrator replaces grid A's worker.
    login(admin, base, "admin")
    admin.goto(f"{base}/people/grids/{cast.grid_a.pk}/staff/")
    expect(admin.locator("h1")).to_have_text("大佛社区第1网格 · 网格人员")
    current = admin.locator("section.card", has=admin.get_by_role("heading", name=re.compile("当前在岗")))
    expect(current.locator("tbody tr")).to_have_count(1)
    expect(current.locator("tbody tr")).to_contain_text(OLD_WORKER)
    expect(current.locator("tbody tr")).to_contain_text("worker_a")
    replace = admin.locator("#replace")
    expect(replace.locator("select[name=assignment] option:checked")).to_have_text(
        f"{OLD_WORKER}（专职网格员）"
    )
    expect(replace.locator("select[name=staff]")).to_have_value("new")
    replace.locator("input[name=new_name]").fill(NEW_WORKER)
    replace.locator("select[name=new_gender]").select_option("M")
    replace.locator("input[name=new_phone]").fill(NEW_WORKER_PHONE)
    replace.locator("input[name=new_id_number]").fill(ident(date(1990, 10, 1), 57))
    replace.locator("input[name=new_username]").fill("worker_new")
    expect(replace.locator("input[name=on_date]")).to_have_value(local_today().isoformat())
    replace.locator("input[name=reason]").fill("工作调动")
    shot(admin, "register-08-admin-replace-form")
    replace.get_by_role("button", name="确认更换").click()
    expect(admin.locator(".messages")).to_contain_text(
        f"已更换：{NEW_WORKER}接替{OLD_WORKER}任专职网格员（{local_today():%Y-%m-%d}起）"
    )
    expect(current.locator("tbody tr")).to_have_count(1)
    expect(current.locator("tbody tr")).to_contain_text(NEW_WORKER)
    expect(current.locator("tbody tr")).to_contain_text("worker_new")
    history = admin.locator("section.card", has=admin.get_by_role("heading", name="任职历史")).locator(
        "tbody tr"
    )
    expect(history).to_have_count(2)
    today = f"{local_today():%Y-%m-%d}"
    expect(history.nth(0).locator("td")).to_contain_text([NEW_WORKER, "专职网格员", today, "—", "在岗"])
    expect(history.nth(0)).to_contain_text(f"接替{OLD_WORKER}：工作调动")
    expect(history.nth(1).locator("td")).to_contain_text(
        [OLD_WORKER, "专职网格员", "2024-03-01", today, "已离任"]
    )
    expect(history.nth(1)).to_contain_text("离任：工作调动")
    shot(admin, "register-09-admin-replaced-history")

    # The old worker's account has lost grid A: no task, and the case itself is a 404.
    old_worker = new_page("worker_a", "phone")
    login(old_worker, base, "worker_a")
    expect(old_worker).to_have_url(re.compile(r"/tasks/"))
    expect(old_worker.locator("a.task-card")).to_have_count(0)
    expect(old_worker.locator(".empty")).to_have_text("暂无待办任务")
    shot(old_worker, "register-10-old-worker-no-tasks")
    response = old_worker.goto(f"{base}/cases/{case.pk}/")
    assert response is not None and response.status == 404

    # The new worker sees it at once and can open it.
    worker = new_page("worker_new", "phone")
    login(worker, base, "worker_new")
    expect(worker).to_have_url(re.compile(r"/tasks/"))
    card = worker.locator("a.task-card", has_text=case.number)
    expect(card).to_contain_text("待签收")
    shot(worker, "register-11-new-worker-tasks")
    card.click()
    expect(worker.locator(".summary-card .status")).to_have_text("待签收")

    # (3) The town's compliance page for this week, before the visit.
    login(town, base, "guilin_dispatcher")
    town.get_by_role("link", name="走访统计").click()
    expect(town.locator("h1")).to_have_text("走访统计")
    town.wait_for_load_state()  # Alpine (the select submits the form on change) is up
    town.locator("#week").select_option(monday.isoformat())  # the form submits itself on change
    expect(town).to_have_url(re.compile(rf"week={monday.isoformat()}"))
    expect(stat(town, "应走访")).to_have_text("4")
    expect(stat(town, "已走访")).to_have_text("0")

    # The new worker, on the phone, opens this week's visit list: grid A's three care residents are due.
    worker.get_by_role("link", name="本周走访").click()
    expect(worker.locator("h1")).to_have_text("本周走访")
    expect(worker.locator(".vs-due strong")).to_have_text("3")
    expect(worker.locator(".vs-done strong")).to_have_text("0")
    cards = worker.locator(".visit-list a.visit-card")
    expect(cards).to_have_count(3)
    for name in CARE_IN_A:
        expect(cards.filter(has_text=name)).to_contain_text("上次走访")
    expect(worker.locator(".visit-list")).not_to_contain_text("孙桂兰")  # another grid's resident
    shot(worker, "register-12-worker-visit-list")

    # A few taps: the resident, a quick finding, a photo, "raise a case", submit.
    cards.filter(has_text=VISITED).tap()
    expect(worker.locator("h1.visit-name")).to_have_text(VISITED)
    expect(worker.locator(".facts")).to_contain_text("从未走访")
    worker.wait_for_load_state()  # the quick-finding chips and the photo name are Alpine
    worker.get_by_role("button", name="生活有困难，需要帮扶").tap()
    expect(worker.locator("textarea[name=found]")).to_have_value("生活有困难，需要帮扶")
    worker.locator("input[name=photo]").set_input_files(str(jpeg_path))
    expect(worker.locator(".photo-pick")).to_contain_text("已选择：result.jpg")
    worker.locator("label.raise-case").tap()
    expect(worker.locator("input[name=raise_case]")).to_be_checked()
    submit = worker.locator("form.visit-form button[type=submit]")
    expect(submit).to_have_text("提交走访并上报事件")
    worker.locator("form.visit-form h2").tap()  # lets the last tap's highlight fade for the screenshot
    shot(worker, "register-13-worker-visit-form")
    submit.tap()
    expect(worker).to_have_url(re.compile(r"/people/visits/$"))
    message = worker.locator(".messages")
    expect(message).to_contain_text(re.compile(rf"已记录对{VISITED}的走访，已上报事件 \d+"))
    expect(worker.locator(".vs-due strong")).to_have_text("2")
    expect(worker.locator(".vs-done strong")).to_have_text("1")
    expect(cards).to_have_count(2)
    expect(worker.locator(".visit-list")).not_to_contain_text(VISITED)
    done = worker.locator("details.done-list")
    expect(done.locator("summary")).to_have_text("已走访 1 人")
    done.locator("summary").tap()
    expect(done).to_contain_text(VISITED)
    worker.locator("h1").tap()
    shot(worker, "register-14-worker-visited")

    # The supervisor's compliance page reflects it.
    town.reload()
    expect(stat(town, "应走访")).to_have_text("4")
    expect(stat(town, "已走访")).to_have_text("1")
    expect(stat(town, "走访率")).to_have_text("25.0")
    expect(stat(town, "走访记录")).to_have_text("1")
    grid_row = town.locator("#by-grid tbody tr", has_text="大佛社区第1网格")
    expect(grid_row.locator("td")).to_contain_text(
        ["大佛社区第1网格", "大佛社区", f"{NEW_WORKER}（专职网格员）", "3", "1"]
    )
    expect(grid_row).to_contain_text(f"{OLD_WORKER}（专职网格员）")  # served part of the week
    shot(town, "register-15-town-compliance")
    town.get_by_role("link", name=re.compile("按网格员")).click()
    # One tab is current at a time (按网格 used to stay highlighted next to 按网格员).
    expect(town.locator("nav.tabs a.active")).to_have_count(1)
    expect(town.locator("nav.tabs a.active")).to_contain_text("按网格员")
    expect(town.locator("#by-grid")).to_be_hidden()
    worker_row = town.locator("#by-worker tbody tr", has_text=NEW_WORKER)
    expect(worker_row).to_be_visible()
    expect(worker_row.locator("td").last).to_have_text("1")  # 本人走访
    shot(town, "register-16-town-compliance-workers")

    # (4) The administrator prints grid A's notice board (A4 and A3) and the communities' boards.
    admin.get_by_role("link", name="网格", exact=True).click()
    admin.locator("table tbody").get_by_role("link", name="大佛社区第1网格").click()
    expect(admin.locator("h1")).to_contain_text("大佛社区第1网格")
    expect(admin.locator(".map-view path.leaflet-interactive").first).to_be_visible()  # the boundary
    shot(admin, "register-17-admin-grid-detail")
    links = {
        name: admin.get_by_role("link", name=name, exact=True).get_attribute("href")
        for name in ("公示牌 A4", "A3", "本村/社区全部公示牌")
    }
    _, text = fetch_pdf(
        admin, base + links["公示牌 A4"], tmp_path, "register-18-notice-grid-a4", pages=1, paper="A4"
    )
    for expected in ("大佛社区第1网格", cast.grid_a.code, NEW_WORKER, NEW_WORKER_PHONE, "扫码反映问题"):
        assert expected in text, (expected, text)
    assert OLD_WORKER not in text, text
    _, text = fetch_pdf(
        admin, base + links["A3"], tmp_path, "register-19-notice-grid-a3", pages=1, paper="A3"
    )
    assert "大佛社区第1网格" in text and NEW_WORKER in text, text
    _, text = fetch_pdf(
        admin,
        base + links["本村/社区全部公示牌"],
        tmp_path,
        "register-20-notice-village",
        pages=2,
        paper="A4",
    )
    assert "大佛社区第1网格" in text and "大佛社区第2网格" in text, text
    # The community imported last Sunday prints too: one board per imported grid (no boundary yet).
    _, text = fetch_pdf(
        admin,
        f"{base}/places/villages/{village.pk}/notices.pdf?size=A4",
        tmp_path,
        "register-21-notice-new-village",
        pages=2,
        paper="A4",
    )
    assert all(name in text for _, name, _, _ in NEW_GRIDS), text

    # What the pages did, in the database.
    assert not Resident.objects.filter(name=REFUSED_GOOD_ROW).exists()
    old_staff, new_staff = Staff.objects.get(name=OLD_WORKER), Staff.objects.get(name=NEW_WORKER)
    assert new_staff.user == register_cast["newcomer"]
    assert list(cast.worker_a.grids.all()) == []
    assert list(register_cast["newcomer"].grids.all()) == [cast.grid_a]
    ended = Assignment.objects.get(staff=old_staff, grid=cast.grid_a)
    assert ended.end_date == local_today() and ended.end_reason == "工作调动"
    visit = Visit.objects.get()
    assert visit.resident.name == VISITED and visit.visitor == register_cast["newcomer"]
    assert visit.photo and Path(visit.photo.path).read_bytes()[:2] == b"\xff\xd8"
    assert visit.raised_case is not None and visit.raised_case.channel == "patrol"
    assert visit.raised_case.grid == cast.grid_a
    assert page_errors.items == [], "\n".join(page_errors.items)
