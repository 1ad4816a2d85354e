"""The app photographs itself: each panel (and a few dialogs) once its data has loaded,
saved as PNG files, then it quits. Driven by `PIPER_SCREENSHOT_DIR`; polling on a timer
keeps the event loop free while waiting for data."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from ..logs import get_logger
from . import tasks
from .main_window import PANELS
from .panels.accounts import AccountsPanel
from .panels.campaigns import CampaignsPanel
from .table_panel import TablePanel

if TYPE_CHECKING:
    from .app import PiperApp
    from .campaign_wizard import CampaignWizard

log = get_logger("ui")
SETTLE_TICKS = 4  # quiet ticks in a row before a picture (thumbnails, layouts)
MAX_TICKS = 600  # 60 s at most per picture


class Screenshooter(QObject):
    def __init__(self, piper: PiperApp, directory: Path, *, quit_after: bool = True) -> None:
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
        self._wizard_ref: CampaignWizard | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        window = self.piper.window
        window.resize(1440, 900)
        window.show()
        for number, (key, _title, _icon) in enumerate(PANELS, start=1):
            self._steps.append(
                (
                    f"{number:02d}-{key}",
                    partial(self._panel, key),
                    partial(self._ready, key),
                )
            )
        n = len(PANELS)  # the screens after the panels are numbered on from them
        self._steps.append((f"{n + 1:02d}-job-details", self._job_details, lambda: True))
        self._steps.append(("", self._wizard_open, self._wizard_media_ready))
        self._steps.append(("", self._wizard_fill_media, self._wizard_accounts_ready))
        self._steps.append(
            (f"{n + 2:02d}-campaign-wizard", self._wizard_fill_rest, self._wizard_ready)
        )
        self._steps.append(("", self._account_form_open, self._account_form_ready))
        self._steps.append((f"{n + 3:02d}-account-form", self._account_form_fill, lambda: True))
        self._steps.append((f"{n + 4:02d}-dark-jobs", self._dark_jobs, lambda: self._ready("jobs")))
        self._timer.start()

    @property
    def _wizard(self) -> CampaignWizard:
        if self._wizard_ref is None:
            raise RuntimeError("the campaign wizard is not open yet")
        return self._wizard_ref

    # --- steps ---------------------------------------------------------------------------
    def _panel(self, key: str) -> QWidget:
        self.piper.window.show_panel(key)
        return self.piper.window

    def _ready(self, key: str) -> bool:
        panel = self.piper.window.panels[key]
        if isinstance(panel, TablePanel):
            return panel.model.loaded_once and not panel.model.loading
        if key in ("dashboard", "performance"):
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

    def _wizard_open(self) -> QWidget | None:
        self.piper.window.show_panel("campaigns")
        wizard = self.piper.window.panel_as("campaigns", CampaignsPanel).new_campaign()
        wizard.resize(980, 700)
        self._wizard_ref = wizard
        return None

    def _wizard_media_ready(self) -> bool:
        model = self._wizard.media_page.model
        return bool(model.loaded_once and not model.loading)

    def _wizard_fill_media(self) -> QWidget | None:
        media = self._wizard.media_page
        media.name.setText("Summer series")
        media.view.selectAll()
        self._wizard.next()
        return None

    def _wizard_accounts_ready(self) -> bool:
        model = self._wizard.accounts_page.model
        return bool(model.loaded_once and not model.loading)

    def _wizard_fill_rest(self) -> QWidget | None:
        wizard = self._wizard
        rows = wizard.accounts_page.model.rowCount()
        for row in range(min(rows, 2)):
            wizard.accounts_page.view.selectRow(row)
        wizard.next()
        wizard.caption_page.hashtags.setText("#summer #series")
        wizard.next()
        wizard.next()
        return wizard

    def _wizard_ready(self) -> bool:
        review = self._wizard.review_page
        return bool(review.planned or review.problem)

    def _account_form_open(self) -> QWidget | None:
        self._wizard.reject()
        self.piper.window.show_panel("accounts")
        self.piper.window.panel_as("accounts", AccountsPanel).new_account()
        return None

    def _account_form_ready(self) -> bool:
        return getattr(self.piper.window.panels["accounts"], "dialog", None) is not None

    def _account_form_fill(self) -> QWidget | None:
        dialog = self.piper.window.panel_as("accounts", AccountsPanel).dialog
        dialog.editors["username"].set_raw("new account!")
        dialog.editors["display_name"].set_raw("Summer Shop")
        dialog.editors["group"].set_raw("Shops")
        dialog.editors["max_posts_per_day"].set_raw("0")
        dialog.editors["timezone"].set_raw("Mars/Olympus")
        dialog.validate()
        return dialog

    def _dark_jobs(self) -> QWidget:
        dialog = getattr(self.piper.window.panels["accounts"], "dialog", None)
        if dialog is not None:
            dialog.reject()
        self.piper.window.apply_theme("dark")
        self.piper.window.show_panel("jobs")
        return self.piper.window

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
            if name and self._target is not None:
                path = self.directory / f"{name}.png"
                self._target.grab().save(str(path))
                self.saved.append(path)
                log.info("screenshot %s", path.name)
            self._current = None

    def _finish(self) -> None:
        dialog = getattr(self.piper.window.panels["accounts"], "dialog", None)
        if dialog is not None:
            dialog.reject()
        index = {
            "title": self.piper.window.windowTitle(),
            "screenshots": [p.name for p in self.saved],
        }
        (self.directory / "index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
        if self.quit_after:
            self.piper.stop_timeout = 5.0
            self.piper.quit_in_stages()
