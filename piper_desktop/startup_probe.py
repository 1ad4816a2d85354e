"""Start-up probe for benchmarks and CI: say when the main window is up, and maybe quit.

With `PIPER_REPORT_STARTUP=1` the app prints one line on stdout once its main window is
shown, carrying the wall-clock time, so a benchmark can time "process start to window"
from outside. With `PIPER_EXIT_AFTER_START=1` it then quits through the normal shutdown
path, so CI can start the (frozen) GUI headless, let it open a data dir, and see it exit
cleanly. Qt-free on purpose: the GUI passes in its own quit function.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

REPORT_ENV = "PIPER_REPORT_STARTUP"
EXIT_ENV = "PIPER_EXIT_AFTER_START"
LINE_PREFIX = "piper-startup: window shown at "


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def window_shown(quit_app: Callable[[], object], now: Callable[[], float] = time.time) -> bool:
    """Call once the main window is on screen, from inside the event loop (e.g. from a
    0 ms timer started right after `show()`), so that `quit_app` can end the loop.

    Returns True when it asked the app to quit.
    """
    if _flag(REPORT_ENV) or _flag(EXIT_ENV):
        stream = sys.stdout
        if stream is not None:  # None in a windowed Windows build
            print(f"{LINE_PREFIX}{now():.3f}", file=stream, flush=True)
    if _flag(EXIT_ENV):
        quit_app()
        return True
    return False


def parse_line(line: str) -> float | None:
    """The wall-clock time in a probe line, or None if `line` is something else."""
    if not line.startswith(LINE_PREFIX):
        return None
    try:
        return float(line[len(LINE_PREFIX) :].strip())
    except ValueError:
        return None
