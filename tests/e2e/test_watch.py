"""Issue #4 in a real browser: a QQ group message → flagged in 巡群 → made into a case → closed loop →
the result, edited by the dispatcher, is posted back to the group and logged in the outbox.

(1) The QQ bot framework posts two OneBot v11 group-message events to the live server, signed with the
    connector's secret: a fight over a pond and a greeting.
(2) Grid worker A, on a phone, finds the fight in 巡群 (urgent, with the triage's reasons; the greeting
    is not there), reads the conversation around it and taps 转为事件 on the prefilled form.
(3) The case goes round the closed loop through the pages: accept, dispatch, sign, resolve, verify.
(4) The worker's round drafts the reply; the dispatcher edits it on the case page and presses 发送到群;
    the worker's round sends it to a fake OneBot HTTP API, and the outbox log shows it delivered.

Configuration (the connector, the QQ group of grid A) is made with the ORM on top of the shared cast;
everything else goes through HTTP and the pages. The database is read only to check what they did.
"""

from __future__ import annotations

import importlib
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps as django_apps
from playwright.sync_api import expect

from dualgrid.cases import config as workflow_config
from dualgrid.cases.models import Case, Channel, Status, Urgency
from dualgrid.places.models import ChatGroup, Platform
from dualgrid.triage import engine as triage_engine
from dualgrid.watch.adapters import onebot_signature
from dualgrid.watch.models import (
    Connector,
    ConnectorKind,
    GroupMessage,
    MessageState,
    Outbox,
    OutboxKind,
    OutboxStatus,
)
from dualgrid.watch.outbox import draft_replies, process_due
from dualgrid.watch.tests.http_fakes import FakeOneBot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The data migrations that seed the shipped configuration this journey relies on: the category tree
# (the triage's 邻里纠纷 1001 lives there) and time limits, the triage rules, the patrol windows.
SEEDS = (
    ("dualgrid.cases.migrations.0002_default_configuration", "load"),
    ("dualgrid.triage.migrations.0002_default_rules", "load"),
    ("dualgrid.watch.migrations.0002_default_windows", "seed"),
)
SLUG = "qq-tongnan"
SEND_TOKEN = "napcat-access-token"
QQ_GROUP = 456123789
GROUP_NAME = "大佛社区1网格居民群"
FIGHT = "9社龚氏兄弟因堰塘使用又打起来了，快来人"
CHATTER = "早上好"
FIGHT_SENDER = "3组龚大姐"
RESULT_NOTE = "已到现场调解，兄弟二人约定按户轮流用水，堰塘由村里统一管护"
EDITED_REPLY = (
    "【办理结果】大家反映的9社堰塘纠纷已调解：龚氏兄弟约定按户轮流用水，堰塘由村里统一管护。"
    "有新情况请在群里告诉网格员。"
)


