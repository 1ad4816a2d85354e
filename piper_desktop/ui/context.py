"""What every panel shares: the services, the read-side queries, a change bus and the
way to tell the operator something. One `AppContext` per unlocked database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication

from ..domain.planner import PlannerService
from ..domain.services import Services
from ..domain.tables import TableService
from .engine_bridge import EngineBridge
from .ui_state import UiState

# Qt platforms without a screen: nothing could show a browser window
HEADLESS_PLATFORMS = ("offscreen", "minimal")


class AppContext(QObject):
    # a table's rows changed through the GUI ("accounts", "jobs", ... or "*")
    data_changed = Signal(str)
    # text for the status bar: (message, level) with level info | success | error
    message = Signal(str, str)
    # ask the main window to show a panel, optionally focusing a row: (panel, row id)
    navigate = Signal(str, object)
    # open a URL from any thread (queued to the GUI thread, then `url_opener`)
    url_requested = Signal(str)

    def __init__(
        self,
        services: Services,
        data_dir: Path,
        *,
        bridge: EngineBridge | None = None,
        sandbox: bool = False,
        ui_state: UiState | None = None,
    ) -> None:
        super().__init__()
        self.services = services
        self.tables = TableService(services.db)
        self.planner = PlannerService(services.db)
        self.data_dir = data_dir
        self.bridge = bridge or EngineBridge()
        self.sandbox = sandbox
        self.ui_state = ui_state or UiState(data_dir)
        # how URLs open; tests replace it to follow the link themselves
        self.url_opener: Callable[[str], Any] = self._open_in_browser
        self.url_requested.connect(self.open_url)

    def changed(self, table: str) -> None:
        self.data_changed.emit(table)

    def info(self, text: str) -> None:
        self.message.emit(text, "info")

    def success(self, text: str) -> None:
        self.message.emit(text, "success")

    def error(self, text: str) -> None:
        self.message.emit(text, "error")

    def warn(self, text: str) -> None:
        """Done, but the operator should look (e.g. a login of another creator)."""
        self.message.emit(text, "warning")

    def open_url(self, url: str) -> bool:
        """False when no browser opened it (the caller says so and offers the link)."""
        if self.sandbox and not _local(url):
            # try-out posts exist only in the local stand-ins: a platform link would
            # lead to somebody else's page, or nowhere
            self.info(f"Try-out mode: {url} is a stand-in post; nothing was posted there")
            return True
        return self.url_opener(url) is not False

    def request_url(self, url: str) -> None:
        """Thread-safe `open_url` (worker threads, e.g. the OAuth flow)."""
        self.url_requested.emit(url)

    @staticmethod
    def _open_in_browser(url: str) -> bool:
        if QGuiApplication.platformName() in HEADLESS_PLATFORMS:
            return False  # no screen, so no browser to show it
        return QDesktopServices.openUrl(QUrl(url))


def _local(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme == "file" or (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")
