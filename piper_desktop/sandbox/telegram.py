"""A local stand-in for the Telegram Bot API (`POST /bot<token>/<method>`).

sendMessage and getMe answer `{"ok": true, "result": ...}` like the real API, and every
message sent is kept in `messages`. A wrong token gets 401 Unauthorized.

Default bot token: "123456:sandbox-telegram-token".
"""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs

from piper_desktop.sandbox.httpbase import SandboxHandler, SandboxHTTPServer, SandboxServer


class TelegramHandler(SandboxHandler):
    server: TelegramHTTPServer

    def _fail(self, status: int, description: str) -> None:
        self.send_json(status, {"ok": False, "error_code": status, "description": description})

    def bot(self, match: re.Match[str]) -> None:
        srv = self.server
        if match.group("token") not in srv.tokens:
            self._fail(401, "Unauthorized")
            return
        ctype = self.headers.get("Content-Type") or ""
        if ctype.startswith("application/x-www-form-urlencoded"):
            body: Any = {k: v[0] for k, v in parse_qs(self.read_body().decode()).items()}
        else:
            body = self.json_body() if self.read_body() else {}
        if not isinstance(body, dict):
            self._fail(400, "Bad Request: body must be a JSON object")
            return
        method = match.group("method")
        if method == "getMe":
            result = {
                "id": 123456,
                "is_bot": True,
                "first_name": "Piper Sandbox",
                "username": "piper_sandbox_bot",
            }
        elif method == "sendMessage":
            chat_id = body.get("chat_id")
            text = body.get("text")
            if chat_id in (None, ""):
                self._fail(400, "Bad Request: chat_id is empty")
                return
            if not text:
                self._fail(400, "Bad Request: message text is empty")
                return
            if len(str(text)) > 4096:
                self._fail(400, "Bad Request: message is too long")
                return
            if srv.chats is not None and str(chat_id) not in srv.chats:
                self._fail(400, "Bad Request: chat not found")
                return
            with srv.lock:
                srv.counter += 1
                result = {
                    "message_id": srv.counter,
                    "date": int(time.time()),
                    "chat": {"id": chat_id, "type": "private"},
                    "text": str(text),
                }
                srv.messages.append(result | {"parse_mode": body.get("parse_mode")})
        else:
            self._fail(404, "Not Found")
            return
        self.send_json(200, {"ok": True, "result": result})

    routes = [("POST", r"/bot(?P<token>[^/]+)/(?P<method>\w+)", bot)]


class TelegramHTTPServer(SandboxHTTPServer):
    tokens: set[str]
    chats: set[str] | None
    messages: list[dict[str, Any]]
    counter: int

    def state_snapshot(self) -> Any:
        with self.lock:
            return {"messages": list(self.messages)}


class TelegramSandbox(SandboxServer):
    server_class = TelegramHTTPServer
    httpd: TelegramHTTPServer
    handler_class = TelegramHandler
    name = "telegram"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens: tuple[str, ...] = ("123456:sandbox-telegram-token",),
        chats: set[str] | None = None,
    ) -> None:
        super().__init__(host, port)
        httpd = self.httpd
        httpd.tokens = set(tokens)
        httpd.chats = chats
        httpd.messages = []
        httpd.counter = 0

    @property
    def token(self) -> str:
        return sorted(self.httpd.tokens)[0]

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.httpd.lock:
            return list(self.httpd.messages)
