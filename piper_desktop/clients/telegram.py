"""Telegram Bot API client (https://api.telegram.org): notifications and the intake bot.

The bot token is part of every URL path, so it is registered with the log mask and no
error message here ever quotes a URL.

Long polling (`get_updates`), files (`get_file`, `download`), `get_me`, `send_message`.
A 429 is waited out as Telegram's `parameters.retry_after` asks (through `wait`, so a
stopping bot is not held up), a few times at most. The cloud Bot API lets a bot fetch
at most 20 MB per file (getFile answers "file is too big"); a local Bot API server
started with `--local` has no limit and answers an absolute path on its own disk as
`file_path`, which `download` copies instead of fetching.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.http import build_http_client, describe_transport_error
from piper_desktop.logs import register_secret
from piper_desktop.owner_only import FILE_MODE

DEFAULT_BASE = "https://api.telegram.org"
PLATFORM = "telegram"
# what the cloud Bot API lets a bot download (getFile answers "file is too big" above)
CLOUD_DOWNLOAD_LIMIT = 20 * 1024 * 1024
# 429s waited out per call before the error is raised; longer waits are the caller's
RETRIES_429 = 3
MAX_RETRY_AFTER = 120.0
CHUNK = 256 * 1024


class DownloadStopped(Exception):
    """A download was given up because the caller is stopping (the partial file is gone)."""


def too_big(exc: ApiError) -> bool:
    """getFile's refusal of a file over the cloud Bot API's 20 MB."""
    return exc.http_status == 400 and "file is too big" in exc.message.lower()


def conflict(exc: ApiError) -> bool:
    """409: another getUpdates (or a webhook) holds this bot."""
    return exc.http_status == 409


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)  # the platform asked for this pause (retry_after)
    return True


class TelegramClient:
    def __init__(
        self,
        bot_token: str,
        *,
        base_url: str = DEFAULT_BASE,
        proxy_url: str | None = None,
        timeout: httpx.Timeout | float | None = None,
        wait: Callable[[float], bool] = _sleep,
    ) -> None:
        register_secret(bot_token)
        self._token = bot_token
        self.base_url = base_url.rstrip("/")
        self._http = build_http_client(proxy_url=proxy_url, timeout=timeout)
        # waits retry_after; False: the caller is stopping, raise the 429 instead
        self._wait = wait

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TelegramClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, body: dict[str, Any], *, read_timeout: float | None = None) -> Any:
        for attempt in range(RETRIES_429 + 1):
            try:
                return self._call_once(method, body, read_timeout)
            except ApiError as exc:
                pause = exc.retry_after
                if exc.http_status != 429 or pause is None or attempt == RETRIES_429:
                    raise
                if pause > MAX_RETRY_AFTER or not self._wait(pause):
                    raise
        raise AssertionError("unreachable")

    def _call_once(self, method: str, body: dict[str, Any], read_timeout: float | None) -> Any:
        extra: dict[str, Any] = {}
        if read_timeout is not None:
            # a long poll holds the answer back for `timeout` seconds: wait a little longer
            extra["timeout"] = httpx.Timeout(10.0, read=read_timeout)
        try:
            response = self._http.post(
                f"{self.base_url}/bot{self._token}/{method}", json=body, **extra
            )
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

    def get_updates(
        self,
        offset: int | None = None,
        *,
        timeout: int = 0,
        limit: int = 100,
        allowed_updates: list[str] | None = None,
    ) -> list[Any]:
        """Updates from `offset` on (every earlier one is confirmed by asking); with
        `timeout` the answer waits up to that many seconds for the first one."""
        body: dict[str, Any] = {"timeout": timeout, "limit": limit}
        if offset is not None:
            body["offset"] = offset
        if allowed_updates is not None:
            body["allowed_updates"] = allowed_updates
        result = self._call("getUpdates", body, read_timeout=timeout + 15.0)
        return list(result) if isinstance(result, list) else []

    def get_file(self, file_id: str) -> dict[str, Any]:
        """The File object (file_path, file_size); "file is too big" over 20 MB on the
        cloud Bot API (`too_big`)."""
        result = self._call("getFile", {"file_id": file_id})
        return dict(result) if isinstance(result, dict) else {}

    def download(
        self,
        file_path: str,
        dest: Path,
        *,
        stopping: Callable[[], bool] = lambda: False,
        max_bytes: int | None = None,
    ) -> int:
        """Stream `file_path` (from getFile) into `dest`, owner-only; the bytes written.

        An absolute `file_path` is a local Bot API server's own file (`--local`): it is
        copied when this machine can read it. A download the caller stops, or one that
        fails, leaves no partial file behind."""
        tmp = dest.with_name(dest.name + ".part")
        try:
            if os.path.isabs(file_path) and Path(file_path).is_file():
                return self._copy_local(Path(file_path), tmp, dest, stopping)
            url = f"{self.base_url}/file/bot{self._token}/{file_path.lstrip('/')}"
            written = 0
            try:
                with self._http.stream("GET", url) as response:
                    if response.status_code != 200:
                        raise ApiError(
                            f"file download: HTTP {response.status_code}",
                            platform=PLATFORM,
                            code=str(response.status_code),
                            http_status=response.status_code,
                        )
                    with _private_file(tmp) as out:
                        for block in response.iter_bytes():  # as it arrives: a stop is seen soon
                            if stopping():
                                raise DownloadStopped()
                            written += len(block)
                            if max_bytes is not None and written > max_bytes:
                                raise ApiError(
                                    "file download: larger than announced",
                                    platform=PLATFORM,
                                    http_status=200,
                                )
                            out.write(block)
            except httpx.TransportError as exc:
                raise ApiError(
                    f"file download: {describe_transport_error(exc)}", platform=PLATFORM
                ) from None
            tmp.replace(dest)
            return written
        finally:
            tmp.unlink(missing_ok=True)

    @staticmethod
    def _copy_local(source: Path, tmp: Path, dest: Path, stopping: Callable[[], bool]) -> int:
        written = 0
        with source.open("rb") as src, _private_file(tmp) as out:
            while block := src.read(CHUNK):
                if stopping():
                    raise DownloadStopped()
                out.write(block)
                written += len(block)
        tmp.replace(dest)
        return written

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


def _private_file(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "wb")
