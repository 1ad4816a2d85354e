"""Reasons to re-check what is due, besides the regular tick.

- `ClockJumpDetector`: between two ticks the wall clock moved much more (or less) than
  the monotonic clock. On Linux CLOCK_MONOTONIC stands still during suspend, so this
  catches a resume on every platform, and also an operator or NTP setting the clock.
- `LogindSleepWatcher`: systemd-logind's `PrepareForSleep(false)` signal over the system
  D-Bus, the moment the machine wakes (Linux, when jeepney and a system bus exist).
- `NetworkWatcher`: the machine went from no usable network to one (a default route
  appeared on Linux, an interface otherwise).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..logs import get_logger

log = get_logger("engine")


class ClockJumpDetector:
    def __init__(self, threshold: float = 30.0) -> None:
        self.threshold = threshold
        self._last: tuple[float, float] | None = None

    def observe(self, wall: float, mono: float) -> float | None:
        """Seconds the wall clock moved beyond the monotonic clock since the last
        observation, when that exceeds the threshold (negative: it went back)."""
        last, self._last = self._last, (wall, mono)
        if last is None:
            return None
        drift = (wall - last[0]) - (mono - last[1])
        return drift if abs(drift) > self.threshold else None


# --- logind ----------------------------------------------------------------------------------
LOGIND_PATH = "/org/freedesktop/login1"
LOGIND_INTERFACE = "org.freedesktop.login1.Manager"


def is_resume_signal(member: str | None, interface: str | None, body: tuple[object, ...]) -> bool:
    """PrepareForSleep(false) is sent when the machine has woken up."""
    return (
        member == "PrepareForSleep"
        and interface == LOGIND_INTERFACE
        and len(body) == 1
        and body[0] is False
    )


class LogindSleepWatcher:
    """Calls `on_resume` after each resume; a no-op where logind is not reachable."""

    def __init__(self, on_resume: Callable[[], None]) -> None:
        self.on_resume = on_resume
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.active = False

    def start(self) -> bool:
        if not sys.platform.startswith("linux"):
            return False
        try:
            from jeepney.io.blocking import open_dbus_connection
        except ImportError:
            log.debug("jeepney not installed: resume seen through clock jumps only")
            return False
        try:
            connection = open_dbus_connection(bus="SYSTEM")
        except Exception as exc:  # no system bus (containers, some CI): clock jumps suffice
            log.debug("no system D-Bus (%s): resume seen through clock jumps only", exc)
            return False
        self._thread = threading.Thread(
            target=self._listen, args=(connection,), name="piper-logind", daemon=True
        )
        self.active = True
        self._thread.start()
        return True

    def _listen(self, connection: Any) -> None:
        from jeepney import MatchRule
        from jeepney.io.blocking import Proxy, message_bus
        from jeepney.low_level import HeaderFields

        rule = MatchRule(
            type="signal", interface=LOGIND_INTERFACE, member="PrepareForSleep", path=LOGIND_PATH
        )
        try:
            Proxy(message_bus, connection).AddMatch(rule)
            with connection.filter(rule) as queue:
                while not self._stop.is_set():
                    try:
                        message = connection.recv_until_filtered(queue, timeout=1.0)
                    except TimeoutError:
                        continue
                    fields = message.header.fields
                    if is_resume_signal(
                        fields.get(HeaderFields.member),
                        fields.get(HeaderFields.interface),
                        tuple(message.body),
                    ):
                        log.info("logind: the machine woke up")
                        self.on_resume()
        except Exception:
            log.debug("logind watcher stopped", exc_info=True)
        finally:
            with contextlib.suppress(Exception):
                connection.close()
            self.active = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3)


# --- network ---------------------------------------------------------------------------------
def network_signature() -> tuple[str, ...]:
    """What the machine's connectivity looks like: default-route interfaces on Linux,
    else the non-loopback interface names. Empty means "no usable network"."""
    route = Path("/proc/net/route")
    if route.exists():
        try:
            lines = route.read_text().splitlines()[1:]
        except OSError:
            lines = []
        defaults = sorted(
            fields[0]
            for fields in (line.split() for line in lines)
            if len(fields) > 2 and fields[1] == "00000000"
        )
        return tuple(defaults)
    try:
        return tuple(sorted(name for _, name in socket.if_nameindex() if not name.startswith("lo")))
    except OSError:
        return ()


class NetworkWatcher:
    """Polled by the scheduler; calls `on_back` when the network comes back."""

    def __init__(
        self,
        on_back: Callable[[], None],
        signature: Callable[[], tuple[str, ...]] = network_signature,
    ) -> None:
        self.on_back = on_back
        self.signature = signature
        self._last: tuple[str, ...] | None = None

    def poll(self) -> bool:
        current = self.signature()
        last, self._last = self._last, current
        if last is not None and current and (not last or set(current) - set(last)):
            log.info("network back (%s)", ", ".join(current))
            self.on_back()
            return True
        return False
