"""Start-up probe for benchmarks and CI: say when the main window is up, and maybe quit.

With `PIPER_REPORT_STARTUP=1` the app prints one line on stdout once its main window is
shown, carrying the wall-clock time, so a benchmark can time "process start to window"
from outside. With `PIPER_EXIT_AFTER_START=1` it then quits through the normal shutdown
path, so CI can start the (frozen) GUI headless, let it open a data dir, and see it exit
cleanly. `PIPER_EXIT_AFTER_START=unlock` quits once the unlock dialog is shown instead
(the bench times Piper's first window that way). With `PIPER_REPORT_MODULES=1` the first
line of each kind is followed by one JSON line saying which heavy modules were already
imported then (the start-up test checks they load after the first window). Qt-free on
purpose: the GUI passes in its own quit function.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

REPORT_ENV = "PIPER_REPORT_STARTUP"
EXIT_ENV = "PIPER_EXIT_AFTER_START"
MODULES_ENV = "PIPER_REPORT_MODULES"
LINE_PREFIX = "piper-startup: window shown at "
UNLOCK_PREFIX = "piper-startup: unlock shown at "
MODULES_PREFIX = "piper-startup: modules "
# what the first window must not wait for: each costs tens to hundreds of ms to import
HEAVY_MODULES = (
    "playwright",
    "httpx",
    "av",
    "sqlalchemy",
    "sqlcipher3",
    "apscheduler",
    "alembic",
    "pyqtgraph",  # the Performance panel's charts, imported when that panel is first shown
    "piper_desktop.engine",
    "piper_desktop.routes",
    "piper_desktop.browser",
    "piper_desktop.clients",
    "piper_desktop.domain.services",
)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def window_shown(quit_app: Callable[[], object], now: Callable[[], float] = time.time) -> bool:
    """Call once the main window is on screen, from inside the event loop (e.g. from a
    0 ms timer started right after `show()`), so that `quit_app` can end the loop.

    Returns True when it asked the app to quit.
    """
    if _flag(REPORT_ENV) or _flag(EXIT_ENV):
        _report(LINE_PREFIX, now())
    if _flag(EXIT_ENV):
        quit_app()
        return True
    return False


def unlock_shown(quit_app: Callable[[], object], now: Callable[[], float] = time.time) -> bool:
    """Call once the unlock (or welcome) dialog is on screen, from inside the event loop.

    Returns True when it asked the app to quit (`PIPER_EXIT_AFTER_START=unlock`).
    """
    exit_here = os.environ.get(EXIT_ENV, "").strip().lower() == "unlock"
    if _flag(REPORT_ENV) or exit_here:
        _report(UNLOCK_PREFIX, now())
    if exit_here:
        quit_app()
        return True
    return False


def loaded_heavy_modules() -> dict[str, bool]:
    """For each heavy module: is it imported yet?"""
    return {name: name in sys.modules for name in HEAVY_MODULES}


def _report(prefix: str, at: float) -> None:
    stream = sys.stdout
    if stream is None:  # None in a windowed Windows build
        return
    print(f"{prefix}{at:.3f}", file=stream, flush=True)
    if _flag(MODULES_ENV):
        print(MODULES_PREFIX + json.dumps(loaded_heavy_modules()), file=stream, flush=True)


def parse_line(line: str) -> float | None:
    """The wall-clock time in a probe line, or None if `line` is something else."""
    if not line.startswith(LINE_PREFIX):
        return None
    try:
        return float(line[len(LINE_PREFIX) :].strip())
    except ValueError:
        return None
