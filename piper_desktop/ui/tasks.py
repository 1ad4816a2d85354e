"""The one way `ui/` runs slow work: `run_task(fn, on_result, on_error)`.

`fn` runs on a QThreadPool; its result (or exception) comes back to the GUI thread as a
queued signal and is handed to `on_result` (or `on_error`). Every database and network
call from the GUI goes through here, so the GUI thread only paints and reacts.

Tests may swap the runner for `InlineRunner`, which runs `fn` at once on the calling
thread and delivers synchronously: flows become deterministic without sleeps.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot

from ..logs import get_logger, mask

log = get_logger("ui")

# Results cross a queued Qt signal as plain objects, so the runners keep them untyped;
# run_task() ties each task's result type to its handler.
ResultHandler = Callable[[Any], None]
ErrorHandler = Callable[[BaseException], None]


def _default_error(exc: BaseException) -> None:
    log.error("background task failed: %s", mask(f"{type(exc).__name__}: {exc}"))


_error_sink: ErrorHandler = _default_error


def set_default_error_handler(handler: ErrorHandler | None) -> None:
    """Where errors go when a caller gives no `on_error` (the main window's status bar)."""
    global _error_sink
    _error_sink = handler or _default_error


class Runner(Protocol):
    def submit(
        self,
        fn: Callable[[], Any],
        on_result: ResultHandler | None,
        on_error: ErrorHandler | None,
        owner: QObject | None,
    ) -> None: ...

    def pending(self) -> int: ...

    def wait(self, timeout_ms: int = -1) -> bool: ...


def _alive(owner: QObject | None) -> bool:
    return owner is None or shiboken6.isValid(owner)


def _deliver(
    ok: bool,
    payload: Any,
    on_result: ResultHandler | None,
    on_error: ErrorHandler | None,
    owner: QObject | None,
) -> None:
    if not _alive(owner):
        return  # the widget that asked is gone
    if ok:
        if on_result is not None:
            on_result(payload)
    else:
        (on_error or _error_sink)(payload)


class _Relay(QObject):
    """Lives in the GUI thread; the worker emits `done`, Qt queues it across threads."""

    done = Signal(bool, object)

    def __init__(
        self,
        runner: PoolRunner,
        on_result: ResultHandler | None,
        on_error: ErrorHandler | None,
        owner: QObject | None,
    ) -> None:
        super().__init__()
        app = QCoreApplication.instance()
        if app is not None and self.thread() is not app.thread():
            self.moveToThread(app.thread())  # deliver on the GUI thread whoever submits
        self._runner = runner
        self._on_result = on_result
        self._on_error = on_error
        self._owner = owner
        self.done.connect(self._finish)

    @Slot(bool, object)
    def _finish(self, ok: bool, payload: Any) -> None:
        self._runner._finished(self)
        _deliver(ok, payload, self._on_result, self._on_error, self._owner)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # delivered to on_error, never lost in a thread
            self._send(False, exc)
        else:
            self._send(True, result)

    def _send(self, ok: bool, payload: Any) -> None:
        # at shutdown the relay may be gone already: nobody waits for the answer
        with contextlib.suppress(RuntimeError):
            self._relay.done.emit(ok, payload)


class PoolRunner:
    """Runs tasks on a dedicated QThreadPool (kept apart from Qt's global pool)."""

    def __init__(self, max_threads: int = 4) -> None:
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self.pool.setExpiryTimeout(30_000)
        self._relays: set[_Relay] = set()
        self._lock = threading.Lock()

    def submit(
        self,
        fn: Callable[[], Any],
        on_result: ResultHandler | None,
        on_error: ErrorHandler | None,
        owner: QObject | None,
    ) -> None:
        relay = _Relay(self, on_result, on_error, owner)
        with self._lock:
            self._relays.add(relay)  # keeps the relay alive until it delivers
        self.pool.start(_Job(fn, relay))

    def _finished(self, relay: _Relay) -> None:
        with self._lock:
            self._relays.discard(relay)
        relay.deleteLater()

    def pending(self) -> int:
        with self._lock:
            return len(self._relays)

    def wait(self, timeout_ms: int = -1) -> bool:
        """Wait for running tasks (at quit); their results are not delivered."""
        return self.pool.waitForDone(timeout_ms)


class InlineRunner:
    """Runs each task at once on the calling thread (tests)."""

    def __init__(self) -> None:
        self.calls = 0

    def submit(
        self,
        fn: Callable[[], Any],
        on_result: ResultHandler | None,
        on_error: ErrorHandler | None,
        owner: QObject | None,
    ) -> None:
        self.calls += 1
        try:
            result = fn()
        except Exception as exc:
            _deliver(False, exc, on_result, on_error, owner)
        else:
            _deliver(True, result, on_result, on_error, owner)

    def pending(self) -> int:
        return 0

    def wait(self, timeout_ms: int = -1) -> bool:
        return True


class Progress(QObject):
    """Reports from inside a running task: `report(value)` from any thread calls
    `callback(value)` on the GUI thread (live rows while a batch runs)."""

    _update = Signal(object)

    def __init__(self, callback: Callable[[Any], None], owner: QObject | None = None) -> None:
        super().__init__()
        self._callback = callback
        self._owner = owner
        self._update.connect(self._deliver)

    def report(self, value: Any) -> None:
        self._update.emit(value)

    @Slot(object)
    def _deliver(self, value: Any) -> None:
        if _alive(self._owner):
            self._callback(value)


_runner: Runner | None = None


def runner() -> Runner:
    global _runner
    if _runner is None:
        _runner = PoolRunner()
    return _runner


def set_runner(new: Runner | None) -> Runner | None:
    """Swap the runner (tests); returns the previous one."""
    global _runner
    previous = _runner
    _runner = new
    return previous


T = TypeVar("T")


def run_task(
    fn: Callable[[], T],
    on_result: Callable[[T], None] | None = None,
    on_error: ErrorHandler | None = None,
    *,
    owner: QObject | None = None,
) -> None:
    """Run `fn` off the GUI thread; deliver its result or error on the GUI thread.

    With `owner`, nothing is delivered once that object has been destroyed.
    """
    runner().submit(fn, on_result, on_error, owner)
