"""Telegram notifications for engine events, sent off the engine's threads.

Subscribes to an `EngineEvents` hub; every published / failed / needs-attention event
is queued and a single sender thread delivers it, so a slow or unreachable Telegram
never delays a job. A failed delivery is logged and dropped (the event is in the job's
history anyway).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from ..clients.errors import ApiError
from ..clients.telegram import TelegramClient
from ..domain.events import EngineEvent, EngineEvents
from ..domain.notify import NOTIFY_KINDS, TelegramTarget, notification_text, telegram_target
from ..domain.services import Services
from ..logs import get_logger

log = get_logger("engine")


class TelegramNotifier:
    def __init__(self, target: TelegramTarget, services: Services | None = None) -> None:
        self.target = target
        self.services = services
        self._queue: queue.Queue[EngineEvent | None] = queue.Queue()
        self._thread = threading.Thread(target=self._send_all, name="piper-telegram", daemon=True)
        self._unsubscribe: Callable[[], None] | None = None
        self.sent = 0
        self.failed = 0

    @classmethod
    def from_settings(cls, services: Services) -> TelegramNotifier | None:
        target = telegram_target(services.settings)
        return cls(target, services) if target is not None else None

    def attach(self, events: EngineEvents) -> TelegramNotifier:
        self._thread.start()
        self._unsubscribe = events.subscribe(self.push)
        return self

    def push(self, event: EngineEvent) -> None:
        if event.kind.value in NOTIFY_KINDS and event.job_id is not None:
            self._queue.put(event)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (up to `timeout`), then stop."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _account(self, account_id: int | None) -> str | None:
        if self.services is None or account_id is None:
            return None
        try:
            return self.services.accounts.get(account_id).username
        except Exception:
            return None

    def _send_all(self) -> None:
        with TelegramClient(
            self.target.bot_token, base_url=self.target.base_url, timeout=15.0
        ) as client:
            while True:
                event = self._queue.get()
                if event is None:
                    return
                text = notification_text(
                    event.kind.value, event.job_id, event.message, self._account(event.account_id)
                )
                try:
                    client.send_message(self.target.chat_id, text)
                    self.sent += 1
                except ApiError as exc:
                    self.failed += 1
                    log.warning("Telegram notification for job %s failed: %s", event.job_id, exc)
