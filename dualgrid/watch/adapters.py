"""Receiving adapters: the generic signed JSON webhook and OneBot v11 (QQ bot frameworks).

Both parse into :class:`~dualgrid.watch.inbound.Inbound`; docs/WATCH.md shows example payloads.

Generic webhook — ``POST /watch/hooks/<slug>/messages``::

    X-Dualgrid-Timestamp: 1763900000                      (unix seconds)
    X-Dualgrid-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
    {"message_id": "m-1", "group_id": "g-1", "group_name": "…", "sender": {"id": "u1", "name": "…"},
     "type": "text", "text": "…", "sent_at": "2026-11-23T20:15:00+08:00"}
    or {"messages": [ … up to DUALGRID_MAX_MESSAGE_BATCH of those … ]}

OneBot v11 — ``POST /watch/hooks/<slug>/onebot`` (the framework's HTTP POST reporting)::

    X-Signature: sha1=<hex HMAC-SHA1(secret, raw body)>
    {"post_type": "message", "message_type": "group", "message_id": 123, "group_id": 456,
     "user_id": 789, "sender": {"nickname": "…", "card": "…"}, "message": [{"type": "text",
     "data": {"text": "…"}}] or "CQ-coded string", "raw_message": "…", "time": 1763900000}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils.dateparse import parse_datetime

from .inbound import Inbound
from .models import Connector, MessageKind


class AdapterError(Exception):
    """Refused input: ``status`` 400 (malformed) or 401 (signature), ``field`` names what is wrong."""

    def __init__(self, message: str, *, status: int = 400, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.field = field


# --- signatures ---------------------------------------------------------------------------------------


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_webhook(connector: Connector, headers: Any, body: bytes, *, now: float | None = None) -> None:
    timestamp = headers.get("X-Dualgrid-Timestamp", "")
    signature = headers.get("X-Dualgrid-Signature", "")
    if not timestamp or not signature:
        raise AdapterError(
            "缺少签名（X-Dualgrid-Timestamp / X-Dualgrid-Signature）", status=401, field="signature"
        )
    try:
        stamp = int(timestamp)
    except ValueError:
        raise AdapterError("签名时间戳无效", status=401, field="timestamp") from None
    now = time.time() if now is None else now
    if abs(now - stamp) > int(settings.DUALGRID["SIGNATURE_TOLERANCE_SECONDS"]):
        raise AdapterError("签名时间戳超出允许范围（请检查对方服务器时钟）", status=401, field="timestamp")
    if not hmac.compare_digest(webhook_signature(connector.secret, timestamp, body), signature):
        raise AdapterError("签名不正确", status=401, field="signature")


def onebot_signature(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def verify_onebot(connector: Connector, headers: Any, body: bytes) -> None:
    signature = headers.get("X-Signature", "")
    if not signature:
        raise AdapterError("缺少签名（X-Signature）", status=401, field="signature")
    if not hmac.compare_digest(onebot_signature(connector.secret, body), signature):
        raise AdapterError("签名不正确", status=401, field="signature")


# --- parsing ------------------------------------------------------------------------------------------


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AdapterError(f"请求体不是有效的JSON：{exc}", field="body") from None


def _text(value: Any, field: str, *, required: bool = False, limit: int = 128) -> str:
    if value is None or value == "":
        if required:
            raise AdapterError(f"缺少字段 {field}", field=field)
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise AdapterError(f"字段 {field} 应为字符串", field=field)
    text = str(value).strip()
    if len(text) > limit:
        raise AdapterError(f"字段 {field} 过长（最多{limit}字符）", field=field)
    return text


def _when(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value  # milliseconds from some platforms
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise AdapterError(f"字段 {field} 不是有效的时间", field=field) from None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    raise AdapterError(f"字段 {field} 不是有效的时间（ISO 8601 或 Unix 秒）", field=field)


KINDS = {k.value for k in MessageKind}


def _webhook_item(raw: Any, where: str) -> Inbound:
    if not isinstance(raw, dict):
        raise AdapterError(f"{where or '消息'} 应为JSON对象", field=where or "body")
    prefix = f"{where}." if where else ""
    kind = _text(raw.get("type") or "text", f"{prefix}type", limit=16)
    if kind not in KINDS:
        raise AdapterError(f"字段 {prefix}type 只能是 {'、'.join(sorted(KINDS))}", field=f"{prefix}type")
    text = raw.get("text") or ""
    if not isinstance(text, str):
        raise AdapterError(f"字段 {prefix}text 应为字符串", field=f"{prefix}text")
    if kind == MessageKind.TEXT and not text.strip():
        raise AdapterError(f"文字消息缺少 {prefix}text", field=f"{prefix}text")
    sender = raw.get("sender") or {}
    if not isinstance(sender, dict):
        raise AdapterError(f"字段 {prefix}sender 应为对象", field=f"{prefix}sender")
    attachment = raw.get("attachment") or {}
    if not isinstance(attachment, dict):
        raise AdapterError(f"字段 {prefix}attachment 应为对象", field=f"{prefix}attachment")
    return Inbound(
        external_id=_text(raw.get("message_id"), f"{prefix}message_id", required=True),
        group_id=_text(raw.get("group_id"), f"{prefix}group_id", required=True),
        group_name=_text(raw.get("group_name"), f"{prefix}group_name"),
        kind=kind,
        text=text,
        sender_id=_text(sender.get("id"), f"{prefix}sender.id"),
        sender_name=_text(sender.get("name"), f"{prefix}sender.name", limit=64),
        sender_phone=_text(sender.get("phone"), f"{prefix}sender.phone", limit=32),
        sent_at=_when(raw.get("sent_at"), f"{prefix}sent_at"),
        attachment={k: v for k, v in attachment.items() if isinstance(k, str)},
    )


def parse_webhook(body: bytes) -> list[Inbound]:
    data = _json(body)
    if isinstance(data, dict) and "messages" in data:
        batch = data["messages"]
        if not isinstance(batch, list) or not batch:
            raise AdapterError("messages 应为非空数组", field="messages")
        limit = int(settings.DUALGRID["MAX_MESSAGE_BATCH"])
        if len(batch) > limit:
            raise AdapterError(f"一次最多推送{limit}条消息", field="messages")
        return [_webhook_item(item, f"messages[{i}]") for i, item in enumerate(batch)]
    return [_webhook_item(data, "")]


CQ_CODE = re.compile(r"\[CQ:([a-z_]+)[^\]]*\]")
ONEBOT_KINDS = {
    "image": MessageKind.IMAGE,
    "record": MessageKind.VOICE,
    "video": MessageKind.VIDEO,
    "file": MessageKind.FILE,
}


def _onebot_content(message: Any, raw_message: Any) -> tuple[str, str, dict[str, Any]]:
    """Plain text and kind of a OneBot message (segment array or CQ-coded string)."""
    texts: list[str] = []
    others: list[str] = []
    if isinstance(message, list):
        for segment in message:
            if not isinstance(segment, dict):
                continue
            data = segment.get("data") or {}
            if segment.get("type") == "text":
                texts.append(str(data.get("text", "")))
            elif segment.get("type") in ONEBOT_KINDS:
                others.append(str(segment["type"]))
    else:
        source = message if isinstance(message, str) else raw_message if isinstance(raw_message, str) else ""
        others = [m.group(1) for m in CQ_CODE.finditer(source) if m.group(1) in ONEBOT_KINDS]
        texts = [CQ_CODE.sub("", source).replace("&#91;", "[").replace("&#93;", "]").replace("&amp;", "&")]
    text = "".join(texts).strip()
    if text:
        return MessageKind.TEXT, text, ({"segments": others} if others else {})
    if others:
        return ONEBOT_KINDS[others[0]], "", {"segments": others}
    return MessageKind.OTHER, "", {}


def parse_onebot(body: bytes) -> Inbound | None:
    """A group message event, or None for what OneBot also posts (heartbeats, notices, private chats)."""
    data = _json(body)
    if not isinstance(data, dict):
        raise AdapterError("事件应为JSON对象", field="body")
    if data.get("post_type") != "message" or data.get("message_type") != "group":
        return None
    sender = data.get("sender") or {}
    if not isinstance(sender, dict):
        sender = {}
    kind, text, attachment = _onebot_content(data.get("message"), data.get("raw_message"))
    return Inbound(
        external_id=_text(data.get("message_id"), "message_id", required=True),
        group_id=_text(data.get("group_id"), "group_id", required=True),
        sender_id=_text(data.get("user_id"), "user_id"),
        sender_name=_text(sender.get("card") or sender.get("nickname"), "sender.nickname", limit=64),
        kind=kind,
        text=text,
        sent_at=_when(data.get("time"), "time"),
        attachment=attachment,
    )
