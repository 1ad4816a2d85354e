"""A local stand-in for the Telegram Bot API (`POST /bot<token>/<method>`).

getMe, sendMessage, getUpdates, getFile and the file download
(`GET /file/bot<token>/<file_path>`) answer like the real API: `{"ok": true, "result":
...}` or `{"ok": false, "error_code", "description"}`. A wrong token gets 401.

- Tests "send" the bot a message from a chat (`send_text`, `send_video`,
  `send_document`, or any raw update with `push_update`); getUpdates hands them out
  from its `offset` on (every earlier one is confirmed and forgotten), long polling up
  to `timeout` seconds. A second getUpdates while one waits ends the waiting one with
  409 "Conflict: terminated by other getUpdates request", as the real API does.
- Variants (`variant=`): "cloud" (default) refuses getFile over 20 MB ("Bad Request:
  file is too big") and serves relative file paths; "local" is a Bot API server started
  with `--local`: no limit, and `file_path` is the file's absolute path on this disk
  (which it does not serve over HTTP).
- `download_rate` (bytes per second) makes downloads slow; `rate_limit(method, s)`
  answers 429 with `parameters.retry_after`; `conflict()` makes getUpdates answer 409
  (another program polls this bot).
- Every message sent is kept in `messages`; `wait_for_message` waits on a condition.

Default bot token: "123456:sandbox-telegram-token".
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from piper_desktop.sandbox.httpbase import Fault, SandboxHandler, SandboxHTTPServer, SandboxServer

CLOUD_LIMIT = 20 * 1024 * 1024
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Piper Sandbox",
    "username": "piper_sandbox_bot",
}
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


class TelegramHandler(SandboxHandler):
    server: TelegramHTTPServer

    def _fail(self, status: int, description: str, **extra: Any) -> None:
        body = {"ok": False, "error_code": status, "description": description} | extra
        self.send_json(status, body)

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
        handler = getattr(self, f"m_{method}", None)
        if handler is None:
            self._fail(404, "Not Found")
            return
        handler(body)

    def m_getMe(self, body: dict[str, Any]) -> None:
        self.send_json(200, {"ok": True, "result": BOT_USER})

    def m_sendMessage(self, body: dict[str, Any]) -> None:
        srv = self.server
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
        with srv.cond:
            srv.counter += 1
            result = {
                "message_id": srv.counter,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": str(text),
            }
            srv.messages.append(
                result
                | {
                    "parse_mode": body.get("parse_mode"),
                    "reply_to_message_id": body.get("reply_to_message_id"),
                }
            )
            srv.cond.notify_all()
        self.send_json(200, {"ok": True, "result": result})

    def m_getUpdates(self, body: dict[str, Any]) -> None:
        srv = self.server
        try:
            offset = int(body["offset"]) if body.get("offset") is not None else None
            timeout = max(0.0, float(body.get("timeout") or 0))
            limit = min(100, max(1, int(body.get("limit") or 100)))
        except (TypeError, ValueError):
            self._fail(400, "Bad Request: wrong parameter")
            return
        allowed = body.get("allowed_updates")
        deadline = time.monotonic() + timeout
        terminated = False
        with srv.cond:
            if allowed is not None:
                srv.allowed_updates = list(allowed) or None  # [] means every kind
            srv.polls += 1
            mine = srv.polls
            srv.cond.notify_all()  # a poll still waiting is ended by this one (409)
            if offset is not None and offset > 0:
                # asking from `offset` confirms every earlier update: they are gone
                # (an update pushed with a broken id goes with the first confirmation)
                srv.updates = [
                    u
                    for u in srv.updates
                    if isinstance(u.get("update_id"), int) and u["update_id"] >= offset
                ]
                srv.confirmed = max(srv.confirmed, offset)
            while True:
                ready = [u for u in srv.updates if srv.wanted(u)][:limit]
                if ready or srv.closing:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                srv.cond.wait(left)
                if srv.polls != mine:
                    terminated = True
                    break
        if terminated:
            self._fail(409, CONFLICT)
            return
        self.send_json(200, {"ok": True, "result": ready})

    def m_getFile(self, body: dict[str, Any]) -> None:
        srv = self.server
        stored = srv.files.get(str(body.get("file_id") or ""))
        if stored is None:
            self._fail(400, "Bad Request: invalid file_id")
            return
        if srv.variant == "cloud" and stored.size > CLOUD_LIMIT:
            self._fail(400, "Bad Request: file is too big")
            return
        result = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": stored.size,
            "file_path": str(stored.path) if srv.variant == "local" else stored.relative,
        }
        self.send_json(200, {"ok": True, "result": result})

    def file(self, match: re.Match[str]) -> None:
        srv = self.server
        if match.group("token") not in srv.tokens:
            self._fail(401, "Unauthorized")
            return
        wanted = unquote(match.group("path"))
        stored = next((f for f in srv.files.values() if f.relative == wanted), None)
        if stored is None or srv.variant == "local":
            self._fail(404, "Not Found")
            return
        data = stored.path.read_bytes()
        with srv.cond:
            srv.downloads += 1
            srv.cond.notify_all()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self._status = 200
        step = 64 * 1024
        for start in range(0, len(data), step):
            self.wfile.write(data[start : start + step])
            self.wfile.flush()
            if srv.download_rate:
                time.sleep(step / srv.download_rate)  # a slow network, not synchronisation

    routes = [
        ("POST", r"/bot(?P<token>[^/]+)/(?P<method>\w+)", bot),
        ("GET", r"/file/bot(?P<token>[^/]+)/(?P<path>.+)", file),
    ]


class StoredFile:
    def __init__(self, file_id: str, path: Path, size: int, relative: str) -> None:
        self.file_id = file_id
        self.unique_id = hashlib.sha256(file_id.encode()).hexdigest()[:16]
        self.path = path
        self.size = size
        self.relative = relative


class TelegramHTTPServer(SandboxHTTPServer):
    tokens: set[str]
    chats: set[str] | None
    messages: list[dict[str, Any]]
    counter: int
    updates: list[dict[str, Any]]
    next_update: int
    confirmed: int
    polls: int
    closing: bool
    allowed_updates: list[str] | None
    files: dict[str, StoredFile]
    variant: str
    download_rate: float
    downloads: int
    cond: threading.Condition

    def wanted(self, update: dict[str, Any]) -> bool:
        if not self.allowed_updates:
            return True
        return any(kind in update for kind in self.allowed_updates)

    def state_snapshot(self) -> Any:
        with self.cond:
            return {
                "messages": list(self.messages),
                "pending_updates": len(self.updates),
                "confirmed": self.confirmed,
            }


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
        variant: str = "cloud",
        download_rate: float = 0.0,
        file_dir: Path | None = None,
    ) -> None:
        if variant not in ("cloud", "local"):
            raise ValueError("variant: cloud or local")
        super().__init__(host, port)
        httpd = self.httpd
        httpd.tokens = set(tokens)
        httpd.chats = chats
        httpd.messages = []
        httpd.counter = 0
        httpd.updates = []
        httpd.next_update = 1000
        httpd.confirmed = 0
        httpd.polls = 0
        httpd.closing = False
        httpd.allowed_updates = None
        httpd.files = {}
        httpd.variant = variant
        httpd.download_rate = download_rate
        httpd.downloads = 0
        # the lock every state change takes; waits on it are the long polls
        httpd.cond = threading.Condition(httpd.lock)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if file_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="piper-telegram-files-")
            file_dir = Path(self._tmp.name)
        self.file_dir = file_dir

    # --- settings a test changes ------------------------------------------------------------
    @property
    def variant(self) -> str:
        return self.httpd.variant

    @variant.setter
    def variant(self, value: str) -> None:
        self.httpd.variant = value

    @property
    def download_rate(self) -> float:
        return self.httpd.download_rate

    @download_rate.setter
    def download_rate(self, value: float) -> None:
        self.httpd.download_rate = value

    def rate_limit(self, method: str, retry_after: int, times: int = 1) -> None:
        """The next `times` calls of `method` answer 429 with parameters.retry_after."""
        body = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }
        self.faults.add(Fault(rf"/{method}$", status=429, body=body, times=times))

    def conflict(self, times: int = 1) -> None:
        """The next `times` getUpdates answer 409: another program polls this bot."""
        body = {"ok": False, "error_code": 409, "description": CONFLICT}
        self.faults.add(Fault(r"/getUpdates$", status=409, body=body, times=times))

    # --- what a chat sends ------------------------------------------------------------------
    @property
    def token(self) -> str:
        return sorted(self.httpd.tokens)[0]

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (its update_id given, or the next one)."""
        srv = self.httpd
        with srv.cond:
            if "update_id" not in update:
                update = {"update_id": srv.next_update} | update
            if isinstance(update.get("update_id"), int):
                srv.next_update = max(srv.next_update, update["update_id"] + 1)
            srv.updates.append(update)
            srv.cond.notify_all()
        return update

    def _message(self, chat_id: int, **fields: Any) -> dict[str, Any]:
        srv = self.httpd
        with srv.cond:
            srv.counter += 1
            number = srv.counter
        chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "group"}
        chat |= {"first_name": "Operator"} if chat_id > 0 else {"title": "Team"}
        sender = {"id": abs(chat_id) if chat_id > 0 else 777, "is_bot": False, "first_name": "Op"}
        return {"message_id": number, "date": int(time.time()), "chat": chat, "from": sender} | {
            k: v for k, v in fields.items() if v is not None
        }

    def send_text(self, chat_id: int, text: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return self.push_update({"message": self._message(chat_id, **fields)})

    def add_file(self, data: bytes | Path, name: str, size: int | None = None) -> StoredFile:
        """Keep a file the bot may fetch; `size`: the size Telegram reports (a big file)."""
        srv = self.httpd
        with srv.cond:
            number = len(srv.files) + 1
        file_id = f"BAAC{number:04d}{hashlib.sha256(name.encode()).hexdigest()[:12]}"
        path = self.file_dir / f"file_{number}_{Path(name).name}"
        path.write_bytes(data.read_bytes() if isinstance(data, Path) else data)
        stored = StoredFile(file_id, path, size or path.stat().st_size, f"videos/file_{number}")
        with srv.cond:
            srv.files[file_id] = stored
        return stored

    def _attachment(
        self, stored: StoredFile, name: str, mime: str | None, omit: tuple[str, ...]
    ) -> dict[str, Any]:
        attachment: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_name": name,
            "mime_type": mime,
            "file_size": stored.size,
        }
        return {k: v for k, v in attachment.items() if k not in omit and v is not None}

    def send_video(
        self,
        chat_id: int,
        data: bytes | Path,
        *,
        caption: str | None = None,
        name: str = "clip.mp4",
        size: int | None = None,
        omit: tuple[str, ...] = (),
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A video message (message.video); `omit`: optional fields left out of the
        update, `extra`: fields Piper does not know (newer API versions add some)."""
        stored = self.add_file(data, name, size)
        video = self._attachment(stored, name, "video/mp4", omit)
        video |= {"width": 720, "height": 1280, "duration": 1}
        if "thumbnail" not in omit:
            video["thumbnail"] = {
                "file_id": "thumb",
                "file_unique_id": "t",
                "width": 90,
                "height": 160,
            }
        message = self._message(chat_id, video=video, caption=caption) | (extra or {})
        return self.push_update({"message": message})

    def send_document(
        self,
        chat_id: int,
        data: bytes | Path,
        *,
        caption: str | None = None,
        name: str = "clip.mp4",
        mime: str | None = "video/mp4",
        size: int | None = None,
        omit: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """A file sent as a document (message.document, with the sender's mime type)."""
        stored = self.add_file(data, name, size)
        document = self._attachment(stored, name, mime, omit)
        return self.push_update(
            {"message": self._message(chat_id, document=document, caption=caption)}
        )

    # --- what the bot sent ------------------------------------------------------------------
    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.httpd.cond:
            return list(self.httpd.messages)

    def texts(self, chat_id: int | str) -> list[str]:
        return [m["text"] for m in self.messages if str(m["chat"]["id"]) == str(chat_id)]

    def wait_for_message(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0
    ) -> dict[str, Any] | None:
        """The first message sent that `predicate` accepts, waiting up to `timeout`."""
        srv = self.httpd
        with srv.cond:
            found: list[dict[str, Any]] = []

            def seen() -> bool:
                found[:] = [m for m in srv.messages if predicate(m)][:1]
                return bool(found)

            srv.cond.wait_for(seen, timeout)
        return found[0] if found else None

    def wait_for_downloads(self, count: int, timeout: float = 20.0) -> bool:
        """Wait until `count` file downloads have begun."""
        with self.httpd.cond:
            return self.httpd.cond.wait_for(lambda: self.httpd.downloads >= count, timeout)

    @property
    def pending_updates(self) -> int:
        with self.httpd.cond:
            return len(self.httpd.updates)

    @property
    def confirmed(self) -> int:
        """The highest offset a getUpdates asked from (every update below it is gone)."""
        with self.httpd.cond:
            return self.httpd.confirmed

    def stop(self) -> None:
        with self.httpd.cond:
            self.httpd.closing = True  # waiting polls answer at once
            self.httpd.cond.notify_all()
        super().stop()
        if self._tmp is not None:
            self._tmp.cleanup()
