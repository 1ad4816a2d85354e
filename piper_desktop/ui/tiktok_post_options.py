"""The post options of a tiktok_api post, laid out as TikTok's Content Sharing
Guidelines ("Required UX implementation in your app") ask, point by point:

1. creator_info asked fresh when the widget shows (a worker, ui/tasks.py): the
   creator's avatar and nickname; a creator who cannot post now stops the screen with
   the reason; the video's duration against max_video_post_duration_sec.
2. privacy: exactly the creator's privacy_level_options, nothing chosen ("Choose who can
   view"); Comment / Duet / Stitch unchecked, greyed out with a tooltip where the
   creator turned them off (photo posts: Comment only).
3. commercial content disclosure: the toggle, then "Your brand" / "Branded content" with
   the label the post will carry; branded content cannot be private.
4. the declaration (Music Usage Confirmation, plus Branded Content Policy), with links.
5. a preview (a frame and the duration); the host's Post / Schedule button is the
   consent (enabled only when `ready()`); afterwards `show_status` says what TikTok
   reports.

The rules themselves live in domain/tiktok_compliance.py; this module only shows them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap, QShowEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..domain import tiktok_compliance as tc
from ..logs import mask
from . import formatting as fmt
from .context import AppContext
from .tasks import run_task
from .thumbnails import first_frame

AVATAR = 44
PREVIEW_WIDTH = 160
PREVIEW_HEIGHT = 160


def _fetch(ctx: AppContext, account_id: int) -> Any:
    from ..routes.tiktok_api.creator import fetch_creator

    return fetch_creator(ctx.services, account_id)


class TikTokPostOptions(QWidget):
    """One account, one video (or photo set). `changed` fires whenever `ready()` or
    `problems()` may have changed."""

    changed = Signal()

    def __init__(
        self,
        ctx: AppContext,
        account_id: int | None = None,
        media: dict[str, Any] | None = None,
        *,
        photo: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("tiktok_post_options")
        self.ctx = ctx
        self.account_id = account_id
        self.media = media or {}
        self.photo = photo
        self.creator: Any = None  # clients/tiktok.CreatorInfo once fetched
        self.stopped: str | None = None  # why the creator cannot post now
        self.loading = False
        self._asked_for: int | None = None
        outer = QVBoxLayout(self)

        # 1. who posts
        head = QHBoxLayout()
        self.avatar = QLabel()
        self.avatar.setObjectName("tiktok_avatar")
        self.avatar.setFixedSize(AVATAR, AVATAR)
        self.nickname = QLabel("Asking TikTok who this account posts as…")
        self.nickname.setObjectName("tiktok_nickname")
        self.nickname.setWordWrap(True)
        head.addWidget(self.avatar)
        head.addWidget(self.nickname, 1)
        outer.addLayout(head)
        self.stop_banner = QLabel("")
        self.stop_banner.setObjectName("tiktok_cannot_post")
        self.stop_banner.setProperty("level", "error")
        self.stop_banner.setWordWrap(True)
        self.stop_banner.hide()
        outer.addWidget(self.stop_banner)

        # 5. preview: a frame and the duration, with the duration's check (1c)
        preview = QHBoxLayout()
        self.frame = QLabel("No preview")
        self.frame.setObjectName("tiktok_preview")
        self.frame.setFixedSize(PREVIEW_WIDTH, PREVIEW_HEIGHT)
        self.frame.setAlignment(Qt.AlignmentFlag.AlignCenter)
        facts = QVBoxLayout()
        self.media_title = QLabel("")
        self.media_title.setWordWrap(True)
        self.duration = QLabel("")
        self.duration.setObjectName("tiktok_duration")
        self.duration_problem = QLabel("")
        self.duration_problem.setObjectName("tiktok_duration_problem")
        self.duration_problem.setProperty("level", "error")
        self.duration_problem.setWordWrap(True)
        self.duration_problem.hide()
        for widget in (self.media_title, self.duration, self.duration_problem):
            facts.addWidget(widget)
        facts.addStretch(1)
        preview.addWidget(self.frame)
        preview.addLayout(facts, 1)
        outer.addLayout(preview)

        # 2. privacy and interactions
        self.settings_box = QWidget()
        form = QFormLayout(self.settings_box)
        form.setContentsMargins(0, 0, 0, 0)
        self.privacy = QComboBox()
        self.privacy.setObjectName("tiktok_privacy")
        self.privacy.setPlaceholderText(tc.PRIVACY_PLACEHOLDER)
        self.privacy.setMinimumContentsLength(22)
        form.addRow("Who can view this post", self.privacy)
        allow = QHBoxLayout()
        self.comment = QCheckBox("Comment")
        self.comment.setObjectName("tiktok_allow_comment")
        self.duet = QCheckBox("Duet")
        self.duet.setObjectName("tiktok_allow_duet")
        self.stitch = QCheckBox("Stitch")
        self.stitch.setObjectName("tiktok_allow_stitch")
        for box in (self.comment, self.duet, self.stitch):
            allow.addWidget(box)
        allow.addStretch(1)
        form.addRow("Allow users to", allow)

        # 3. commercial content disclosure
        disclosure = QGroupBox("Disclose post content")
        disclosure.setObjectName("tiktok_disclosure")
        lay = QVBoxLayout(disclosure)
        self.disclose = QCheckBox("Disclose that this post promotes goods or services")
        self.disclose.setObjectName("tiktok_disclose")
        disclose_hint = QLabel(
            "Turn on to disclose that this post promotes goods or services in exchange for "
            "something of value. It could promote yourself, a third party, or both."
        )
        disclose_hint.setObjectName("Hint")
        disclose_hint.setWordWrap(True)
        self.your_brand = QCheckBox("Your brand")
        self.your_brand.setObjectName("tiktok_your_brand")
        self.your_brand.setToolTip(
            "You are promoting yourself or your own business. The post will be "
            "classified as Brand Organic."
        )
        self.branded = QCheckBox("Branded content")
        self.branded.setObjectName("tiktok_branded_content")
        self.branded_hint = (
            "You are promoting another brand or a third party. The post will be "
            "classified as Branded Content."
        )
        self.branded_reason = QLabel("")
        self.branded_reason.setObjectName("tiktok_branded_reason")
        self.branded_reason.setWordWrap(True)
        self.branded_reason.hide()
        self.label_line = QLabel("")
        self.label_line.setObjectName("tiktok_disclosure_label")
        self.label_line.setWordWrap(True)
        self.label_line.hide()
        self.disclosure_needed = QLabel(tc.DISCLOSURE_NEEDED)
        self.disclosure_needed.setObjectName("tiktok_disclosure_needed")
        self.disclosure_needed.setProperty("level", "error")
        self.disclosure_needed.setWordWrap(True)
        self.disclosure_needed.hide()
        part: QWidget
        for part in (
            self.disclose,
            disclose_hint,
            self.your_brand,
            self.branded,
            self.branded_reason,
            self.label_line,
            self.disclosure_needed,
        ):
            lay.addWidget(part)
        form.addRow(disclosure)
        outer.addWidget(self.settings_box)

        # 4. the declaration, right above the host's button
        self.consent = QLabel("")
        self.consent.setObjectName("tiktok_consent")
        self.consent.setWordWrap(True)
        self.consent.setTextFormat(Qt.TextFormat.RichText)
        self.consent.setOpenExternalLinks(False)
        self.consent.linkActivated.connect(ctx.open_url)
        outer.addWidget(self.consent)
        self.status = QLabel("")
        self.status.setObjectName("tiktok_status")
        self.status.setProperty("level", "banner")
        self.status.setWordWrap(True)
        self.status.hide()
        outer.addWidget(self.status)
        outer.addStretch(1)

        self.privacy.currentIndexChanged.connect(lambda *_: self._update())
        for box in (self.comment, self.duet, self.stitch, self.your_brand, self.branded):
            box.toggled.connect(lambda *_: self._update())
        self.disclose.toggled.connect(lambda *_: self._update())
        self._show_media()
        self._update()

    # --- what the host asks --------------------------------------------------------------
    def choice(self) -> tc.Choice:
        level = self.privacy.currentData() if self.privacy.currentIndex() >= 0 else None
        return tc.Choice(
            privacy_level=level,
            allow_comment=self.comment.isChecked(),
            allow_duet=self.duet.isChecked() and not self.photo,
            allow_stitch=self.stitch.isChecked() and not self.photo,
            disclose=self.disclose.isChecked(),
            your_brand=self.your_brand.isChecked(),
            branded_content=self.branded.isChecked(),
        )

    def problems(self) -> list[str]:
        if self.stopped:
            return [self.stopped]
        if self.creator is None:
            return ["Waiting for TikTok's creator info."]
        return self.duration_problems() + tc.problems(
            self.creator, self.choice(), None, photo=self.photo
        )

    def duration_problems(self) -> list[str]:
        """The video against the creator's max_video_post_duration_sec (point 1c)."""
        if self.creator is None:
            return []
        line = tc.duration_problem(self.creator, self._duration(), photo=self.photo)
        return [line] if line else []

    def ready(self) -> bool:
        return not self.problems()

    def options(self, consent_at: Any) -> dict[str, Any]:
        """The job's options, with the moment of consent (the host's button press)."""
        return tc.to_options(self.choice(), consent_at, photo=self.photo)

    def show_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def set_target(
        self, account_id: int | None, media: dict[str, Any] | None, *, photo: bool = False
    ) -> None:
        """Another account or video: creator_info is asked again for a new account."""
        media_changed = (media or {}) != self.media
        self.media = media or {}
        self.photo = photo
        if account_id != self.account_id:
            self.account_id = account_id
            self.creator = None
            self.stopped = None
            self._asked_for = None
            self.privacy.clear()
            if self.isVisible():
                self.refresh()
        if media_changed:
            self._show_media()
        self._update()

    # --- creator_info ----------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.account_id is not None and self._asked_for != self.account_id:
            self.refresh()

    def refresh(self) -> None:
        """Ask TikTok for the creator's settings now (the guidelines: every time the
        post screen is shown)."""
        if self.account_id is None:
            return
        self._asked_for = self.account_id
        self.loading = True
        self.nickname.setText("Asking TikTok who this account posts as…")
        run_task(
            partial(_fetch, self.ctx, self.account_id),
            partial(self._arrived, self.account_id),
            partial(self._failed, self.account_id),
            owner=self,
        )

    def _arrived(self, account_id: int, view: Any) -> None:
        if account_id != self.account_id:
            return  # an answer for an account no longer shown
        self.loading = False
        self.stopped = None
        creator = view.creator
        self.show_creator(
            creator,
            view.avatar,
            f"Posting to TikTok as <b>{escape_html(creator.nickname or creator.username)}</b> "
            f"(@{escape_html(creator.username)})",
        )

    def show_creator(self, creator: Any, avatar: bytes | None, header: str) -> None:
        """Lay the controls out for this creator's settings, nothing chosen."""
        self.creator = creator
        self.nickname.setText(header)
        picture = QPixmap()
        if avatar and picture.loadFromData(avatar):
            self.avatar.setPixmap(
                picture.scaled(
                    AVATAR,
                    AVATAR,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        self.privacy.blockSignals(True)
        self.privacy.clear()
        for offer in tc.privacy_offers(creator, tc.Choice()):
            self.privacy.addItem(offer.label, offer.value)
        self.privacy.setCurrentIndex(-1)  # no default: the operator chooses
        self.privacy.blockSignals(False)
        for box, offer in zip(
            (self.comment, self.duet, self.stitch),
            tc.interaction_offers(creator, photo=False),
            strict=True,
        ):
            box.setChecked(False)
            box.setEnabled(offer.enabled)
            box.setToolTip(offer.reason or f"Let viewers {offer.label.lower()} on this post")
        self._update()

    def _failed(self, account_id: int, exc: BaseException) -> None:
        if account_id != self.account_id:
            return
        self.loading = False
        self.creator = None
        self.stopped = f"This account {refusal(exc)}"
        self.nickname.setText("TikTok did not say who this account posts as.")
        self._update()

    # --- showing ---------------------------------------------------------------------------
    def _duration(self) -> float | None:
        value = self.media.get("duration_sec")
        return float(value) if value is not None else None

    def duration_text(self) -> str:
        """The video's duration, and the creator's limit once known (postiz #1362: the
        creator's posting limits belong on the screen)."""
        parts = []
        duration = self._duration()
        if duration and not self.photo:
            parts.append(f"Duration: {fmt.duration(duration)}")
        limit = getattr(self.creator, "max_video_post_duration_sec", None)
        if limit and not self.photo:
            parts.append(f"this account may post videos up to {fmt.duration(limit)}")
        return "; ".join(parts)

    def _show_media(self) -> None:
        path = self.media.get("path")
        self.media_title.setText(str(self.media.get("title") or path or ""))
        self.frame.setText("No preview")
        self.frame.setPixmap(QPixmap())
        if path:
            run_task(partial(first_frame, str(path)), partial(self._frame, path), owner=self)

    def _frame(self, path: str, data: bytes | None) -> None:
        picture = QPixmap()
        if path == self.media.get("path") and data and picture.loadFromData(data):
            self.frame.setPixmap(
                picture.scaled(
                    PREVIEW_WIDTH,
                    PREVIEW_HEIGHT,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def _update(self) -> None:
        choice = self.choice()
        creator = self.creator
        live = creator is not None and not self.stopped
        self.stop_banner.setText(self.stopped or "")
        self.stop_banner.setVisible(bool(self.stopped))
        self.settings_box.setEnabled(live)
        self.duet.setVisible(not self.photo)
        self.stitch.setVisible(not self.photo)
        if creator is not None:
            model = self.privacy.model()
            assert isinstance(model, QStandardItemModel)
            for row, offer in enumerate(tc.privacy_offers(creator, choice)):
                item = model.item(row)
                if item is not None:
                    item.setEnabled(offer.enabled)
                    item.setToolTip(offer.reason or "")
        self.duration.setText(self.duration_text())
        too_long = "\n".join(self.duration_problems())
        self.duration_problem.setText(too_long)
        self.duration_problem.setVisible(bool(too_long))
        # disclosure: the two boxes only with the toggle on; branded never private
        self.your_brand.setVisible(choice.disclose)
        self.branded.setVisible(choice.disclose)
        branded = tc.branded_offer(choice)
        self.branded.setEnabled(branded.enabled)
        self.branded.setToolTip(branded.reason or self.branded_hint)
        self.branded_reason.setText(branded.reason or "")
        self.branded_reason.setVisible(choice.disclose and not branded.enabled)
        label = tc.disclosure_label(choice)
        self.label_line.setText(label or "")
        self.label_line.setVisible(bool(label))
        self.disclosure_needed.setVisible(
            choice.disclose and not (choice.your_brand or choice.branded_content)
        )
        self.consent.setText(tc.consent_html(choice))
        self.changed.emit()


def refusal(exc: BaseException) -> str:
    """Why creator_info gave no answer, to follow "This account": cannot post now (the
    guidelines' stop, point 1b) or could not be asked."""
    reason = tc.cannot_post_reason(getattr(exc, "code", None))
    if reason:
        return f"cannot post to TikTok now: {reason}. Try again later."
    text = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    return f"could not be asked about on TikTok: {mask(str(text))}"


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
