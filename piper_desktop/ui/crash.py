"""The crash report for an exception nobody caught: in a module of its own (not in
app.py) so that it is installed before the first window without importing the rest of
the application."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication, QMessageBox

from ..failures import one_line, write_crash_report
from ..logs import get_logger

log = get_logger("ui")


def install_crash_handler(data_dir: Path) -> None:
    """An exception nobody caught, on any thread: a crash report file (secrets masked,
    owner-only) in the data dir, one line on stderr and in the log, and on the GUI
    thread a message box saying where the report is. Never the traceback on screen."""

    def report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        line = one_line(exc)
        try:
            where = (
                f"a report (secrets masked) is in {write_crash_report(data_dir, exc_type, exc, tb)}"
            )
        except OSError as failure:
            where = f"no report could be written ({type(failure).__name__})"
        print(f"piper: unexpected error ({line}); {where}", file=sys.stderr)
        log.error("unexpected error (%s); %s", line, where)
        app = QApplication.instance()
        if app is not None and QThread.currentThread() is app.thread():
            box = QMessageBox(
                QMessageBox.Icon.Critical,
                "Piper hit an unexpected error",
                f"{line}\n\nPiper keeps running; {where}.",
            )
            box.setObjectName("crash_report")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            _open_boxes.append(box)
            box.finished.connect(lambda _r: _open_boxes.remove(box))

    def thread_report(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            report(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = report
    threading.excepthook = thread_report


# the crash message boxes on screen (they live until the operator closes them)
_open_boxes: list[QMessageBox] = []
