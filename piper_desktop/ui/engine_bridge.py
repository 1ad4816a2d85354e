"""Engine events as Qt signals.

The engine reports progress through plain-Python events delivered on its worker
threads. `EngineBridge` subscribes a callback that only emits a signal: the bridge lives
in the GUI thread, so Qt queues each emission to it and slots run on the GUI thread.
Events become `JobEvent` values whatever shape the engine gives them (dataclass,
mapping or object with attributes).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ..logs import get_logger
from ..store.enums import FINAL_JOB_STATUSES

if TYPE_CHECKING:
    from ..domain.services import Services
    from ..engine import Engine
    from ..engine.notify import TelegramNotifier

log = get_logger("ui")

ATTENTION_STATUSES = ("needs_attention",)


@dataclass(frozen=True)
class JobEvent:
    job_id: int | None
    kind: str
    status: str | None = None
    message: str | None = None
    account_id: int | None = None
    campaign_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_JOB_STATUSES


def as_job_event(event: Any) -> JobEvent:
    """Read an engine event of any reasonable shape."""
    if isinstance(event, JobEvent):
        return event
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        raw: Mapping[str, Any] = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    elif isinstance(event, Mapping):
        raw = event
    else:
        raw = {k: v for k, v in vars(event).items() if not k.startswith("_")}
    known = {"job_id", "kind", "status", "message", "account_id", "campaign_id"}
    extra = {k: v for k, v in raw.items() if k not in known}
    if isinstance(raw.get("data"), Mapping):
        extra = {**extra, **raw["data"]}
        extra.pop("data", None)
    job_id = raw.get("job_id", raw.get("id"))
    return JobEvent(
        job_id=int(job_id) if job_id is not None else None,
        kind=str(raw.get("kind") or raw.get("type") or raw.get("event") or "status"),
        status=_text(raw.get("status")),
        message=_text(raw.get("message") or raw.get("reason")),
        account_id=raw.get("account_id"),
        campaign_id=raw.get("campaign_id"),
        data=dict(extra),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


class EngineBridge(QObject):
    """Signals for the GUI: `job_event(JobEvent)` and `engine_state(str)`."""

    job_event = Signal(object)
    engine_state = Signal(str)  # running | paused | stopping | stopped | unavailable

    def __init__(self) -> None:
        super().__init__()
        self._unsubscribe: Callable[[], Any] | None = None

    def attach(self, hub: Any) -> None:
        """Subscribe to an events hub (anything with `subscribe(callback)`)."""
        self.detach()
        result = hub.subscribe(self.push)
        if callable(result):
            self._unsubscribe = result
        elif hasattr(hub, "unsubscribe"):
            self._unsubscribe = lambda: hub.unsubscribe(self.push)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            try:
                self._unsubscribe()
            finally:
                self._unsubscribe = None

    def push(self, event: Any) -> None:
        """Callable from any thread: the signal is queued to the GUI thread."""
        try:
            converted = as_job_event(event)
        except Exception:  # a malformed event must not kill the engine's thread
            log.exception("unreadable engine event dropped")
            return
        if converted.kind == "engine" and converted.job_id is None:
            state = converted.data.get("state") or converted.status
            if state:
                self.engine_state.emit(str(state))
            return
        self.job_event.emit(converted)

    def set_state(self, state: str) -> None:
        self.engine_state.emit(state)


class EngineHost:
    """The publishing engine inside the GUI process: started after unlock, paused and
    resumed from the tray, stopped in stages at quit. Its events reach `bridge`."""

    def __init__(
        self, services: Services, bridge: EngineBridge, data_dir: Path | None = None
    ) -> None:
        self.services = services
        self.bridge = bridge
        self.data_dir = data_dir  # where the engine's intake keeps what it receives
        self.engine: Engine | None = None
        self._notifier: TelegramNotifier | None = None
        self.error: str | None = None

    @property
    def available(self) -> bool:
        return self.engine is not None

    @property
    def state(self) -> str:
        return str(self.engine.state) if self.engine is not None else "unavailable"

    def start(self) -> bool:
        try:
            from ..engine import Engine
            from ..engine.notify import TelegramNotifier
        except ImportError as exc:  # a build without the engine still opens the GUI
            self.error = f"publishing engine unavailable: {exc}"
            self.bridge.set_state("unavailable")
            return False
        # api_live: the local API follows its settings page while the engine runs
        self.engine = Engine(
            self.services, data_dir=self.data_dir, hosted_options={"api_live": True}
        )
        self.bridge.attach(self.engine.events)
        self._notifier = TelegramNotifier.from_settings(self.services)
        if self._notifier is not None:
            self._notifier.attach(self.engine.events)
        self.engine.start()
        return True

    def pause(self) -> None:
        if self.engine is not None:
            self.engine.pause()

    def resume(self) -> None:
        if self.engine is not None:
            self.engine.resume()

    def wake(self, reason: str) -> None:
        if self.engine is not None:
            self.engine.wake(reason)

    def stop(self, timeout: float | None = None) -> list[int]:
        """Blocking: no new work, let or park work in flight; returns jobs left running."""
        if self.engine is None:
            return []
        try:
            return list(self.engine.stop(timeout))
        finally:
            if self._notifier is not None:
                self._notifier.close()
                self._notifier = None
            self.bridge.detach()
