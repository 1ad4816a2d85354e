"""Starting the GUI from `piper` with no command (the placeholder until the panels land)."""

from __future__ import annotations

import sys
from argparse import Namespace


def launch_gui(args: Namespace) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("Piper Desktop")
    window.setCentralWidget(QLabel("Piper Desktop — the panels arrive with the GUI work."))
    window.resize(900, 600)
    window.show()
    return app.exec()
