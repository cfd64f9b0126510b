"""The receiving endpoints: ``/watch/hooks/<slug>/messages`` (signed generic webhook) and
``/watch/hooks/<slug>/onebot`` (OneBot v11 HTTP POST). Requests go through Django's test client with
the exact bytes and headers a platform would send."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dualgrid.conftest import Cast
from dualgrid.places.models import ChatGroup, Platform
from dualgrid.watch.adapters import onebot_signature, webhook_signature
from dualgrid.watch.models import (
    Connector,
    ConnectorKind,
    GroupMessage,
    MessageKind,
    MessageState,
    QuarantinedGroup,
)

SECRET = "s3cret-for-tests"


@pytest.fixture
def hook(cast: Cast) -> Connector:
    return Connector.objects.create(slug="wx", name="微信网关", kind=ConnectorKind.WEBHOOK, secret=SECRET)


@pytest.fixture
def bot(cast: Cast) -> Connector:
    return Connector.objects.create(
        slug="qq", name="QQ机器人", kind=ConnectorKind.ONEBOT, platform=Platform.QQ, secret=SECRET
    )


@pytest.fixture
def groups(cast: Cast) -> tuple[ChatGroup, ChatGroup]:
    wechat = ChatGroup.objects.create(
        grid=cast.grid_a, platform=Platform.WECHAT, name="大佛1网格群", external_id="g-1"
    )
    qq = ChatGroup.objects.create(
        grid=cast.grid_a, platform=Platform.QQ, name="大佛1网格QQ群", external_id="456"
    )
    return wechat, qq


def _msg(message_id: Any, text: Any = "今天天气不错，大家早上好", **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "message_id": message_id,
        "group_id": "g-1",
        "group_name": "大佛1网格群",
        "sender": {"id": "u1", "name": "龚大哥"},
        "type": "text",
        "text": text,
        "sent_at": "2026-11-23T20:15:00+08:00",
    }
    data.update(kw)
    return data


def post_webhook(
    payload: Any,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    signed: bool = True,
    raw: bytes | None = None,
    slug: str = "wx",
) -> Any:
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers: dict[str, str] = {}
    if signed:
        headers = {
            "X-Dualgrid-Timestamp": stamp,
            "X-Dualgrid-Signature": webhook_signature(secret, stamp, body),
        }
    url = reverse("watch:hook_webhook", args=[slug])
    return Client().post(url, body, content_type="application/json", headers=headers)


def post_onebot(payload: Any, *, secret: str = SECRET, raw: bytes | None = None, signed: bool = True) -> Any:
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    headers = {"X-Signature": onebot_signature(secret, body)} if signed else {}
    return Client().post(
        reverse("watch:hook_onebot", args=["qq"]), body, content_type="application/json", headers=headers
    )


# --- generic webhook: accepted ------------------------------------------------------------------------


def test_signed_single_message_is_stored_and_triaged(hook, groups) -> None:  # type: ignore[no-untyped-def]
    response = post_webhook(_msg("m-1", "9社龚氏兄弟因堰塘使用又打起来了"))
    assert response.status_code == 200
    assert response.json()["stored"] == 1 and response.json()["duplicates"] == 0
    message = GroupMessage.objects.get(external_id="m-1")
    assert message.chat_group == groups[0] and message.grid_id == groups[0].grid_id
    assert message.sent_at == datetime(2026, 11, 23, 12, 15, tzinfo=UTC)
    assert (message.sender_id, message.sender_name) == ("u1", "龚大哥")
    assert message.actionable and message.state == MessageState.FLAGGED
    assert message.reasons  # the words or rule that fired


def test_signed_batch_and_replays_store_each_message_once(hook, groups) -> None:  # type: ignore[no-untyped-def]
    batch = {"messages": [_msg("b-1"), _msg("b-2", "有人吗"), _msg("b-3", "收到")]}
    first = post_webhook(batch)
    assert first.status_code == 200 and first.json()["stored"] == 3
    replay = post_webhook(batch)
    assert replay.status_code == 200
    assert (replay.json()["stored"], replay.json()["duplicates"]) == (0, 3)
    # A batch repeating an id within itself, plus one new message.
    mixed = post_webhook({"messages": [_msg("b-1"), _msg("b-4"), _msg("b-4")]})
    assert (mixed.json()["stored"], mixed.json()["duplicates"]) == (1, 2)
    assert GroupMessage.objects.count() == 4


def test_unknown_group_is_stored_and_quarantined(hook, groups) -> None:  # type: ignore[no-untyped-def]
    response = post_webhook(_msg("q-1", group_id="g-unknown", group_name="新建的群"))
    assert response.status_code == 200 and response.json()["quarantined"] == 1
    message = GroupMessage.objects.get(external_id="q-1")
    assert message.state == MessageState.QUARANTINED and message.chat_group is None
    row = QuarantinedGroup.objects.get(connector=hook, external_group_id="g-unknown")
    assert (row.group_name, row.message_count) == ("新建的群", 1)


def test_non_text_messages_are_stored_as_such_without_triage(hook, groups) -> None:  # type: ignore[no-untyped-def]
    batch = {
        "messages": [
            _msg("i-1", "", type="image", attachment={"url": "https://example.invalid/a.jpg"}),
            _msg("v-1", "", type="voice", attachment={"seconds": 12}),
            _msg("f-1", "", type="file"),
        ]
    }
    assert post_webhook(batch).json()["stored"] == 3
    for external_id, kind in (
        ("i-1", MessageKind.IMAGE),
        ("v-1", MessageKind.VOICE),
        ("f-1", MessageKind.FILE),
    ):
        message = GroupMessage.objects.get(external_id=external_id)
        assert message.kind == kind and message.text == ""
        assert (message.actionable, message.triage_kind, message.reasons) == (False, "", [])
        assert message.state == MessageState.CHATTER
    assert GroupMessage.objects.get(external_id="i-1").attachment == {"url": "https://example.invalid/a.jpg"}


def test_emoji_and_mixed_scripts_are_kept_exactly(hook, groups) -> None:  # type: ignore[no-untyped-def]
    text = "水管爆了💧💧 water everywhere！ﾀｽｹﾃ 𠮷野家门口 ① ཁྱིམ 🙏🏽👨‍👩‍👧"
    assert post_webhook(_msg("e-1", text)).status_code == 200
    assert GroupMessage.objects.get(external_id="e-1").text == text


def test_a_20000_character_text_is_stored_truncated(hook, groups, settings) -> None:  # type: ignore[no-untyped-def]
    limit = settings.DUALGRID["MAX_MESSAGE_CHARS"]
    response = post_webhook(_msg("long", "堰" * 20_000))
    assert response.status_code == 200 and response.json()["stored"] == 1
    message = GroupMessage.objects.get(external_id="long")
    assert len(message.text) == limit and message.truncated


def test_a_future_sent_at_is_clock_skew(hook, groups) -> None:  # type: ignore[no-untyped-def]
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    assert post_webhook(_msg("skew", sent_at=future)).status_code == 200
    message = GroupMessage.objects.get(external_id="skew")
    assert message.clock_skew and message.sent_at == message.received_at
    assert post_webhook(_msg("ok", sent_at=1763900000)).status_code == 200  # Unix seconds are fine too
    assert not GroupMessage.objects.get(external_id="ok").clock_skew


# --- generic webhook: refused -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"signed": False}, "signature"),
        ({"secret": "wrong"}, "signature"),
        ({"timestamp": int(time.time()) - 3600}, "timestamp"),
        ({"timestamp": int(time.time()) + 3600}, "timestamp"),
    ],
    ids=["unsigned", "wrong-secret", "old-timestamp", "future-timestamp"],
)
def test_bad_signatures_are_401_with_a_field_and_store_nothing(hook, groups, kwargs, field) -> None:  # type: ignore[no-untyped-def]
    response = post_webhook(_msg("x-1"), **kwargs)
    assert response.status_code == 401
    assert response.json()["field"] == field and response.json()["code"] == "unauthorized"
    assert response.json()["detail"]
    assert not GroupMessage.objects.exists()


def test_signature_covers_the_body(hook, groups) -> None:  # type: ignore[no-untyped-def]
    stamp = str(int(time.time()))
    signed = json.dumps(_msg("t-1")).encode()
    tampered = json.dumps(_msg("t-1", "改过的内容")).encode()
    response = Client().post(
        reverse("watch:hook_webhook", args=["wx"]),
        tampered,
        content_type="application/json",
        HTTP_X_DUALGRID_TIMESTAMP=stamp,
        HTTP_X_DUALGRID_SIGNATURE=webhook_signature(SECRET, stamp, signed),
    )
    assert response.status_code == 401 and response.json()["field"] == "signature"
    assert not GroupMessage.objects.exists()


@pytest.mark.parametrize(
    ("payload", "raw", "field"),
    [
        (None, b"{not json", "body"),
        (None, "中文".encode("gbk"), "body"),
        ({k: v for k, v in _msg("p-1").items() if k != "group_id"}, None, "group_id"),
        (_msg("p-1", group_id=""), None, "group_id"),
        (_msg("p-1", text=12345), None, "text"),
        (_msg("p-1", text="   "), None, "text"),
        (_msg("p-1", group_id=["g-1"]), None, "group_id"),
        (_msg("p-1", sender="龚大哥"), None, "sender"),
        (_msg("p-1", sent_at="昨天晚上"), None, "sent_at"),
        (_msg("p-1", type="sticker"), None, "type"),
        (_msg(12.5), None, "message_id"),
        ([_msg("p-1")], None, "body"),
        ({"messages": []}, None, "messages"),
        ({"messages": [_msg("p-1"), _msg("p-2", group_id=None)]}, None, "messages[1].group_id"),
    ],
    ids=[
        "malformed",
        "not-utf8",
        "missing-group",
        "empty-group",
        "text-number",
        "blank-text",
        "group-list",
        "sender-string",
        "bad-time",
        "unknown-type",
        "id-float",
        "top-level-array",
        "empty-batch",
        "bad-item-in-batch",
    ],
)
def test_malformed_payloads_are_400_with_a_field_and_store_nothing(hook, groups, payload, raw, field) -> None:  # type: ignore[no-untyped-def]
    response = post_webhook(payload, raw=raw)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field and response.json()["code"] == "invalid"
    assert not GroupMessage.objects.exists()


def test_oversize_batch_is_400(hook, groups, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DUALGRID = {**settings.DUALGRID, "MAX_MESSAGE_BATCH": 5}
    response = post_webhook({"messages": [_msg(f"o-{i}") for i in range(6)]})
    assert response.status_code == 400 and response.json()["field"] == "messages"
    assert "一次最多推送5条消息" in response.json()["detail"]
    assert post_webhook({"messages": [_msg(f"o-{i}") for i in range(5)]}).json()["stored"] == 5


def test_unknown_or_inactive_connector_and_wrong_method(hook, groups) -> None:  # type: ignore[no-untyped-def]
    assert post_webhook(_msg("n-1"), slug="nope").status_code == 404
    Connector.objects.filter(pk=hook.pk).update(active=False)
    assert post_webhook(_msg("n-1")).status_code == 404
    assert Client().get(reverse("watch:hook_webhook", args=["wx"])).status_code == 405
    assert not GroupMessage.objects.exists()


# --- OneBot v11 ---------------------------------------------------------------------------------------


def _event(message_id: int, message: Any, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "time": 1763900000,
        "self_id": 10001,
        "post_type": "message",
        "message_type": "group",
        "sub_type": "normal",
        "message_id": message_id,
        "group_id": 456,
        "user_id": 789,
        "sender": {"user_id": 789, "nickname": "老王", "card": "3组王大爷"},
        "message": message,
        "raw_message": message if isinstance(message, str) else "",
        "font": 0,
    }
    data.update(kw)
    return data


def test_onebot_group_message_segments_and_cq_string(bot, groups) -> None:  # type: ignore[no-untyped-def]
    segments = [
        {"type": "at", "data": {"qq": "10001"}},
        {"type": "text", "data": {"text": " 我家老人走失了，穿蓝色外套"}},
        {"type": "image", "data": {"file": "abc.image", "url": "https://example.invalid/x"}},
    ]
    assert post_onebot(_event(1, segments)).status_code == 204
    first = GroupMessage.objects.get(external_id="1")
    assert first.chat_group == groups[1] and first.kind == MessageKind.TEXT
    assert first.text == "我家老人走失了，穿蓝色外套" and first.sender_name == "3组王大爷"
    assert first.attachment == {"segments": ["image"]}
    assert first.sent_at == datetime.fromtimestamp(1763900000, tz=UTC)
    cq = "[CQ:reply,id=1]路灯坏了 &#91;已拍照&#93;[CQ:face,id=14]"
    assert post_onebot(_event(2, cq)).status_code == 204
    assert GroupMessage.objects.get(external_id="2").text == "路灯坏了 [已拍照]"


def test_onebot_image_and_voice_only_are_not_triaged(bot, groups) -> None:  # type: ignore[no-untyped-def]
    post_onebot(_event(3, [{"type": "image", "data": {"file": "a.jpg"}}]))
    post_onebot(_event(4, "[CQ:record,file=b.amr]"))
    image, voice = GroupMessage.objects.get(external_id="3"), GroupMessage.objects.get(external_id="4")
    assert (image.kind, voice.kind) == (MessageKind.IMAGE, MessageKind.VOICE)
    assert not image.actionable and not voice.actionable and image.reasons == voice.reasons == []


def test_onebot_replay_heartbeat_private_and_unknown_group(bot, groups) -> None:  # type: ignore[no-untyped-def]
    event = _event(5, "堰塘边的护栏断了，小孩容易掉下去")
    assert post_onebot(event).status_code == 204
    assert post_onebot(event).status_code == 204  # the framework retried: stored once
    assert GroupMessage.objects.filter(external_id="5").count() == 1
    heartbeat = {
        "time": 1763900000,
        "self_id": 10001,
        "post_type": "meta_event",
        "meta_event_type": "heartbeat",
    }
    assert post_onebot(heartbeat).status_code == 204
    private = _event(6, "私聊", message_type="private")
    assert post_onebot(private).status_code == 204
    assert post_onebot(_event(7, "新群的消息", group_id=999888)).status_code == 204
    assert set(GroupMessage.objects.values_list("external_id", flat=True)) == {"5", "7"}
    assert QuarantinedGroup.objects.get(connector=bot).external_group_id == "999888"


def test_onebot_refuses_bad_signature_and_malformed_events(bot, groups) -> None:  # type: ignore[no-untyped-def]
    event = _event(8, "你好")
    unsigned = post_onebot(event, signed=False)
    assert unsigned.status_code == 401 and unsigned.json()["field"] == "signature"
    wrong = post_onebot(event, secret="other")
    assert wrong.status_code == 401 and wrong.json()["field"] == "signature"
    assert post_onebot(None, raw=b"[1, 2").json()["field"] == "body"
    missing = post_onebot({k: v for k, v in event.items() if k != "group_id"})
    assert missing.status_code == 400 and missing.json()["field"] == "group_id"
    assert post_onebot(_event(9, "x", group_id={"id": 1})).json()["field"] == "group_id"
    assert post_onebot(_event(10, "x", time="soon")).json()["field"] == "time"
    assert not GroupMessage.objects.exists()
    # A webhook connector's slug does not answer OneBot and vice versa.
    response = Client().post(
        reverse("watch:hook_webhook", args=["qq"]), b"{}", content_type="application/json"
    )
    assert response.status_code == 404
