"""Issue #5 in a real browser: the cockpit at 1920×1080 and at phone size — figures, charts, the
grid map coloured by warning level, a drill-down and a click from the map into a grid."""

import re

import pytest
from playwright.sync_api import expect

from dualgrid.cases.models import Case, Status
from dualgrid.cases.tests.factories import case_in_state, report
from dualgrid.cockpit.rollup import rollup_events
from dualgrid.conftest import POINT_IN_B

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def test_cockpit_desktop_and_phone(site, cast, browser, new_page, login, shot, page_errors, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DUALGRID = {**settings.DUALGRID, "COCKPIT_OPEN_THRESHOLDS": (1, 2, 3)}
    case_in_state(cast, Status.CLOSED)
    report(cast, category="T0101")
    report(cast, point=POINT_IN_B, category="T0101")
    report(cast, point=POINT_IN_B, category="T0201")
    rollup_events(settle_seconds=0)

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **FULL_HD)
    page = context.new_page()
    page_errors.watch(page, "leader")
    login(page, site.url, "leader")
    page.goto(f"{site.url}/cockpit/")
    page.wait_for_load_state("load")
    expect(page.locator(".figure-card").first).to_contain_text("受理量")
    expect(page.locator(".figure-card").first.locator(".figure-value")).to_have_text("4件")
    expect(page.locator("#cockpit-map path.leaflet-interactive")).to_have_count(3)
    expect(page.locator("#chart-daily canvas")).to_have_count(1)
    fills = page.locator("#cockpit-map path.leaflet-interactive").evaluate_all(
        "els => els.map(e => e.getAttribute('fill'))"
    )
    assert sorted(fills) == sorted(["#fdd835", "#fb8c00", "#43a047"])  # A: 1 open, B: 2 open, C: none
    expect(page.locator("#count-orange")).to_have_text("1")
    shots = shot(page, "cockpit-1920x1080").parent

    # The category tree: 市容环境 (2: the closed case and one open) open first, with its 小类.
    tree = page.locator("#category-tree")
    expect(tree.locator("details.cat-node").first.locator("summary")).to_contain_text("市容环境")
    expect(tree.locator("details.cat-node").first.locator(".cat-children")).to_contain_text("车辆乱停")
    expect(page.locator("#chart-tree canvas")).to_have_count(1)
    tree.get_by_role("button", name="全部展开").click()
    expect(tree.locator("details.cat-node[open]")).to_have_count(2)
    tree.get_by_role("button", name="全部收起").click()
    expect(tree.locator("details.cat-node[open]")).to_have_count(0)
    tree.screenshot(path=str(shots / "cockpit-tree-1920x1080.png"))
    # Departments: 下水道堵塞 was routed to 区住房城乡建委; grid workers: worker_a signed the closed case.
    departments = page.locator("#departments")
    expect(departments.locator("tbody tr")).to_have_count(1)
    expect(departments.locator("tbody tr").first).to_contain_text("区住房城乡建委")
    expect(page.locator("#chart-departments canvas")).to_have_count(1)
    workers = page.locator("#workers")
    expect(workers.locator("tbody tr").first).to_contain_text("worker_a")
    expect(workers.locator("tbody tr").first).to_contain_text("100.0%")
    workers.screenshot(path=str(shots / "cockpit-workers-1920x1080.png"))
    departments.locator("tbody tr").first.locator("td.num a").first.click()
    expect(page).to_have_url(re.compile(r"/cases/\?.*dispatched_from=.*department=\d+"))
    expect(page.locator("#case-results")).to_contain_text(Case.objects.get(category__code="T0201").number)
    page.go_back()

    page.locator("table a", has_text="桂林街道").click()
    expect(page.locator(".page-title")).to_have_text("驾驶舱 · 桂林街道")
    page.locator("table a", has_text="大佛社区").first.click()
    expect(page.locator(".crumbs")).to_contain_text("潼南区")
    page.locator(".figure-card .figure-value").first.click()
    expect(page).to_have_url(re.compile(r"/cases/\?unit=\d+&created_from="))
    expect(page.locator("#case-results")).to_contain_text("车辆乱停")

    # 晾晒: the department and worker tabs rank the same numbers as the tables above.
    page.goto(f"{site.url}/cockpit/rankings/?kind=department")
    housing = page.locator("#ranking-department tbody tr", has_text="区住房城乡建委")
    expect(housing.locator("td.num").first).to_contain_text("1")
    expect(page.locator("#ranking-department")).to_contain_text("样本不足，不排名")
    shot(page, "rankings-department-1920x1080")
    page.goto(f"{site.url}/cockpit/rankings/?kind=worker")
    worker_a = page.locator("#ranking-worker tbody tr", has_text="worker_a")
    expect(worker_a.locator("td.num").nth(1)).to_contain_text("1")  # 承办量: one sign
    expect(worker_a.locator("td.num").nth(3)).to_contain_text("100.0%")  # 办结率
    shot(page, "rankings-worker-1920x1080")
    worker_a.locator("td.num").nth(1).locator("a").click()
    expect(page).to_have_url(re.compile(r"/cases/\?.*signed_from=.*assignee=\d+"))
    expect(page.locator("#case-results")).to_contain_text(Case.objects.get(status=Status.CLOSED).number)

    phone = new_page("leader-phone", "phone")
    login(phone, site.url, "leader")
    for kind in ("department", "worker"):
        phone.goto(f"{site.url}/cockpit/rankings/?kind={kind}")
        expect(phone.locator(f"#ranking-{kind} tbody tr").first).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot(phone, f"rankings-{kind}-390x844")
    phone.goto(f"{site.url}/cockpit/?period=7d")
    expect(phone.locator("#cockpit-map path.leaflet-interactive")).to_have_count(3)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "cockpit-390x844")
    expect(phone.locator("#category-tree details.cat-node").first).to_have_attribute("open", "")
    expect(phone.locator("#workers tbody tr")).to_have_count(1)
    grid_b = phone.locator("#cockpit-map path.leaflet-interactive[fill='#fb8c00']")
    grid_b.scroll_into_view_if_needed()
    grid_b.click()
    expect(phone).to_have_url(re.compile(rf"/places/grids/{cast.grid_b.pk}/$"))
    context.close()
