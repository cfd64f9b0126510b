"""Real HTTP servers on loopback speaking the outgoing protocols, for the outbox tests.

- :class:`FakeOneBot` — a OneBot v11 HTTP API: ``POST /send_group_msg`` with an access token; it can
  fail the first N calls (HTTP 500 or a OneBot ``retcode``) and then succeed, or be slow.
- :class:`FakeWebhook` — a receiver of the generic webhook that checks the HMAC signature and the
  timestamp exactly as our own receiving side does.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from dualgrid.watch.adapters import AdapterError, verify_webhook


@dataclass
class Call:
    path: str
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Server:
    calls: list[Call] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    def start(self) -> Self:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                call = Call(self.path, self.headers, body)
                outer.calls.append(call)
                status, payload = outer.answer(call)
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, call: Call) -> tuple[int, Any]:
        raise NotImplementedError


@dataclass
class FakeOneBot(_Server):
    token: str = ""
    fail_times: int = 0
    fail_mode: str = "http"  # "http" → HTTP 500; "retcode" → 200 with status "failed"
    delay: float = 0.0
    next_id: int = 1000

    def answer(self, call: Call) -> tuple[int, Any]:
        if self.delay:
            time.sleep(self.delay)
        if self.token and call.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"status": "failed", "retcode": 1403, "msg": "token verify failed"}
        if call.path != "/send_group_msg":
            return 404, {"status": "failed", "retcode": 1404, "msg": "API not found"}
        payload = call.json
        if not isinstance(payload.get("group_id"), int) or not payload.get("message"):
            return 200, {"status": "failed", "retcode": 100, "msg": "invalid params"}
        failures = sum(1 for c in self.calls if c.path == "/send_group_msg") - 1
        if failures < self.fail_times:
            if self.fail_mode == "retcode":
                return 200, {"status": "failed", "retcode": 1200, "wording": "群消息发送失败：机器人已被禁言"}
            return 500, {"status": "failed", "retcode": 500, "msg": "internal error"}
        self.next_id += 1
        return 200, {"status": "ok", "retcode": 0, "data": {"message_id": self.next_id}}

    @property
    def sent(self) -> list[Any]:
        return [c.json for c in self.calls if c.path == "/send_group_msg"]


@dataclass
class _Secret:
    secret: str


@dataclass
class FakeWebhook(_Server):
    secret: str = ""
    status: int = 200
    rejected: list[str] = field(default_factory=list)

    def answer(self, call: Call) -> tuple[int, Any]:
        try:
            verify_webhook(_Secret(self.secret), call.headers, call.body)  # type: ignore[arg-type]
        except AdapterError as exc:
            self.rejected.append(exc.message)
            return 401, {"detail": exc.message, "field": exc.field}
        if self.status >= 300:
            return self.status, {"detail": "busy"}
        return self.status, {"message_id": f"w-{call.json['outbox_id']}"}
