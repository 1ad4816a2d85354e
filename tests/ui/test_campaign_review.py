"""The campaign wizard's review: each post's date as the account sees it, and the
privacy the schedule page starts from."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QDateTime, Qt

from piper_desktop.ui import formatting as fmt
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.campaigns import CampaignsPanel
from tests.conftest import REPO, make_video

# 10:00 UTC is 19:00 in Tokyo; the Tokyo account's window opens at 01:00 its time, which
# is 16:00 UTC: the same day for a machine on UTC, the next day in Tokyo
NOW = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)


def test_review_says_tomorrow_for_a_tokyo_account(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    services = ctx.services
    services.accounts.add(
        {
            "username": "tokyo",
            "group": "jp",
            "timezone": "Asia/Tokyo",
            "window_enabled": True,
            "window_start": "01:00",
            "window_end": "06:00",
        }
    )
    services.media.add(make_video(tmp_path, "clip.mp4"), {"title": "Clip"})
    panel = CampaignsPanel(ctx)
    qtbot.addWidget(panel)
    wizard = panel.new_campaign()
    wizard.media_page.name.setText("Tokyo night")
    wizard.media_page.view.selectAll()
    wizard.next()
    wizard.accounts_page.by_group.setChecked(True)
    wizard.accounts_page.group.setCurrentIndex(wizard.accounts_page.group.findText("jp"))
    wizard.next()
    wizard.next()
    schedule = wizard.schedule_page
    # not "Only me" silently: the setting's default, Everyone
    assert schedule.privacy.currentData() == "PUBLIC_TO_EVERYONE"
    schedule.start.setDateTime(QDateTime.fromSecsSinceEpoch(int(NOW.timestamp())))
    review = wizard.review_page
    review.now = NOW
    wizard.next()
    qtbot.waitUntil(lambda: bool(review.planned) or review.problem is not None)
    assert review.problem is None
    slot = review.planned[0]["scheduled_at"]
    assert slot.date() == NOW.date() and slot.hour == 16  # the same UTC day
    model = review.model
    local = model.data(model.index(0, 2), Qt.ItemDataRole.DisplayRole)
    assert local.startswith("Tomorrow 01:"), local
    # judged on a UTC machine's date it would be "Today": the bug issue 17 saw
    assert fmt.when(slot, "UTC", now=NOW).startswith("Today 16:")
    tip = model.data(model.index(0, 2), Qt.ItemDataRole.ToolTipRole)
    assert "2030-01-08 01:" in tip and "Asia/Tokyo" in tip
    # for people to look at (issue 17 asks for pictures of the changed screens)
    shots = REPO / "test-artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    assert wizard.grab().save(str(shots / "campaign_review_tokyo.png"))
    wizard.reject()


def test_the_privacy_default_is_a_setting(ctx: AppContext, qtbot) -> None:
    ctx.services.settings.set("campaigns.default_privacy", "FOLLOWER_OF_CREATOR")
    panel = CampaignsPanel(ctx)
    qtbot.addWidget(panel)
    wizard = panel.new_campaign()
    assert wizard.schedule_page.privacy.currentData() == "FOLLOWER_OF_CREATOR"
    wizard.reject()
