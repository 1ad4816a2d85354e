"""The first window is sized from the screen (issue 17 item 10): large enough for the
dashboard's cards, never larger than the screen, with a sensible minimum."""

from __future__ import annotations

from PySide6.QtCore import QSize

from piper_desktop.ui.context import AppContext
from piper_desktop.ui.main_window import MainWindow, initial_size, minimum_size
from tests.ui.artifacts import save_screen


def test_initial_size_follows_the_screen() -> None:
    full_hd = initial_size(QSize(1920, 1040))
    assert full_hd.width() >= 1320 and full_hd.height() >= 860  # more than 1100x680
    assert full_hd.width() <= 1920 - 40 and full_hd.height() <= 1040 - 40
    assert initial_size(QSize(3840, 2100)) == QSize(1680, 1050)  # not a wall of empty
    laptop = initial_size(QSize(1366, 728))
    assert laptop.width() <= 1366 and laptop.height() <= 728  # never off the screen
    assert laptop.width() >= 1320
    tiny = QSize(1024, 600)
    assert initial_size(tiny).width() <= 1024 and initial_size(tiny).height() <= 600
    assert minimum_size(tiny) == QSize(960, 600)
    assert minimum_size(QSize(1920, 1040)) == QSize(960, 620)


def test_the_first_window_takes_its_size_from_the_screen(ctx: AppContext, qtbot) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    room = window.screen().availableGeometry().size()
    assert window.size() == initial_size(room).expandedTo(minimum_size(room))
    assert window.minimumSize() == minimum_size(room)
    window.resize(initial_size(QSize(1920, 1040)))
    window.show()
    qtbot.waitUntil(lambda: getattr(window.panels["dashboard"], "loads", 0) > 0)
    save_screen(window, "first-window-dashboard")
