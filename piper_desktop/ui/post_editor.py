"""The job editor: "New post" (one job: media, account, route, time, caption, privacy)
and "Edit" on a selected job, with the post preview (ui/post_preview.py) and AI caption
suggestions (ui/caption_suggestions.py) beside the caption.

An existing job's caption, time and route can change until it is claimed
(`JobService.edit`, the life cycle's `edit` and `change_route` moves). A job that is
claimed or later opens read-only and says why; a claim that lands while the dialog is
open makes Save refuse with one line (the domain's guarded write, not this dialog's
earlier read, decides).

Route-specific options: `route_options` is a QStackedWidget with one page per route.
Another module fills a route's page with `set_route_options(route, widget)` (e.g. the
TikTok API route's creator-info / privacy / disclosure / consent widget); the page
shown follows the route combo. Such a widget may offer `options() -> dict` (merged
into the new job's options) and `ready() -> str | None` (why Save must wait, or None).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain import lifecycle
from ..domain import tiktok_compliance as tc
from ..domain.errors import DomainError
from ..domain.jobs import PRIVACY_ALIASES
from ..store.enums import JobRoute
from .caption_suggestions import CaptionSuggestions
from .context import AppContext
from .post_preview import PostPreview
from .tasks import run_task

# the statuses an operator may still edit (the life cycle's edit move owns the rule)
EDITABLE = lifecycle.TABLE["edit"].sources
ROUTE_LABELS = {
    JobRoute.TIKTOK_API.value: "TikTok API",
    JobRoute.UPLOAD_POST.value: "Upload-Post",
    JobRoute.BROWSER.value: "Browser (TikTok Studio)",
}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if isinstance(exc, DomainError) and text else f"{type(exc).__name__}: {text}"


class TikTokHandOff(QWidget):
    """A new post on the TikTok API, with compliance mode on, is made on the TikTok post
    screen (ui/tiktok_post_dialog.py): it shows the creator's own privacy levels,
    interactions, disclosure and the consent TikTok's audit asks for, which this generic
    editor does not. Saving here waits; the button takes the video and account there."""

    def __init__(self, editor: PostEditor) -> None:
        super().__init__()
        self.editor = editor
        self.dialog: QDialog | None = None
        text = QLabel(HAND_OFF)
        text.setWordWrap(True)
        button = QPushButton("Open the TikTok post screen")
        button.setObjectName("openTikTokPost")
        button.clicked.connect(self.open_tiktok_post)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(text)
        layout.addWidget(button)

    def ready(self) -> str | None:
        return HAND_OFF

    def open_tiktok_post(self) -> None:
        from .tiktok_post_dialog import TikTokPostDialog

        parent = self.editor.parentWidget()
        self.dialog = TikTokPostDialog(self.editor.ctx, parent)
        self.dialog.preselect(self.editor.media.currentData(), self.editor.account.currentData())
        self.dialog.show()
        self.editor.reject()


HAND_OFF = (
    "A post through the TikTok API is made on the TikTok post screen: it shows the "
    "creator's own privacy choices, interactions, disclosure and consent, as TikTok asks."
)


class PostEditor(QDialog):
    """PostEditor(ctx) for a new post; PostEditor(ctx, job_id=N) to edit job N."""

    def __init__(
        self, ctx: AppContext, job_id: int | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job_id = job_id
        self.read_only_reason: str | None = None
        self.saved: dict[str, Any] | None = None
        self._media_rows: dict[int, dict[str, Any]] = {}
        self.setWindowTitle("New post" if job_id is None else f"Edit job #{job_id}")
        self.setObjectName("postEditor")

        self.media = QComboBox()
        self.account = QComboBox()
        self.route = QComboBox()
        for value, label in ROUTE_LABELS.items():
            self.route.addItem(label, value)
        self.when = QDateTimeEdit(QDateTime.currentDateTime())
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.privacy = QComboBox()
        self.privacy.addItem("(the route's default)", None)
        for alias, level in PRIVACY_ALIASES.items():
            self.privacy.addItem(alias.capitalize(), level)
        self.caption = QPlainTextEdit()
        self.caption.setObjectName("captionEdit")
        self.caption.setPlaceholderText("The post's text, with its #hashtags")
        self.preview = PostPreview()
        self.suggest = CaptionSuggestions(ctx.services, self.caption.setPlainText)
        self.route_options = QStackedWidget()
        self._route_pages: dict[str, int] = {}
        for value in ROUTE_LABELS:
            self._route_pages[value] = self.route_options.addWidget(QWidget())
        self.notice = QLabel()
        self.notice.setObjectName("editorNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.error = QLabel()
        self.error.setObjectName("editorError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d13438")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Video", self.media)
        form.addRow("Account", self.account)
        form.addRow("Route", self.route)
        form.addRow("Time", self.when)
        form.addRow("Privacy", self.privacy)
        form.addRow("Caption", self.caption)
        form.addRow("", self.suggest)
        left = QVBoxLayout()
        left.addWidget(self.notice)
        left.addLayout(form)
        left.addWidget(self.route_options)
        right = QVBoxLayout()
        right.addWidget(QLabel("<b>As it will look</b>"))
        right.addWidget(self.preview)
        right.addStretch(1)
        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self.caption.textChanged.connect(self._caption_changed)
        self.route.currentIndexChanged.connect(self._route_changed)
        self.media.currentIndexChanged.connect(self._media_changed)
        self.account.currentIndexChanged.connect(self._media_changed)
        self.resize(900, 560)
        if job_id is None and tc.compliance_on(ctx.services.settings.get):
            self.set_route_options(JobRoute.TIKTOK_API.value, TikTokHandOff(self))
        self._route_changed()
        self._load()

    # --- route-specific options -----------------------------------------------------------
    def set_route_options(self, route: str, widget: QWidget) -> None:
        """Put `widget` on `route`'s page of the route options (shown while that route is
        chosen); it replaces whatever the page held."""
        index = self._route_pages[route]
        old = self.route_options.widget(index)
        if old is not None:
            self.route_options.removeWidget(old)
            old.deleteLater()
        self.route_options.insertWidget(index, widget)
        self._route_changed()

    def route_options_widget(self, route: str) -> QWidget | None:
        return self.route_options.widget(self._route_pages[route])

    # --- loading --------------------------------------------------------------------------
    def _load(self) -> None:
        services, job_id = self.ctx.services, self.job_id

        def work() -> dict[str, Any]:
            media = [
                {"id": m.id, "title": m.title, "path": m.path, "sha256": m.sha256}
                for m in services.media.list()
            ]
            accounts = [(a.id, a.username) for a in services.accounts.list()]
            job = services.jobs.to_dict(services.jobs.get(job_id)) if job_id is not None else None
            return {"media": media, "accounts": accounts, "job": job}

        run_task(work, self._loaded, lambda exc: self.error.setText(_one_line(exc)), owner=self)

    def _loaded(self, found: dict[str, Any]) -> None:
        for row in found["media"]:
            self._media_rows[row["id"]] = row
            self.media.addItem(row["title"] or row["path"], row["id"])
        for account_id, username in found["accounts"]:
            self.account.addItem(f"@{username}", account_id)
        job = found["job"]
        if job is not None:
            self._show_job(job)
        self._media_changed()

    def _show_job(self, job: dict[str, Any]) -> None:
        self.media.setCurrentIndex(max(0, self.media.findData(job["media_id"])))
        self.account.setCurrentIndex(max(0, self.account.findData(job["account_id"])))
        self.route.setCurrentIndex(max(0, self.route.findData(job["route"])))
        at = job.get("scheduled_at")
        if at:
            moment = datetime.fromisoformat(str(at))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            self.when.setDateTime(QDateTime.fromSecsSinceEpoch(int(moment.timestamp())))
        privacy = (job.get("options") or {}).get("privacy_level")
        self.privacy.setCurrentIndex(max(0, self.privacy.findData(privacy)))
        self.caption.setPlainText(job.get("caption") or "")
        # what a job already made keeps: its video, account and options
        for widget in (self.media, self.account, self.privacy):
            widget.setEnabled(False)
        if job["status"] not in EDITABLE:
            self._read_only(
                f"Job #{job['id']} is {job['status']}: it can be edited only before it is "
                "claimed, so this view is read-only."
            )

    def _read_only(self, reason: str) -> None:
        self.read_only_reason = reason
        self.notice.setText(reason)
        self.notice.setVisible(True)
        self.caption.setReadOnly(True)
        for widget in (self.when, self.route, self.suggest, self.route_options):
            widget.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)

    # --- following the inputs -------------------------------------------------------------
    def _caption_changed(self) -> None:
        self.preview.set_caption(self.caption.toPlainText())

    def _route_changed(self) -> None:
        route = str(self.route.currentData())
        self.route_options.setCurrentIndex(self._route_pages[route])
        self.preview.set_route(route)

    def _media_changed(self) -> None:
        media_id = self.media.currentData()
        self.preview.set_media(self._media_rows.get(media_id) if media_id is not None else None)
        self.suggest.set_target(media_id, self.account.currentData())

    # --- saving ---------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        at = datetime.fromtimestamp(self.when.dateTime().toSecsSinceEpoch(), UTC)
        return {
            "route": str(self.route.currentData()),
            "at": at,
            "caption": self.caption.toPlainText(),
        }

    def save(self) -> None:
        if self.read_only_reason is not None:
            return
        values = self.values()
        extra = self.route_options.currentWidget()
        ready = getattr(extra, "ready", None)
        why = ready() if callable(ready) else None
        if why:
            self.error.setText(str(why))
            return
        services, job_id = self.ctx.services, self.job_id
        if job_id is None:
            if self.media.currentData() is None or self.account.currentData() is None:
                self.error.setText("Choose a video and an account")
                return
            options: dict[str, Any] = {}
            if self.privacy.currentData():
                options["privacy_level"] = self.privacy.currentData()
            more = getattr(extra, "options", None)
            if callable(more):
                options.update(more())
            media_id, account_id = int(self.media.currentData()), int(self.account.currentData())

            def work() -> dict[str, Any]:
                job = services.jobs.add(
                    account_id=account_id,
                    media_id=media_id,
                    route=values["route"],
                    at=values["at"].isoformat(),
                    caption=values["caption"],
                    options=options,
                )
                return services.jobs.to_dict(job)
        else:

            def work() -> dict[str, Any]:
                job = services.jobs.edit(
                    job_id,
                    caption=values["caption"],
                    scheduled_at=values["at"],
                    route=values["route"],
                )
                return services.jobs.to_dict(job)

        self.buttons.setEnabled(False)
        self.error.clear()
        run_task(work, self._saved, self._refused, owner=self)

    def _saved(self, job: dict[str, Any]) -> None:
        self.saved = job
        self.ctx.changed("jobs")
        self.ctx.success(
            f"Job #{job['id']} saved" if self.job_id is not None else f"Job #{job['id']} queued"
        )
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(_one_line(exc))
