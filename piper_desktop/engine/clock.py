"""Time as the engine sees it: wall clock, monotonic clock, sleeping and waiting.

Everything in the engine asks a `Clock` instead of the `time` module, so tests run days
of schedule in milliseconds (`ManualClock`) and a suspend/resume can be simulated by
moving the wall clock alone (`ManualClock.jump`), as Linux does: CLOCK_MONOTONIC stands
still while the machine sleeps, the wall clock does not.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The wall clock as an aware UTC datetime."""
        ...

    def time(self) -> float:
        """The wall clock as epoch seconds (what the publishers' clocks take)."""
        ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        """Wait for `event` at most `timeout` seconds of this clock; True if it was set."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        return event.wait(None if timeout is None else max(timeout, 0.0))


class ManualClock:
    """A clock that moves only when told to.

    With `auto_advance` (the default) a wait or a sleep moves the clock forward by the
    whole timeout at once: the engine's idle waits become instant jumps to the next due
    time, like a discrete-event simulation. Without it, time moves only through
    `advance` (both clocks) and `jump` (wall clock only); a wait ends when its event is
    set or when `advance` has moved the monotonic clock past its timeout — like a real
    timed wait, which a suspend (`jump`) does not shorten.
    """

    def __init__(self, start: datetime | None = None, *, auto_advance: bool = True) -> None:
        self._wall = (start or datetime(2030, 1, 7, 9, 0, tzinfo=UTC)).astimezone(UTC)
        self._mono = 1000.0
        self.auto_advance = auto_advance
        self._lock = threading.Lock()
        self.slept: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._wall

    def time(self) -> float:
        return self.now().timestamp()

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        """Time passes normally: both clocks move."""
        with self._lock:
            self._wall += timedelta(seconds=seconds)
            self._mono += seconds

    def set(self, moment: datetime) -> None:
        """Move to `moment` as if that time passed (never backwards)."""
        delta = (moment.astimezone(UTC) - self.now()).total_seconds()
        if delta > 0:
            self.advance(delta)

    def jump(self, seconds: float) -> None:
        """Only the wall clock moves: a suspend/resume, or someone setting the clock."""
        with self._lock:
            self._wall += timedelta(seconds=seconds)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds > 0:
            self.advance(seconds)

    def wait(self, event: threading.Event, timeout: float | None) -> bool:
        if event.is_set():
            return True
        if self.auto_advance:
            if timeout is None:
                return event.wait()
            self.advance(max(timeout, 0.0))
            return event.is_set()
        deadline = None if timeout is None else self.monotonic() + max(timeout, 0.0)
        # poll briefly in real time: the event's setter does not know about this clock
        while not event.wait(0.02):
            if deadline is not None and self.monotonic() >= deadline:
                return False
        return True
