"""The main window: a sidebar with the nine panels, the engine's state, a status bar
with messages and counts. Closing it leaves Piper in the tray."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from . import team_view, theme
from .browser_actions import BrowserActions
from .context import AppContext
from .icons import app_icon, icon, pixmap

if TYPE_CHECKING:
    from .panels.settings import SettingsPanel

PanelT = TypeVar("PanelT", bound=QWidget)

# each panel's module and class: imported when the panel is first shown, which keeps
# the start-up to what the first panel needs
PANEL_CLASSES = {
    "dashboard": ("dashboard", "DashboardPanel"),
    "accounts": ("accounts", "AccountsPanel"),
    "proxies": ("proxies", "ProxiesPanel"),
    "profiles": ("profiles", "ProfilesPanel"),
    "media": ("media", "MediaPanel"),
    "campaigns": ("campaigns", "CampaignsPanel"),
    "jobs": ("jobs", "JobsPanel"),
    "performance": ("performance", "PerformancePanel"),
    "settings": ("settings", "SettingsPanel"),
}
WITH_BROWSER = {"dashboard", "accounts"}

PANELS = [
    ("dashboard", "Dashboard", "dashboard"),
    ("accounts", "Accounts", "accounts"),
    ("proxies", "Proxies", "proxies"),
    ("profiles", "Browser profiles", "profiles"),
    ("media", "Media library", "media"),
    ("campaigns", "Campaigns", "campaigns"),
    ("jobs", "Jobs", "jobs"),
    ("performance", "Performance", "chart"),
    ("settings", "Settings", "settings"),
]
ENGINE_TEXT = {
    "running": "Publishing",
    "paused": "Paused",
    "stopping": "Stopping…",
    "stopped": "Stopped",
    "unavailable": "Engine unavailable",
}


class LazyPanels(dict[str, QWidget]):
    """Panels by key, each made on first use."""

    def __init__(self, make: Callable[[str], QWidget]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: str) -> QWidget:
        if key not in {k for k, _t, _i in PANELS} | {"team"}:
            raise KeyError(key)
        panel = self._make(key)
        self[key] = panel
        return panel


# the first window: most of the screen, enough that the dashboard's cards and the tables'
# columns show whole, never more than the screen has
COMFORTABLE = QSize(1320, 860)
LARGEST = QSize(1680, 1050)
SMALLEST = QSize(960, 620)  # the minimum, where the screen allows it


def initial_size(available: QSize) -> QSize:
    """The first window's size for a screen's available area (without task bars)."""

    def side(room: int, comfortable: int, largest: int) -> int:
        wanted = max(comfortable, min(largest, int(room * 0.88)))
        return max(1, min(wanted, room - 40 if room > comfortable else room))

    return QSize(
        side(available.width(), COMFORTABLE.width(), LARGEST.width()),
        side(available.height(), COMFORTABLE.height(), LARGEST.height()),
    )


def minimum_size(available: QSize) -> QSize:
    return SMALLEST.boundedTo(available)


class MainWindow(QMainWindow):
    close_to_tray = Signal()  # the window closed; the app decides (tray or quit)
    pause_toggled = Signal(bool)

    def __init__(self, ctx: AppContext, *, browser: BrowserActions | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.browser = browser or BrowserActions(ctx.services)
        self.setWindowTitle("Piper Desktop" + (" — try-out" if ctx.sandbox else ""))
        self.setWindowIcon(app_icon())
        screen = self.screen() or QGuiApplication.primaryScreen()
        room = screen.availableGeometry().size() if screen is not None else COMFORTABLE
        self.setMinimumSize(minimum_size(room))
        self.resize(initial_size(room))
        self.quitting = False
        self.engine_state = "stopped"
        # team mode (ui/team_view.py): a "Team" panel after the others, and the team in
        # the status bar
        self.panel_list = list(PANELS)
        self.team_model = None
        if team_view.team_mode(ctx):
            self.panel_list.append(("team", "Team", "accounts"))
            self.team_model = team_view.TeamModel(ctx)

        root = QWidget()
        layout = QHBoxLayout(root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._sidebar())
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(root)

        # panels are built the first time they are shown: start-up builds one
        self.panels = LazyPanels(self._make_panel)
        status = QStatusBar()
        self.setStatusBar(status)
        self.message = QLabel("")
        self.message.setObjectName("status_message")
        status.addWidget(self.message, 1)
        self.counts = QLabel("")
        self.counts.setObjectName("status_counts")
        status.addPermanentWidget(self.counts)
        if self.team_model is not None:
            self.team_watch = team_view.TeamWatch(ctx, self.team_model)
            status.addPermanentWidget(self.team_watch)
        self._clear_message = QTimer(self)
        self._clear_message.setSingleShot(True)
        self._clear_message.timeout.connect(lambda: self.message.setText(""))
        ctx.message.connect(self.show_message)
        ctx.navigate.connect(self.navigate)
        ctx.bridge.engine_state.connect(self.set_engine_state)

        for number, (key, title, _icon) in enumerate(self.panel_list, start=1):
            action = QAction(title, self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _c=False, key=key: self.show_panel(key))
            self.addAction(action)
        last = ctx.ui_state.get("panel", "dashboard")
        known = {k for k, _t, _i in self.panel_list}
        self.show_panel(last if last in known else "dashboard")

    # --- layout ------------------------------------------------------------------------
    def _sidebar(self) -> QWidget:
        side = QFrame()
        side.setObjectName("Sidebar")
        side.setFixedWidth(228)
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 18, 0, 8)
        layout.setSpacing(6)
        brand = QHBoxLayout()
        brand.setContentsMargins(18, 0, 12, 10)
        logo = QLabel()
        logo.setPixmap(pixmap("piper", 34))
        brand.addWidget(logo)
        names = QVBoxLayout()
        names.setSpacing(0)
        title = QLabel("Piper Desktop")
        title.setObjectName("Brand")
        sub = QLabel("Try-out mode" if self.ctx.sandbox else "Publishing on schedule")
        sub.setObjectName("BrandSub")
        names.addWidget(title)
        names.addWidget(sub)
        brand.addLayout(names, 1)
        layout.addLayout(brand)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setIconSize(QSize(18, 18))
        self.nav.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        colour = theme.current().sidebar_text
        for key, title_text, icon_name in self.panel_list:
            item = QListWidgetItem(icon(icon_name, colour), title_text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._nav_changed)
        layout.addWidget(self.nav, 1)
        engine = QHBoxLayout()
        engine.setContentsMargins(16, 0, 12, 10)
        self.engine_label = QLabel("● Stopped")
        self.engine_label.setObjectName("EngineState")
        engine.addWidget(self.engine_label, 1)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("engine_pause")
        self.pause_button.setEnabled(False)
        self.pause_button.clicked.connect(
            lambda: self.pause_toggled.emit(self.engine_state != "paused")
        )
        engine.addWidget(self.pause_button)
        layout.addLayout(engine)
        return side

    def _make_panel(self, key: str) -> QWidget:
        panel: Any
        if key == "team" and self.team_model is not None:
            panel = team_view.TeamPanel(self.ctx, self.team_model)
        else:
            module, name = PANEL_CLASSES[key]
            cls = getattr(importlib.import_module(f"{__package__}.panels.{module}"), name)
            panel = cls(self.ctx, self.browser) if key in WITH_BROWSER else cls(self.ctx)
        panel.setObjectName(f"panel_{key}")
        self.stack.addWidget(panel)
        panel.status_changed.connect(lambda text, key=key: self._panel_status(key, text))
        if key == "settings":
            panel.theme_changed.connect(self.apply_theme)
        return panel

    def panel_as(self, key: str, kind: type[PanelT]) -> PanelT:
        """The panel under `key` (made on first use) as the class it is, checked."""
        panel = self.panels[key]
        if not isinstance(panel, kind):
            raise TypeError(f"panel {key!r} is a {type(panel).__name__}, not a {kind.__name__}")
        return panel

    @property
    def settings_panel(self) -> SettingsPanel:
        from .panels.settings import SettingsPanel

        return self.panel_as("settings", SettingsPanel)

    # --- navigation ---------------------------------------------------------------------
    def current_key(self) -> str:
        item = self.nav.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else "dashboard"

    def show_panel(self, key: str) -> QWidget:
        index = [k for k, _t, _i in self.panel_list].index(key)
        if self.nav.currentRow() != index:
            self.nav.setCurrentRow(index)
        else:
            self._nav_changed(index)
        return self.panels[key]

    def _nav_changed(self, row: int) -> None:
        if row < 0:
            return
        key = self.panel_list[row][0]
        panel = self.panels[key]
        self.stack.setCurrentWidget(panel)
        self.counts.setText(getattr(panel, "status", ""))
        view = getattr(panel, "view", None)
        if view is not None:
            view.setFocus()
        self.ctx.ui_state.set("panel", key)

    def navigate(self, key: str, target: Any) -> None:
        # the panel modules are imported by now: show_panel() made the panel
        from .panels.accounts import AccountsPanel
        from .panels.jobs import JobsPanel

        panel = self.show_panel(key)
        target = target or {}
        if isinstance(panel, JobsPanel):
            if target.get("job_id") is not None:
                panel.focus_job(int(target["job_id"]))
            elif target.get("campaign_id") is not None:
                panel.set_filter_value("campaign_id", target["campaign_id"])
        elif isinstance(panel, AccountsPanel) and target.get("account_id") is not None:
            panel.select_ids([target["account_id"]])

    def _panel_status(self, key: str, text: str) -> None:
        if self.current_key() == key:
            self.counts.setText(text)

    # --- status -------------------------------------------------------------------------
    def show_message(self, text: str, level: str = "info") -> None:
        palette = theme.current()
        colour = {"error": palette.danger, "success": "#1B8F4F", "warning": "#A3670F"}.get(
            level, palette.muted
        )
        self.message.setStyleSheet(f"color: {colour};")
        self.message.setText(text)
        self._clear_message.start(12_000 if level in ("error", "warning") else 6_000)

    def set_engine_state(self, state: str) -> None:
        self.engine_state = state
        dot = {"running": "#2FB36B", "paused": "#E6A23C", "unavailable": "#9AA0B5"}.get(
            state, "#9AA0B5"
        )
        self.engine_label.setText(
            f'<span style="color:{dot}">●</span> {ENGINE_TEXT.get(state, state)}'
        )
        self.pause_button.setEnabled(state in ("running", "paused"))
        self.pause_button.setText("Resume" if state == "paused" else "Pause")

    def apply_theme(self, mode: str) -> None:
        from PySide6.QtWidgets import QApplication

        from .icons import clear_cache

        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_theme(app, mode)
            clear_cache()
            self.retint_icons()
            self.update()

    def retint_icons(self) -> None:
        """Line icons are drawn in the theme's text colour: draw them again."""
        from PySide6.QtWidgets import QAbstractButton

        for action in self.findChildren(QAction):
            name = action.property("icon_name")
            if name:
                action.setIcon(icon(str(name)))
        for button in self.findChildren(QAbstractButton):
            name = button.property("icon_name")
            if not name:
                continue
            colour = button.property("icon_color")
            button.setIcon(icon(str(name), str(colour) if colour else None))

    # --- closing ------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.quitting:
            event.accept()
            return
        event.ignore()
        self.close_to_tray.emit()
