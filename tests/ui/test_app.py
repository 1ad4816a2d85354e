"""The whole application in-process: try-out data, the real engine publishing to the
sandbox stand-ins, the tray, closing to the tray, quitting in stages, one instance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication, QMessageBox

from piper_desktop.sandbox.demo import DemoEnvironment, start_demo
from piper_desktop.store.models import Job
from piper_desktop.ui.app import PiperApp
from piper_desktop.ui.engine_bridge import JobEvent
from piper_desktop.ui.panels.jobs import JobsPanel
from piper_desktop.ui.single_instance import SingleInstance


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoEnvironment]:
    environment = start_demo(tmp_path)
    yield environment
    environment.close()


def _app(qapp: QApplication, demo: DemoEnvironment, **options: Any) -> PiperApp:
    return PiperApp(
        qapp,
        demo.services(),
        demo.data_dir,
        quit_app=False,
        stop_timeout=20,
        **options,
    )


def _quit(piper: PiperApp, qtbot) -> None:
    if piper.quitting:
        return
    with qtbot.waitSignal(piper.finished, timeout=60_000):
        piper.quit_in_stages()


def test_demo_seeds_a_try_out(demo: DemoEnvironment) -> None:
    services = demo.services()
    assert demo.summary == {"accounts": 4, "proxies": 2, "media": 5, "campaigns": 3, "jobs": 5}
    assert services.settings.get("tiktok.api_base") == demo.servers["tiktok_api"].base_url
    assert services.accounts.load(1, "tiktok_api")["access_token"].startswith("act.")
    assert services.accounts.storage_state(3)["cookies"][0]["name"] == "sessionid"
    assert services.jobs.count(status="queued") == 5


def test_a_live_job_moves_through_its_states(
    qapp: QApplication, demo: DemoEnvironment, qtbot, pool_tasks
) -> None:
    piper = _app(qapp, demo)
    events: list[JobEvent] = []
    piper.ctx.bridge.job_event.connect(events.append)
    try:
        with qtbot.waitSignal(piper.shown, timeout=10_000):
            piper.start()
        assert piper.window.isVisible()
        assert piper.window.windowTitle().startswith("Piper Desktop")
        qtbot.waitUntil(lambda: piper.engine.state == "running", timeout=20_000)
        qtbot.waitUntil(lambda: any(e.kind == "published" for e in events), timeout=90_000)
        published = next(e for e in events if e.kind == "published")
        kinds = [e.kind for e in events if e.job_id == published.job_id]
        assert kinds.index("claimed") < kinds.index("submitting") < kinds.index("published")
        assert "receipt" in kinds
        jobs = piper.window.show_panel("jobs")
        assert isinstance(jobs, JobsPanel)

        def shown() -> dict[str, Any]:
            position = jobs.model.position_of(published.job_id)
            return jobs.model.row(position) if position is not None else {}

        # the badge changes with the event; the whole row (receipt, link) follows
        qtbot.waitUntil(lambda: bool(shown().get("post_url")), timeout=20_000)
        assert shown()["status"] == "published" and shown()["receipt"]
        assert any(n.kind == "published" for n in piper.tray.notifications)
        # pause from the window: the engine stops claiming, the tray follows
        piper.window.pause_button.click()
        qtbot.waitUntil(lambda: piper.engine.state == "paused")
        assert piper.tray.paused and piper.window.pause_button.text() == "Resume"
        piper.tray.rebuild_menu()
        assert piper.tray.action("tray_pause").text() == "Resume publishing"
        piper.tray.action("tray_pause").trigger()
        qtbot.waitUntil(lambda: piper.engine.state == "running")
    finally:
        _quit(piper, qtbot)
    assert piper.stages == ["stop_new_work", "park_in_flight", "flush", "closed"]
    assert piper.engine.state == "stopped"
    assert not piper.window.isVisible()


def test_tray_menu_close_to_tray_and_quit_with_posts_in_flight(
    qapp: QApplication, demo: DemoEnvironment, qtbot
) -> None:
    piper = _app(qapp, demo, start_engine=False)
    try:
        piper.start()
        piper.tray.refresh()
        piper.tray.rebuild_menu()
        names = [a.objectName() for a in piper.tray.menu.actions() if a.objectName()]
        assert names[:2] == ["tray_job_1", "tray_job_4"] or names[0].startswith("tray_job_")
        assert {"tray_pause", "tray_open", "tray_quit"} <= set(names)
        first_job = piper.tray.upcoming[0]["id"]
        piper.tray.action(f"tray_job_{first_job}").trigger()
        jobs = piper.window.panels["jobs"]
        assert isinstance(jobs, JobsPanel)
        assert piper.window.current_key() == "jobs" and jobs.search.text() == f"#{first_job}"
        assert jobs.selected_ids() == [first_job]

        # failed and needs-attention jobs are notified too
        piper.ctx.bridge.push({"job_id": first_job, "kind": "failed", "message": "refused"})
        piper.ctx.bridge.push(
            {"job_id": first_job, "kind": "needs_attention", "message": "captcha"}
        )
        piper.ctx.bridge.push({"job_id": first_job, "kind": "progress", "message": "50%"})
        kinds = [n.kind for n in piper.tray.notifications]
        assert kinds[-2:] == ["failed", "needs_attention"]
        assert piper.tray.notifications[-1].title == f"Needs your attention: job #{first_job}"

        # closing the window keeps Piper in the tray, and says so once
        piper.tray.available = True
        piper.window.close()
        assert not piper.window.isVisible() and not piper.quitting
        hints = [n for n in piper.tray.notifications if n.title == "Piper is still running"]
        assert len(hints) == 1
        piper.tray.action("tray_open").trigger()
        assert piper.window.isVisible()
        piper.window.close()
        assert len([n for n in piper.tray.notifications if n.title.startswith("Piper is")]) == 1
        piper.tray.open_requested.emit()

        # a post mid-upload: quitting asks first, then parks it
        with demo.db.write() as session:
            job = session.get(Job, first_job)
            assert job is not None
            job.status = "submitting"
        piper.tray.action("tray_quit").trigger()
        box = piper.quit_box
        assert isinstance(box, QMessageBox) and "1 post(s) are being published" in box.text()
        assert piper.stages == []
        with qtbot.waitSignal(piper.finished, timeout=30_000):
            box.findChild(type(box.buttons()[0]), "confirm_yes").click()
    finally:
        _quit(piper, qtbot)
    assert piper.stages == ["stop_new_work", "park_in_flight", "flush", "closed"]


def test_minimized_start_stays_in_the_tray(
    qapp: QApplication, demo: DemoEnvironment, qtbot
) -> None:
    piper = _app(qapp, demo, start_engine=False, minimized=True)
    try:
        piper.tray.available = True
        piper.start()
        assert not piper.window.isVisible()
        piper.tray.open_requested.emit()
        assert piper.window.isVisible()
    finally:
        _quit(piper, qtbot)


def test_a_second_launch_brings_the_first_forward(tmp_path: Path, qtbot) -> None:
    first = SingleInstance(tmp_path / "data")
    assert first.listen()
    server = first.server
    assert server is not None
    try:
        second = SingleInstance(tmp_path / "data")
        with qtbot.waitSignal(first.activated, timeout=10_000):
            assert second.notify_running()
        other = SingleInstance(tmp_path / "elsewhere")
        assert not other.notify_running(timeout_ms=200)
    finally:
        first.close()
    qtbot.waitUntil(lambda: not shiboken6.isValid(server))
    # the first is gone: the next one may listen, even over a stale socket file
    third = SingleInstance(tmp_path / "data")
    assert third.listen()
    third.close()
