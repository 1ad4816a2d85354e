"""The tray: Piper keeps publishing while its window is closed.

The menu is rebuilt when it is about to show, from a cache of the next posts that a
background task refreshes (on a timer and after engine events), so opening it never
touches the database. Notifications for published, failed and needs-attention jobs go
through `notify`, which also keeps the last ones for the window to show. Job balloons
are batched: the first starts a short window, and everything that happens in it shows as
one balloon ("3 published, 1 failed") rather than a balloon per job.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from ..domain.notify import HEADLINES, NOTIFY_KINDS
from . import formatting as fmt
from .context import AppContext
from .engine_bridge import JobEvent
from .icons import icon, tray_icon
from .tasks import run_task

MENU_POSTS = 5
BATCH_MS = 4000  # job notifications this close together share one balloon
BATCH_LINES = 4  # job lines a batched balloon lists before "and N more"


@dataclass(frozen=True)
class Notification:
    kind: str
    title: str
    text: str
    job_id: int | None


class TrayController(QObject):
    open_requested = Signal()
    quit_requested = Signal()
    pause_toggled = Signal(bool)  # True: pause publishing
    job_requested = Signal(int)

    def __init__(self, ctx: AppContext, *, notifications_enabled: Callable[[], bool]) -> None:
        super().__init__()
        self.ctx = ctx
        self.paused = False
        self.stopping = False  # quitting: the menu says so until the app has closed
        self.engine_state = "stopped"
        self.upcoming: list[dict[str, Any]] = []
        self.notifications: deque[Notification] = deque(maxlen=50)
        self._notifications_enabled = notifications_enabled
        # the desktop shows tray icons (policy: close to the tray, start minimized); tests
        # may set it to exercise those paths without showing an icon
        self.supported = QSystemTrayIcon.isSystemTrayAvailable()
        self.available = self.supported
        self.icon = QSystemTrayIcon(tray_icon(), self)
        self.icon.setToolTip("Piper Desktop")
        self.menu = QMenu()
        self.menu.setObjectName("tray_menu")
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.icon.messageClicked.connect(self._message_clicked)
        self._last_job: int | None = None
        # what the balloons said (title, text), also where no tray shows them (tests)
        self.balloons: deque[tuple[str, str]] = deque(maxlen=20)
        self._pending: list[Notification] = []
        self.batch = QTimer(self)
        self.batch.setSingleShot(True)
        self.batch.setInterval(BATCH_MS)
        self.batch.timeout.connect(self._flush_balloon)
        self._refresh = QTimer(self)
        self._refresh.setInterval(30_000)
        self._refresh.timeout.connect(self.refresh)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(1000)
        self._soon.timeout.connect(self.refresh)
        ctx.bridge.job_event.connect(self.on_job_event)
        ctx.bridge.engine_state.connect(self.set_engine_state)
        ctx.data_changed.connect(lambda _t: self._soon.start())
        self.rebuild_menu()

    def show(self, *, refresh: bool = True) -> None:
        if self.supported:
            self.icon.show()
        self._refresh.start()
        if refresh:
            self.refresh()

    def hide(self) -> None:
        self._refresh.stop()
        self.icon.hide()

    # --- the menu -----------------------------------------------------------------------
    def refresh(self) -> None:
        planner = self.ctx.planner
        run_task(lambda: planner.upcoming(limit=MENU_POSTS), self._upcoming, owner=self)

    def _upcoming(self, rows: list[dict[str, Any]]) -> None:
        self.upcoming = rows
        waiting = len(rows)
        state = "paused" if self.paused else self.engine_state
        self.icon.setToolTip(
            f"Piper Desktop — publishing {state}"
            + (f"\nNext: {fmt.when(rows[0]['next_attempt_at'])}" if waiting else "")
        )

    def rebuild_menu(self) -> None:
        menu = self.menu
        menu.clear()
        header = menu.addAction("Piper Desktop")
        header.setEnabled(False)
        if self.upcoming:
            menu.addSection("Next posts")
            for row in self.upcoming[:MENU_POSTS]:
                text = (
                    f"{fmt.when(row['next_attempt_at'])} · @{row['account_username']} · "
                    f"{row.get('media_title') or ''}"
                )
                action = menu.addAction(icon("clock"), text)
                action.setObjectName(f"tray_job_{row['id']}")
                action.triggered.connect(
                    lambda _c=False, job_id=row["id"]: self.job_requested.emit(job_id)
                )
        else:
            empty = menu.addAction("No posts scheduled")
            empty.setEnabled(False)
        menu.addSeparator()
        self.pause_action = QAction(
            icon("play" if self.paused else "pause"),
            "Resume publishing" if self.paused else "Pause publishing",
            menu,
        )
        self.pause_action.setObjectName("tray_pause")
        self.pause_action.setEnabled(self.engine_state != "unavailable" and not self.stopping)
        self.pause_action.triggered.connect(lambda: self.pause_toggled.emit(not self.paused))
        menu.addAction(self.pause_action)
        self.open_action = menu.addAction(icon("window"), "Open Piper")
        self.open_action.setObjectName("tray_open")
        self.open_action.triggered.connect(lambda: self.open_requested.emit())
        menu.addSeparator()
        self.quit_action = menu.addAction(
            icon("quit"), "Stopping Piper…" if self.stopping else "Quit Piper"
        )
        self.quit_action.setObjectName("tray_quit")
        self.quit_action.setEnabled(not self.stopping)
        self.quit_action.triggered.connect(lambda: self.quit_requested.emit())

    def action(self, name: str) -> QAction:
        for action in self.menu.actions():
            if action.objectName() == name:
                return action
        raise KeyError(name)

    def set_stopping(self, stopping: bool = True) -> None:
        """Say at once that Piper is stopping (the posts in flight take a moment)."""
        self.stopping = stopping
        self.icon.setToolTip("Piper Desktop — stopping…" if stopping else "Piper Desktop")
        self.rebuild_menu()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.icon.setIcon(tray_icon(paused=paused))

    def set_engine_state(self, state: str) -> None:
        self.engine_state = state
        if state in ("paused", "running"):
            self.set_paused(state == "paused")

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.open_requested.emit()

    # --- notifications ----------------------------------------------------------------------
    def on_job_event(self, event: JobEvent) -> None:
        self._soon.start()
        if event.kind not in NOTIFY_KINDS or event.job_id is None:
            return
        headline = HEADLINES.get(event.kind, fmt.status_text(event.kind))
        text = event.message or fmt.status_text(event.status)
        self.notify(event.kind, f"{headline}: job #{event.job_id}", text, event.job_id)

    def notify(self, kind: str, title: str, text: str, job_id: int | None = None) -> None:
        note = Notification(kind, title, text, job_id)
        self.notifications.append(note)
        if not self._notifications_enabled():
            return
        if job_id is None:  # about Piper itself: at once
            self._balloon(kind, title, text, None)
            return
        self._pending.append(note)
        if not self.batch.isActive():
            self.batch.start()

    def _flush_balloon(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        if len(pending) == 1:
            note = pending[0]
            self._balloon(note.kind, note.title, note.text, note.job_id)
            return
        counts: dict[str, int] = {}
        for note in pending:
            counts[note.kind] = counts.get(note.kind, 0) + 1
        order = ("published", "failed", "needs_attention")
        kinds = sorted(counts, key=lambda k: order.index(k) if k in order else len(order))
        title = ", ".join(f"{counts[k]} {HEADLINES.get(k, k).lower()}" for k in kinds)
        lines = [f"{n.title} — {n.text}" for n in pending[:BATCH_LINES]]
        if len(pending) > BATCH_LINES:
            lines.append(f"and {len(pending) - BATCH_LINES} more (see Jobs)")
        worst = next((k for k in ("failed", "needs_attention") if k in counts), "published")
        self._balloon(worst, title.capitalize(), "\n".join(lines), None)

    def _balloon(self, kind: str, title: str, text: str, job_id: int | None) -> None:
        self.balloons.append((title, text))
        if self.supported and self.icon.isVisible():
            level = {
                "published": QSystemTrayIcon.MessageIcon.Information,
                "failed": QSystemTrayIcon.MessageIcon.Critical,
            }.get(kind, QSystemTrayIcon.MessageIcon.Warning)
            self._last_job = job_id
            self.icon.showMessage(title, text, level, 8000)

    def _message_clicked(self) -> None:
        if self._last_job is not None:
            self.job_requested.emit(self._last_job)
        else:
            self.open_requested.emit()
