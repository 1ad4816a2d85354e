"""A local stand-in for OpenRouter's OpenAI-compatible chat completions.

`POST /api/v1/chat/completions` with `Authorization: Bearer <key>` answers with
caption suggestions derived deterministically from the prompt: the same prompt always
gives the same text, so tests can assert on it. It reads the labelled lines Piper's
caption prompt carries (Title:, Notes:, Account:, Hashtags:, Count:) and falls back to
the prompt's first words. 401 for a bad key, 429 past the per-key rate limit, and any
5xx through the fault book.

Defaults: API key "sandbox-openrouter-key"; 60 requests per minute per key.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from piper_desktop.sandbox.httpbase import SandboxHandler, SandboxHTTPServer, SandboxServer

HOOKS = [
    "Watch till the end",
    "Had to share this",
    "Save this for later",
    "This one made my day",
    "Tell me you have seen this",
    "Round two is even better",
    "Sound on for this one",
]


def _field(text: str, label: str) -> str:
    match = re.search(rf"(?im)^\s*{label}\s*:\s*(.+)$", text)
    return match.group(1).strip() if match else ""


def suggest(prompt: str) -> list[str]:
    """The sandbox's deterministic 'model': captions from the prompt's labelled lines."""
    title = _field(prompt, "Title") or " ".join(prompt.split()[:6]) or "New video"
    notes = _field(prompt, "Notes")
    tags = re.findall(r"#\w+", _field(prompt, "Hashtags") or prompt)
    count_text = _field(prompt, "Count")
    count = int(count_text) if count_text.isdigit() else 3
    seed = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big")
    out = []
    for i in range(max(1, min(count, 10))):
        hook = HOOKS[(seed + i) % len(HOOKS)]
        extra = f" {notes.split('.')[0].strip()}." if notes and i % 2 == 0 else ""
        caption = f"{title} — {hook}!{extra}"
        if tags:
            caption += " " + " ".join(dict.fromkeys(tags))
        out.append(caption)
    return out


class OpenRouterHandler(SandboxHandler):
    server: OpenRouterHTTPServer

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self.send_json(status, {"error": {"code": status, "message": message}}, headers)

    def completions(self, match: re.Match[str]) -> None:
        srv = self.server
        auth = re.fullmatch(r"Bearer\s+(\S+)", self.headers.get("Authorization") or "")
        if not auth or auth.group(1) not in srv.api_keys:
            self._error(401, "No auth credentials found")
            return
        now = srv.clock()
        count, window = srv.rate_limit
        with srv.lock:
            hits = srv.hits.setdefault(auth.group(1), deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= count:
                self._error(429, "Rate limit exceeded", {"Retry-After": "20"})
                return
            hits.append(now)
        body = self.json_body()
        if not isinstance(body, dict) or not body.get("model"):
            self._error(400, "model is required")
            return
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._error(400, "messages must be a non-empty list")
            return
        prompt = "\n".join(
            str(m.get("content", ""))
            for m in messages
            if isinstance(m, dict) and m.get("role") == "user"
        )
        content = "\n".join(suggest(prompt))
        with srv.lock:
            srv.counter += 1
            ident = f"gen-sandbox-{srv.counter}"
            srv.completions.append(
                {"id": ident, "model": body["model"], "prompt": prompt, "content": content}
            )
        words = len(prompt.split())
        self.send_json(
            200,
            {
                "id": ident,
                "object": "chat.completion",
                "created": int(now),
                "model": body["model"],
                "provider": "sandbox",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": words,
                    "completion_tokens": len(content.split()),
                    "total_tokens": words + len(content.split()),
                },
            },
        )

    routes = [("POST", r"/api/v1/chat/completions", completions)]


class OpenRouterHTTPServer(SandboxHTTPServer):
    api_keys: set[str]
    rate_limit: tuple[int, float]
    clock: Callable[[], float]
    hits: dict[str, deque[float]]
    completions: list[dict[str, Any]]
    counter: int

    def state_snapshot(self) -> Any:
        with self.lock:
            return {"completions": list(self.completions)}


class OpenRouterSandbox(SandboxServer):
    server_class = OpenRouterHTTPServer
    httpd: OpenRouterHTTPServer
    handler_class = OpenRouterHandler
    name = "openrouter"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_keys: tuple[str, ...] = ("sandbox-openrouter-key",),
        rate_limit: tuple[int, float] = (60, 60.0),
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(host, port)
        httpd = self.httpd
        httpd.api_keys = set(api_keys)
        httpd.rate_limit = rate_limit
        httpd.clock = clock
        httpd.hits = {}
        httpd.completions = []
        httpd.counter = 0
        self._lock = threading.Lock()

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def api_key(self) -> str:
        return sorted(self.httpd.api_keys)[0]

    @property
    def completions(self) -> list[dict[str, Any]]:
        with self.httpd.lock:
            return list(self.httpd.completions)
