"""Issue #5's big screen in Chromium at 1920×1080: it renders (today's figures, the coloured map, the
live feed, the ranking), keeps its last data with a banner when its JSON stops answering, and comes
back by itself — no reload — once the server answers again."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from dualgrid.cases.models import Status, Urgency
from dualgrid.cases.tests.factories import case_in_state, report
from dualgrid.cockpit.rollup import rollup_events
from dualgrid.conftest import POINT_IN_B

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}
DATA_URLS = re.compile(r"/cockpit/(screen/(summary|feed)\.json|map\.json)")


def test_screen_renders_survives_a_lost_connection_and_recovers(  # type: ignore[no-untyped-def]
    site, cast, browser, login, shot, page_errors, settings
) -> None:
    settings.DUALGRID = {**settings.DUALGRID, "COCKPIT_OPEN_THRESHOLDS": (1, 2, 3)}
    case_in_state(cast, Status.CLOSED)
    report(cast, category="T0101")
    report(
        cast,
        point=POINT_IN_B,
        category="T0101",
        urgency=Urgency.URGENT,
        description="河堤出现管涌，需紧急处置",
    )
    report(cast, point=POINT_IN_B, category="T0201")
    rollup_events(settle_seconds=0)

    # The wall PC's clock is set to UTC: the screen still shows the platform's time (Asia/Shanghai).
    context = browser.new_context(locale="zh-CN", timezone_id="UTC", **FULL_HD)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page_errors.watch(page, "leader")
    login(page, site.url, "leader")
    page.goto(f"{site.url}/cockpit/screen/?refresh=1")
    expect(page.locator("#today-received")).to_have_text("4")
    shanghai = datetime.now(ZoneInfo("Asia/Shanghai"))
    expect(page.locator("#screen-date")).to_have_text(f"{shanghai.year}年{shanghai.month}月{shanghai.day}日")
    assert page.locator("#screen-time").inner_text()[:2] in {
        f"{shanghai.hour:02d}",
        f"{(shanghai.hour + 1) % 24:02d}",
    }
    expect(page.locator("#today-closed")).to_have_text("1")
    expect(page.locator("#today-completion")).to_have_text("25.0%")
    expect(page.locator("#screen-map path.leaflet-interactive")).to_have_count(3)
    expect(page.locator("#feed li")).to_have_count(4)
    expect(page.locator("#feed li").first).to_have_class(re.compile("urgent"))
    expect(page.locator("#feed li").first).to_contain_text("138****5678")
    expect(page.locator("#ranking-rows tr")).to_have_count(2)
    expect(page.locator("#screen-offline")).to_be_hidden()
    assert page.evaluate(
        "document.documentElement.scrollHeight <= 1080 && document.documentElement.scrollWidth <= 1920"
    )
    page.wait_for_timeout(500)  # the map's fit animation
    shot(page, "screen-1920x1080")

    # The server stops answering: the screen keeps what it shows and says since when.
    page.route(DATA_URLS, lambda route: route.abort("internetdisconnected"))
    banner = page.locator("#screen-offline")
    expect(banner).to_be_visible(timeout=5_000)
    expect(banner).to_have_text(re.compile(r"连接中断，显示的是 \d\d:\d\d 的数据"))
    expect(page.locator("#today-received")).to_have_text("4")
    expect(page.locator("#feed li")).to_have_count(4)
    expect(page.locator("#screen-map path.leaflet-interactive")).to_have_count(3)
    report(cast, category="T0101", description="断线期间新登记的事件")
    rollup_events(settle_seconds=0)
    page.wait_for_timeout(2_500)  # several retries, all failing
    expect(page.locator("#today-received")).to_have_text("4")
    shot(page, "screen-offline")

    # Back online: the next retry (backoff capped at the 1 s refresh here) brings the new data.
    page.unroute(DATA_URLS)
    expect(banner).to_be_hidden(timeout=10_000)
    expect(page.locator("#today-received")).to_have_text("5")
    expect(page.locator("#feed li", has_text="断线期间新登记的事件")).to_have_count(1)
    shot(page, "screen-recovered")
    # The aborted requests were the point of the test, not errors.
    page_errors.items[:] = [
        i for i in page_errors.items if not ("request failed" in i and DATA_URLS.search(i))
    ]

    # The session ends (the wall stays on for days): the screen says so instead of retrying silently.
    context.clear_cookies()
    expect(banner).to_have_text(
        re.compile(r"登录已过期，显示的是 \d\d:\d\d 的数据，请重新登录"), timeout=5_000
    )
    expect(page.locator("#today-received")).to_have_text("5")

    # 晾晒 at the same size, from the menu.
    login(page, site.url, "leader")
    page.goto(f"{site.url}/cockpit/")
    page.get_by_role("link", name="晾晒排名").first.click()
    expect(page.locator("#ranking-town")).to_contain_text("桂林街道")
    expect(page.locator("#ranking-town")).to_contain_text("样本不足，不排名")
    shot(page, "rankings-1920x1080")
    page.locator(".ranking-tabs a", has_text="网格员").click()
    expect(page.locator("#ranking-worker")).to_contain_text("worker_a")
    page.locator("#ranking-worker th a", has_text="承办量").click()
    expect(page.locator("#ranking-worker tbody tr").first).to_contain_text("worker_a")
    shot(page, "rankings-workers-1920x1080")
    context.close()
