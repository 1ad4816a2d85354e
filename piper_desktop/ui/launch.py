"""Starting the GUI from `piper` with no command.

Order: one instance per data dir (a second launch brings the first forward and exits);
then the vault — `--password-stdin` or `PIPER_PASSWORD` unlock without a dialog, else
the keychain if enabled, else the unlock dialog (or the welcome dialog on first run);
then the window, the tray and the engine. `--sandbox` starts a throwaway try-out with
local stand-ins instead. `PIPER_SCREENSHOT_DIR` makes the app photograph each panel and
quit (the screenshot test and the docs use it).
"""

from __future__ import annotations

import os
import sys
from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING

from ..logs import configure_logging, get_logger, register_secret
from ..paths import default_data_dir

if TYPE_CHECKING:
    from ..sandbox.demo import DemoEnvironment
    from ..store.db import Database

log = get_logger("ui")


def _headless_password(args: Namespace) -> str | None:
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline().rstrip("\r\n")
        register_secret(line)
        return line
    env = os.environ.get("PIPER_PASSWORD")
    if env:
        register_secret(env)
        return env
    return None


def launch_gui(args: Namespace) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .. import startup_probe
    from ..store import vault
    from .crash import install_crash_handler
    from .icons import app_icon
    from .single_instance import SingleInstance
    from .theme import apply_theme
    from .unlock import UnlockDialog, WelcomeDialog, load_application, unlock_loaded

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("Piper Desktop")
    app.setOrganizationName("Piper")
    app.setDesktopFileName("piper-desktop")
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app, "system")

    demo: DemoEnvironment | None = None
    if getattr(args, "sandbox", False):
        from ..sandbox.demo import start_demo

        demo = start_demo()
        data_dir = demo.data_dir
    else:
        data_dir = Path(args.data_dir).expanduser() if args.data_dir else default_data_dir()

    instance = SingleInstance(data_dir)
    if demo is None and instance.notify_running():
        print("Piper Desktop is already running; it has been brought forward.", file=sys.stderr)
        return 0
    instance.listen()
    configure_logging(data_dir, verbose=bool(getattr(args, "verbose", False)))
    install_crash_handler(data_dir)
    # what must live as long as the event loop runs (the app, a dialog, the screenshots)
    holder: dict[str, object] = {}

    def run(db: Database, folder: str) -> None:
        # the application proper (services, engine, panels) is imported only now: the
        # unlock dialog is on screen without it (a worker preloads it meanwhile)
        from ..domain.services import Services
        from .app import PiperApp

        services = Services(db)
        piper = PiperApp(
            app,
            services,
            Path(folder),
            sandbox=demo,
            minimized=bool(getattr(args, "minimized", False)),
        )
        holder["app"] = piper
        instance.activated.connect(piper.show_window)
        # PIPER_REPORT_STARTUP / PIPER_EXIT_AFTER_START: the frozen build's start-up check,
        # once the window is up (the next event-loop turn, after it painted)
        piper.shown.connect(
            lambda: QTimer.singleShot(0, lambda: startup_probe.window_shown(piper.quit_in_stages))
        )
        piper.start()
        shots = os.environ.get("PIPER_SCREENSHOT_DIR")
        if shots:
            from .screenshots import Screenshooter

            shooter = Screenshooter(piper, Path(shots))
            holder["shots"] = shooter
            shooter.start()

    def opened(db: Database, folder: str) -> None:
        # a data dir that joined a team goes on to the team's database (ui/team_unlock.py);
        # its vault only told which team, and closes once the team is open
        from ..domain.team import membership

        member = membership(db)
        if member is None:
            run(db, folder)
            return
        from .team_unlock import TeamUnlockDialog

        step = TeamUnlockDialog(db, member)
        holder["team_dialog"] = step

        def team_opened(shared: object) -> None:
            db.close()
            run(shared, folder)  # type: ignore[arg-type]  # a team store has the same face

        step.opened.connect(team_opened)
        step.rejected.connect(app.quit)
        step.show()
        step.start()

    if demo is not None:
        run(demo.db, str(demo.data_dir))
    else:
        password = _headless_password(args)
        if password is not None:
            if not vault.vault_exists(data_dir):
                print(f"piper: {vault.VaultNotFound(data_dir)}", file=sys.stderr)
                return 2
            from .tasks import run_task

            # the first window is the unlock dialog here too, saying it is opening (the
            # window is up at once; the main window follows when the vault is open)
            opening = UnlockDialog(data_dir, try_keychain=False)
            opening.show_opening()
            opening.rejected.connect(app.quit)
            holder["dialog"] = opening
            opening.show()
            QTimer.singleShot(0, lambda: startup_probe.unlock_shown(app.quit))

            # the imports and the key derivation on a worker (the event loop is already
            # running, so a tray or second launch is answered meanwhile)
            def unlocked(db: Database) -> None:
                opening.rejected.disconnect(app.quit)
                opening.accept()
                opened(db, str(data_dir))

            def refused(exc: BaseException) -> None:
                # said after the event loop, as before the window: one line, its exit code
                holder["refused"] = exc
                app.exit(2)

            run_task(
                lambda: unlock_loaded(data_dir, password),
                unlocked,
                refused,
            )
        else:
            dialog: UnlockDialog | WelcomeDialog
            if vault.vault_exists(data_dir):
                dialog = UnlockDialog(data_dir)
            else:
                dialog = WelcomeDialog(data_dir)
            holder["dialog"] = dialog
            dialog.opened.connect(opened)
            dialog.rejected.connect(app.quit)
            dialog.show()
            # the bench and the start-up test time Piper's first window from here
            QTimer.singleShot(0, lambda: startup_probe.unlock_shown(app.quit))
            # then (the next timer, once the dialog is up) what the window after it needs
            # loads on a worker while the operator types (unlock.load_application, whose
            # lock the unlock shares); a failure here is met again, and reported, there
            from .tasks import run_task

            QTimer.singleShot(
                0, lambda: run_task(load_application, lambda _r: None, lambda _e: None)
            )
    try:
        code = int(app.exec())
        failure = holder.get("refused")
        if isinstance(failure, vault.WrongPassword):
            print("piper: wrong master password", file=sys.stderr)
        elif isinstance(failure, BaseException):
            raise failure  # `piper`'s own handler says it in one line with its exit code
        return code
    finally:
        instance.close()
        piper = holder.get("app")
        if piper is None and demo is not None:
            demo.close()
