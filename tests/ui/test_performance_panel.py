"""The Performance panel over a real vault seeded through the analytics write side: every
chart with data and without, the account filter, the post curve, the exports; the
dashboard's yesterday numbers; the wizard's best-hours suggestion."""

from __future__ import annotations

import csv
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QDateTime

from piper_desktop.domain import analytics_views as av
from piper_desktop.store.enums import JobStatus
from piper_desktop.store.models import Job
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.main_window import MainWindow
from piper_desktop.ui.panels.campaigns import CampaignsPanel
from piper_desktop.ui.panels.dashboard import DashboardPanel
from piper_desktop.ui.panels.performance import RELOAD_AFTER_S, PerformancePanel
from tests.analytics_seed import post_readings, reading
from tests.conftest import make_video
from tests.ui.artifacts import save_screen

# a Monday: alice (Berlin) posts at 19:00 her time, bob (New York) at 08:00 his
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def values(card) -> list[list[float]]:
    return [list(item.yData) for plot in card.plots() for item in plot.listDataItems()]


@pytest.fixture
def seeded(ctx: AppContext, tmp_path: Path) -> dict[str, int]:
    """alice (Berlin) posted three Mondays at 19:00 her time, bob (New York) at 08:00 his;
    each post read in its first hours, then five daily passes over both accounts."""
    services = ctx.services
    alice = services.accounts.add({"username": "alice", "timezone": "Europe/Berlin"}).id
    bob = services.accounts.add({"username": "bob", "timezone": "America/New_York"}).id
    made: dict[str, datetime] = {}
    for week in range(3):
        # 18:00 UTC is 19:00 in Berlin, 13:00 UTC 08:00 in New York (winter time)
        made[f"a{week}"] = at = MONDAY - timedelta(weeks=week) + timedelta(hours=18)
        post_readings(services, alice, f"a{week}", at,
                      [(1, 100, 10), (6, 400, 40), (30, 900 * (week + 1), 90), (60, 2000, 200)])  # fmt: skip
        made[f"b{week}"] = at = MONDAY - timedelta(weeks=week) + timedelta(hours=13)
        post_readings(services, bob, f"b{week}", at, [(2, 5, 0), (20, 10 + week, 1)])
    for day in range(5):
        at = MONDAY + timedelta(days=4 + day)  # past every post's first 48 hours
        reading(services, alice, at,
                {f"a{w}": (made[f"a{w}"], 1000 * (w + 1) + 100 * day, 100 * (w + 1)) for w in range(3)},
                followers=496 + day, likes=5000)  # fmt: skip
        reading(services, bob, at,
                {f"b{w}": (made[f"b{w}"], 10 + w + day, 1) for w in range(3)},
                followers=50, likes=20)  # fmt: skip
    return {"alice": alice, "bob": bob}


def panel_for(ctx: AppContext, qtbot) -> PerformancePanel:
    panel = PerformancePanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 1700)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.loads > 0)
    # the layout has taken the new texts in (a queued layout request)
    qtbot.waitUntil(lambda: panel.subtitle.width() >= panel.subtitle.sizeHint().width())
    return panel


def test_every_chart_says_there_is_nothing_yet(ctx: AppContext, qtbot) -> None:
    panel = panel_for(ctx, qtbot)
    for card in panel.cards():
        assert card.is_empty, card.name
        assert card.empty.isVisibleTo(panel), card.name
        assert card.plots() == [], card.name
    assert "video.list" in panel.growth.empty.text()
    assert "video.list" in panel.campaigns.empty.text()
    assert panel.top_empty.isVisibleTo(panel) and not panel.top_view.isVisibleTo(panel)
    assert panel.top_model.rowCount() == 0
    save_screen(panel, "performance-empty")


