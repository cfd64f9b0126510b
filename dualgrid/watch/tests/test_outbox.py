"""The outbox: senders against real loopback servers (OneBot v11 HTTP API, signed webhook), retries
with backoff, failure after the last attempt, at-least-once claims, reply drafts and their pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from dualgrid.cases.models import Status
from dualgrid.cases.tests.factories import act, case_in_state
from dualgrid.conftest import Cast
from dualgrid.places.models import ChatGroup, Platform
from dualgrid.watch import outbox
from dualgrid.watch.models import (
    Connector,
    ConnectorKind,
    DeliveryAttempt,
    GroupMessage,
    MessageState,
    Outbox,
    OutboxKind,
    OutboxStatus,
)
from dualgrid.watch.tests.http_fakes import FakeOneBot, FakeWebhook

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def onebot() -> Iterator[FakeOneBot]:
    server = FakeOneBot(token="bot-token").start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[FakeWebhook]:
    server = FakeWebhook(secret="hook-secret").start()
    yield server
    server.stop()


@pytest.fixture
def qq(cast: Cast, onebot: FakeOneBot) -> Connector:
    return Connector.objects.create(
        slug="qq",
        name="QQ机器人",
        kind=ConnectorKind.ONEBOT,
        platform=Platform.QQ,
        send_url=onebot.url,
        send_token="bot-token",
    )


@pytest.fixture
def group_a(cast: Cast) -> ChatGroup:
    return ChatGroup.objects.create(
        grid=cast.grid_a, platform=Platform.QQ, name="大佛1网格群", external_id="123456"
    )


def _row(
    connector: Connector,
    group: ChatGroup,
    text: str = "【宣传】防溺水",
    *,
    kind: str = OutboxKind.NOTICE,
    external_group_id: str = "",
    next_attempt_at: datetime = T0,
) -> Outbox:
    return Outbox.objects.create(
        kind=kind,
        connector=connector,
        chat_group=group,
        external_group_id=external_group_id or group.external_id,
        text=text,
        status=OutboxStatus.PENDING,
        next_attempt_at=next_attempt_at,
    )


@pytest.fixture
def fast_settings(settings):  # type: ignore[no-untyped-def]
    settings.DUALGRID = {**settings.DUALGRID, "OUTBOX_MAX_ATTEMPTS": 4, "OUTBOX_FIRST_DELAY_SECONDS": 30}
    return settings


# --- OneBot sender ------------------------------------------------------------------------------------


def test_onebot_send_group_msg_with_token_and_numeric_group_id(qq, group_a, onebot) -> None:  # type: ignore[no-untyped-def]
    row = _row(qq, group_a, "【办理结果】堰塘纠纷已调解 🙂")
    with time_machine.travel(T0, tick=False):
        assert outbox.process_due() == 1
    call = onebot.calls[0]
    assert call.path == "/send_group_msg"
    assert call.headers["Authorization"] == "Bearer bot-token"
    assert call.json == {"group_id": 123456, "message": "【办理结果】堰塘纠纷已调解 🙂"}
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 1
    assert row.sent_at == T0
    assert row.external_message_id == "1001"
    [attempt] = DeliveryAttempt.objects.filter(outbox=row)
    assert (attempt.ok, attempt.status_code) == (True, 200)


def test_onebot_wrong_token_is_a_failure_with_the_status(qq, group_a, onebot, fast_settings) -> None:  # type: ignore[no-untyped-def]
    Connector.objects.filter(pk=qq.pk).update(send_token="")
    row = _row(qq, group_a)
    with time_machine.travel(T0, tick=False):
        assert outbox.process_due() == 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
    assert "Authorization" not in onebot.calls[0].headers
    attempt = DeliveryAttempt.objects.get(outbox=row)
    assert (attempt.ok, attempt.status_code) == (False, 401)
    assert "token verify failed" in attempt.detail


def test_onebot_retcode_failure_counts_as_failure(qq, group_a, onebot, fast_settings) -> None:  # type: ignore[no-untyped-def]
    onebot.fail_times, onebot.fail_mode = 1, "retcode"
    row = _row(qq, group_a)
    with time_machine.travel(T0, tick=False):
        outbox.process_due()
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert "retcode=1200" in row.last_error and "禁言" in row.last_error


def test_failures_back_off_exponentially_then_succeed(qq, group_a, onebot, fast_settings) -> None:  # type: ignore[no-untyped-def]
    onebot.fail_times = 2
    row = _row(qq, group_a)
    with time_machine.travel(T0, tick=False) as clock:
        assert outbox.process_due() == 0
        row.refresh_from_db()
        assert (row.attempts, row.next_attempt_at) == (1, T0 + timedelta(seconds=30))
        clock.move_to(T0 + timedelta(seconds=29))
        assert outbox.process_due() == 0
        assert len(onebot.sent) == 1  # not due yet: nothing sent
        clock.move_to(T0 + timedelta(seconds=30))
        assert outbox.process_due() == 0
        row.refresh_from_db()
        assert (row.attempts, row.next_attempt_at) == (2, T0 + timedelta(seconds=90))  # 30 s, then 60 s
        clock.move_to(T0 + timedelta(seconds=90))
        assert outbox.process_due() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 3, "")
    log = list(DeliveryAttempt.objects.filter(outbox=row).values_list("ok", "status_code"))
    assert log == [(False, 500), (False, 500), (True, 200)]
    assert len(onebot.sent) == 3


def test_failed_after_max_attempts_and_never_sent_again(qq, group_a, onebot, fast_settings) -> None:  # type: ignore[no-untyped-def]
    onebot.fail_times = 100
    row = _row(qq, group_a)
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(10):
            outbox.process_due()
            clock.shift(timedelta(hours=7))
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 4
    assert row.next_attempt_at is None
    assert "HTTP 500" in row.last_error
    assert len(onebot.sent) == 4
    assert DeliveryAttempt.objects.filter(outbox=row, ok=False).count() == 4


def test_retry_button_gives_a_failed_message_a_fresh_round(qq, group_a, onebot, cast, login) -> None:  # type: ignore[no-untyped-def]
    row = _row(qq, group_a)
    Outbox.objects.filter(pk=row.pk).update(status=OutboxStatus.FAILED, attempts=8, next_attempt_at=None)
    client = login(cast.dispatcher)
    page = client.get(reverse("watch:outbox") + "?status=failed")
    assert "重试" in page.content.decode()
    response = client.post(reverse("watch:outbox_retry", args=[row.pk]))
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert outbox.process_due() == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    # A second retry of a sent message is refused.
    client.post(reverse("watch:outbox_retry", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT


def test_connector_without_send_url_or_inactive_fails_at_once_with_a_reason(cast, group_a) -> None:  # type: ignore[no-untyped-def]
    no_url = Connector.objects.create(
        slug="a", name="无地址", kind=ConnectorKind.ONEBOT, platform=Platform.QQ
    )
    off = Connector.objects.create(
        slug="b", name="已停用", kind=ConnectorKind.WEBHOOK, send_url="http://127.0.0.1:9/x", active=False
    )
    first, second = _row(no_url, group_a), _row(off, group_a, kind=OutboxKind.REPLY)
    with time_machine.travel(T0, tick=False):
        assert outbox.process_due() == 0
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempts) == (OutboxStatus.FAILED, 1)
    assert "未配置发送地址" in first.last_error
    assert second.status == OutboxStatus.FAILED and "已停用" in second.last_error


def test_connection_refused_and_timeout_are_retried(qq, group_a, onebot, fast_settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    refused = Connector.objects.create(
        slug="gone",
        name="离线机器人",
        kind=ConnectorKind.ONEBOT,
        platform=Platform.QQ,
        send_url="http://127.0.0.1:9",
    )
    a = _row(refused, group_a)
    monkeypatch.setattr(outbox, "SEND_TIMEOUT_SECONDS", 0.3)
    onebot.delay = 1.0
    b = _row(qq, group_a, "慢")
    with time_machine.travel(T0, tick=False):
        outbox.process_due()
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == b.status == OutboxStatus.PENDING
    assert a.last_error.startswith("连接失败") and b.last_error.startswith("连接失败")
    assert a.next_attempt_at == b.next_attempt_at == T0 + timedelta(seconds=30)


# --- generic webhook sender ---------------------------------------------------------------------------


def test_webhook_sender_is_signed_like_the_receiving_side(cast, group_a, receiver) -> None:  # type: ignore[no-untyped-def]
    hook = Connector.objects.create(
        slug="wecom",
        name="企业微信网关",
        kind=ConnectorKind.WEBHOOK,
        send_url=receiver.url + "/in",
        send_token="hook-secret",
    )
    row = _row(hook, group_a, "通知：明天停水", external_group_id="wrOgQhDgAA")
    assert outbox.process_due() == 1
    call = receiver.calls[0]
    assert call.path == "/in"
    assert call.json == {
        "outbox_id": row.pk,
        "group_id": "wrOgQhDgAA",
        "text": "通知：明天停水",
        "kind": "notice",
    }
    assert receiver.rejected == []
    row.refresh_from_db()
    assert (row.status, row.external_message_id) == (OutboxStatus.SENT, f"w-{row.pk}")


def test_webhook_wrong_secret_or_non_2xx_is_retried(cast, group_a, receiver, fast_settings) -> None:  # type: ignore[no-untyped-def]
    # No send token: signed with the connector's own secret, which the receiver does not know.
    hook = Connector.objects.create(slug="wh", name="网关", kind=ConnectorKind.WEBHOOK, send_url=receiver.url)
    row = _row(hook, group_a)
    with time_machine.travel(T0, tick=False):
        assert outbox.process_due() == 0
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.last_error.startswith("HTTP 401")
    assert receiver.rejected == ["签名不正确"]
    Connector.objects.filter(pk=hook.pk).update(secret="hook-secret")
    receiver.status = 503
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        assert outbox.process_due() == 0
    row.refresh_from_db()
    assert row.last_error.startswith("HTTP 503")
    receiver.status = 202
    with time_machine.travel(T0 + timedelta(seconds=90), tick=False):
        assert outbox.process_due() == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT and row.attempts == 3


# --- claims: several workers, at-least-once -----------------------------------------------------------


def test_a_claimed_row_is_not_claimed_twice_and_comes_back_after_the_lease(qq, group_a) -> None:  # type: ignore[no-untyped-def]
    row = _row(qq, group_a)
    claimed = outbox._claim_one(T0)
    assert claimed is not None and claimed.pk == row.pk
    assert outbox._claim_one(T0) is None  # another worker finds nothing due
    assert outbox._claim_one(T0 + timedelta(seconds=outbox.LEASE_SECONDS - 1)) is None
    # The first worker died between send and record: the row is due again (at-least-once, not lost).
    again = outbox._claim_one(T0 + timedelta(seconds=outbox.LEASE_SECONDS))
    assert again is not None and again.pk == row.pk
    # The late result of the first worker does not overwrite the second claim.
    outbox._record(claimed, claimed.next_attempt_at, outbox.SendResult(True, 200, "已发送"), T0, final=False)
    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING and row.next_attempt_at == again.next_attempt_at
    assert DeliveryAttempt.objects.filter(outbox=row).count() == 1  # but its attempt is logged


def test_process_due_respects_limit_and_order(qq, group_a, onebot) -> None:  # type: ignore[no-untyped-def]
    rows = [_row(qq, group_a, f"第{i}条", next_attempt_at=T0 - timedelta(minutes=i)) for i in range(3)]
    Outbox.objects.create(
        kind=OutboxKind.NOTICE,
        connector=qq,
        chat_group=group_a,
        external_group_id="1",
        text="草稿",
        status=OutboxStatus.DRAFT,
    )
    with time_machine.travel(T0, tick=False):
        assert outbox.process_due(limit=2) == 2
        assert [m["message"] for m in onebot.sent] == ["第2条", "第1条"]
        assert outbox.process_due() == 1
        assert outbox.process_due() == 0
    assert Outbox.objects.filter(status=OutboxStatus.SENT).count() == 3
    assert Outbox.objects.get(text="草稿").status == OutboxStatus.DRAFT
    assert rows


# --- reply drafts -------------------------------------------------------------------------------------


def _from_group(case, connector: Connector, group: ChatGroup, external_id: str = "m-1") -> GroupMessage:  # type: ignore[no-untyped-def]
    return GroupMessage.objects.create(
        connector=connector,
        external_id=external_id,
        external_group_id=group.external_id,
        chat_group=group,
        grid=group.grid,
        sender_name="龚大哥",
        text="9社龚氏兄弟因堰塘使用又打起来了",
        sent_at=T0,
        received_at=T0,
        actionable=True,
        state=MessageState.CASE,
        case=case,
    )


def test_draft_reply_for_a_group_case_once_it_is_resolved(cast, qq, group_a) -> None:  # type: ignore[no-untyped-def]
    open_case = case_in_state(cast, Status.IN_PROGRESS)
    _from_group(open_case, qq, group_a, "m-open")
    assert outbox.draft_replies() == 0
    act(cast.worker_a, open_case, "resolve", "已组织双方调解，签订堰塘使用协议。")
    assert outbox.draft_replies() == 0  # 待核查: not yet
    rated = case_in_state(cast, Status.PENDING_RATING)
    _from_group(rated, qq, group_a, "m-2")
    _from_group(rated, qq, group_a, "m-3")  # two messages of one group: one reply
    assert outbox.draft_replies() == 1
    assert outbox.draft_replies() == 0  # re-running changes nothing
    draft = Outbox.objects.get(case=rated)
    assert draft.status == OutboxStatus.DRAFT and draft.kind == OutboxKind.REPLY
    assert draft.connector == qq and draft.external_group_id == "123456"
    assert draft.text.startswith("【办理结果】您在群里反映的“")
    assert "已劝离车辆并设置禁停标志。" in draft.text  # the resolve event's note
    assert "如有疑问请联系" in draft.text
    assert Outbox.objects.filter(status=OutboxStatus.PENDING).count() == 0  # nothing goes out unconfirmed


def test_reply_from_an_import_connector_goes_out_through_the_groups_bot(cast, qq, group_a) -> None:  # type: ignore[no-untyped-def]
    archive = Connector.objects.create(
        slug="arch", name="存档导入", kind=ConnectorKind.IMPORT, platform=Platform.QQ
    )
    case = case_in_state(cast, Status.CLOSED)
    _from_group(case, archive, group_a)
    assert outbox.draft_replies() == 1
    assert Outbox.objects.get(case=case).connector == qq


def test_case_page_shows_the_draft_and_staff_send_it_edited(cast, qq, group_a, onebot, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_RATING)
    _from_group(case, qq, group_a)
    outbox.draft_replies()
    draft = Outbox.objects.get(case=case)
    client = login(cast.worker_a)
    page = client.get(reverse("web:case_detail", args=[case.pk])).content.decode()
    assert "群内回复" in page and "发送到群" in page and "不发送" in page and "大佛1网格群" in page
    response = client.post(
        reverse("watch:reply_send", args=[draft.pk]), {"text": "  改过的回复：车辆已移走。 "}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.status, draft.text, draft.created_by) == (
        OutboxStatus.PENDING,
        "改过的回复：车辆已移走。",
        cast.worker_a,
    )
    assert outbox.process_due() == 1
    assert onebot.sent == [{"group_id": 123456, "message": "改过的回复：车辆已移走。"}]
    page = client.get(reverse("web:case_detail", args=[case.pk])).content.decode()
    assert "已送达" in page and "发送到群" not in page
    # A second confirmation (double click, stale tab) sends nothing more.
    client.post(reverse("watch:reply_send", args=[draft.pk]), {"text": "再发一次"})
    draft.refresh_from_db()
    assert draft.text == "改过的回复：车辆已移走。" and len(onebot.sent) == 1


def test_not_sending_cancels_the_draft_and_empty_text_is_refused(cast, qq, group_a, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.CLOSED)
    _from_group(case, qq, group_a)
    outbox.draft_replies()
    draft = Outbox.objects.get(case=case)
    client = login(cast.dispatcher)
    client.post(reverse("watch:reply_send", args=[draft.pk]), {"text": "   "})
    draft.refresh_from_db()
    assert draft.status == OutboxStatus.DRAFT
    client.post(reverse("watch:reply_discard", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.status == OutboxStatus.CANCELLED
    assert outbox.draft_replies() == 0  # a cancelled reply is not drafted again


def test_reply_actions_are_scoped(cast, qq, group_a, login) -> None:  # type: ignore[no-untyped-def]
    case = case_in_state(cast, Status.PENDING_RATING)
    _from_group(case, qq, group_a)
    outbox.draft_replies()
    draft = Outbox.objects.get(case=case)
    assert (
        login(cast.town_dispatcher)
        .post(reverse("watch:reply_send", args=[draft.pk]), {"text": "x"})
        .status_code
        == 404
    )
    assert (
        login(cast.worker_b).post(reverse("watch:reply_send", args=[draft.pk]), {"text": "x"}).status_code
        == 404
    )
    calltaker = login(cast.calltaker)
    page = calltaker.get(reverse("web:case_detail", args=[case.pk])).content.decode()
    assert "群内回复" in page and "发送到群" not in page
    assert calltaker.post(reverse("watch:reply_send", args=[draft.pk]), {"text": "x"}).status_code == 403
    draft.refresh_from_db()
    assert draft.status == OutboxStatus.DRAFT


def test_a_case_sent_back_after_rating_cannot_send_its_draft(cast, qq, group_a, login) -> None:  # type: ignore[no-untyped-def]
    from dualgrid.cases.tests.factories import rate

    case = case_in_state(cast, Status.PENDING_RATING)
    _from_group(case, qq, group_a)
    outbox.draft_replies()
    rate(case, "unsatisfied")  # back to 处置中
    draft = Outbox.objects.get(case=case)
    login(cast.dispatcher).post(reverse("watch:reply_send", args=[draft.pk]), {"text": "已办结"})
    draft.refresh_from_db()
    assert draft.status == OutboxStatus.DRAFT


# --- the outbox log page ------------------------------------------------------------------------------


def test_outbox_page_is_scoped_filtered_and_shows_the_attempt_log(cast, qq, group_a, onebot, login) -> None:  # type: ignore[no-untyped-def]
    group_c = ChatGroup.objects.create(
        grid=cast.grid_c, platform=Platform.QQ, name="白兔村群", external_id="777"
    )
    onebot.fail_times = 1
    a = _row(qq, group_a, "大佛社区的宣传")
    _row(qq, group_c, "白兔村的宣传", kind=OutboxKind.REPLY)
    with time_machine.travel(T0, tick=False):
        outbox.process_due()
    county = login(cast.dispatcher)
    page = county.get(reverse("watch:outbox")).content.decode()
    assert "大佛社区的宣传" in page and "白兔村的宣传" in page
    page = county.get(reverse("watch:outbox") + "?kind=reply").content.decode()
    assert "大佛社区的宣传" not in page and "白兔村的宣传" in page
    town_b = login(cast.town_dispatcher)
    page = town_b.get(reverse("watch:outbox")).content.decode()
    assert "大佛社区的宣传" not in page and "白兔村的宣传" in page
    assert town_b.get(reverse("watch:outbox_detail", args=[a.pk])).status_code == 404
    detail = county.get(reverse("watch:outbox_detail", args=[a.pk])).content.decode()
    assert "投递日志" in detail and "HTTP 500" in detail
    assert login(cast.worker_a).get(reverse("watch:outbox")).status_code == 403


def test_cancel_a_pending_message(cast, qq, group_a, onebot, login) -> None:  # type: ignore[no-untyped-def]
    row = _row(qq, group_a)
    login(cast.admin).post(reverse("watch:outbox_cancel", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == OutboxStatus.CANCELLED
    assert outbox.process_due() == 0 and onebot.sent == []


# --- the worker ---------------------------------------------------------------------------------------


def test_one_worker_round_drafts_replies_and_sends_the_outbox(cast, qq, group_a, onebot) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    case = case_in_state(cast, Status.CLOSED)
    _from_group(case, qq, group_a)
    due = _row(qq, group_a, "到时的宣传", next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
    call_command("worker", "--once", stdout=StringIO())
    due.refresh_from_db()
    assert due.status == OutboxStatus.SENT
    assert Outbox.objects.get(case=case).status == OutboxStatus.DRAFT
    assert onebot.sent == [{"group_id": 123456, "message": "到时的宣传"}]


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_send_each_message_exactly_once(qq, group_a, onebot) -> None:  # type: ignore[no-untyped-def]
    import threading

    from django.db import connection

    for i in range(30):
        _row(qq, group_a, f"消息{i}", next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
    totals: list[int] = []

    def worker() -> None:
        try:
            totals.append(outbox.process_due(limit=30))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    messages = [m["message"] for m in onebot.sent]
    assert sorted(messages) == sorted(f"消息{i}" for i in range(30))  # each once, none lost
    assert sum(totals) == 30
    assert Outbox.objects.filter(status=OutboxStatus.SENT, attempts=1).count() == 30
    assert DeliveryAttempt.objects.count() == 30
