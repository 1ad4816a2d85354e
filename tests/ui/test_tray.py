"""The tray: job balloons batched into one, and quitting says "stopping…" at once
(issue 17 item 10)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from piper_desktop.sandbox.demo import start_demo
from piper_desktop.ui.app import PiperApp
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.engine_bridge import JobEvent
from piper_desktop.ui.tray import TrayController


def _tray(ctx: AppContext, qtbot: Any) -> TrayController:
    tray = TrayController(ctx, notifications_enabled=lambda: True)
    tray.batch.setInterval(50)  # the window of one balloon, short for the test
    return tray


def test_several_publishes_share_one_balloon(ctx: AppContext, qtbot) -> None:
    tray = _tray(ctx, qtbot)
    for job_id in (11, 12, 13):
        ctx.bridge.job_event.emit(JobEvent(job_id, "published", "published", "posted"))
    ctx.bridge.job_event.emit(JobEvent(14, "failed", "failed", "title is required"))
    assert list(tray.balloons) == []  # nothing yet: the window is still open
    qtbot.waitUntil(lambda: len(tray.balloons) == 1)
    title, text = tray.balloons[0]
    assert title == "3 published, 1 failed"
    assert "job #11" in text and "title is required" in text
    assert len(tray.notifications) == 4  # the history keeps each one
    # a lone publish later gets a balloon of its own, naming its job
    ctx.bridge.job_event.emit(JobEvent(15, "published", "published", "posted"))
    qtbot.waitUntil(lambda: len(tray.balloons) == 2)
    assert tray.balloons[1] == ("Published: job #15", "posted")


def test_many_jobs_in_one_balloon_say_how_many_more(ctx: AppContext, qtbot) -> None:
    tray = _tray(ctx, qtbot)
    for job_id in range(1, 8):
        ctx.bridge.job_event.emit(JobEvent(job_id, "published", "published", "posted"))
    qtbot.waitUntil(lambda: len(tray.balloons) == 1)
    title, text = tray.balloons[0]
    assert title == "7 published"
    assert text.splitlines()[-1] == "and 3 more (see Jobs)"


def test_quit_from_the_tray_says_stopping_at_once_and_keeps_the_gui_free(
    qapp: QApplication, tmp_path: Path, qtbot, pool_tasks
) -> None:
    demo = start_demo(tmp_path)
    try:
        piper = PiperApp(qapp, demo.services(), demo.data_dir, quit_app=False, stop_timeout=20)
        piper.start()
        piper.tray.rebuild_menu()
        assert piper.tray.action("tray_quit").text() == "Quit Piper"
        with qtbot.waitSignal(piper.finished, timeout=60_000):
            piper.tray.action("tray_quit").trigger()
            # back on the GUI thread at once: the stopping is said, the work is behind it
            assert piper.tray.stopping
            quit_action = piper.tray.action("tray_quit")
            assert quit_action.text() == "Stopping Piper…" and not quit_action.isEnabled()
            assert not piper.tray.action("tray_pause").isEnabled()
            assert "stopping" in piper.tray.icon.toolTip()
            assert "closed" not in piper.stages  # the GUI thread did not wait for it
        assert piper.stages[-1] == "closed"
    finally:
        demo.close()