def test_the_panel_draws_every_chart_from_the_readings(
    ctx: AppContext, qtbot, seeded: dict[str, int]
) -> None:
    panel = panel_for(ctx, qtbot)
    # followers and views over time: one line per account
    followers, views = panel.growth.plots()
    assert sorted(list(item.yData) for item in followers.listDataItems()) == [
        [50] * 5,
        [496, 497, 498, 499, 500],
    ]
    # an account's views: the sum of its posts' at each pass
    assert sorted(list(item.yData) for item in views.listDataItems()) == [
        [33, 36, 39, 42, 45],
        [6000, 6300, 6600, 6900, 7200],
    ]
    # best hours: alice's three posts at Monday 19:00 Berlin, bob's at Monday 08:00 New York
    image = np.asarray(panel.heatmap.image.image)
    assert image[19, 0] == pytest.approx(np.log1p(2400.0))  # mean of 1400, 2400, 3400
    assert image[8, 0] == pytest.approx(np.log1p(15.0))
    assert np.count_nonzero(~np.isnan(image)) == 2
    assert panel.heatmap.caption.text() == "Best hours: Mon 19:00, Mon 08:00"
    # top posts, best first; the best one's first 48 hours drawn without a click
    assert panel.top_model.rowCount() == 6
    assert [p.post_id for p in panel.top_model.posts[:3]] == ["a2", "a1", "a0"]
    qtbot.waitUntil(lambda: not panel.curve.is_empty)
    views_curve, likes_curve = values(panel.curve)
    assert views_curve == [100, 400, 2700]  # the 60-hour reading is past the first 48
    assert likes_curve == [10, 40, 90]
    assert panel.curve.plots()[0].listDataItems()[0].xData.tolist() == [1.0, 6.0, 30.0]
    # no post came from a Piper campaign: the bars say so
    assert panel.campaigns.is_empty and "campaign" in panel.campaigns.empty.text()
    assert panel.templates.is_empty
    save_screen(panel, "performance-overview")
    save_screen(panel.heatmap, "performance-best-hours")
    # another post picked: its curve
    panel.top_view.selectRow(5)
    qtbot.waitUntil(lambda: values(panel.curve) and values(panel.curve)[0] == [5, 10])
    save_screen(panel.curve, "performance-post-curve")


def test_the_account_filter_changes_what_is_drawn(
    ctx: AppContext, qtbot, seeded: dict[str, int]
) -> None:
    panel = panel_for(ctx, qtbot)
    assert panel.heatmap.rows and len(panel.growth.plots()[0].listDataItems()) == 2
    panel.set_account(seeded["bob"])
    qtbot.waitUntil(
        lambda: panel.performance is not None and panel.performance.account_id == seeded["bob"]
    )
    assert [list(i.yData) for i in panel.growth.plots()[0].listDataItems()] == [[50] * 5]
    image = np.asarray(panel.heatmap.image.image)
    assert np.count_nonzero(~np.isnan(image)) == 1
    assert image[8, 0] == pytest.approx(np.log1p(15.0))
    assert {p.account for p in panel.top_model.posts} == {"bob"}
    assert panel.account_filter.currentText() == "@bob"
    panel.set_account(None)
    qtbot.waitUntil(lambda: panel.performance is not None and panel.performance.account_id is None)
    assert panel.top_model.rowCount() == 6


def test_exports_write_the_shown_rows_and_pictures_owner_only(
    ctx: AppContext, qtbot, seeded: dict[str, int], tmp_path: Path
) -> None:
    panel = panel_for(ctx, qtbot)
    posts = panel.export_posts_csv(tmp_path / "top.csv")
    with posts.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["account", "post_id", "created_at", "views", "likes", "comments",
                       "shares", "match", "share_url", "caption"]  # fmt: skip
    assert [r[1] for r in rows[1:]] == [p.post_id for p in panel.top_model.posts]
    assert rows[1][:2] == ["alice", "a2"] and rows[1][3] == "3400"
    hours = panel.heatmap.export_csv(tmp_path / "hours.csv")
    with hours.open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["weekday", "hour", "posts", "mean_views"],
            ["Mon", "8", "3", "15.0"],
            ["Mon", "19", "3", "2400.0"],
        ]
    pictures = [card.export_png(tmp_path / f"{card.name}.png") for card in panel.cards()]
    for path in [posts, hours, *pictures]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for picture in pictures:
        assert picture.read_bytes().startswith(b"\x89PNG") and picture.stat().st_size > 1000


