"""The app photographs itself: each panel (and a few dialogs) once its data has loaded,
saved as PNG files, then it quits. Driven by `PIPER_SCREENSHOT_DIR`; polling on a timer
keeps the event loop free while waiting for data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from ..logs import get_logger
from . import tasks
from .main_window import PANELS
from .table_panel import TablePanel

log = get_logger("ui")
SETTLE_TICKS = 4  # quiet ticks in a row before a picture (thumbnails, layouts)
MAX_TICKS = 600  # 60 s at most per picture


class Screenshooter(QObject):
    def __init__(self, piper: Any, directory: Path, *, quit_after: bool = True) -> None:
        super().__init__()
        self.piper = piper
        self.directory = directory
        self.quit_after = quit_after
        self.saved: list[Path] = []
        self._steps: list[tuple[str, Callable[[], QWidget | None], Callable[[], bool]]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)
        self._quiet = 0
        self._ticks = 0
        self._current: tuple[str, Callable[[], QWidget | None], Callable[[], bool]] | None = None
        self._target: QWidget | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        window = self.piper.window
        window.resize(1440, 900)
        window.show()
        for number, (key, _title, _icon) in enumerate(PANELS, start=1):
            self._steps.append(
                (
                    f"{number:02d}-{key}",
                    lambda key=key: self._panel(key),
                    lambda key=key: self._ready(key),
                )
            )
        self._steps.append(("09-job-details", self._job_details, lambda: True))
        self._steps.append(("10-campaign-wizard", self._wizard, self._wizard_ready))
        self._steps.append(("11-account-form", self._account_form, lambda: True))
        self._timer.start()

    # --- steps ---------------------------------------------------------------------------
    def _panel(self, key: str) -> QWidget:
        self.piper.window.show_panel(key)
        return self.piper.window

    def _ready(self, key: str) -> bool:
        panel = self.piper.window.panels[key]
        if isinstance(panel, TablePanel):
            return panel.model.loaded_once and not panel.model.loading
        if key == "dashboard":
            return getattr(panel, "loads", 0) > 0
        return True

    def _job_details(self) -> QWidget:
        panel = self.piper.window.show_panel("jobs")
        if isinstance(panel, TablePanel) and panel.model.rowCount():
            # the most telling job: a published one if there is one
            rows = panel.model.rows()
            best = next((r for r in rows if r.get("status") == "published"), rows[0])
            panel.select_ids([best["id"]])
        return self.piper.window

    def _wizard(self) -> QWidget | None:
        panel = self.piper.window.show_panel("campaigns")
        wizard = panel.new_campaign()  # type: ignore[attr-defined]
        wizard.resize(960, 680)
        media = wizard.media_page
        media.name.setText("Summer series")
        media.view.selectAll()
        wizard.next()
        wizard.accounts_page.view.selectAll()
        wizard.next()
        wizard.caption_page.hashtags.setText("#summer #series")
        wizard.next()
        wizard.next()
        self._wizard_ref = wizard
        return wizard

    def _wizard_ready(self) -> bool:
        wizard = getattr(self, "_wizard_ref", None)
        return wizard is not None and bool(wizard.review_page.planned or wizard.review_page.problem)

    def _account_form(self) -> QWidget | None:
        wizard = getattr(self, "_wizard_ref", None)
        if wizard is not None:
            wizard.reject()
        panel = self.piper.window.show_panel("accounts")
        panel.create()  # type: ignore[attr-defined]
        dialog = getattr(panel, "dialog", None)
        if dialog is not None:
            dialog.editors["username"].set_raw("new account!")
            dialog.editors["max_posts_per_day"].set_raw("0")
            dialog.editors["timezone"].set_raw("Mars/Olympus")
        return dialog

    # --- the loop -----------------------------------------------------------------------
    def _tick(self) -> None:
        if self._current is None:
            if not self._steps:
                self._timer.stop()
                self._finish()
                return
            self._current = self._steps.pop(0)
            self._target = self._current[1]()
            self._quiet = 0
            self._ticks = 0
            return
        self._ticks += 1
        name, _show, ready = self._current
        idle = tasks.runner().pending() == 0
        if idle and ready():
            self._quiet += 1
        else:
            self._quiet = 0
        if self._quiet >= SETTLE_TICKS or self._ticks >= MAX_TICKS:
            if self._target is not None:
                path = self.directory / f"{name}.png"
                self._target.grab().save(str(path))
                self.saved.append(path)
                log.info("screenshot %s", path.name)
            self._current = None

    def _finish(self) -> None:
        dialog = getattr(self.piper.window.panels["accounts"], "dialog", None)
        if dialog is not None:
            dialog.reject()
        if self.quit_after:
            self.piper.stop_timeout = 5.0
            self.piper.quit_in_stages()
