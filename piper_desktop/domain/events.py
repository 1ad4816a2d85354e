"""Progress reports from the engine (and the operator's moves of jobs) as plain Python
objects. They live in domain/ because the job life cycle (domain/lifecycle.py) announces
every move, whoever makes it.

The CLI prints them, the GUI turns them into Qt signals, the notifier forwards some of
them to Telegram. Subscribers are called on the engine's own threads (dispatcher,
workers, scheduler): they must return quickly and must not call back into the engine
while holding a lock of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ..logs import get_logger, mask

log = get_logger("engine")


class EventKind(StrEnum):
    ENGINE = "engine"  # started, stopped, idle, summary
    WAKE = "wake"  # a re-check of what is due, and why
    CLAIMED = "claimed"
    SUBMITTING = "submitting"
    PROGRESS = "progress"
    RECEIPT = "receipt"
    VERIFYING = "verifying"
    PUBLISHED = "published"
    RETRYING = "retrying"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"
    HELD = "held"  # waiting for a cap, a cooldown, spacing or a busy account
    RESLOTTED = "reslotted"
    FALLBACK = "fallback"
    PARKED = "parked"
    RECONCILED = "reconciled"
    UPLOAD = "upload"  # a resumable upload continued or abandoned for a fresh publish
    WARNING = "warning"
    ACCOUNT = "account"  # an account changed status (cooldown, needs_login, ...)
    CAMPAIGN = "campaign"  # a campaign completed
    # the operator's moves (the values are the job event kinds they always had)
    CREATED = "created"
    CANCELLED = "cancelled"
    REQUEUED = "retry"
    ROUTE_CHANGED = "route_changed"
    EDITED = "edited"


# Events an operator is told about (tray, Telegram).
NOTIFY_KINDS = frozenset({EventKind.PUBLISHED, EventKind.FAILED, EventKind.NEEDS_ATTENTION})


@dataclass(frozen=True)
class EngineEvent:
    kind: EventKind
    message: str
    job_id: int | None = None
    status: str | None = None
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    account_id: int | None = None
    campaign_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def final(self) -> bool:
        return self.kind in (EventKind.PUBLISHED, EventKind.FAILED)

    @property
    def notify(self) -> bool:
        return self.kind in NOTIFY_KINDS

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "message": self.message,
            "job_id": self.job_id,
            "status": self.status,
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
            "account_id": self.account_id,
            "campaign_id": self.campaign_id,
            "data": self.data,
        }

    def line(self) -> str:
        """One line for a terminal."""
        stamp = self.timestamp.strftime("%Y-%m-%d %H:%M:%S")
        subject = f"job {self.job_id}" if self.job_id is not None else "engine"
        return f"{stamp} {subject} {self.kind.value}: {self.message}"


Subscriber = Callable[[EngineEvent], None]


class EngineEvents:
    """A thread-safe publish/subscribe hub."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Add a subscriber; returns a function that removes it again."""
        with self._lock:
            self._subscribers.append(callback)
        return lambda: self.unsubscribe(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def emit(self, event: EngineEvent, *, masked: bool = False) -> None:
        """Deliver `event`; `masked`: its message already went through the log mask."""
        with self._lock:
            subscribers = list(self._subscribers)
        # messages can quote platform answers: mask before anything leaves the engine
        if not masked and event.message and mask(event.message) != event.message:
            event = replace(event, message=mask(event.message))
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # one broken subscriber must not stop the engine
                log.exception("an engine event subscriber failed")
