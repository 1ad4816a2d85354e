"""The campaign wizard and panel, and the jobs panel (details, evidence, retry/cancel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QWizard

from piper_desktop.sandbox.demo import gradient_png
from piper_desktop.store.models import Artifact, Job, JobUpload
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.engine_bridge import JobEvent
from piper_desktop.ui.panels.campaigns import CampaignsPanel
from piper_desktop.ui.panels.jobs import JobsPanel
from piper_desktop.ui.table_panel import TablePanel
from tests.conftest import make_video
from tests.ui.artifacts import save_screen


def _show(panel: TablePanel, qtbot) -> TablePanel:
    qtbot.addWidget(panel)
    panel.resize(1400, 800)
    panel.show()
    return panel


def _select(panel: TablePanel, *ids: int) -> None:
    selection = panel.view.selectionModel()
    selection.clearSelection()
    for row_id in ids:
        position = panel.model.position_of(row_id)
        assert position is not None, row_id
        selection.select(
            panel.model.index(position, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


def _library(ctx: AppContext, tmp_path: Path) -> tuple[list[int], list[int]]:
    services = ctx.services
    accounts = [
        services.accounts.add(
            {"username": name, "group": "team", "tags": ["eu"], "min_spacing_minutes": 90}
        ).id
        for name in ("anna", "ben")
    ]
    media = [
        services.media.add(
            make_video(tmp_path, f"clip{n}.mp4"),
            {"title": f"Clip {n}", "default_caption": f"caption {n}", "hashtags": ["fun"]},
        )[0].id
        for n in range(3)
    ]
    return accounts, media


def test_campaign_wizard_reviews_slots_then_creates_and_starts(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    _library(ctx, tmp_path)
    panel = _show(CampaignsPanel(ctx), qtbot)
    wizard = panel.new_campaign()
    assert wizard.isVisible()
    media_page = wizard.media_page
    assert not media_page.isComplete()
    media_page.name.setText("Spring")
    media_page.view.selectAll()
    route = media_page.route
    route.setCurrentIndex(route.findData("upload_post"))
    assert media_page.isComplete()
    wizard.next()
    accounts_page = wizard.accounts_page
    assert not accounts_page.isComplete()
    accounts_page.by_group.setChecked(True)
    assert accounts_page.selection() == {"group": "team"}
    assert accounts_page.isComplete()
    wizard.next()
    caption = wizard.caption_page
    caption.template.setPlainText("{caption} for {nobody}")
    assert not caption.isComplete()
    assert "unknown placeholder {nobody}" in caption.error.text()
    caption.template.setPlainText("{title}: {caption} {hashtags} @{account}")
    caption.hashtags.setText("#spring")
    assert caption.isComplete()
    assert caption.sample.text().startswith("Clip 0: caption 0 #spring #fun")
    wizard.next()
    schedule = wizard.schedule_page
    start = datetime.now(UTC) + timedelta(days=1)
    schedule.start.setDateTime(schedule.start.dateTime().addDays(1))
    schedule.privacy.setCurrentIndex(schedule.privacy.findData("PUBLIC_TO_EVERYONE"))
    wizard.next()
    review = wizard.review_page
    assert review.problem is None
    # nobody is connected to Upload-Post: refused, named, and one click from connecting
    assert not review.isComplete()
    assert "2 accounts are not connected to Upload-Post" in review.connection.text()
    assert "@anna, @ben" in review.connection.text()
    assert review.connect_button.isVisible()
    review.connect_button.click()
    dialog = review.flow.dialog
    qtbot.waitUntil(lambda: dialog is not None and dialog.isVisible())
    assert [row.username for row in dialog.rows] == ["anna", "ben"]
    for row in dialog.rows:
        dialog.set_profile(row.account_id, f"{row.username}-profile")
    dialog.connect_button.click()
    dialog.close_button.click()
    assert ctx.services.accounts.load(1, "upload_post") == {"profile": "anna-profile"}
    qtbot.waitUntil(lambda: not review.connect_button.isVisible())
    assert len(review.planned) == 3 and review.isComplete()
    assert "3 posts across 2 accounts" in review.summary.text()
    planned = [(p["account_id"], p["media_id"], p["scheduled_at"]) for p in review.planned]
    assert all(p[2] >= start - timedelta(minutes=2) for p in planned)
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.created is not None and not wizard.isVisible()
    campaign = ctx.services.campaigns.get(wizard.created.id)
    assert campaign.status == "running" and campaign.route == "upload_post"
    assert campaign.options["privacy_level"] == "PUBLIC_TO_EVERYONE"
    jobs = ctx.services.jobs.list(campaign_id=campaign.id)
    # what the review showed is what was scheduled
    assert [(j.account_id, j.media_id, j.scheduled_at) for j in jobs] == planned
    assert panel.model.total == 1 and panel.selected_ids() == [campaign.id]
    assert panel.model.row(0)["jobs_total"] == 3


def test_campaign_review_only_warns_when_the_setting_says_so(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    _library(ctx, tmp_path)
    ctx.services.settings.set("jobs.require_connected", False)
    panel = _show(CampaignsPanel(ctx), qtbot)
    wizard = panel.new_campaign()
    wizard.media_page.name.setText("Warned")
    wizard.media_page.view.selectAll()
    route = wizard.media_page.route
    route.setCurrentIndex(route.findData("browser"))
    wizard.next()
    wizard.accounts_page.by_group.setChecked(True)
    for _ in range(3):
        wizard.next()
    review = wizard.review_page
    qtbot.waitUntil(lambda: review.connection.isVisible())
    assert review.connection.text().startswith("Warning: 2 accounts are not connected to Browser")
    assert review.isComplete()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.created is not None
    wizard.reject()


def test_campaign_review_names_an_impossible_plan(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    accounts, _media = _library(ctx, tmp_path)
    ctx.services.accounts.bulk_assign(accounts, {"status": "disabled"})
    panel = _show(CampaignsPanel(ctx), qtbot)
    wizard = panel.new_campaign()
    wizard.media_page.name.setText("Nobody home")
    wizard.media_page.view.selectAll()
    wizard.next()
    wizard.accounts_page.by_tag.setChecked(True)
    wizard.next()
    wizard.next()
    wizard.next()
    assert "matches no active account" in wizard.review_page.summary.text()
    assert not wizard.review_page.isComplete()
    wizard.reject()


def test_campaign_pause_resume_cancel_and_progress(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    _accounts, media = _library(ctx, tmp_path)
    services = ctx.services
    campaign = services.campaigns.create(
        {
            "name": "Run",
            "route": "tiktok_api",
            "media_ids": media,
            "account_selection": {"group": "team"},
            "start_at": datetime.now(UTC) + timedelta(hours=2),
        }
    )
    panel = _show(CampaignsPanel(ctx), qtbot)
    _select(panel, campaign.id)
    assert panel.start_action.isEnabled() and not panel.pause_action.isEnabled()
    # nobody is connected to the TikTok API: the draft does not start, and says who
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: any(level == "error" for _, level in ctx.messages))  # type: ignore[attr-defined]
    error = next(m for m, level in ctx.messages if level == "error")  # type: ignore[attr-defined]
    assert "2 accounts are not connected to TikTok Content Posting API" in error
    assert services.campaigns.get(campaign.id).status == "draft"
    services.settings.set("jobs.require_connected", False)  # only warn
    panel.start_action.trigger()
    assert services.campaigns.get(campaign.id).status == "running"
    assert any(level == "warning" for _, level in ctx.messages)  # type: ignore[attr-defined]
    assert panel.pause_action.isEnabled()
    assert panel.per_account.rowCount() == 2
    assert "0 of 3 done" in panel.detail_title.text()
    panel.pause_action.trigger()
    assert services.campaigns.get(campaign.id).status == "paused"
    assert panel.resume_action.isEnabled()
    panel.resume_action.trigger()
    assert services.campaigns.get(campaign.id).status == "running"
    panel.cancel_selected()
    panel.last_dialog.findChild(type(panel.last_dialog.buttons()[0]), "confirm_yes").click()
    assert services.campaigns.get(campaign.id).status == "cancelled"
    assert services.jobs.count(status="cancelled") == 3
    qtbot.waitUntil(lambda: panel.model.row(0)["status"] == "cancelled")
    assert panel.model.row(0)["jobs_done"] == 3
    targets: list[tuple[str, object]] = []
    ctx.navigate.connect(lambda key, target: targets.append((key, target)))
    panel.show_jobs()
    assert targets == [("jobs", {"campaign_id": campaign.id})]
    status = panel._filter_boxes["status"]
    status.setCurrentIndex(status.findData("running"))
    qtbot.waitUntil(lambda: panel.model.total == 0)
    status.setCurrentIndex(status.findData("cancelled"))
    qtbot.waitUntil(lambda: panel.model.total == 1)


def _job_with_evidence(ctx: AppContext, tmp_path: Path) -> tuple[int, int, int]:
    accounts, media = _library(ctx, tmp_path)
    services = ctx.services
    failed = services.jobs.add(account_id=accounts[0], media_id=media[0], route="browser")
    done = services.jobs.add(account_id=accounts[1], media_id=media[1], route="upload_post")
    waiting = services.jobs.add(
        account_id=accounts[1], media_id=media[2], route="tiktok_api", at="auto"
    )
    with services.db.write() as session:
        row = session.get(Job, failed.id)
        assert row is not None
        row.status = "failed"
        row.last_error = "the post button never became enabled"
        row.attempts = 3
        session.add(
            Artifact(
                job_id=failed.id,
                name="failure.png",
                content_type="image/png",
                content=gradient_png(120, 80, 5),
            )
        )
        published = session.get(Job, done.id)
        assert published is not None
        published.status = "published"
        published.receipt_kind = "request_id"
        published.receipt = "req-123"
        published.post_url = "http://127.0.0.1:9/p/tiktok/1"
        # its upload was resumed after one restart, after an earlier one was abandoned
        session.add(
            JobUpload(
                job_id=done.id,
                receipt="req-123",
                url=None,
                expires_at=datetime.now(UTC),
                total_bytes=50 * 2**20,
                chunk_size=10 * 2**20,
                chunk_count=5,
                chunks_acked=5,
                bytes_acked=50 * 2**20,
                resumes=1,
                abandoned=1,
            )
        )
    return failed.id, done.id, waiting.id


def test_jobs_details_evidence_and_actions(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    failed, done, waiting = _job_with_evidence(ctx, tmp_path)
    panel = _show(JobsPanel(ctx), qtbot)
    assert [r["id"] for r in panel.model.rows()] == [waiting, done, failed]  # newest first
    _select(panel, failed)
    details = panel.details
    assert details.heading.text() == f"Job #{failed}"
    assert "post button never became enabled" in details.fields["problem"].text()
    assert details.retry_button.isEnabled() and not details.open_button.isEnabled()
    assert details.events_model.rowCount() == 1
    assert details.artifact_list.count() == 1
    pixmap = details.preview.pixmap()
    assert pixmap is not None and not pixmap.isNull()  # the screenshot shows as an image

    assert details.fields["upload"].text() == "—"
    _select(panel, done)
    assert "req-123" in details.fields["receipt"].text()
    assert details.fields["upload"].text() == (
        "complete (5 chunks) · resumed 1× after a restart · "
        "1 earlier upload(s) abandoned for a fresh publish"
    )
    assert details.open_button.isEnabled()
    details.open_button.click()
    assert ctx.opened_urls == ["http://127.0.0.1:9/p/tiktok/1"]  # type: ignore[attr-defined]

    status = panel._filter_boxes["status"]
    status.setCurrentIndex(status.findData("problems"))
    qtbot.waitUntil(lambda: panel.model.total == 1)
    status.setCurrentIndex(status.findData("waiting"))
    qtbot.waitUntil(lambda: panel.model.total == 1)
    status.setCurrentIndex(0)
    qtbot.waitUntil(lambda: panel.model.total == 3)

    panel.retry_all_failed()
    assert ctx.services.jobs.get(failed).status == "queued"
    _select(panel, waiting, failed)
    panel.find_action("Cancel").trigger()
    assert ctx.services.jobs.get(waiting).status == "cancelled"
    assert ctx.services.jobs.get(failed).status == "cancelled"
    # a published job offers neither Retry nor Cancel, in the toolbar or its details
    _select(panel, done)
    for text in ("Retry", "Cancel", "Retry even if it may be posted…", "Mark published…"):
        assert not panel.find_action(text).isEnabled(), text
    assert not details.retry_button.isEnabled() and not details.cancel_button.isEnabled()
    save_screen(panel, "jobs-published-actions")
    panel.find_action("Retry").trigger()
    assert ctx.services.jobs.get(done).status == "published"
    # with a published and a failed job chosen, Retry is there for the failed one
    _select(panel, done, failed)
    assert panel.find_action("Retry").isEnabled()


def test_jobs_follow_engine_events_live(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    """A job moving through its states: each event updates its row and details."""
    _failed, _done, waiting = _job_with_evidence(ctx, tmp_path)
    panel = _show(JobsPanel(ctx), qtbot)
    _select(panel, waiting)
    statuses = []
    for status in ("claimed", "submitting", "submitted", "verifying", "published"):
        with ctx.services.db.write() as session:
            row = session.get(Job, waiting)
            assert row is not None
            row.status = status
        ctx.bridge.push({"job_id": waiting, "kind": status, "status": status})
        # the badge changes at once; the full row and the details follow shortly
        position = panel.model.position_of(waiting)
        assert position is not None
        statuses.append(panel.model.row(position)["status"])
        qtbot.waitUntil(lambda s=status: panel.details.row.get("status") == s)
    assert statuses == ["claimed", "submitting", "submitted", "verifying", "published"]
    # a job the table does not show yet brings a refresh
    ctx.services.jobs.add(account_id=1, media_id=1, route="browser", allow_duplicate=True)
    ctx.bridge.push(JobEvent(job_id=99, kind="claimed", status="claimed"))
    qtbot.waitUntil(lambda: panel.model.total == 4)


def test_jobs_mark_published_asks_for_the_url(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    failed, done, _waiting = _job_with_evidence(ctx, tmp_path)
    panel = _show(JobsPanel(ctx), qtbot)
    _select(panel, done)
    assert not panel.find_action("Mark published…").isEnabled()  # it is published already

    _select(panel, failed)
    panel.find_action("Mark published…").trigger()
    dialog = panel.url_dialog
    dialog.edit.setText("https://www.tiktok.com/@acct/video/7")
    dialog.accept()
    qtbot.waitUntil(lambda: ctx.services.jobs.get(failed).status == "published")
    assert ctx.services.jobs.get(failed).post_url == "https://www.tiktok.com/@acct/video/7"


def test_jobs_change_route_and_resolve_by_reason(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    _failed, done, waiting = _job_with_evidence(ctx, tmp_path)
    services = ctx.services
    panel = _show(JobsPanel(ctx), qtbot)
    # a waiting job: another route, while nobody holds it
    _select(panel, waiting)
    panel.find_action("Change route…").trigger()
    dialog = panel.resolver.dialog
    assert dialog.combo.findData("tiktok_api") < 0
    dialog.choose("upload_post")
    dialog.accept()
    qtbot.waitUntil(lambda: services.jobs.get(waiting).route == "upload_post")
    # a published one keeps its route, and says why
    _select(panel, done)
    panel.find_action("Change route…").trigger()
    panel.resolver.dialog.choose("browser")
    panel.resolver.dialog.accept()
    qtbot.waitUntil(
        lambda: any("only before it is claimed" in m for m, _ in ctx.messages)  # type: ignore[attr-defined]
    )
    assert services.jobs.get(done).route == "upload_post"
    # not connected: Resolve opens the route's connect flow, not a browser login
    with services.db.write() as session:
        row = session.get(Job, waiting)
        assert row is not None
        row.status = "needs_attention"
        row.attention_reason = "not ready: no Upload-Post profile; not connected to Upload-Post"
    panel.reload()
    qtbot.waitUntil(lambda: panel.model.position_of(waiting) is not None)
    _select(panel, waiting)
    panel.find_action("Resolve…").trigger()
    flow = panel.resolver.flow
    assert flow is not None and flow.dialog is not None
    assert flow.dialog.windowTitle() == "Connect accounts — Upload-Post"
    flow.dialog.set_profile(flow.dialog.rows[0].account_id, "ben-main")
    flow.dialog.connect_button.click()
    flow.dialog.close_button.click()
    qtbot.waitUntil(lambda: services.jobs.get(waiting).status == "queued")
