"""The running application once the vault is open: main window, tray, engine.

Closing the window keeps Piper in the tray (said once). Quitting goes in stages: stop
new work, let or park the work in flight (asking first when posts are mid-upload),
flush the database, close the windows.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QProgressDialog

from ..domain.services import Services
from ..failures import describe
from ..logs import get_logger
from . import tasks, theme
from .browser_actions import BrowserActions
from .change_bridge import ChangeBridge
from .context import AppContext
from .crash import install_crash_handler as install_crash_handler  # re-exported
from .dialogs import confirm
from .engine_bridge import EngineBridge, EngineHost
from .icons import clear_cache
from .main_window import MainWindow
from .tray import TrayController

if TYPE_CHECKING:
    from ..sandbox.demo import DemoEnvironment

log = get_logger("ui")


class PiperApp(QObject):
    quit_stage = Signal(str)  # stop_new_work | park_in_flight | flush | closed
    finished = Signal()
    shown = Signal()  # the window (or, minimized, the tray) is up

    def __init__(
        self,
        app: QApplication,
        services: Services,
        data_dir: Path,
        *,
        sandbox: DemoEnvironment | None = None,
        minimized: bool = False,
        start_engine: bool = True,
        stop_timeout: float | None = None,
        quit_app: bool = True,
    ) -> None:
        super().__init__()
        # the GUI thread waits for the interpreter lock behind the engine's and the
        # tasks' threads; a shorter switch interval bounds that wait (default 5 ms each)
        sys.setswitchinterval(0.002)
        self.app = app
        self.services = services
        self.data_dir = data_dir
        self.sandbox = sandbox
        self.minimized = minimized
        self.start_engine = start_engine
        self.stop_timeout = stop_timeout
        # tests keep the shared QApplication running after a quit
        self.quit_app = quit_app
        self.quitting = False
        self.stages: list[str] = []
        self.ctx = AppContext(
            services, data_dir, bridge=EngineBridge(), sandbox=sandbox is not None
        )
        self.engine = EngineHost(services, self.ctx.bridge, data_dir)
        self.browser = BrowserActions(services)
        self.window = MainWindow(self.ctx, browser=self.browser)
        self.notifications_enabled = True
        self.tray = TrayController(
            self.ctx, notifications_enabled=lambda: self.notifications_enabled
        )
        database = getattr(services.db, "path", None)  # a team store has no file
        tasks.set_default_error_handler(lambda exc: self.ctx.error(describe(exc, database)))

        self.window.close_to_tray.connect(self.window_closed)
        self.window.pause_toggled.connect(self.set_paused)
        self.tray.open_requested.connect(self.show_window)
        self.tray.quit_requested.connect(self.request_quit)
        self.tray.pause_toggled.connect(self.set_paused)
        self.tray.job_requested.connect(self.show_job)
        self.ctx.bridge.engine_state.connect(self.window.set_engine_state)
        self.app.aboutToQuit.connect(self._last_chance)
        # team mode: other desktops' changes reload the panels (ui/change_bridge.py)
        self.changes = ChangeBridge(self.ctx)
        self.changes.start()

    # --- start ---------------------------------------------------------------------------
    def start(self) -> None:
        """Read the look-and-feel settings, show the window, and once its first panel
        has its data, start the engine and the tray's refresh. One thing at a time: each
        worker that needs the database at once opens another encrypted connection, and
        opening one derives the key again (a few hundred ms of CPU)."""
        settings = self.services.settings

        def read() -> dict[str, Any]:
            return {
                "theme": settings.get("ui.theme"),
                "minimized": settings.get("ui.start_minimized"),
                "notifications": settings.get("notifications.enabled"),
            }

        defaults = {"theme": "system", "minimized": False, "notifications": True}
        tasks.run_task(read, self._show, lambda _exc: self._show(defaults), owner=self)

    def _show(self, values: dict[str, Any]) -> None:
        if values["theme"] != "system" or theme.current().name != theme.resolve_mode("system"):
            theme.apply_theme(self.app, str(values["theme"]))
            clear_cache()
        self.notifications_enabled = bool(values["notifications"])
        minimized = self.minimized or bool(values["minimized"])
        self.tray.show(refresh=False)
        if not minimized:
            self.show_window()
        elif not self.tray.available:
            # no tray to live in: a minimized start would leave no way back in
            self.window.showMinimized()
        self.shown.emit()
        self._settled = QTimer(self)
        self._settled.setInterval(50)
        self._settled.timeout.connect(self._after_first_panel)
        self._settle_ticks = 0
        self._settled.start()

    def _after_first_panel(self) -> None:
        self._settle_ticks += 1
        if tasks.runner().pending() and self._settle_ticks < 60:
            return  # the first panel is still loading (3 s at most)
        self._settled.stop()
        # connections for the tasks to come, opened one by one while the operator reads
        # the first panel; then the tray and the engine
        tables = self.ctx.tables
        tasks.run_task(
            lambda: tables.warm_up(3),
            lambda _r: self._start_background(),
            lambda _exc: self._start_background(),
            owner=self,
        )

    def _start_background(self) -> None:
        self.tray.refresh()
        if self.start_engine:
            tasks.run_task(
                self._start_engine, self._engine_started, self._engine_failed, owner=self
            )
        else:
            self.ctx.bridge.set_state("stopped")

    def _start_engine(self) -> bool:
        return self.engine.start()

    def _engine_started(self, ok: bool) -> None:
        if not ok:
            self.ctx.error(self.engine.error or "the publishing engine is not available")
        else:
            self.ctx.bridge.set_state(self.engine.state)

    def _engine_failed(self, exc: BaseException) -> None:
        self.ctx.bridge.set_state("unavailable")
        self.ctx.error(f"The publishing engine did not start: {exc}")

    # --- window and tray ----------------------------------------------------------------------
    def show_window(self) -> None:
        window = self.window
        if window.isMinimized():
            window.showNormal()
        else:
            window.show()
        window.raise_()
        window.activateWindow()

    def show_job(self, job_id: int) -> None:
        self.show_window()
        self.ctx.navigate.emit("jobs", {"job_id": job_id})

    def window_closed(self) -> None:
        if not self.tray.available:
            self.request_quit()
            return
        self.window.hide()
        if not self.ctx.ui_state.get("tray_hint_shown"):
            self.ctx.ui_state.set("tray_hint_shown", True)
            self.tray.notify(
                "info",
                "Piper is still running",
                "It keeps publishing from the tray. Use Quit in the tray menu to stop it.",
            )

    def set_paused(self, paused: bool) -> None:
        if paused:
            self.engine.pause()
        else:
            self.engine.resume()
        self.tray.set_paused(paused)
        if not self.engine.available:
            self.ctx.bridge.set_state("paused" if paused else "stopped")
        self.ctx.info("Publishing paused: no new posts start" if paused else "Publishing resumed")

    # --- quitting in stages -----------------------------------------------------------------
    def request_quit(self) -> None:
        if self.quitting:
            return
        planner = self.ctx.planner
        # feedback at once, before anything is asked or waited for
        self.tray.set_stopping(True)
        self.ctx.info("Stopping Piper…")

        def decide(counts: dict[str, int]) -> None:
            flying = counts.get("in_flight", 0)
            if flying:
                self.tray.set_stopping(False)
                self.show_window()
                self.quit_box = confirm(
                    self.window,
                    "Quit Piper",
                    f"{flying} post(s) are being published right now.",
                    self.quit_in_stages,
                    yes_text="Park them and quit",
                    detail=(
                        "Piper lets them finish for a short while; one that is still "
                        "uploading is parked and settled with the platform at the next "
                        "start, so nothing is posted twice."
                    ),
                )
            else:
                self.quit_in_stages()

        tasks.run_task(planner.today, decide, lambda _exc: self.quit_in_stages(), owner=self)

    def quit_in_stages(self) -> None:
        if self.quitting:
            return
        self.quitting = True
        self._stage("stop_new_work")
        self.engine.pause()
        # the tray stays, saying "stopping…", until the app has closed (see _close)
        self.tray.set_stopping(True)
        self.progress = QProgressDialog("Finishing the posts in flight…", "", 0, 0, self.window)
        self.progress.setWindowTitle("Quitting Piper")
        self.progress.setCancelButton(None)
        self.progress.setMinimumDuration(400)
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self._stage("park_in_flight")
        timeout = self.stop_timeout
        tasks.run_task(
            lambda: self.engine.stop(timeout),
            self._parked,
            lambda exc: self._parked([]),
            owner=self,
        )

    def _parked(self, left: list[int]) -> None:
        if left:
            log.info("quit: %d job(s) left to reconcile at the next start", len(left))
        self.progress.reset()
        self._stage("flush")
        self.browser_stop_then_close()

    def browser_stop_then_close(self) -> None:
        def flush() -> None:
            self.browser.stop()
            tasks.runner().wait(5000)

        tasks.run_task(flush, lambda _r: self._close(), lambda _e: self._close(), owner=self)

    def _close(self) -> None:
        self.tray.hide()
        self.changes.stop()
        self.services.close()
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None
        self._stage("closed")
        self.window.quitting = True
        self.window.close()
        self.finished.emit()
        if self.quit_app:
            QTimer.singleShot(0, self.app.quit)

    def _stage(self, name: str) -> None:
        self.stages.append(name)
        self.quit_stage.emit(name)
        log.info("quit stage: %s", name)

    def _last_chance(self) -> None:
        """The session ends without our quit (logout, signal): park what we can."""
        if self.quitting:
            return
        self.quitting = True
        self.changes.stop()
        try:
            self.engine.stop(self.stop_timeout if self.stop_timeout is not None else 20)
            self.browser.stop()
        finally:
            if self.sandbox is not None:
                self.sandbox.close()
