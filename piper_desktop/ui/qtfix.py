"""A guard against PySide6 builds that drop references to None and True (6.12.0).

On Python 3.11, where None/True/False are ordinary reference-counted objects, PySide6
6.12.0 returns them from C++ calls without taking a reference: every `signal.emit()` and
every call to a method returning nothing (`timer.start()`, `processEvents()`, ...) takes
one away. After some thousands of calls the interpreter aborts ("none_dealloc:
deallocating None"). pyproject pins PySide6 below 6.12; this guard covers a wrong install
anyway: `install()` measures whether the running PySide6 leaks and, only then, gives
those three singletons a reference count so large that no session can use it up (they
are never freed in any case). Python 3.12 made them immortal: nothing to do there.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ..logs import get_logger

log = get_logger("ui")

_PROBES = 32
BALLAST = 1 << 40  # more calls than a process makes in years
_installed = False


class _Probe(QObject):
    fired = Signal()


def _add_references(obj: object, count: int) -> None:
    # CPython (3.11, release build): ob_refcnt is the first field of every object, and
    # id() is the object's address. Called with the GIL held, like any refcount change.
    ctypes.c_ssize_t.from_address(id(obj)).value += count


def _lost(obj: object, call: Callable[[], object]) -> int:
    before = sys.getrefcount(obj)
    for _ in range(_PROBES):
        call()
    lost = before - sys.getrefcount(obj)
    if lost > 0:
        _add_references(obj, lost)  # give back what the probe itself took
    return lost


def install() -> list[str]:
    """Measure, and compensate if needed; returns what was found leaking."""
    global _installed
    if _installed or sys.version_info >= (3, 12):
        return []
    _installed = True
    probe = _Probe()
    leaks = []
    if _lost(None, probe.parent) >= _PROBES:
        leaks.append("None")
    if _lost(True, probe.fired.emit) >= _PROBES:
        leaks.append("True")
    if leaks:
        for singleton in (None, True, False):
            _add_references(singleton, BALLAST)
        from PySide6 import __version__ as version

        log.warning(
            "PySide6 %s loses references to %s on this Python; compensated. Install "
            "PySide6 < 6.12 (as pyproject asks).",
            version,
            " and ".join(leaks),
        )
    probe.deleteLater()
    return leaks
