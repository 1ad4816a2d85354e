"""A guard against a reference-count bug in PySide6 6.12's signals.

`SignalInstance.emit()` and `.disconnect()` return `True` without taking a reference to
it, so every call from Python drops one reference to the `True` singleton; after a few
thousand signals the interpreter aborts ("bool_dealloc: deallocating True or False").
The GUI emits a signal for every background result and engine event, so it would die
within minutes. `install()` measures whether the running PySide6 has the bug and, only
then, wraps those two methods to give the reference back.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 32
_installed = False


class _Probe(QObject):
    fired = Signal()


def _noop() -> None:
    pass


def _incref(value: object, times: int = 1) -> None:
    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    for _ in range(times):
        incref(value)


def _leaks(call: Callable[[], Any]) -> bool:
    """Does `call` drop a reference to True each time? (and give back what it took)"""
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        call()
    lost = before - sys.getrefcount(True)
    if lost > 0:
        _incref(True, lost)
    return lost >= _PROBES


def _wrap(method: Callable[..., Any]) -> Callable[..., Any]:
    def fixed(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        if result is True or result is False:
            _incref(result)
        return result

    # not named like the original: PySide treats a callable named "emit" bound to a signal
    # as a signal-to-signal connection and fails on a Python function
    fixed.__doc__ = getattr(method, "__doc__", None)
    return fixed


def install() -> list[str]:
    """Patch the methods that leak on this PySide6; returns their names."""
    global _installed
    if _installed:
        return []
    _installed = True
    probe = _Probe()
    patched = []
    if _leaks(lambda: probe.fired.emit()):
        SignalInstance.emit = _wrap(SignalInstance.emit)  # type: ignore[method-assign]
        patched.append("emit")

    def connect_disconnect() -> None:
        probe.fired.connect(_noop)
        probe.fired.disconnect(_noop)

    if _leaks(connect_disconnect):
        SignalInstance.disconnect = _wrap(SignalInstance.disconnect)  # type: ignore[method-assign]
        patched.append("disconnect")
    probe.deleteLater()
    return patched
