"""The "Connect accounts" dialog: many accounts to one route, with a progress list (one
row per account: waiting / waiting for consent / connected as @creator / failed: reason
/ skipped / cancelled), a Cancel that stops the walk, and a summary at the end.

- TikTok API: one sign-in after another. The current account's consent link is shown
  with Copy and Open in browser; when no browser opens that is said in one line and the
  link stays copyable; the wait shows its time limit and Cancel (or Skip) ends it at
  once (routes/tiktok_api/connect.TikTokConsent). A creator of another name is flagged
  on its row (the single-connect rule, `identity_mismatch`).
- Upload-Post: the API key's profiles are listed and matched to the accounts by name
  (domain/name_match.py); the proposed pairs show in the list, unmatched ones marked,
  and one click connects every matched account. A profile can be chosen (or typed) for
  an account by hand.
- Browser: a folder of cookies files matched by name (routes/web/cookie_files.py) is
  imported into the matched accounts' sessions; a bad file is one row's line; unmatched
  files and accounts are listed. One account can also log in in a browser window.

Opened from the Accounts panel (selected accounts), the campaign wizard's review and
Resolve (through ConnectFlow). Only the Qt is here; the work is the routes' and the
domain's, run through `run_task`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..clients.errors import ApiError, OAuthCancelled
from ..domain.errors import ValidationError
from ..domain.name_match import Named
from ..routes.registry import default_routes
from ..store.enums import JobRoute
from .browser_actions import BrowserActions
from .context import AppContext
from .tasks import run_task

WAITING = "waiting"
CONSENT = "waiting for consent"
SKIPPED = "skipped"
CANCELLED = "cancelled"
FINAL = ("connected", "failed", SKIPPED, CANCELLED)

Index = QModelIndex | QPersistentModelIndex
OK_COLOUR = QColor("#1b7f3b")
WARN_COLOUR = QColor("#a15c00")
BAD_COLOUR = QColor("#b3261e")


@dataclass
class ConnectRow:
    account_id: int
    username: str
    route: str
    state: str = WAITING
    # the Upload-Post profile or the cookies file proposed for the account
    match: str = ""
    # why, in full (a mismatch warning, a failure)
    detail: str = ""
    flagged: bool = False

    @property
    def kind(self) -> str:
        """connected, failed, skipped, cancelled or pending."""
        return next((k for k in FINAL if self.state.startswith(k)), "pending")


class ConnectRows(QAbstractTableModel):
    HEADERS = ("Account", "Route", "Match", "State")

    def __init__(self, rows: list[ConnectRow]) -> None:
        super().__init__()
        self.rows = rows

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (f"@{row.username}", _route_label(row.route), row.match, row.state)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column >= 2:
            return row.detail or row.state
        if role == Qt.ItemDataRole.ForegroundRole and column == 3:
            if row.flagged:
                return QBrush(WARN_COLOUR)
            colour = {"connected": OK_COLOUR, "failed": BAD_COLOUR}.get(row.kind)
            return QBrush(colour) if colour else None
        return None

    def changed(self, row: ConnectRow) -> None:
        number = self.rows.index(row)
        self.dataChanged.emit(self.index(number, 0), self.index(number, len(self.HEADERS) - 1))


def _route_label(route: str) -> str:
    spec = default_routes().find(route)
    return spec.label if spec is not None else route


class _Cancel:
    """Cancel a sign-in that may not exist yet: the worker attaches it when it does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._target: Any = None
        self.cancelled = False

    def attach(self, target: Any) -> None:
        with self._lock:
            self._target = target
            if self.cancelled:
                target.cancel()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._target is not None:
                self._target.cancel()