def test_the_panel_loads_on_the_pool_and_is_in_the_main_window(
    ctx: AppContext, qtbot, seeded: dict[str, int], pool_tasks
) -> None:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    panel = window.show_panel("performance")
    assert isinstance(panel, PerformancePanel)
    qtbot.waitUntil(lambda: panel.loads > 0, timeout=20_000)
    assert panel.top_model.rowCount() == 6 and not panel.heatmap.is_empty
    qtbot.waitUntil(lambda: not panel.curve.is_empty, timeout=20_000)
    pool_tasks.wait(10_000)


def test_the_dashboard_shows_yesterdays_numbers(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    services = ctx.services
    alice = services.accounts.add({"username": "alice"}).id
    now = datetime.now(UTC)
    start, end = av.local_day_bounds(now, None)
    old, new = start - timedelta(days=3), start + timedelta(hours=1)
    # the day before: 1000 views; at yesterday's end 1750 (the old post 1050, the new 700)
    reading(services, alice, start - timedelta(hours=2), {"old": (old, 1000, 9)},
            followers=100, likes=50)  # fmt: skip
    reading(services, alice, end - timedelta(minutes=5),
            {"old": (old, 1050, 10), "y1": (new, 700, 30)}, followers=112, likes=80)  # fmt: skip
    reading(services, alice, end + timedelta(hours=1),  # today: not yesterday's
            {"old": (old, 5000, 10), "y1": (new, 5000, 30)}, followers=900, likes=900)  # fmt: skip
    dashboard = DashboardPanel(ctx)
    qtbot.addWidget(dashboard)
    dashboard.resize(1300, 900)
    dashboard.show()
    qtbot.waitUntil(lambda: dashboard.yesterday is not None)
    cards = dashboard.yesterday_metrics
    assert cards["views"].value.text() == "750"
    assert cards["likes"].value.text() == "30"
    assert cards["new_followers"].value.text() == "12"
    assert cards["posts"].value.text() == "1"
    save_screen(dashboard, "dashboard-yesterday")


def open_schedule(ctx: AppContext, qtbot, tmp_path: Path):
    ctx.services.media.add(make_video(tmp_path, "clip2.mp4"), {"title": "Clip"})
    panel = CampaignsPanel(ctx)
    qtbot.addWidget(panel)
    wizard = panel.new_campaign()
    wizard.media_page.name.setText("Evening")
    wizard.media_page.view.selectAll()
    wizard.next()
    wizard.accounts_page.view.selectRow(0)  # alice (by username)
    wizard.next()
    wizard.next()
    return wizard


def test_the_wizard_suggests_a_start_from_best_hours_and_uses_it_only_when_accepted(
    ctx: AppContext, qtbot, seeded: dict[str, int], tmp_path: Path
) -> None:
    wizard = open_schedule(ctx, qtbot, tmp_path)
    schedule = wizard.schedule_page
    chosen = datetime(2030, 1, 2, 10, 0, tzinfo=UTC)  # a Wednesday
    schedule.start.setDateTime(QDateTime.fromSecsSinceEpoch(int(chosen.timestamp())))
    schedule.suggest_times()
    qtbot.waitUntil(lambda: schedule.suggested is not None)
    # alice's best hour is Monday 19:00 Berlin: next Monday 7 January 2030, 18:00 UTC
    assert schedule.suggested == datetime(2030, 1, 7, 18, 0, tzinfo=UTC)
    assert "Mon 19:00" in schedule.suggestion_text.text()
    assert schedule.start_at() == chosen  # nothing changed yet
    wizard.resize(980, 700)
    save_screen(wizard, "wizard-best-hours")
    schedule.decline_suggestion()
    assert schedule.start_at() == chosen and schedule.suggested is None
    assert not schedule.accept_suggestion_button.isVisibleTo(schedule)
    schedule.suggest_times()
    qtbot.waitUntil(lambda: schedule.suggested is not None)
    schedule.accept_suggestion()
    assert schedule.start_at() == datetime(2030, 1, 7, 18, 0, tzinfo=UTC)
    wizard.reject()


def test_the_wizard_says_when_there_are_no_best_hours_yet(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    ctx.services.accounts.add({"username": "alice"})
    wizard = open_schedule(ctx, qtbot, tmp_path)
    schedule = wizard.schedule_page
    before = schedule.start_at()
    schedule.suggest_times()
    qtbot.waitUntil(lambda: "Not enough readings" in schedule.suggestion_text.text())
    assert schedule.suggested is None and schedule.start_at() == before
    assert not schedule.accept_suggestion_button.isVisibleTo(schedule)
    wizard.reject()


def published_job(services, account_id: int, media_id: int, campaign_id: int, post_id: str) -> None:
    """A campaign's job as the engine leaves it once published (seeded into the store)."""
    job = services.jobs.add(
        account_id=account_id,
        media_id=media_id,
        route="tiktok_api",
        at=MONDAY,
        caption=f"caption {post_id}",
        campaign_id=campaign_id,
        allow_duplicate=True,
    )
    with services.db.write() as session:
        row = session.get(Job, job.id)
        row.status = JobStatus.PUBLISHED.value
        row.submitted_at = row.published_at = MONDAY
        row.post_id = post_id


def test_the_bars_compare_campaigns_and_caption_templates(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    services = ctx.services
    alice = services.accounts.add({"username": "alice"}).id
    media, _ = services.media.add(make_video(tmp_path, "clip.mp4"))
    campaigns = {}
    for name, template in (("Spring", "{caption} #spring"), ("Fall", "{title}")):
        campaigns[name] = services.campaigns.create(
            {"name": name, "route": "tiktok_api", "caption_template": template,
             "media_ids": [media.id], "account_selection": {"accounts": ["tiktok:alice"]}}
        ).id  # fmt: skip
    for post_id, name in (("9001", "Spring"), ("9002", "Spring"), ("9003", "Fall")):
        published_job(services, alice, media.id, campaigns[name], post_id)
    reading(
        services,
        alice,
        MONDAY + timedelta(hours=5),
        {
            "9001": (MONDAY, 100, 10),
            "9002": (MONDAY, 300, 30),
            "9003": (MONDAY, 50, 1),
            "9004": (MONDAY, 999, 99),
        },
    )  # fmt: skip  (9004: made outside Piper)
    panel = panel_for(ctx, qtbot)
    views, likes = panel.campaigns.bars
    assert list(views.opts["height"]) == [200.0, 50.0]  # Spring (mean of 100, 300), Fall
    assert list(likes.opts["height"]) == [20.0, 1.0]
    assert [row[0] for row in panel.campaigns.rows] == ["Spring", "Fall"]
    views, _likes = panel.templates.bars
    assert list(views.opts["height"]) == [200.0, 50.0]
    assert [row[0] for row in panel.templates.rows] == ["{caption} #spring", "{title}"]
    made_by = {p.post_id: panel.top_model.text(n, 6) for n, p in enumerate(panel.top_model.posts)}
    assert made_by == {"9001": "Piper job", "9002": "Piper job", "9003": "Piper job",
                       "9004": "Outside Piper"}  # fmt: skip
    save_screen(panel, "performance-campaigns")


def test_shown_again_after_a_while_the_panel_reads_the_new_readings(
    ctx: AppContext, qtbot, seeded: dict[str, int]
) -> None:
    panel = panel_for(ctx, qtbot)
    panel.hide()
    panel.show()
    assert panel.loads == 1  # just loaded: not again
    reading(ctx.services, seeded["bob"], MONDAY + timedelta(days=20),
            {"b9": (MONDAY + timedelta(days=19), 77, 7)})  # fmt: skip
    panel.hide()
    panel.loaded_at -= RELOAD_AFTER_S + 1  # a minute later
    panel.show()
    qtbot.waitUntil(lambda: panel.loads == 2)
    assert "b9" in {p.post_id for p in panel.top_model.posts}