@pytest.fixture
def onebot() -> Iterator[FakeOneBot]:
    """The QQ bot framework's HTTP API (send_group_msg), a real server on loopback."""
    fake = FakeOneBot(token=SEND_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def watch_setup(cast, onebot) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    # A transactional test that ran before this one flushed the tables, seeds included; their loaders
    # are idempotent (get_or_create / only-if-missing), so run them again, then drop the caches.
    for module, loader in SEEDS:
        getattr(importlib.import_module(module), loader)(django_apps, None)
    workflow_config.invalidate()
    triage_engine.invalidate()
    connector = Connector.objects.create(
        slug=SLUG,
        name="潼南QQ机器人",
        kind=ConnectorKind.ONEBOT,
        platform=Platform.QQ,
        send_url=onebot.url,
        send_token=SEND_TOKEN,
    )
    group = ChatGroup.objects.create(
        grid=cast.grid_a, platform=Platform.QQ, name=GROUP_NAME, external_id=str(QQ_GROUP)
    )
    yield {"connector": connector, "group": group}
    workflow_config.invalidate()
    triage_engine.invalidate()


def post_onebot_event(base: str, secret: str, message_id: int, text: str, nickname: str, card: str) -> int:
    """What the QQ bot framework does: HTTP POST 上报 of a group message, signed with X-Signature."""
    event = {
        "time": int(time.time()),
        "self_id": 10001,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": message_id,
        "group_id": QQ_GROUP,
        "user_id": 700000 + message_id % 1000,
        "sender": {"user_id": 700000 + message_id % 1000, "nickname": nickname, "card": card},
        "message": [{"type": "text", "data": {"text": text}}],
        "raw_message": text,
        "font": 0,
    }
    body = json.dumps(event, ensure_ascii=False).encode()
    request = urllib.request.Request(
        f"{base}/watch/hooks/{SLUG}/onebot",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Signature": onebot_signature(secret, body)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == b""
        return int(response.status)


def open_action(page, action: str):  # type: ignore[no-untyped-def]
    panel = page.locator(f"details.action-{action}")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()
    return panel


def test_group_message_to_case_to_reply_in_the_group(  # type: ignore[no-untyped-def]
    site, cast, watch_setup, onebot, new_page, login, shot, page_errors
) -> None:
    base = site.url
    connector, group = watch_setup["connector"], watch_setup["group"]

    # (1) The bot framework reports a greeting, then the fight; each is acknowledged with 204.
    assert post_onebot_event(base, connector.secret, 1840211, CHATTER, "老王", "") == 204
    assert post_onebot_event(base, connector.secret, 1840212, FIGHT, "龚大姐", FIGHT_SENDER) == 204
    stored = {m.text: m for m in GroupMessage.objects.filter(connector=connector)}
    assert set(stored) == {CHATTER, FIGHT}
    assert stored[CHATTER].state == MessageState.CHATTER
    assert stored[FIGHT].state == MessageState.FLAGGED and stored[FIGHT].grid == cast.grid_a
    fight_id = stored[FIGHT].pk

    # (2) Worker A opens 巡群 on a phone: the fight is flagged urgent with its reasons, not the greeting.
    worker = new_page("worker_a", "phone")
    login(worker, base, "worker_a")
    worker.locator(".mainnav").get_by_role("link", name="巡群").click()
    expect(worker.locator("h1")).to_have_text("巡群")
    expect(worker.locator(".feed-tabs a.active")).to_contain_text("待处置")
    expect(worker.locator(".feed-tabs a.active .count")).to_have_text("1")
    cards = worker.locator(".feed-list article.msg-card")
    expect(cards).to_have_count(1)
    card = worker.locator(f"#msg-{fight_id}")
    expect(card.locator(".msg-text")).to_have_text(FIGHT)
    expect(card.locator(".badge-urgent")).to_have_text("紧急")
    expect(card.locator(".msg-top")).to_contain_text("纠纷")
    expect(card.locator(".msg-top")).to_contain_text("邻里纠纷")
    expect(card.locator(".msg-meta")).to_contain_text(GROUP_NAME)
    expect(card.locator(".msg-meta")).to_contain_text(FIGHT_SENDER)
    reasons = card.locator(".msg-reasons li")
    expect(reasons.first).to_be_visible()
    expect(card.locator(".msg-reasons")).to_contain_text("打起来")
    expect(worker.locator(".feed-list")).not_to_contain_text(CHATTER)
    no_overflow = "() => document.documentElement.scrollWidth <= window.innerWidth"
    assert worker.evaluate(no_overflow), "the feed is wider than the phone"
    shot(worker, "watch-01-worker-feed")

    # The conversation around it: the greeting before, the fight highlighted.
    card.get_by_role("link", name="查看上下文").click()
    thread = card.locator(".msg-context .thread")
    expect(thread.locator("li.thread-row")).to_have_count(2)
    expect(thread.locator("li.thread-row").first).to_contain_text(CHATTER)
    expect(thread.locator("li.thread-focus")).to_contain_text(FIGHT)
    expect(card.locator(".msg-ctx-toggle")).to_have_text("收起上下文")
    shot(worker, "watch-02-worker-context")

    # 转为事件: the form comes prefilled from the message and its triage.
    card.get_by_role("link", name="转为事件").click()
    form = card.locator("form.msg-form")
    expect(form.locator("h3")).to_have_text("转为事件")
    expect(form.locator("[name=title]")).to_have_value(FIGHT)
    expect(form.locator("[name=description]")).to_have_value(FIGHT)
    expect(form.locator("[name=category_code]")).to_have_value("1001")
    expect(form.locator("[name=category_code] option:checked")).to_contain_text("邻里纠纷")
    expect(form.locator("input[name=urgency][value=urgent]")).to_be_checked()
    expect(form.locator("[name=reporter_name]")).to_have_value(FIGHT_SENDER)
    expect(form.locator(".msg-form-facts")).to_contain_text("所在网格：大佛社区第1网格（按群所属网格）")
    assert worker.evaluate(no_overflow), "the case form is wider than the phone"
    shot(worker, "watch-03-worker-case-form")
    form.get_by_role("button", name="登记事件").click()
    done = card.locator(".msg-done")
    expect(done).to_contain_text("已转为事件")
    number = done.locator("a").inner_text().strip()
    assert re.fullmatch(r"\d{8,20}", number), number
    expect(card.locator("[role=status]")).to_have_text(f"已转为事件 {number}，待中心受理")
    expect(card.get_by_role("link", name="转为事件")).to_have_count(0)
    shot(worker, "watch-04-worker-case-made")
    worker.get_by_role("tab", name=re.compile("已处理")).click()
    expect(worker.locator(".feed-tabs a.active")).to_contain_text("已处理")
    expect(worker.locator(f"#msg-{fight_id} .msg-done")).to_contain_text(number)
    expect(worker.locator(".feed-tabs .count")).to_have_text("0")
    # The greeting was stored all the same: 全部消息 is the raw stream of the worker's groups.
    worker.get_by_role("tab", name="全部消息").click()
    stream = worker.locator("ol.stream li.stream-row")
    expect(stream).to_have_count(2)
    greeting = stream.filter(has_text=CHATTER)
    expect(greeting).to_have_class(re.compile(r"\bstream-chatter\b"))
    expect(greeting.locator(".state")).to_have_count(0)
    expect(stream.filter(has_text=FIGHT).locator(".state")).to_have_text("已转事件")
    assert worker.evaluate(no_overflow), "the message stream is wider than the phone"
    shot(worker, "watch-05-worker-all-messages")

    # (3) The closed loop. The dispatcher accepts it (category kept) and dispatches it to grid A.
    desk = new_page("dispatcher", "desktop")
    login(desk, base, "dispatcher")
    expect(desk).to_have_url(re.compile(r"/queue/"))
    row = desk.locator("#queue-panel tbody tr", has_text=number)
    expect(row).to_contain_text("大佛社区第1网格")
    row.get_by_role("link", name=number).click()
    expect(desk.locator(".summary-card .status")).to_have_text("待受理")
    expect(desk.locator(".facts")).to_contain_text("网格群")
    accept = open_action(desk, "accept")
    expect(accept.locator("#accept-category_code")).to_have_value("1001")
    shot(desk, "watch-06-dispatcher-accept")
    accept.get_by_role("button", name="确认受理").click()
    expect(desk.locator(".summary-card .status")).to_have_text("待派单")
    dispatch = open_action(desk, "dispatch")
    dispatch.locator("#dispatch-grid_id").select_option(str(cast.grid_a.pk))
    dispatch.get_by_role("button", name="确认派单").click()
    expect(desk.locator(".summary-card .status")).to_have_text("待签收")

    # Worker A signs on the phone and reports the result.
    worker.locator(".mainnav").get_by_role("link", name="我的任务").click()
    task = worker.locator("a.task-card", has_text=number)
    expect(task).to_contain_text("待签收")
    task.click()
    expect(worker.locator(".summary-card .status")).to_have_text("待签收")
    open_action(worker, "sign").get_by_role("button", name="确认签收").click()
    expect(worker.locator(".summary-card .status")).to_have_text("处置中")
    resolve = open_action(worker, "resolve")
    resolve.locator("#resolve-note").fill(RESULT_NOTE)
    shot(worker, "watch-07-worker-resolve")
    resolve.get_by_role("button", name="确认办结反馈").click()
    expect(worker.locator(".messages")).to_contain_text("已办结反馈")

    # The dispatcher verifies: 待评价. No reply draft yet: the worker has not run.
    desk.reload()
    expect(desk.locator(".summary-card .status")).to_have_text("待核查")
    verify = open_action(desk, "verify")
    verify.get_by_role("button", name="确认核查通过").click()
    expect(desk.locator(".summary-card .status")).to_have_text("待评价")
    expect(desk.locator("#group-reply")).to_have_count(0)
    shot(desk, "watch-08-dispatcher-verified")

    # (4) Stand-in for `dualgrid worker`: its round calls draft_replies() (a case from a group reached
    # 待评价/已结案 → a draft for staff to confirm).
    assert draft_replies() == 1
    desk.reload()
    panel = desk.locator("#group-reply")
    expect(panel.locator(".section-title")).to_have_text("群内回复")
    expect(panel).to_contain_text(f"发送到 {GROUP_NAME}")
    expect(panel.locator(".badge")).to_have_text("草稿（待确认）")
    text = panel.locator("textarea[name=text]")
    expect(text).to_have_value(re.compile(r"^【办理结果】您在群里反映的“9社龚氏兄弟因堰塘使用又打起来了"))
    expect(text).to_have_value(re.compile(re.escape(RESULT_NOTE)))
    expect(panel.locator(".alert")).to_have_count(0)  # the connector can send
    panel.scroll_into_view_if_needed()
    shot(desk, "watch-09-dispatcher-reply-draft")
    text.fill(EDITED_REPLY)
    panel.get_by_role("button", name="发送到群").click()
    expect(desk.locator(".messages")).to_contain_text(f"回复已加入发送队列，将发送到“{GROUP_NAME}”")
    panel = desk.locator("#group-reply")
    expect(panel.locator(".badge")).to_have_text("待发送")
    expect(panel.locator(".description")).to_have_text(EDITED_REPLY)
    expect(panel.locator("textarea")).to_have_count(0)
    assert onebot.sent == []  # queued, not sent inline
    shot(desk, "watch-10-dispatcher-reply-queued")

    # Stand-in for `dualgrid worker`: its round calls process_due(), which sends what is due.
    assert process_due() == 1
    assert onebot.sent == [{"group_id": QQ_GROUP, "message": EDITED_REPLY}]
    assert onebot.calls[0].headers["Authorization"] == f"Bearer {SEND_TOKEN}"

    # The dispatcher reaches the outbox log from 宣传推送 → 发送记录: delivered, with its attempt log.
    desk.locator(".mainnav").get_by_role("link", name="宣传推送").click()
    desk.get_by_role("link", name="发送记录").click()
    expect(desk.locator("h1")).to_have_text("发送记录")
    rows = desk.locator("table.table tbody tr")
    expect(rows).to_have_count(1)
    sent_row = rows.first
    expect(sent_row).to_contain_text("结果回复")
    expect(sent_row).to_contain_text(number)
    expect(sent_row).to_contain_text(GROUP_NAME)
    expect(sent_row).to_contain_text(EDITED_REPLY[:20])
    expect(sent_row.locator(".badge")).to_have_text("已送达")
    expect(sent_row.locator("td").nth(5)).to_have_text("1")
    shot(desk, "watch-11-dispatcher-outbox")
    sent_row.locator("td").first.get_by_role("link").click()
    expect(desk.locator("h1 .badge")).to_have_text("已送达")
    facts = desk.locator(".facts")
    expect(facts).to_contain_text(f"群ID {QQ_GROUP}")
    expect(facts).to_contain_text("对方消息ID 1001")
    expect(desk.locator(".description")).to_have_text(EDITED_REPLY)
    attempts = desk.locator("table.table tbody tr")
    expect(attempts).to_have_count(1)
    expect(attempts.first.locator("td").nth(1)).to_have_text("成功")
    expect(attempts.first.locator("td").nth(2)).to_have_text("200")
    expect(attempts.first.locator("td").nth(3)).to_have_text("已发送")
    shot(desk, "watch-12-dispatcher-outbox-detail")

    # The case page says so too.
    desk.locator(".facts").get_by_role("link", name=re.compile(number)).click()
    expect(desk.locator("#group-reply .badge")).to_have_text("已送达")
    expect(desk.locator("#group-reply")).to_contain_text("送达")

    # What the pages did, in the database.
    case = Case.objects.get(number=number)
    assert case.status == Status.PENDING_RATING
    assert case.channel == Channel.GROUP and case.urgency == Urgency.URGENT
    assert case.category is not None and case.category.code == "1001"
    assert case.grid == cast.grid_a and case.assignee == cast.worker_a
    assert case.reporter_name == FIGHT_SENDER
    assert list(case.events.values_list("action", flat=True)) == [
        "create",
        "accept",
        "dispatch",
        "sign",
        "resolve",
        "verify",
    ]
    message = GroupMessage.objects.get(pk=fight_id)
    assert message.state == MessageState.CASE and message.case == case
    assert message.handled_by == cast.worker_a
    reply = Outbox.objects.get()
    assert reply.kind == OutboxKind.REPLY and reply.case == case and reply.chat_group == group
    assert reply.status == OutboxStatus.SENT and reply.attempts == 1
    assert reply.text == EDITED_REPLY and reply.created_by == cast.dispatcher
    assert reply.external_message_id == "1001"
    assert page_errors.items == [], "\n".join(page_errors.items)