class BulkConnectDialog(QDialog):
    # a sign-in's link, from the worker thread: (account id, url)
    link_ready = Signal(int, str)
    # the walk ended (the summary is shown)
    walked = Signal()

    def __init__(
        self,
        ctx: AppContext,
        route: str,
        accounts: Sequence[tuple[int, str]],
        parent: QWidget | None = None,
        *,
        browser: BrowserActions | None = None,
        timeout: float = 300.0,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.route = route
        self.browser = browser
        self.timeout = timeout
        self.rows = [ConnectRow(a, u, route) for a, u in accounts]
        self.profiles: list[str] | None = None
        self.running = False
        self.cancelled = False
        self.done_walking = False
        self.current: ConnectRow | None = None
        self.link = ""
        self._cancel: _Cancel | None = None
        self._skip = False
        self._deadline = 0.0
        self.setWindowTitle(f"Connect accounts — {_route_label(route)}")
        self.setObjectName("bulk_connect")
        self.resize(760, 520)
        self._build()
        self.link_ready.connect(self._show_link)

    # --- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.intro = QLabel(self._intro())
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.model = ConnectRows(self.rows)
        self.view = QTableView()
        self.view.setObjectName("bulk_connect_rows")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate((150, 230, 170)):
            self.view.setColumnWidth(column, width)
        # a sign-in has nothing to propose: who consented shows in its state
        self.view.setColumnHidden(2, self.route == JobRoute.TIKTOK_API)
        layout.addWidget(self.view, 1)

        # TikTok: the current sign-in's link
        self.link_box = QWidget()
        box = QVBoxLayout(self.link_box)
        box.setContentsMargins(0, 0, 0, 0)
        self.link_title = QLabel("")
        box.addWidget(self.link_title)
        line = QHBoxLayout()
        self.link_edit = QLineEdit()
        self.link_edit.setObjectName("consent_link")
        self.link_edit.setReadOnly(True)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("copy_link")
        self.copy_button.clicked.connect(self.copy_link)
        self.open_button = QPushButton("Open in browser")
        self.open_button.setObjectName("open_link")
        self.open_button.clicked.connect(self.open_link)
        self.skip_button = QPushButton("Skip")
        self.skip_button.setObjectName("skip_account")
        self.skip_button.setToolTip("Leave this account and go on with the next one")
        self.skip_button.clicked.connect(self.skip)
        for widget in (self.link_edit, self.copy_button, self.open_button, self.skip_button):
            line.addWidget(widget, 1 if widget is self.link_edit else 0)
        box.addLayout(line)
        self.browser_note = QLabel("")
        self.browser_note.setObjectName("no_browser")
        self.browser_note.setWordWrap(True)
        self.browser_note.hide()
        box.addWidget(self.browser_note)
        self.wait_label = QLabel("")
        self.wait_label.setObjectName("consent_wait")
        box.addWidget(self.wait_label)
        self.link_box.hide()
        layout.addWidget(self.link_box)
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(self._tick)

        self.status = QLabel("")
        self.status.setObjectName("bulk_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        buttons = QHBoxLayout()
        self.connect_button = QPushButton("Connect matched")
        self.connect_button.setObjectName("connect_matched")
        self.connect_button.setProperty("primary", True)
        self.connect_button.clicked.connect(self.connect_matched)
        self.choose_button = QPushButton("Choose profile…")
        self.choose_button.setObjectName("choose_profile")
        self.choose_button.clicked.connect(self.ask_profile)
        self.folder_button = QPushButton("Cookies folder…")
        self.folder_button.setObjectName("cookies_folder")
        self.folder_button.clicked.connect(self.ask_folder)
        self.window_button = QPushButton("Log in in a window")
        self.window_button.setObjectName("login_window")
        self.window_button.setToolTip("Open the selected account's browser to log in by hand")
        self.window_button.clicked.connect(self.login_in_window)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start_walk")
        self.start_button.setProperty("primary", True)
        self.start_button.clicked.connect(self.start)
        self.close_button = QPushButton("Cancel")
        self.close_button.setObjectName("cancel_walk")
        self.close_button.clicked.connect(self.cancel_or_close)
        for widget in (self.connect_button, self.choose_button):
            widget.setVisible(self.route == JobRoute.UPLOAD_POST)
        for widget in (self.folder_button, self.window_button):
            widget.setVisible(self.route == JobRoute.BROWSER)
        self.start_button.setVisible(self.route == JobRoute.TIKTOK_API)
        self.connect_button.setEnabled(False)
        for widget in (self.connect_button, self.choose_button, self.folder_button,
                       self.window_button, self.start_button):  # fmt: skip
            buttons.addWidget(widget)
        buttons.addStretch(1)
        self.summary = QLabel("")
        self.summary.setObjectName("bulk_summary")
        buttons.addWidget(self.summary)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

    def _intro(self) -> str:
        if self.route == JobRoute.TIKTOK_API:
            return (
                "Each account signs in to TikTok in turn: open its link in a browser where "
                "you can sign in as that creator, and consent. A sign-in as a creator of "
                "another name is flagged."
            )
        if self.route == JobRoute.UPLOAD_POST:
            return (
                "The profiles of your Upload-Post API key are matched to the accounts by "
                "name (any case, a leading @ ignored). Check the pairs, then connect them."
            )
        return (
            "Pick a folder of cookies files named after the accounts (<username>.json "
            "from a browser extension or Playwright, or <username>.txt in cookies.txt "
            "format): each is imported into its account's saved session."
        )

    # --- the walk -------------------------------------------------------------------------
    def start(self) -> None:
        """Begin: TikTok's sign-ins, Upload-Post's profile list (the browser route waits
        for a folder)."""
        self.start_button.hide()
        if self.route == JobRoute.TIKTOK_API:
            self.running = True
            self._next_sign_in()
        elif self.route == JobRoute.UPLOAD_POST:
            self.load_profiles()

    def _pending(self) -> list[ConnectRow]:
        return [r for r in self.rows if r.kind == "pending"]

    def _set(self, row: ConnectRow, state: str, detail: str = "", *, flagged: bool = False) -> None:
        row.state, row.detail, row.flagged = state, detail, flagged
        self.model.changed(row)

    def _finish(self) -> None:
        self.running = False
        self.done_walking = True
        self.current = None
        self.countdown.stop()
        self.link_box.hide()
        self.connect_button.setEnabled(False)
        self.close_button.setText("Close")
        self.summary.setText(self.summary_text())
        self.ctx.changed("accounts")
        self.walked.emit()

    def summary_text(self) -> str:
        kinds = [r.kind for r in self.rows]
        parts = [f"{kinds.count('connected')} connected"]
        flagged = sum(r.flagged for r in self.rows)
        if flagged:
            parts[0] += f" ({flagged} as another creator)"
        parts += [f"{kinds.count(k)} {k}" for k in ("failed", SKIPPED, CANCELLED) if k in kinds]
        left = kinds.count("pending")
        if left:
            parts.append(f"{left} not connected")
        return "Done: " + ", ".join(parts)

    def cancel_or_close(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.accept()

    def cancel(self) -> None:
        """Stop the walk: the sign-in waiting now ends, the rest are not asked."""
        self.cancelled = True
        if self._cancel is not None:
            self._cancel.cancel()
        for row in self._pending():
            if row is not self.current:
                self._set(row, CANCELLED)
        if self.current is None:
            self._finish()

    def done(self, result: int) -> None:
        # closing the window mid-walk is a Cancel: no sign-in is left listening
        if self.running and self._cancel is not None:
            self.cancelled = True
            self._cancel.cancel()
        self.countdown.stop()
        super().done(result)

    # --- TikTok: one sign-in after another ------------------------------------------------
    def _next_sign_in(self) -> None:
        self.current = None
        pending = self._pending()
        if self.cancelled or not pending:
            self._finish()
            return
        row = self.current = pending[0]
        self._set(row, CONSENT)
        self._skip = False
        self._cancel = _Cancel()
        self.link = ""
        self.link_edit.clear()
        self.status.clear()  # "Link copied." was the account before's
        self.browser_note.hide()
        self.link_title.setText(f"@{row.username}: preparing the sign-in link…")
        self.link_box.show()
        run_task(
            partial(self._sign_in, row, self._cancel),
            partial(self._signed_in, row),
            partial(self._sign_in_failed, row),
            owner=self,
        )

    def _sign_in(self, row: ConnectRow, cancel: _Cancel) -> dict[str, Any]:
        """On a worker thread: the listener, the link (to the GUI), the wait."""
        from ..routes.tiktok_api.connect import TikTokConsent
        from .route_connect import prefer_route

        services = self.ctx.services
        account = services.accounts.get(row.account_id)
        with TikTokConsent(services, account, timeout=self.timeout) as consent:
            cancel.attach(consent)
            self.link_ready.emit(row.account_id, consent.url)
            result = consent.wait()
        prefer_route(services, row.account_id, JobRoute.TIKTOK_API.value)
        return result

    def _show_link(self, account_id: int, url: str) -> None:
        row = self.current
        if row is None or row.account_id != account_id:
            return
        self.link = url
        self.link_edit.setText(url)
        self.link_edit.setCursorPosition(0)
        self.link_title.setText(f"@{row.username}: sign in as this creator and consent")
        self._deadline = time.monotonic() + self.timeout
        self._tick()
        self.countdown.start()
        self.open_link()

    def _tick(self) -> None:
        left = max(0, round(self._deadline - time.monotonic()))
        limit = round(self.timeout)
        self.wait_label.setText(
            f"Waiting for consent: {left // 60}:{left % 60:02d} left of the "
            f"{limit // 60}:{limit % 60:02d} limit. Cancel stops waiting."
        )

    def copy_link(self) -> None:
        if self.link:
            QGuiApplication.clipboard().setText(self.link)
            self.status.setText("Link copied.")

    def open_link(self) -> None:
        if not self.link or self.current is None:
            return
        if self.ctx.open_url(self.link):
            self.browser_note.hide()
        else:
            self.browser_note.setText(
                f"No browser opened: copy the link and open it in a browser where you can "
                f"sign in as @{self.current.username}."
            )
            self.browser_note.show()

    def skip(self) -> None:
        if self._cancel is not None and self.current is not None:
            self._skip = True
            self._cancel.cancel()

    def _signed_in(self, row: ConnectRow, result: dict[str, Any]) -> None:
        self.countdown.stop()
        creator = result.get("creator_username") or row.username
        warning = result.get("warning")
        state = f"connected as @{creator}" + (" — another creator!" if warning else "")
        self._set(row, state, warning or "", flagged=bool(warning))
        if warning:
            self.ctx.warn(f"Connected, but {warning}")
        else:
            self.ctx.success(f"@{row.username} connected to the TikTok API")
        self._next_sign_in()

    def _sign_in_failed(self, row: ConnectRow, exc: BaseException) -> None:
        self.countdown.stop()
        if isinstance(exc, OAuthCancelled):
            self._set(row, SKIPPED if self._skip and not self.cancelled else CANCELLED)
        else:
            self._set(row, f"failed: {_reason(exc)}", str(exc))
            if isinstance(exc, ValidationError):
                # a setting is missing (the app's keys): every other sign-in would fail alike
                for other in self._pending():
                    self._set(other, row.state, str(exc))
        self._next_sign_in()

    # --- Upload-Post: profiles by name ----------------------------------------------------
    def load_profiles(self) -> None:
        from ..routes.upload_post.connect import list_profiles

        self.status.setText("Listing the profiles of your Upload-Post API key…")
        run_task(
            lambda: list_profiles(self.ctx.services), self._profiles, self._no_profiles, owner=self
        )

    def _profiles(self, names: list[str]) -> None:
        from ..routes.upload_post.connect import propose_profiles

        self.profiles = names
        match = propose_profiles([Named(r.account_id, r.username) for r in self.rows], names)
        proposed = {account.account_id: profile for account, profile in match.pairs}
        for row in self.rows:
            row.match = proposed.get(row.account_id, "— no profile of that name")
            self.model.changed(row)
        self.status.setText(
            f"{len(names)} profiles on the key; {len(proposed)} of {len(self.rows)} accounts "
            "matched by name. Choose a profile for the others, or leave them."
        )
        self._matched_changed()

    def _no_profiles(self, exc: BaseException) -> None:
        self.profiles = None
        self.status.setText(
            f"Could not list the Upload-Post profiles ({_reason(exc)}); choose a profile "
            "name for each account by hand."
        )
        for row in self.rows:
            row.match = "— choose a profile"
            self.model.changed(row)

    def _matched(self) -> list[ConnectRow]:
        return [r for r in self._pending() if r.match and not r.match.startswith("—")]

    def _matched_changed(self) -> None:
        count = len(self._matched())
        self.connect_button.setText(f"Connect matched ({count})")
        self.connect_button.setEnabled(count > 0 and not self.running)

    def set_profile(self, account_id: int, profile: str | None) -> None:
        """The operator's own choice of profile for one account."""
        row = next(r for r in self.rows if r.account_id == account_id)
        row.match = (profile or "").strip() or "— no profile chosen"
        self.model.changed(row)
        self._matched_changed()

    def ask_profile(self) -> None:
        from .dialogs import choose

        rows = self.view.selectionModel().selectedRows()
        pending = self._pending()
        row = self.rows[rows[0].row()] if rows else (pending[0] if pending else None)
        if row is None:
            return
        self.chooser = choose(
            self,
            "Choose a profile",
            f"Upload-Post profile for @{row.username}:",
            [(name, name) for name in self.profiles or []],
            partial(self.set_profile, row.account_id),
            editable=True,
        )

    def connect_matched(self) -> None:
        self.running = True
        self.connect_button.setEnabled(False)
        for row in self._pending():
            if row not in self._matched():
                self._set(row, f"{SKIPPED}: no profile", "no Upload-Post profile matched")
        self._next_profile()

    def _next_profile(self) -> None:
        matched = self._matched()
        if self.cancelled or not matched:
            self._finish()
            return
        row = self.current = matched[0]
        self._set(row, "connecting…")
        from .route_connect import connect_upload_post

        services = self.ctx.services
        run_task(
            partial(connect_upload_post, services, row.account_id, row.match),
            lambda _result: self._profile_done(row, None),
            lambda exc: self._profile_done(row, exc),
            owner=self,
        )

    def _profile_done(self, row: ConnectRow, exc: BaseException | None) -> None:
        if exc is None:
            self._set(row, f"connected to profile {row.match}")
        else:
            self._set(row, f"failed: {_reason(exc)}", str(exc))
        self.current = None
        self._next_profile()

    # --- browser: cookies files by name, or a login window --------------------------------
    def ask_folder(self) -> None:
        dialog = QFileDialog(self, "Folder of cookies files")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.import_folder)
        self.folder_dialog = dialog
        dialog.open()

    def import_folder(self, folder: str) -> None:
        from ..routes.web.cookie_files import plan_cookie_folder

        accounts = [Named(r.account_id, r.username) for r in self._pending()]
        self.status.setText(f"Matching the files of {folder} to the accounts…")
        self.running = True
        run_task(
            lambda: plan_cookie_folder(Path(folder), accounts),
            self._folder_planned,
            self._folder_failed,
            owner=self,
        )

    def _folder_failed(self, exc: BaseException) -> None:
        self.running = False
        self.status.setText(f"Could not read the folder: {_reason(exc)}")

    def _folder_planned(self, plan: Any) -> None:
        by_id = {r.account_id: r for r in self.rows}
        for planned in plan.imported:
            row = by_id[planned.account.account_id]
            row.match = planned.file.name
            self.model.changed(row)
        for account in plan.unmatched_accounts:
            row = by_id[account.account_id]
            row.match = "— no cookies file"
            self.model.changed(row)
        self.unmatched_files = [f"{u.item.name} ({u.reason})" for u in plan.unmatched_files]
        files = "; ".join(self.unmatched_files)
        self.status.setText(
            f"{len(plan.imported)} files matched"
            + (f"; not imported: {files}" if files else "")
            + (
                f"; {len(plan.unmatched_accounts)} accounts have no file"
                if plan.unmatched_accounts
                else ""
            )
        )
        self._queue = list(plan.imported)
        self._next_file()

    def _next_file(self) -> None:
        from ..routes.web.cookie_files import import_one

        if self.cancelled or not self._queue:
            self.running = False
            self.current = None
            self.summary.setText(self.summary_text())
            self.ctx.changed("accounts")
            self.walked.emit()
            return
        planned = self._queue.pop(0)
        row = self.current = next(
            r for r in self.rows if r.account_id == planned.account.account_id
        )
        self._set(row, "importing…")
        services = self.ctx.services
        run_task(partial(import_one, services, planned), partial(self._file_done, row),
                 lambda exc: self._file_done(row, None, exc), owner=self)  # fmt: skip

    def _file_done(self, row: ConnectRow, done: Any, exc: BaseException | None = None) -> None:
        if exc is not None:
            self._set(row, f"failed: {_reason(exc)}", str(exc))
        elif done.error:
            self._set(row, f"failed: {done.error}", done.error)
        else:
            result = done.result
            skipped = f", {len(result.skipped)} left out" if result.skipped else ""
            self._set(row, f"connected: {result.imported} cookies from {done.file.name}{skipped}",
                      "; ".join(result.skipped))  # fmt: skip
        self._next_file()

    def login_in_window(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        pending = self._pending()
        row = self.rows[rows[0].row()] if rows else (pending[0] if pending else None)
        if row is None:
            return
        browser = self.browser = self.browser or BrowserActions(self.ctx.services)
        self._set(row, "log in in the browser window, then close it")
        services = self.ctx.services

        def login() -> str | None:
            from ..routes.connected import not_connected

            browser.open_window(row.account_id)
            missing = not_connected(services, JobRoute.BROWSER.value, [row.account_id])
            return missing[0].reason if missing else None

        run_task(
            login,
            lambda reason: self._set(
                row, f"failed: {reason}" if reason else "connected: session saved"
            ),
            lambda exc: self._set(row, f"failed: {_reason(exc)}", str(exc)),
            owner=self,
        )


def _reason(exc: BaseException) -> str:
    """One line for a row: the platform's message without its codes."""
    if isinstance(exc, ApiError):
        return exc.message
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def open_bulk_connect(
    ctx: AppContext,
    owner: QWidget,
    route: str,
    accounts: Sequence[tuple[int, str]],
    on_done: Callable[[], None] | None = None,
    *,
    browser: BrowserActions | None = None,
) -> BulkConnectDialog:
    """Open the dialog over `owner` and begin (the TikTok walk starts at once)."""
    dialog = BulkConnectDialog(ctx, route, accounts, owner, browser=browser)
    if on_done is not None:
        dialog.finished.connect(lambda _code: on_done())
    dialog.open()
    dialog.start()
    return dialog
