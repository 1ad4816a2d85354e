"""The TikTok post screen against the real TikTok stand-in: each point of the Content
Sharing Guidelines that docs/tiktok-audit.md maps to it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QPushButton, QWizard

from piper_desktop.domain import tiktok_compliance as tc
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.store.models import Account, MediaItem
from piper_desktop.ui.campaign_wizard import CampaignWizard
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.jobs import JobsPanel
from piper_desktop.ui.tiktok_post_dialog import TikTokPostDialog
from piper_desktop.ui.tiktok_post_options import TikTokPostOptions
from tests.engine.helpers import add_account, add_media, connect_tiktok, make_engine, use_tiktok
from tests.ui.artifacts import save_screen

OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


@pytest.fixture
def tiktok() -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def creator(ctx: AppContext, tiktok: TikTokApiSandbox) -> Account:
    services = ctx.services
    use_tiktok(services, tiktok)
    account = add_account(services, "ana_creates", routes=["tiktok_api"])
    tiktok.set_creator(
        "ana_creates",
        nickname="Ana Creates",
        privacy_level_options=OPTIONS,
        duet_disabled=True,
        max_video_post_duration_sec=3,
    )
    connect_tiktok(services, tiktok, account, time.time())
    return account


@pytest.fixture
def video(ctx: AppContext, tmp_path: Path) -> MediaItem:
    return add_media(ctx.services, tmp_path, "short.mp4", title="Short clip", duration_sec=1.0)


def _dialog(ctx: AppContext, qtbot, account: Account, media: MediaItem) -> TikTokPostDialog:
    dialog = TikTokPostDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.account.count() > 0 and dialog.media.count() > 0)
    dialog.account.setCurrentIndex(dialog.account.findData(account.id))
    dialog.media.setCurrentIndex(dialog.media.findData(media.id))
    qtbot.waitUntil(lambda: dialog.options.creator is not None or bool(dialog.options.stopped))
    return dialog


def _choose(dialog: TikTokPostDialog, level: str) -> None:
    dialog.options.privacy.setCurrentIndex(dialog.options.privacy.findData(level))


def _item(widget: TikTokPostOptions, level: str):
    model = widget.privacy.model()
    assert isinstance(model, QStandardItemModel)
    return model.item(widget.privacy.findData(level))


def _sent(tiktok: TikTokApiSandbox) -> list[str]:
    """What reached the stand-in besides creator_info and the avatar."""
    return [
        r.path
        for r in tiktok.requests
        if "creator_info" not in r.path and not r.path.startswith("/avatar/")
    ]


def test_no_default_privacy_and_exactly_the_creators_options(
    ctx: AppContext,
    qtbot,
    creator: Account,
    video: MediaItem,
    tiktok: TikTokApiSandbox,
    pool_tasks,
) -> None:
    """On the real worker pool: creator_info, the avatar and the frame come off the GUI
    thread."""
    dialog = _dialog(ctx, qtbot, creator, video)
    options = dialog.options
    # point 1a: nickname (and avatar) from a fresh creator_info
    assert "Ana Creates" in options.nickname.text() and "@ana_creates" in options.nickname.text()
    assert not options.avatar.pixmap().isNull()
    assert any("creator_info" in r.path for r in tiktok.requests)
    assert any(r.path.startswith("/avatar/") for r in tiktok.requests)
    # point 2b: exactly the creator's options, nothing chosen
    levels = [options.privacy.itemData(i) for i in range(options.privacy.count())]
    assert levels == OPTIONS
    assert options.privacy.currentIndex() == -1
    assert options.privacy.placeholderText() == "Choose who can view"
    assert not dialog.post_button.isEnabled()
    assert dialog.post_button.toolTip() == "Choose who can view this post."
    # point 2c: interactions unchecked; Duet greyed out with the reason
    for box in (options.comment, options.duet, options.stitch):
        assert not box.isChecked()
    assert options.comment.isEnabled() and options.stitch.isEnabled()
    assert not options.duet.isEnabled()
    assert "turned Duet off" in options.duet.toolTip()
    # point 3: the disclosure is off, no label shown; point 4: the declaration
    assert not options.disclose.isChecked()
    assert options.label_line.isHidden()
    assert "Music Usage Confirmation" in options.consent.text()
    assert tc.MUSIC_USAGE_URL in options.consent.text()
    # point 5: a preview frame and the duration
    qtbot.waitUntil(lambda: not options.frame.pixmap().isNull())
    assert options.duration.text() == "Duration: 0:01; this account may post videos up to 0:03"
    save_screen(dialog, "tiktok-options-empty")
    _choose(dialog, "MUTUAL_FOLLOW_FRIENDS")
    assert dialog.post_button.isEnabled()


def test_branded_content_cannot_be_private(
    ctx: AppContext, qtbot, creator: Account, video: MediaItem
) -> None:
    dialog = _dialog(ctx, qtbot, creator, video)
    options = dialog.options
    assert options.your_brand.isHidden() and options.branded.isHidden()
    options.disclose.setChecked(True)
    # the toggle on, nothing chosen (neither box is checked by default): cannot post,
    # with the guidelines' message, and no label yet
    assert not options.your_brand.isChecked() and not options.branded.isChecked()
    assert options.label_line.isHidden()
    assert options.disclosure_needed.isVisible()
    _choose(dialog, "PUBLIC_TO_EVERYONE")
    assert not dialog.post_button.isEnabled()
    assert dialog.post_button.toolTip() == tc.DISCLOSURE_NEEDED
    options.your_brand.setChecked(True)
    assert options.label_line.text() == "Your photo/video will be labeled as 'Promotional content'"
    assert dialog.post_button.isEnabled()
    options.branded.setChecked(True)
    assert options.label_line.text() == "Your photo/video will be labeled as 'Paid partnership'"
    private = _item(options, "SELF_ONLY")
    assert not private.isEnabled()
    assert private.toolTip() == "Branded content visibility cannot be set to private."
    assert _item(options, "PUBLIC_TO_EVERYONE").isEnabled()
    assert "Branded Content Policy" in options.consent.text()
    assert tc.BRANDED_POLICY_URL in options.consent.text()
    save_screen(dialog, "tiktok-options-branded")
    options.privacy.showPopup()  # the list as the operator sees it: "Only me" greyed out
    popup = options.privacy.view()
    qtbot.waitUntil(popup.isVisible)
    save_screen(popup.window(), "tiktok-options-branded-privacy")
    options.privacy.hidePopup()
    # private chosen first: the branded box is greyed out and says why
    options.branded.setChecked(False)
    _choose(dialog, "SELF_ONLY")
    assert not options.branded.isEnabled()
    assert options.branded_reason.text() == tc.BRANDED_NOT_PRIVATE
    assert options.branded.toolTip() == tc.BRANDED_NOT_PRIVATE


def test_photo_posts_offer_comments_only(
    ctx: AppContext, qtbot, creator: Account, video: MediaItem
) -> None:
    widget = TikTokPostOptions(
        ctx, creator.id, {"path": video.path, "title": "Three photos"}, photo=True
    )
    qtbot.addWidget(widget)
    widget.resize(600, 620)
    widget.show()
    qtbot.waitUntil(lambda: widget.creator is not None)
    assert widget.comment.isVisible()
    assert widget.duet.isHidden() and widget.stitch.isHidden()
    widget.privacy.setCurrentIndex(widget.privacy.findData("PUBLIC_TO_EVERYONE"))
    widget.comment.setChecked(True)
    options = widget.options(datetime.now(UTC))
    assert options["disable_comment"] is False
    assert "disable_duet" not in options and "disable_stitch" not in options
    save_screen(widget, "tiktok-options-photo")


def test_long_video_refused_before_anything_is_sent(
    ctx: AppContext, qtbot, creator: Account, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    long_one = add_media(ctx.services, tmp_path, "long.mp4", title="Long", duration_sec=5.0)
    dialog = _dialog(ctx, qtbot, creator, long_one)
    _choose(dialog, "PUBLIC_TO_EVERYONE")
    line = dialog.options.duration_problem
    assert line.isVisible()
    assert line.text() == (
        "This video lasts 5 s; @ana_creates may post videos of at most 3 s. "
        "Choose a shorter video."
    )
    assert not dialog.post_button.isEnabled()
    dialog.post()  # even asked directly: nothing is stored, nothing is sent
    assert ctx.services.jobs.count() == 0
    assert _sent(tiktok) == []


def test_nothing_sent_without_consent_then_the_status_tiktok_reports(
    ctx: AppContext, qtbot, creator: Account, video: MediaItem, tiktok: TikTokApiSandbox
) -> None:
    dialog = _dialog(ctx, qtbot, creator, video)
    dialog.caption.setPlainText("exactly this title")
    _choose(dialog, "PUBLIC_TO_EVERYONE")
    dialog.options.comment.setChecked(True)
    assert dialog.post_button.isEnabled()
    assert ctx.services.jobs.count() == 0 and _sent(tiktok) == []  # not before the button
    before = datetime.now(UTC).replace(microsecond=0)
    qtbot.mouseClick(dialog.post_button, Qt.MouseButton.LeftButton)
    assert dialog.job_id is not None
    job = ctx.services.jobs.get(dialog.job_id)
    assert job.options["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert datetime.fromisoformat(job.options["consent_at"]) >= before
    assert job.options["disable_comment"] is False and job.options["disable_duet"] is True
    assert not dialog.post_button.isEnabled()  # one consent, one post
    assert _sent(tiktok) == []  # stored for the engine, which sends it
    make_engine(ctx.services, ManualClock(datetime.now(UTC))).run_once()
    qtbot.waitUntil(lambda: dialog.job_status == "published", timeout=10_000)
    status = dialog.options.status.text()
    assert status.startswith("Posted.") and "few minutes" in status
    post = tiktok.posts[0]
    assert post["title"] == "exactly this title"  # the caption as approved
    assert post["privacy_level"] == "PUBLIC_TO_EVERYONE"
    save_screen(dialog, "tiktok-consent-status")


def test_a_creator_who_cannot_post_now_stops_the_screen(
    ctx: AppContext, qtbot, creator: Account, video: MediaItem, tiktok: TikTokApiSandbox
) -> None:
    tiktok.set_creator("ana_creates", posting_refused="spam_risk_too_many_posts")
    dialog = _dialog(ctx, qtbot, creator, video)
    banner = dialog.options.stop_banner
    assert banner.isVisible()
    assert banner.text() == (
        "This account cannot post to TikTok now: the creator has reached TikTok's limit of "
        "posts for today. Try again later."
    )
    assert not dialog.options.settings_box.isEnabled()
    assert not dialog.post_button.isEnabled()
    assert _sent(tiktok) == []


def test_campaign_on_tiktok_api_chooses_once_and_reviews_per_account(
    ctx: AppContext, qtbot, creator: Account, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    services = ctx.services
    services.settings.set("campaigns.default_privacy", "PUBLIC_TO_EVERYONE")  # not applied
    bo = add_account(services, "bo_posts", routes=["tiktok_api"])
    tiktok.set_creator(
        "bo_posts",
        nickname="Bo",
        privacy_level_options=["SELF_ONLY", "PUBLIC_TO_EVERYONE", "FOLLOWER_OF_CREATOR"],
        stitch_disabled=True,
    )
    connect_tiktok(services, tiktok, bo, time.time())
    cy = add_account(services, "cy_capped", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, cy, time.time())
    tiktok.set_creator("cy_capped", posting_refused="reached_active_user_cap")
    for n in range(2):
        add_media(services, tmp_path, f"c{n}.mp4", title=f"Clip {n}")
    wizard = CampaignWizard(ctx)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.media_page.name.setText("Audit")
    wizard.media_page.view.selectAll()
    route = wizard.media_page.route
    route.setCurrentIndex(route.findData("tiktok_api"))
    wizard.next()
    accounts = wizard.accounts_page
    accounts.view.selectAll()
    wizard.next()
    wizard.next()
    schedule = wizard.schedule_page
    options = schedule.tiktok
    assert schedule.tiktok_mode and options is not None and options.isVisible()
    qtbot.waitUntil(lambda: not options.loading)
    # the refusing account is flagged and stops the campaign until it is left out
    assert "@cy_capped cannot post to TikTok now" in options.stop_banner.text()
    assert not schedule.isComplete()
    view = accounts.view
    model = accounts.model
    wizard.back()
    wizard.back()
    view.clearSelection()
    for row in range(model.rowCount()):
        if model.row(row)["username"] != "cy_capped":
            view.selectionModel().select(
                model.index(row, 0),
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
    wizard.next()
    wizard.next()
    qtbot.waitUntil(lambda: not options.loading and options.creator is not None)
    assert not options.stopped
    # privacy: what both offer, nothing chosen (the setting's default does not apply)
    levels = [options.privacy.itemData(i) for i in range(options.privacy.count())]
    assert levels == ["PUBLIC_TO_EVERYONE", "SELF_ONLY"]
    assert options.privacy.currentIndex() == -1 and not schedule.isComplete()
    # Duet (ana) and Stitch (bo) greyed out: one account has each turned off
    assert not options.duet.isEnabled() and not options.stitch.isEnabled()
    assert options.comment.isEnabled()
    options.privacy.setCurrentIndex(options.privacy.findData("PUBLIC_TO_EVERYONE"))
    options.comment.setChecked(True)
    options.disclose.setChecked(True)
    options.your_brand.setChecked(True)
    assert schedule.isComplete()
    wizard.resize(900, 900)
    save_screen(wizard, "tiktok-campaign-options")
    wizard.next()
    review = wizard.review_page
    qtbot.waitUntil(lambda: bool(review.planned))
    text = review.tiktok_review.text()
    assert "@ana_creates: Who can view: Everyone · Comment on · Duet off · Stitch off" in text
    assert "@bo_posts: Who can view: Everyone · Comment on" in text
    assert "&#x27;Promotional content&#x27;" in text or "'Promotional content'" in text
    assert "Music Usage Confirmation" in text
    wizard.resize(900, 720)
    save_screen(wizard, "tiktok-campaign-review")
    before = datetime.now(UTC).replace(microsecond=0)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.created is not None, wizard.error_text
    campaign = services.campaigns.get(wizard.created.id)
    assert campaign.options["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert campaign.options["brand_organic_toggle"] is True
    assert datetime.fromisoformat(campaign.options["consent_at"]) >= before
    jobs = services.jobs.list(campaign_id=campaign.id)
    assert jobs and all(j.options["consent_at"] == campaign.options["consent_at"] for j in jobs)
    assert _sent(tiktok) == []  # created and scheduled; the engine sends at the slots


def test_jobs_panel_opens_new_tiktok_post_with_only_connected_accounts(
    ctx: AppContext, qtbot, creator: Account, video: MediaItem
) -> None:
    add_account(ctx.services, "not_connected_yet", routes=["tiktok_api"])
    panel = JobsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    button = next(b for b in panel.findChildren(QPushButton) if b.text() == "New TikTok post…")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = panel.tiktok_dialog
    assert isinstance(dialog, TikTokPostDialog) and dialog.isVisible()
    names = [dialog.account.itemText(i) for i in range(dialog.account.count())]
    assert names == ["@ana_creates"]
    assert dialog.account.currentIndex() == -1 and dialog.media.currentIndex() == -1
    assert not dialog.post_button.isEnabled()
    assert dialog.post_button.toolTip() == "Choose an account."


def test_with_compliance_off_a_tiktok_campaign_keeps_the_plain_defaults(
    ctx: AppContext, qtbot, creator: Account, video: MediaItem
) -> None:
    ctx.services.settings.set("campaigns.default_privacy", "FOLLOWER_OF_CREATOR")
    wizard = CampaignWizard(ctx)
    qtbot.addWidget(wizard)
    schedule = wizard.schedule_page
    schedule.compliance = False  # what tiktok.compliance_mode = off gives
    wizard.show()
    wizard.media_page.name.setText("Own audited flow")
    wizard.media_page.view.selectAll()
    route = wizard.media_page.route
    route.setCurrentIndex(route.findData("tiktok_api"))
    wizard.next()
    wizard.accounts_page.view.selectAll()
    wizard.next()
    wizard.next()
    assert not schedule.tiktok_mode
    assert schedule.tiktok is not None and schedule.tiktok.isHidden()
    assert schedule.privacy.currentData() == "FOLLOWER_OF_CREATOR"
    assert schedule.isComplete()
    assert schedule.options()["privacy_level"] == "FOLLOWER_OF_CREATOR"


def test_schedule_is_the_consent_too_and_sends_nothing_now(
    ctx: AppContext, qtbot, creator: Account, video: MediaItem, tiktok: TikTokApiSandbox
) -> None:
    dialog = _dialog(ctx, qtbot, creator, video)
    dialog.later.setChecked(True)
    assert dialog.post_button.text() == "Schedule"
    dialog.at.setDateTime(dialog.at.dateTime().addDays(1))
    _choose(dialog, "SELF_ONLY")
    qtbot.mouseClick(dialog.post_button, Qt.MouseButton.LeftButton)
    job = ctx.services.jobs.get(dialog.job_id)
    assert job.status == "queued" and job.options["privacy_level"] == "SELF_ONLY"
    assert job.scheduled_at.timestamp() == dialog.at.dateTime().toSecsSinceEpoch()
    assert "consent_at" in job.options
    assert dialog.options.status.text().startswith("Scheduled for ")
    assert _sent(tiktok) == []
