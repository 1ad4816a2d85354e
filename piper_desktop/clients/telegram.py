"""Telegram Bot API client, for notifying the operator (https://api.telegram.org).

The bot token is part of every URL path, so it is registered with the log mask and no
error message here ever quotes a URL.
"""

from __future__ import annotations

from typing import Any

import httpx

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.http import build_http_client, describe_transport_error
from piper_desktop.logs import register_secret

DEFAULT_BASE = "https://api.telegram.org"
PLATFORM = "telegram"


class TelegramClient:
    def __init__(
        self,
        bot_token: str,
        *,
        base_url: str = DEFAULT_BASE,
        proxy_url: str | None = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> None:
        register_secret(bot_token)
        self._token = bot_token
        self.base_url = base_url.rstrip("/")
        self._http = build_http_client(proxy_url=proxy_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TelegramClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, body: dict[str, Any]) -> Any:
        try:
            response = self._http.post(f"{self.base_url}/bot{self._token}/{method}", json=body)
        except httpx.TransportError as exc:
            raise ApiError(
                f"{method}: {describe_transport_error(exc)}", platform=PLATFORM
            ) from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict) or not payload.get("ok"):
            payload = payload if isinstance(payload, dict) else {}
            parameters = payload.get("parameters") or {}
            retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            raise ApiError(
                f"{method}: {payload.get('description') or f'HTTP {response.status_code}'}",
                platform=PLATFORM,
                code=str(payload.get("error_code") or response.status_code),
                http_status=response.status_code,
                retry_after=float(retry_after) if retry_after else None,
            )
        return payload.get("result")

    def get_me(self) -> dict[str, Any]:
        return dict(self._call("getMe", {}) or {})

    def send_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        parse_mode: str | None = None,
        disable_notification: bool = False,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if parse_mode:
            body["parse_mode"] = parse_mode
        if disable_notification:
            body["disable_notification"] = True
        return dict(self._call("sendMessage", body) or {})
