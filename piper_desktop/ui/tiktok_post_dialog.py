"""New TikTok post (Jobs panel): one account, one video, a caption, now or at a time,
and the post options of ui/tiktok_post_options.py. Nothing is stored or sent before the
Post / Schedule button, which is the operator's consent; afterwards the dialog follows
the job (its status and latest event, as the engine records them) until TikTok's word
is final."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from PySide6.QtCore import QDateTime, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..domain import tiktok_compliance as tc
from ..domain.errors import DomainError, ValidationError
from ..logs import mask
from ..store.enums import FINAL_JOB_STATUSES, JobRoute
from . import formatting as fmt
from .context import AppContext
from .tasks import run_task
from .tiktok_post_options import TikTokPostOptions

ROUTE = JobRoute.TIKTOK_API.value
POLL_MS = 1000


def _choices(ctx: AppContext) -> tuple[list[tuple[int, str]], list[dict[str, Any]]]:
    """Accounts connected to the TikTok API, and the library's videos."""
    from ..routes.tiktok_api.spec import not_connected

    services = ctx.services
    accounts = [
        (a.id, a.username)
        for a in services.accounts.list()
        if a.status != "disabled" and not_connected(services, a.id) is None
    ]
    media = [
        {"id": m.id, "path": m.path, "title": m.title, "duration_sec": m.duration_sec,
         "caption": m.default_caption or ""}
        for m in services.media.list()
    ]
    return accounts, media


class TikTokPostDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("New TikTok post")
        self.resize(640, 760)
        self.job_id: int | None = None
        self.job_status: str | None = None
        self.media_rows: list[dict[str, Any]] = []
        self.filled = False
        self._wanted: tuple[Any, Any] = (None, None)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.account = QComboBox()
        self.account.setObjectName("tiktok_post_account")
        self.account.setPlaceholderText("Choose an account connected to the TikTok API")
        self.media = QComboBox()
        self.media.setObjectName("tiktok_post_media")
        self.media.setPlaceholderText("Choose a video from the library")
        self.caption = QPlainTextEdit()
        self.caption.setObjectName("tiktok_post_caption")
        self.caption.setPlaceholderText("Title (sent exactly as written)")
        self.caption.setFixedHeight(70)
        when = QHBoxLayout()
        self.now = QRadioButton("Post now")
        self.later = QRadioButton("Schedule for")
        self.now.setChecked(True)
        self.at = QDateTimeEdit(QDateTime.currentDateTime().addSecs(3600))
        self.at.setCalendarPopup(True)
        self.at.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        for widget in (self.now, self.later, self.at):
            when.addWidget(widget)
        when.addStretch(1)
        form.addRow("Account", self.account)
        form.addRow("Video", self.media)
        form.addRow("Title", self.caption)
        form.addRow("When", when)
        layout.addLayout(form)
        self.options = TikTokPostOptions(ctx, parent=self)
        layout.addWidget(self.options, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.post_button = QPushButton("Post to TikTok")
        self.post_button.setObjectName("tiktok_post_button")
        self.post_button.setProperty("primary", True)
        self.post_button.clicked.connect(self.post)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.post_button)
        layout.addLayout(buttons)
        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._ask_status)

        self.account.currentIndexChanged.connect(lambda *_: self._target())
        self.media.currentIndexChanged.connect(lambda *_: self._media_chosen())
        self.options.changed.connect(self._refresh_button)
        self.now.toggled.connect(lambda *_: self._refresh_button())
        self.at.setEnabled(False)
        self.later.toggled.connect(self.at.setEnabled)
        run_task(partial(_choices, ctx), self._fill, owner=self)
        self._refresh_button()

    def _fill(self, values: tuple[list[tuple[int, str]], list[dict[str, Any]]]) -> None:
        accounts, media = values
        self.account.blockSignals(True)
        self.media.blockSignals(True)
        for account_id, username in accounts:
            self.account.addItem(f"@{username}", account_id)
        self.media_rows = media
        for row in media:
            self.media.addItem(str(row["title"] or row["path"]), row["id"])
        self.account.setCurrentIndex(-1)
        self.media.setCurrentIndex(-1)
        self.account.blockSignals(False)
        self.media.blockSignals(False)
        self.filled = True
        self._apply_preselection()

    def preselect(self, media_id: Any, account_id: Any) -> None:
        """Start from a video and an account chosen elsewhere (the job editor); an account
        not connected to the TikTok API is simply not offered."""
        self._wanted = (media_id, account_id)
        if self.filled:
            self._apply_preselection()

    def _apply_preselection(self) -> None:
        media_id, account_id = self._wanted
        if media_id is not None and (index := self.media.findData(media_id)) >= 0:
            self.media.setCurrentIndex(index)
        if account_id is not None and (index := self.account.findData(account_id)) >= 0:
            self.account.setCurrentIndex(index)

    def _media_row(self) -> dict[str, Any] | None:
        media_id = self.media.currentData()
        return next((r for r in self.media_rows if r["id"] == media_id), None)

    def _media_chosen(self) -> None:
        row = self._media_row()
        if row is not None and not self.caption.toPlainText().strip():
            self.caption.setPlainText(row["caption"])
        self._target()

    def _target(self) -> None:
        self.options.set_target(self.account.currentData(), self._media_row())
        self._refresh_button()

    def problems(self) -> list[str]:
        found = []
        if self.account.currentIndex() < 0:
            found.append("Choose an account.")
        if self.media.currentIndex() < 0:
            found.append("Choose a video.")
        return found + [p for p in self.options.problems() if self.account.currentIndex() >= 0]

    def _refresh_button(self) -> None:
        self.post_button.setText("Post to TikTok" if self.now.isChecked() else "Schedule")
        problems = self.problems()
        sent = self.job_id is not None
        self.post_button.setEnabled(not problems and not sent)
        self.post_button.setToolTip(
            "Already sent: see the status above" if sent else (problems[0] if problems else "")
        )

    # --- consent: the button ---------------------------------------------------------------
    def post(self) -> None:
        if self.job_id is not None or self.problems():
            return
        consent_at = datetime.now(UTC)
        options = self.options.options(consent_at)
        at: Any = (
            "now"
            if self.now.isChecked()
            else datetime.fromtimestamp(self.at.dateTime().toSecsSinceEpoch(), UTC)
        )
        values = {
            "account_id": self.account.currentData(),
            "media_id": self.media.currentData(),
            "route": ROUTE,
            "at": at,
            "caption": self.caption.toPlainText(),
            "options": options,
        }
        self.post_button.setEnabled(False)
        self.options.show_status("Saving the post…")
        services = self.ctx.services
        run_task(lambda: services.jobs.add(**values).id, self._added, self._failed, owner=self)

    def _added(self, job_id: int) -> None:
        self.job_id = job_id
        self.ctx.changed("jobs")
        waiting = tc.status_line("queued")
        if self.later.isChecked():
            at = datetime.fromtimestamp(self.at.dateTime().toSecsSinceEpoch(), UTC)
            waiting = f"Scheduled for {fmt.when(at)} (your time). {waiting}"
        self.options.show_status(waiting)
        self._refresh_button()
        self.poll.start()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationError):
            text = f"{exc.field}: {exc.reason}"
        elif isinstance(exc, DomainError):
            text = str(exc)
        else:
            text = mask(str(exc)) or type(exc).__name__
        self.options.show_status(f"Not saved: {text}")
        self._refresh_button()

    # --- afterwards: the status as TikTok reports it ---------------------------------------
    def _ask_status(self) -> None:
        job_id = self.job_id
        if job_id is None:
            return
        services = self.ctx.services

        def read() -> tuple[str, str | None, str | None]:
            job = services.jobs.get(job_id)
            events = services.jobs.events(job_id)
            detail = next((e.message for e in reversed(events) if e.message), None)
            return str(job.status), job.last_error or job.attention_reason, detail

        run_task(read, self._status, lambda _exc: None, owner=self)

    def _status(self, result: tuple[str, str | None, str | None]) -> None:
        status, reason, detail = result
        self.job_status = status
        self.options.show_status(tc.status_line(status, reason=reason, detail=detail))
        if status in {s.value for s in FINAL_JOB_STATUSES}:
            self.poll.stop()
