"""Dashboard (attention, week calendar drag), settings, and the unlock/welcome dialogs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

from piper_desktop.domain.services import Services
from piper_desktop.store import vault
from piper_desktop.store.models import Job
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.dashboard import DashboardPanel
from piper_desktop.ui.panels.settings import SettingsPanel
from piper_desktop.ui.unlock import UnlockDialog, WelcomeDialog, strength
from piper_desktop.ui.week_calendar import week_start
from tests.conftest import MASTER_PASSWORD, make_video
from tests.ui.artifacts import save_screen


@pytest.fixture
def dashboard(ctx: AppContext, qtbot) -> DashboardPanel:
    panel = DashboardPanel(ctx)
    qtbot.addWidget(panel)
    panel.calendar.set_zone(ZoneInfo("UTC"))
    panel.resize(1300, 1000)
    return panel


def _posts(services: Services, tmp_path: Path) -> tuple[int, int, datetime]:
    account = services.accounts.add(
        {"username": "tokyo", "timezone": "Asia/Tokyo", "min_spacing_minutes": 60}
    )
    media, _ = services.media.add(make_video(tmp_path, "x.mp4"), {"title": "X"})
    base = (datetime.now(UTC) + timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    first = services.jobs.add(
        account_id=account.id, media_id=media.id, route="upload_post", at=base
    )
    second = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="upload_post",
        at=base + timedelta(hours=3),
        allow_duplicate=True,
    )
    return first.id, second.id, base


def _drag(qtbot, calendar, chip, moment: datetime) -> None:
    """Press on the chip, move so its top edge lands on `moment`, release."""
    start = chip.rect.center()
    top = calendar.point_of(moment)
    assert top is not None
    end = QPoint(top.x(), top.y() + start.y() - chip.rect.y())
    qtbot.mousePress(calendar, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(calendar, pos=QPoint(start.x(), start.y() + 5))
    qtbot.mouseMove(calendar, pos=end)
    qtbot.mouseRelease(calendar, Qt.MouseButton.LeftButton, pos=end)


def test_week_calendar_drag_to_a_free_slot(
    dashboard: DashboardPanel, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    first, second, base = _posts(ctx.services, tmp_path)
    dashboard.calendar.first_day = week_start(base.date())
    dashboard.show()
    qtbot.waitUntil(lambda: len(dashboard.calendar.chips) == 2)
    calendar = dashboard.calendar
    chip = next(c for c in calendar.chips if c.post["id"] == second)
    assert chip.post["movable"] and "Asia/Tokyo" in calendar.tooltip(chip.post)
    target = base + timedelta(hours=6)  # 16:00 UTC, 3 h after the other post
    _drag(qtbot, calendar, chip, target)
    qtbot.waitUntil(lambda: ctx.services.jobs.get(second).scheduled_at == target)
    assert any("Moved job" in m for m, _ in ctx.messages)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: not calendar.pending)

    # onto the other post's time: refused, the reason said, the post stays
    chip = next(c for c in calendar.chips if c.post["id"] == second)
    _drag(qtbot, calendar, chip, base + timedelta(minutes=30))
    qtbot.waitUntil(
        lambda: any("stays where it was" in m for m, _ in ctx.messages)  # type: ignore[attr-defined]
    )
    assert ctx.services.jobs.get(second).scheduled_at == target
    errors = [m for m, level in ctx.messages if level == "error"]  # type: ignore[attr-defined]
    assert "not a free slot for @tokyo" in errors[-1]
    assert ctx.services.jobs.get(first).scheduled_at == base

    # the account's own clock beside the operator's
    account_index = dashboard.account_filter.findText("@tokyo (Asia/Tokyo)")
    assert account_index > 0
    dashboard.account_filter.setCurrentIndex(account_index)
    qtbot.waitUntil(lambda: calendar.account_zone == "Asia/Tokyo")
    assert "the account's time (Asia/Tokyo)" in dashboard.week_label.text()


def test_dashboard_attention_and_today(
    dashboard: DashboardPanel, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    services = ctx.services
    first, _second, _base = _posts(services, tmp_path)
    with services.db.write() as session:
        job = session.get(Job, first)
        assert job is not None
        job.status = "needs_attention"
        job.submitted_at = datetime.now(UTC)
        job.attention_reason = "no answer after upload: outcome unknown"
    dashboard.show()
    qtbot.waitUntil(lambda: dashboard.loads > 0)
    assert dashboard.metrics["needs_attention"].value.text() == "1"
    kinds = [item.kind for item in dashboard.attention_items]
    assert kinds == ["unknown_outcome"]
    button = dashboard.attention_view.indexWidget(dashboard.attention.index(0, 3))
    assert button is not None and button.text() == "Check"
    assert dashboard.upcoming.rowCount() == 1  # the other post is still waiting
    # Check: the account's profile opens, and the post's address marks it published
    button.click()
    assert ctx.opened_urls == ["https://www.tiktok.com/@tokyo"]  # type: ignore[attr-defined]
    dialog = dashboard.resolver.dialog
    assert dialog.isVisible() and "paste its address" in dialog.findChild(QLabel).text()
    dialog.edit.setText("https://www.tiktok.com/@tokyo/video/7")
    dialog.accept()
    qtbot.waitUntil(lambda: services.jobs.get(first).status == "published")


def _waiting(services: Services, job_id: int, reason: str, code: str) -> None:
    """The job as the engine leaves it for the operator (the reason and its code)."""
    from piper_desktop.domain import lifecycle
    from piper_desktop.domain.events import EngineEvents

    with lifecycle.committed(services.db, EngineEvents()) as (_session, change):
        change.move(job_id, "hold_for_operator", lifecycle.Actor.ENGINE, reason,
                    data={"code": code}, reason=reason)  # fmt: skip


def test_resolve_not_connected_connects_then_queues_again(
    dashboard: DashboardPanel, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    services = ctx.services
    first, _second, _base = _posts(services, tmp_path)
    _waiting(services, first, "not ready: no Upload-Post profile", "not_connected")
    dashboard.show()
    qtbot.waitUntil(lambda: dashboard.loads > 0)
    assert [i.kind for i in dashboard.attention_items] == ["not_connected"]
    button = dashboard.attention_view.indexWidget(dashboard.attention.index(0, 3))
    assert button.text() == "Connect"
    button.click()
    # the route's own connect flow (an Upload-Post profile), never a browser login
    dialog = dashboard.resolver.flow.dialog
    assert dialog.windowTitle() == "Connect accounts — Upload-Post"
    # no Upload-Post key here to list profiles: the name is given by hand
    dialog.set_profile(dialog.rows[0].account_id, "tokyo-profile")
    dialog.connect_button.click()
    dialog.close_button.click()
    qtbot.waitUntil(lambda: services.jobs.get(first).status == "queued")
    assert services.accounts.load(services.jobs.get(first).account_id, "upload_post") == {
        "profile": "tokyo-profile"
    }
    assert services.accounts.get(services.jobs.get(first).account_id).status == "active"
    assert not any("active again" in m for m, _ in ctx.messages)  # type: ignore[attr-defined]


def test_resolve_unavailable_route_changes_the_job_s_route(
    dashboard: DashboardPanel, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    services = ctx.services
    first, _second, _base = _posts(services, tmp_path)
    _waiting(services, first, "the Upload-Post route needs upload_post.api_key",
             "route_not_configured")  # fmt: skip
    dashboard.show()
    qtbot.waitUntil(lambda: dashboard.loads > 0)
    button = dashboard.attention_view.indexWidget(dashboard.attention.index(0, 3))
    assert button.text() == "Change route"
    button.click()
    dialog = dashboard.resolver.dialog
    assert dialog.combo.findData("upload_post") < 0  # not the one that cannot be used
    dialog.choose("browser")
    dialog.accept()
    qtbot.waitUntil(lambda: services.jobs.get(first).route == "browser")
    assert services.jobs.get(first).status == "queued"


def test_week_day_headers_stay_in_view_when_scrolled(
    dashboard: DashboardPanel, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    """Issue 17 item 10: the day headers are frozen above the scrolling hours."""
    _first, _second, base = _posts(ctx.services, tmp_path)
    dashboard.calendar.first_day = week_start(base.date())
    dashboard.show()
    qtbot.waitUntil(lambda: len(dashboard.calendar.chips) == 2)
    bar = dashboard.calendar_scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())  # the evening hours
    header = dashboard.day_header
    assert header.isVisible()
    assert header.labels()[0] == week_start(base.date()).strftime("%a %d %b")
    # outside the scrolled area, right above it, whatever the scroll
    below = header.mapTo(dashboard, QPoint(0, header.height())).y()
    assert below <= dashboard.calendar_scroll.mapTo(dashboard, QPoint(0, 0)).y()
    assert header.parent() is not dashboard.calendar_scroll.viewport()
    # the hours start at the top of the calendar itself: no header painted inside
    assert dashboard.calendar.time_at(QPoint(dashboard.calendar._x_of(0) + 5, 12)) is not None
    save_screen(dashboard, "dashboard-week-scrolled")


def test_dashboard_attention_count_matches_its_list(
    dashboard: DashboardPanel, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    """An account that needs login is listed, so it is counted too (issue 17 item 9)."""
    services = ctx.services
    first, _second, _base = _posts(services, tmp_path)
    with services.db.write() as session:
        job = session.get(Job, first)
        assert job is not None
        job.status = "needs_attention"
        job.attention_reason = "captcha"
    other = services.accounts.add({"username": "lapsed"})
    services.accounts.set_status(other.id, "needs_login", "session expired")
    dashboard.show()
    qtbot.waitUntil(lambda: dashboard.loads > 0)
    qtbot.waitUntil(lambda: "published today" in dashboard.subtitle.text())
    listed = dashboard.attention.rowCount()
    assert listed == 2
    assert dashboard.metrics["needs_attention"].value.text() == "2"
    assert "2 need attention" in dashboard.subtitle.text()
    save_screen(dashboard, "dashboard-attention")


def test_settings_validate_save_mask_and_env(
    ctx: AppContext, qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("PIPER_UPLOAD_POST_BASE", "http://127.0.0.1:9/api")
    ctx.services.settings.set("upload_post.api_key", "up-key-123456789")
    panel = SettingsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    rows = panel.rows
    assert not panel.save_button.isEnabled()
    workers = rows["engine.max_workers"].widget
    workers.setText("0")
    assert "must be at least 1" in rows["engine.max_workers"].error.text()
    assert not panel.save_button.isEnabled()
    workers.setText("6")
    key = rows["upload_post.api_key"].widget
    assert key.text() == "" and "****89" in key.placeholderText()  # never shown back
    base = rows["upload_post.base"].widget
    assert (
        not base.isEnabled() and "PIPER_UPLOAD_POST_BASE" in rows["upload_post.base"].source.text()
    )
    rows["openrouter.api_key"].widget.setText("or-key-abcdef")
    themes: list[str] = []
    panel.theme_changed.connect(themes.append)
    theme = rows["ui.theme"].widget
    theme.setCurrentIndex(theme.findData("light"))
    assert panel.save_button.isEnabled()
    assert set(panel.changes()) == {"engine.max_workers", "openrouter.api_key", "ui.theme"}
    panel.save_button.click()
    settings = ctx.services.settings
    assert settings.get("engine.max_workers") == 6
    assert settings.get("openrouter.api_key") == "or-key-abcdef"
    assert themes == ["light"]
    assert rows["openrouter.api_key"].widget.text() == ""
    assert not panel.save_button.isEnabled()
    panel.autostart_box.setChecked(True)
    entry = tmp_path / "config" / "autostart" / "piper-desktop.desktop"
    assert "--minimized" in entry.read_text(encoding="utf-8")
    panel.autostart_box.setChecked(False)
    assert not entry.exists()


def test_unlock_wrong_then_right_password(data_dir: Path, qtbot) -> None:
    vault.create_vault(data_dir, MASTER_PASSWORD).close()
    dialog = UnlockDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.unlock_button.isEnabled()
    dialog.password.setText("not the password")
    with qtbot.assertNotEmitted(dialog.opened):
        dialog.unlock_button.click()
    assert dialog.error.text() == "Wrong master password. Try again."
    assert dialog.isVisible() and dialog.password.selectedText() == "not the password"
    opened: list[object] = []
    dialog.opened.connect(lambda db, folder: opened.append(db))
    dialog.password.setText(MASTER_PASSWORD)
    dialog.unlock_button.click()
    assert len(opened) == 1 and not dialog.isVisible()
    opened[0].close()  # type: ignore[attr-defined]


def test_welcome_creates_the_vault(tmp_path: Path, qtbot) -> None:
    folder = tmp_path / "fresh"
    dialog = WelcomeDialog(folder)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.password.setText("short")
    assert "at least 8 characters" in dialog.error.text()
    assert dialog.meter_text.text() == "Too short"
    dialog.password.setText("four words make a passphrase")
    dialog.confirm.setText("four words make a passphrase!")
    assert "the two passwords differ" in dialog.error.text()
    assert not dialog.create_button.isEnabled()
    dialog.confirm.setText("four words make a passphrase")
    assert dialog.meter_text.text() == "Strong" and dialog.create_button.isEnabled()
    created: list[object] = []
    dialog.opened.connect(lambda db, where: created.append(db))
    dialog.create_button.click()
    assert len(created) == 1 and vault.vault_exists(folder)
    created[0].close()  # type: ignore[attr-defined]
    vault.unlock_vault(folder, "four words make a passphrase").close()
    assert strength("Tr0ub4dor&3xyz")[1] in ("Good", "Strong")
