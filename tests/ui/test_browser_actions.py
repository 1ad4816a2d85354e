"""The accounts panel's browser actions with the real Chromium against the TikTok Studio
replica: a session check that keeps a live session, and one that finds it expired."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel

from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from piper_desktop.ui.browser_actions import BrowserActions
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.accounts import AccountsPanel

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def studio() -> Iterator[TikTokStudioSandbox]:
    with TikTokStudioSandbox() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def browser(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[BrowserActions]:
    # "visible" windows run headless here: tests have no display
    monkeypatch.setenv("PIPER_BROWSER_FORCE_HEADLESS", "1")
    actions = BrowserActions(ctx.services)
    yield actions
    actions.stop()


def test_check_session_with_real_chromium(
    ctx: AppContext, qtbot, studio: TikTokStudioSandbox, browser: BrowserActions
) -> None:
    services = ctx.services
    services.settings.set("tiktok.web_base", studio.base_url)
    live = services.accounts.add({"username": "live_one", "status": "needs_login"})
    gone = services.accounts.add({"username": "gone_one"})
    services.accounts.save_storage_state(live.id, studio.storage_state_for("live_one"))
    services.accounts.save_storage_state(gone.id, studio.storage_state_for("gone_one"))
    studio.expire_sessions("gone_one")
    panel = AccountsPanel(ctx, browser)
    qtbot.addWidget(panel)
    panel.show()
    selection = panel.view.selectionModel()
    for account in (live, gone):
        selection.select(
            panel.model.index(panel.model.position_of(account.id) or 0, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    panel.find_action("Check session").trigger()
    assert services.accounts.get(live.id).status == "active"  # logged in again
    assert services.accounts.get(gone.id).status == "needs_login"
    assert ("Sessions: 1 of 2 logged in (the others now need login)", "success") in ctx.messages  # type: ignore[attr-defined]
    statuses = {r["username"]: r["status"] for r in panel.model.rows()}
    assert statuses == {"live_one": "active", "gone_one": "needs_login"}


def test_open_browser_keeps_the_session_it_ends_with(
    ctx: AppContext, studio: TikTokStudioSandbox, browser: BrowserActions
) -> None:
    services = ctx.services
    services.settings.set("tiktok.web_base", studio.base_url)
    account = services.accounts.add({"username": "windowed"})
    services.accounts.save_storage_state(account.id, studio.storage_state_for("windowed"))
    # the operator closes the window after a while (here: the timeout does)
    message = browser.open_window(account.id, timeout=3)
    assert message == "browser closed; session saved"
    state = services.accounts.storage_state(account.id)
    assert any(c["name"] == "sessionid" for c in state["cookies"])


def test_resolve_job_closed_unsolved_waits_for_the_operator_again(
    ctx: AppContext, studio: TikTokStudioSandbox, browser: BrowserActions, tmp_path: Path
) -> None:
    from piper_desktop.store.models import Job
    from tests.conftest import make_video

    services = ctx.services
    services.settings.set("tiktok.web_base", studio.base_url)
    account = services.accounts.add({"username": "stuck"})
    services.accounts.save_storage_state(account.id, studio.storage_state_for("stuck"))
    media, _ = services.media.add(make_video(tmp_path, "stuck.mp4"))
    job = services.jobs.add(account_id=account.id, media_id=media.id, route="browser")
    with services.db.write() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.status = "needs_attention"
    studio.require_captcha("load", "stuck")
    # the window closes (timeout) with the captcha unsolved: nothing may be posted
    message = browser.resolve_job(job.id, timeout=1)
    assert message == f"job #{job.id} needs attention"
    assert studio.posts == []  # type: ignore[comparison-overlap]
    assert services.jobs.get(job.id).lease_owner is None
