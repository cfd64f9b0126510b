"""Issue #2 in a real browser: report → accept → dispatch → sign → resolve → verify → rate → closed.

Everything after the cast fixture goes through the pages only; the database is read at the end.
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from dualgrid.cases.models import AttachmentKind, Case, CaseAttachment, Rating, Status
from dualgrid.cases.tests.factories import case_in_state
from dualgrid.conftest import POINT_IN_A

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "小区门口车辆乱停，消防通道被堵"
REPORTER_PHONE = "13812345678"
RESULT_NOTE = "已联系车主挪车，并在消防通道设置禁停标志"


def tap_map_at(page, lat: float, lng: float) -> None:  # type: ignore[no-untyped-def]
    """Tap the report map where Leaflet draws (lat, lng), once the grid polygons are on it."""
    picker = page.locator(".map-picker")
    picker.scroll_into_view_if_needed()
    expect(picker.locator("path.leaflet-interactive")).to_have_count(3)
    point = picker.evaluate(
        "(el, ll) => { const p = el._dgMap.latLngToContainerPoint(ll); return {x: p.x, y: p.y}; }",
        [lat, lng],
    )
    picker.tap(position=point)


def assert_libraries_loaded(page, *names: str) -> None:  # type: ignore[no-untyped-def]
    # Deferred scripts run after the DOM is parsed: wait for the page's load event, then check.
    page.wait_for_load_state("load")
    for name in names:
        assert page.evaluate(f"typeof window.{name}") == "object", f"{name} did not load on {page.url}"


def open_action(page, action: str):  # type: ignore[no-untyped-def]
    panel = page.locator(f"details.action-{action}")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


def test_closed_loop_through_the_pages(site, cast, new_page, login, shot, jpeg_path, page_errors) -> None:
    base = site.url

    # (1) A resident reports on a phone, leaving the category to the centre and tapping the map in grid A.
    resident = new_page("resident", "phone")
    resident.goto(f"{base}/report/")
    assert_libraries_loaded(resident, "L", "htmx", "Alpine")
    resident.fill("#id_description", DESCRIPTION)
    expect(resident.locator("#id_category_code")).to_have_value("")
    tap_map_at(resident, *POINT_IN_A)
    expect(resident.locator("#map-status")).to_contain_text("所在网格：大佛社区第1网格")
    lat, lng = float(resident.input_value("#id_lat")), float(resident.input_value("#id_lng"))
    assert abs(lat - POINT_IN_A[0]) < 0.002 and abs(lng - POINT_IN_A[1]) < 0.002, (lat, lng)
    resident.fill("#id_reporter_phone", REPORTER_PHONE)
    shot(resident, "01-resident-report-form")
    resident.locator("form.case-form button[type=submit]").click()
    expect(resident.locator("h1")).to_have_text("提交成功")
    number = resident.locator("#case-number").inner_text().strip()
    assert re.fullmatch(r"\d{8,20}", number), number
    shot(resident, "02-resident-report-done")

    # (2) The dispatcher finds it under 待受理, accepts it as 车辆乱停 and dispatches it to grid A.
    desk = new_page("dispatcher", "desktop")
    login(desk, base, "dispatcher")
    expect(desk).to_have_url(re.compile(r"/queue/"))
    expect(desk.locator("#queue-panel .tabs a.active")).to_contain_text("待受理")
    row = desk.locator("#queue-panel tbody tr", has_text=number)
    expect(row).to_contain_text("大佛社区第1网格")
    expect(row).to_contain_text("138****5678")
    shot(desk, "03-dispatcher-queue-new")
    row.get_by_role("link", name=number).click()
    expect(desk.locator(".summary-card .status")).to_have_text("待受理")
    assert_libraries_loaded(desk, "L", "htmx", "Alpine")
    accept = open_action(desk, "accept")
    accept.locator("#accept-category_code").select_option("T0101")
    shot(desk, "04-dispatcher-accept")
    accept.get_by_role("button", name="确认受理").click()
    expect(desk.locator(".summary-card .status")).to_have_text("待派单")
    dispatch = open_action(desk, "dispatch")
    grid_select = dispatch.locator("#dispatch-grid_id")
    grid_select.select_option(str(cast.grid_a.pk))
    expect(grid_select.locator("option:checked")).to_contain_text("大佛社区第1网格")
    dispatch.locator("#dispatch-note").fill("请尽快到场处置")
    shot(desk, "05-dispatcher-dispatch")
    dispatch.get_by_role("button", name="确认派单").click()
    expect(desk.locator(".summary-card .status")).to_have_text("待签收")
    expect(desk.locator(".facts")).to_contain_text("车辆乱停")

    # (3) Worker A, on a phone, signs the task and reports the result with a photo.
    worker = new_page("worker_a", "phone")
    login(worker, base, "worker_a")
    expect(worker).to_have_url(re.compile(r"/tasks/"))
    card = worker.locator("a.task-card", has_text=number)
    expect(card).to_contain_text("待签收")
    shot(worker, "06-worker-tasks")
    card.click()
    expect(worker.locator(".summary-card .status")).to_have_text("待签收")
    open_action(worker, "sign").get_by_role("button", name="确认签收").click()
    expect(worker.locator(".summary-card .status")).to_have_text("处置中")
    resolve = open_action(worker, "resolve")
    resolve.locator("#resolve-note").fill(RESULT_NOTE)
    resolve.locator("input[type=file][multiple]").set_input_files(str(jpeg_path))
    expect(resolve).to_contain_text("已选择 1 张")
    shot(worker, "07-worker-resolve")
    resolve.get_by_role("button", name="确认办结反馈").click()
    expect(worker.locator(".messages")).to_contain_text("已办结反馈")
    shot(worker, "08-worker-resolved")

    # (4) The dispatcher verifies the result from the 待核查 tab.
    desk.get_by_role("link", name="调度队列").click()
    desk.get_by_role("tab", name=re.compile("待核查")).click()
    expect(desk.locator("#queue-panel .tabs a.active")).to_contain_text("待核查")
    expect(desk).to_have_url(re.compile(r"tab=verify"))
    desk.locator("#queue-panel tbody").get_by_role("link", name=number).click()
    expect(desk.locator(".summary-card .status")).to_have_text("待核查")
    expect(desk.locator(".timeline")).to_contain_text(RESULT_NOTE)
    verify = open_action(desk, "verify")
    shot(desk, "09-dispatcher-verify")
    verify.get_by_role("button", name="确认核查通过").click()
    expect(desk.locator(".summary-card .status")).to_have_text("待评价")

    # (5) The resident looks the case up by number and phone last 4, reads the steps and rates 满意.
    resident.goto(f"{base}/track/")
    resident.fill("#id_number", number)
    resident.fill("#id_last4", REPORTER_PHONE[-4:])
    resident.get_by_role("button", name=re.compile(r"查\s*询")).click()
    expect(resident.locator(".case-head .status")).to_have_text("待评价")
    timeline = resident.locator("#timeline")
    expect(timeline).to_contain_text(RESULT_NOTE)
    assert timeline.locator("li.tl-item").count() >= 6
    result_img = resident.locator(".thumbs img").first
    expect(result_img).to_be_visible()
    # The photo is served by the scoped view, allowed by this browser's tracking session; wait for it.
    result_img.evaluate(
        "img => img.complete ? null : new Promise(done => { img.onload = img.onerror = done; })"
    )
    assert result_img.evaluate("img => img.complete && img.naturalWidth") > 0, "result photo did not load"
    shot(resident, "10-resident-track")
    resident.get_by_role("button", name="满意", exact=True).click()

    # (6) Closed, on the page and in the database.
    expect(resident.locator("[role=status]")).to_contain_text("感谢您的评价")
    expect(resident.locator(".case-head .status")).to_have_text("已结案")
    expect(resident.locator(".facts")).to_contain_text("满意")
    shot(resident, "11-resident-rated-closed")

    case = Case.objects.get(number=number)
    assert case.status == Status.CLOSED
    assert case.rating == Rating.SATISFIED
    assert case.category == cast.parking
    assert case.grid == cast.grid_a and case.assigned_grid == cast.grid_a
    assert case.assignee == cast.worker_a
    assert case.reporter_phone == REPORTER_PHONE
    assert list(case.events.values_list("action", flat=True)) == [
        "create",
        "accept",
        "dispatch",
        "sign",
        "resolve",
        "verify",
        "rate",
    ]
    photos = CaseAttachment.objects.filter(case=case, kind=AttachmentKind.RESULT)
    assert photos.count() == 1
    stored = Path(photos.get().file.path)
    assert stored.is_file() and stored.read_bytes()[:2] == b"\xff\xd8"
    assert page_errors.items == [], "\n".join(page_errors.items)


def test_stale_reject_shows_conflict_and_keeps_the_reason(
    site, cast, new_page, login, shot, page_errors
) -> None:
    case = case_in_state(cast, Status.PENDING_DISPATCH)
    base = site.url
    url = f"{base}/cases/{case.pk}/"
    first, second = new_page("dispatcher-1", "desktop"), new_page("dispatcher-2", "desktop")
    for page in (first, second):
        login(page, base, "dispatcher")
        page.goto(url)
        expect(page.locator(".summary-card .status")).to_have_text("待派单")

    dispatch = open_action(first, "dispatch")
    dispatch.locator("#dispatch-grid_id").select_option(str(cast.grid_a.pk))
    dispatch.get_by_role("button", name="确认派单").click()
    expect(first.locator(".summary-card .status")).to_have_text("待签收")

    reason = "重复反映，已并入此前的同一事件"
    reject = open_action(second, "reject")
    reject.locator("#reject-note").fill(reason)
    reject.get_by_role("button", name="确认不予受理").click()
    expect(second.locator("#actions .alert-error")).to_contain_text("该事件已被他人更新")
    expect(second.locator("#reject-note")).to_have_value(reason)
    expect(second.locator(".summary-card .status")).to_have_text("待签收")
    shot(second, "12-conflict-stale-reject")

    case.refresh_from_db()
    assert case.status == Status.PENDING_SIGN
    assert not case.events.filter(action="reject").exists()
    assert page_errors.items == [], "\n".join(page_errors.items)
