"""Team mode's window against a real PostgreSQL: the Team panel lists the desktops seen
(a second desktop's heartbeat written through domain/team.heartbeat), the status bar
names the team, a job inserted through another desktop's connection appears in the Jobs
panel on NOTIFY (ui/change_bridge.py), and the Jobs panel says which desktop holds it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from piper_desktop.domain import team
from piper_desktop.domain.leases import LeaseOwner
from piper_desktop.domain.services import Services
from piper_desktop.store.db import Database
from piper_desktop.store.models import Job
from piper_desktop.store.pg import PgDatabase
from piper_desktop.store.vault import create_vault
from piper_desktop.ui.change_bridge import ChangeBridge
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.main_window import MainWindow
from piper_desktop.ui.panels.jobs import JobsPanel
from piper_desktop.ui.team_view import TeamPanel, age, held_by
from tests.conftest import MASTER_PASSWORD, TEAM_PASSPHRASE
from tests.engine.helpers import add_account, add_media
from tests.ui.artifacts import save_screen


@dataclass
class Team:
    ctx: AppContext
    other: PgDatabase  # the second desktop's own connection to the team
    other_owner: str  # its engine's lease owner


@pytest.fixture
def team_gui(db: Database, pg_db: PgDatabase, data_dir: Path, tmp_path: Path) -> Iterator[Team]:
    mine = team.join_team(pg_db.url, TEAM_PASSPHRASE, db, name="desk-one", operator="ann")
    other_vault = create_vault(tmp_path / "other", MASTER_PASSWORD)
    other = team.join_team(pg_db.url, TEAM_PASSPHRASE, other_vault, name="desk-two", operator="bob")
    assert other.desktop_id is not None
    owner = str(LeaseOwner.new(other.desktop_id))
    team.heartbeat(other, other.desktop_id, "running", owner)
    try:
        yield Team(AppContext(Services(mine), data_dir), other, owner)  # type: ignore[arg-type]
    finally:
        other.close()
        other_vault.close()
        mine.close()


def _window(qtbot, ctx: AppContext) -> MainWindow:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_team_panel_lists_the_desktops_and_the_status_bar_names_the_team(
    qtbot, team_gui: Team
) -> None:
    window = _window(qtbot, team_gui.ctx)
    panel = window.show_panel("team")
    assert isinstance(panel, TeamPanel)
    model = panel.model
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    rows = {model.text(d, 1): [model.text(d, c) for c in range(5)] for d in model.desktops}
    assert rows["ann"][0] == "desk-one (this desktop)"
    assert rows["bob"][0] == "desk-two" and rows["bob"][2] == "running"
    assert rows["bob"][3].endswith("s ago")
    assert window.team_watch.label.text().endswith("· 2 machines")
    assert window.team_watch.label.text().startswith("Team: postgresql://")
    assert "Team" in [window.nav.item(i).text() for i in range(window.nav.count())]
    window.resize(1320, 860)
    save_screen(window, "team-machines")


def test_a_local_window_has_no_team_panel(qtbot, ctx: AppContext) -> None:
    window = _window(qtbot, ctx)
    assert window.team_model is None
    assert "Team" not in [window.nav.item(i).text() for i in range(window.nav.count())]


def test_a_job_added_at_another_desktop_appears_and_shows_who_holds_it(
    qtbot, team_gui: Team, tmp_path: Path
) -> None:
    ctx = team_gui.ctx
    window = _window(qtbot, ctx)
    assert window.team_model is not None
    qtbot.waitUntil(lambda: window.team_model is not None and window.team_model.rowCount() == 2)
    panel = window.show_panel("jobs")
    assert isinstance(panel, JobsPanel)
    qtbot.waitUntil(lambda: panel.model.loaded_once)
    assert panel.model.total == 0
    bridge = ChangeBridge(ctx)
    assert bridge.start()
    try:
        assert bridge.listener is not None
        qtbot.waitUntil(bridge.listener.listening.is_set)
        there = Services(team_gui.other)  # type: ignore[arg-type]
        account = add_account(there, "remote")
        media = add_media(there, tmp_path, "remote.mp4", title="remote clip")
        job = there.jobs.add(account_id=account.id, media_id=media.id, route="browser", at="auto")
        qtbot.waitUntil(lambda: panel.model.total == 1, timeout=3000)
        column = panel.model.column_index("held_by")
        assert not panel.view.isColumnHidden(column)
        with team_gui.other.write() as session:
            row = session.get(Job, job.id)
            assert row is not None
            row.status = "claimed"
            row.lease_owner = team_gui.other_owner
        qtbot.waitUntil(lambda: panel.model.rows()[0].get("lease_owner") == team_gui.other_owner)
        assert panel.model.index(0, column).data() == "desk-two"
        window.resize(1320, 860)
        save_screen(window, "jobs-held-by")
        # the Team panel's count of jobs held follows on the same NOTIFY
        model = window.team_model
        qtbot.waitUntil(
            lambda: any(d.name == "desk-two" and d.jobs_held == 1 for d in model.desktops)
        )
    finally:
        bridge.stop()
    assert bridge.listener is None


def test_held_by_and_age_words() -> None:
    names = {"0123456789abcdef": "desk-two"}
    assert held_by("0123456789abcdef-m1:42:ab", names) == "desk-two"
    assert held_by("somehost:42:ab", names) == "somehost"
    assert held_by(None, names) == ""
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    assert age(now - timedelta(seconds=5), now) == "5 s ago"
    assert age(now - timedelta(minutes=3), now) == "3 min ago"
    assert age(now - timedelta(hours=2), now) == "2 h ago"


def test_the_app_on_a_team_store_heartbeats_and_listens_until_it_quits(
    qapp, qtbot, team_gui: Team, data_dir: Path, pool_tasks
) -> None:
    from piper_desktop.ui.app import PiperApp

    piper = PiperApp(qapp, team_gui.ctx.services, data_dir, quit_app=False, stop_timeout=20)
    me = team_gui.ctx.services.db.desktop_id  # type: ignore[attr-defined]
    try:
        with qtbot.waitSignal(piper.shown, timeout=10_000):
            piper.start()
        assert piper.changes.listener is not None
        qtbot.waitUntil(lambda: piper.engine.state == "running", timeout=20_000)

        def mine() -> team.DesktopStatus:
            return next(d for d in team.desktops(team_gui.other, None) if d.id == me)

        # the engine's state change wrote this desktop's heartbeat, seen from the other
        qtbot.waitUntil(lambda: mine().engine_state == "running", timeout=10_000)
    finally:
        with qtbot.waitSignal(piper.finished, timeout=60_000):
            piper.quit_in_stages()
    assert piper.changes.listener is None
