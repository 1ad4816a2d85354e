"""A per-key sliding-window limiter that waits before the platform would refuse.

TikTok counts requests per user token per minute (creator_info 20, init 6, status 30).
Waiting here is cheaper than a 429 and keeps the account's record clean. The clock and
the sleeper are injectable so tests run a minute of waiting in no time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable


class SlidingWindowLimiter:
    """At most `limit` calls per `window` seconds for each key."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], None] = time.sleep,
        margin: float = 0.05,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleeper
        # a little slack so our clock and the platform's do not disagree at the edge
        self._margin = margin
        self._calls: dict[Hashable, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_time(self, key: Hashable) -> float:
        """Seconds until a call for `key` would be allowed (0 if now)."""
        with self._lock:
            return self._wait_locked(key, self._clock())

    def _wait_locked(self, key: Hashable, now: float) -> float:
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - self.window:
            calls.popleft()
        if len(calls) < self.limit:
            return 0.0
        return calls[0] + self.window + self._margin - now

    def acquire(self, key: Hashable) -> float:
        """Block until a call for `key` is allowed, record it, return the time waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                delay = self._wait_locked(key, now)
                if delay <= 0:
                    self._calls[key].append(now)
                    return waited
            self._sleep(delay)
            waited += delay


class RateLimits:
    """Named limiters (e.g. "init", "status") sharing one clock and sleeper."""

    def __init__(
        self,
        limits: dict[str, tuple[int, float]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limiters = {
            name: SlidingWindowLimiter(limit, window, clock=clock, sleeper=sleeper)
            for name, (limit, window) in limits.items()
        }

    def acquire(self, name: str, key: Hashable) -> float:
        limiter = self._limiters.get(name)
        return limiter.acquire(key) if limiter else 0.0
