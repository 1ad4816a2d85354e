"""The post as it will look: the preview (counts, overflow, hashtags), the job editor
(edit until claimed, read-only after, a claim while open makes Save refuse), and caption
suggestions from the OpenRouter stand-in (pick one; its error variants)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLabel

from piper_desktop.domain.services import Services
from piper_desktop.routes.registry import default_routes
from piper_desktop.sandbox.openrouter import OpenRouterSandbox
from piper_desktop.store.models import Job
from piper_desktop.ui.caption_suggestions import CaptionSuggestions
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.campaigns import CampaignsPanel
from piper_desktop.ui.panels.jobs import JobsPanel
from piper_desktop.ui.post_editor import PostEditor
from piper_desktop.ui.post_preview import PostPreview, caption_limits, hashtags, utf16_length
from tests.conftest import make_video
from tests.engine.helpers import add_account, add_media
from tests.ui.artifacts import save_screen


@pytest.fixture
def openrouter() -> Iterator[OpenRouterSandbox]:
    with OpenRouterSandbox() as sandbox:
        yield sandbox  # type: ignore[misc]


def _job(services: Services, tmp_path: Path, name: str, route: str = "tiktok_api") -> int:
    account = add_account(services, name)
    media = add_media(services, tmp_path, f"{name}.mp4", title=f"{name} clip")
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route=route, at="auto", caption="old #one"
    )
    return job.id


def _claim(services: Services, job_id: int) -> None:
    # what the claim pass leaves: claimed, a live lease
    with services.db.write() as session:
        row = session.get(Job, job_id)
        assert row is not None
        row.status = "claimed"
        row.lease_owner = "engine-1"
        row.lease_expires_at = datetime.now(UTC) + timedelta(minutes=5)


# --- the preview ---------------------------------------------------------------------------
def test_limits_come_from_the_routes() -> None:
    assert caption_limits("tiktok_api") == {"tiktok": 2200}
    assert default_routes().get("tiktok_api").caption_limits["tiktok"] == 2200
    assert caption_limits("upload_post", ["tiktok", "youtube"]) == {"tiktok": 2200, "youtube": 100}
    # an emoji outside the BMP is two UTF-16 units, as TikTok counts
    assert utf16_length("a😀") == 3
    assert hashtags("go #spring and #launch, #spring again") == ["#spring", "#launch"]


def test_preview_counts_hashtags_and_names_the_overflow(qtbot, tmp_path: Path) -> None:
    preview = PostPreview()
    qtbot.addWidget(preview)
    preview.set_route("upload_post", ["tiktok", "youtube"])
    preview.set_caption("Sunrise run #fitness #morning")
    assert [c.text() for c in preview.count_rows()] == ["tiktok: 29/2200", "youtube: 29/100"]
    assert preview.overflow() == []
    assert "#fitness #morning" in preview.tags.text() and "(2)" in preview.tags.text()
    assert "#d13438" not in preview.counts.text()
    preview.set_caption("x" * 120 + " #long")
    over = preview.overflow()
    assert [(c.platform, c.over) for c in over] == [("youtube", 26)]
    assert "youtube: 126/100 — 26 over" in preview.counts.text()
    assert "#d13438" in preview.counts.text()  # red
    assert "youtube takes at most 100" in preview.counts.toolTip()
    preview.set_caption("😀" * 1101)  # 2202 UTF-16 units
    assert [c.platform for c in preview.overflow()] == ["tiktok", "youtube"]


def test_preview_screen(qtbot, services: Services, tmp_path: Path) -> None:
    media = add_media(services, tmp_path, "frame.mp4", title="frame")
    preview = PostPreview()
    qtbot.addWidget(preview)
    preview.resize(560, 200)
    preview.set_media({"id": media.id, "path": media.path, "sha256": media.sha256})
    preview.set_route("upload_post", ["tiktok", "youtube"])
    preview.set_caption("Morning light over the bay, shot on the first ferry " * 2 + "#sea #travel")
    assert preview.overflow() and preview.overflow()[0].platform == "youtube"
    save_screen(preview, "post-preview")


# --- the editor ------------------------------------------------------------------------------
def test_edit_works_on_a_queued_job(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    job_id = _job(ctx.services, tmp_path, "queuer")
    editor = PostEditor(ctx, job_id=job_id)
    qtbot.addWidget(editor)
    assert editor.read_only_reason is None
    assert editor.caption.toPlainText() == "old #one"
    assert "tiktok: 8/2200" in editor.preview.counts.text()
    editor.caption.setPlainText("new #two #three")
    assert "#two #three" in editor.preview.tags.text()
    editor.route.setCurrentIndex(editor.route.findData("upload_post"))
    editor.save()
    assert editor.saved is not None and editor.result() == editor.DialogCode.Accepted
    job = ctx.services.jobs.get(job_id)
    assert (job.caption, job.route) == ("new #two #three", "upload_post")


def test_a_claimed_job_opens_read_only_and_says_why(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    job_id = _job(ctx.services, tmp_path, "busy")
    _claim(ctx.services, job_id)
    editor = PostEditor(ctx, job_id=job_id)
    qtbot.addWidget(editor)
    assert editor.read_only_reason and "claimed" in editor.read_only_reason
    assert editor.notice.isVisibleTo(editor) and "read-only" in editor.notice.text()
    assert editor.caption.isReadOnly() and not editor.route.isEnabled()
    assert not editor.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()


def test_a_claim_between_open_and_save_refuses_in_one_line(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    job_id = _job(ctx.services, tmp_path, "racer")
    editor = PostEditor(ctx, job_id=job_id)
    qtbot.addWidget(editor)
    assert editor.read_only_reason is None
    editor.caption.setPlainText("too late")
    _claim(ctx.services, job_id)
    editor.save()
    assert editor.saved is None and editor.result() != editor.DialogCode.Accepted
    line = editor.error.text()
    assert "only before it is claimed" in line and "\n" not in line
    assert ctx.services.jobs.get(job_id).caption == "old #one"


def test_new_post_queues_one_job(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    account = add_account(ctx.services, "newbie")
    media = add_media(ctx.services, tmp_path, "fresh.mp4", title="fresh")
    editor = PostEditor(ctx)
    qtbot.addWidget(editor)
    editor.resize(980, 600)
    editor.media.setCurrentIndex(editor.media.findData(media.id))
    editor.account.setCurrentIndex(editor.account.findData(account.id))
    editor.caption.setPlainText("Fresh out of the oven #bakery #sourdough")
    editor.privacy.setCurrentIndex(editor.privacy.findData("SELF_ONLY"))
    # the place another module's route options go
    editor.set_route_options("tiktok_api", QLabel("TikTok post options"))
    assert editor.route_options.currentWidget().text() == "TikTok post options"  # type: ignore[union-attr]
    save_screen(editor, "post-editor")
    editor.save()
    assert editor.saved is not None
    job = ctx.services.jobs.get(int(editor.saved["id"]))
    assert job.caption.endswith("#sourdough") and job.options["privacy_level"] == "SELF_ONLY"
    assert job.account_id == account.id and job.media_id == media.id


# --- suggestions -----------------------------------------------------------------------------
def test_suggestions_from_openrouter_pick_one(
    ctx: AppContext, qtbot, tmp_path: Path, openrouter: OpenRouterSandbox
) -> None:
    ctx.services.settings.set("openrouter.base", openrouter.api_base)
    ctx.services.settings.set("openrouter.api_key", openrouter.api_key)
    job_id = _job(ctx.services, tmp_path, "suggest")
    editor = PostEditor(ctx, job_id=job_id)
    qtbot.addWidget(editor)
    editor.resize(980, 640)
    editor.suggest.ask()
    found = editor.suggest.suggestions()
    assert 3 <= len(found) <= 5, editor.suggest.status.text()
    assert len(openrouter.completions) == 1
    assert editor.caption.toPlainText() == "old #one"  # nothing used until picked
    editor.suggest.list.setCurrentRow(1)
    save_screen(editor, "caption-suggestions")
    editor.suggest.use.click()
    assert editor.caption.toPlainText() == found[1]


def _errors(ctx: AppContext, qtbot, tmp_path: Path, name: str) -> CaptionSuggestions:
    media = add_media(ctx.services, tmp_path, f"{name}.mp4", title=name)
    picked: list[str] = []
    widget = CaptionSuggestions(ctx.services, picked.append)
    qtbot.addWidget(widget)
    widget.set_target(media.id)
    widget.ask()
    assert widget.suggestions() == [] and picked == []
    assert "\n" not in widget.status.text()
    return widget


def test_suggestion_errors_are_one_line_without_the_key(
    ctx: AppContext, qtbot, tmp_path: Path, openrouter: OpenRouterSandbox
) -> None:
    settings = ctx.services.settings
    # no key
    widget = _errors(ctx, qtbot, tmp_path, "nokey")
    assert "openrouter.api_key" in widget.status.text() and "not set" in widget.status.text()
    # a key OpenRouter refuses (HTTP 401): said, the key never shown
    settings.set("openrouter.base", openrouter.api_base)
    settings.set("openrouter.api_key", "sk-or-wrong-key-123456")
    widget = _errors(ctx, qtbot, tmp_path, "badkey")
    assert "401" in widget.status.text() or "auth" in widget.status.text().lower()
    assert "sk-or-wrong-key-123456" not in widget.status.text()
    # rate limited (HTTP 429)
    with OpenRouterSandbox(rate_limit=(0, 60.0)) as limited:
        settings.set("openrouter.base", limited.api_base)  # type: ignore[attr-defined]
        settings.set("openrouter.api_key", limited.api_key)  # type: ignore[attr-defined]
        widget = _errors(ctx, qtbot, tmp_path, "limited")
        assert "429" in widget.status.text() or "rate" in widget.status.text().lower()
    # nobody answers (the port closed): one line, no traceback
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.set("openrouter.base", f"http://127.0.0.1:{port}/api/v1")
    widget = _errors(ctx, qtbot, tmp_path, "nobody")
    assert widget.status.text().startswith("No suggestions:")
    assert "Traceback" not in widget.status.text()


# --- where they are shown ----------------------------------------------------------------
def test_wizard_caption_page_previews_and_suggests(
    ctx: AppContext, qtbot, tmp_path: Path, openrouter: OpenRouterSandbox
) -> None:
    ctx.services.settings.set("openrouter.base", openrouter.api_base)
    ctx.services.settings.set("openrouter.api_key", openrouter.api_key)
    ctx.services.accounts.add({"username": "wiz", "group": "team"})
    ctx.services.media.add(
        make_video(tmp_path, "wiz.mp4"),
        {"title": "Wiz", "default_caption": "wizard words", "hashtags": ["magic"]},
    )
    panel = CampaignsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    wizard = panel.new_campaign()
    wizard.media_page.name.setText("Preview")
    wizard.media_page.view.selectAll()
    route = wizard.media_page.route
    route.setCurrentIndex(route.findData("upload_post"))
    wizard.next()
    wizard.accounts_page.by_group.setChecked(True)
    wizard.next()
    page = wizard.caption_page
    assert "#magic" in page.preview.tags.text()
    assert "tiktok: " in page.preview.counts.text() and "/2200" in page.preview.counts.text()
    assert page.suggest is not None
    page.suggest.ask()
    found = page.suggest.suggestions()
    assert 3 <= len(found) <= 5
    page.suggest.list.setCurrentRow(0)
    page.suggest.use.click()
    assert page.template.toPlainText() == found[0]
    assert page.preview._caption.startswith(found[0][:20])


def test_jobs_panel_opens_the_editor(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    job_id = _job(ctx.services, tmp_path, "paneled")
    panel = JobsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    fresh = panel.new_post()
    assert fresh.job_id is None and fresh.windowTitle() == "New post"
    fresh.reject()
    qtbot.waitUntil(lambda: panel.model.rowCount() > 0)
    panel.view.selectRow(0)
    editor = panel.edit_selected()
    assert editor is not None and editor.job_id == job_id
    assert editor.caption.toPlainText() == "old #one"


def test_a_new_tiktok_api_post_goes_to_the_tiktok_post_screen(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    """Compliance mode (on by default): the generic editor does not make a TikTok API
    post (it has no creator's privacy levels, disclosure or consent); Save says where it
    is made, and the button takes the video there."""
    from piper_desktop.ui.post_editor import HAND_OFF, TikTokHandOff
    from piper_desktop.ui.tiktok_post_dialog import TikTokPostDialog

    account = add_account(ctx.services, "handed")
    media = add_media(ctx.services, tmp_path, "handed.mp4", title="handed")
    editor = PostEditor(ctx)
    qtbot.addWidget(editor)
    qtbot.waitUntil(lambda: editor.media.findData(media.id) >= 0)
    editor.media.setCurrentIndex(editor.media.findData(media.id))
    editor.account.setCurrentIndex(editor.account.findData(account.id))
    editor.route.setCurrentIndex(editor.route.findData("tiktok_api"))
    editor.caption.setPlainText("not through here")
    page = editor.route_options.currentWidget()
    assert isinstance(page, TikTokHandOff)
    editor.save()
    assert editor.saved is None and editor.error.text() == HAND_OFF
    assert ctx.services.jobs.count() == 0
    page.open_tiktok_post()
    dialog = page.dialog
    assert isinstance(dialog, TikTokPostDialog)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.filled)
    assert dialog.media.currentData() == media.id
    assert dialog.account.currentIndex() == -1  # not connected to the TikTok API: not offered
