"""Settings' Watched folders box: folders added (typed or chosen) with their targets and
removed, a refusal naming the field, and each folder's status from what the watcher
recorded and what waits in it."""

from __future__ import annotations

from pathlib import Path

from piper_desktop.domain import watch_folders as wf
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.settings import SettingsPanel
from tests.ui.artifacts import save_screen


def test_watched_folders_box(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    services = ctx.services
    services.accounts.add({"username": "carol", "routes": ["upload_post"]})
    services.accounts.add({"username": "dan", "group": "ClientB", "routes": ["upload_post"]})
    drop, team = tmp_path / "drop", tmp_path / "team"
    drop.mkdir()
    team.mkdir()
    panel = SettingsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 1000)
    panel.show()
    box = panel.watched_folders
    assert box.table.rowCount() == 0
    assert "watch.folders" not in panel.rows and "watch.last" not in panel.rows
    assert "watch.stable_seconds" in panel.rows  # the timing settings are typed in

    box.folder.setText(str(tmp_path / "nope"))
    box.name.setText("carol")
    box.add_button.click()
    assert "no such folder" in box.error.text() and box.folder.property("invalid") is True
    box.folder.setText(str(drop))
    box.template.setText("{stem} {when}")
    box.add_button.click()
    assert "{when}" in box.error.text() and box.template.property("invalid") is True
    box.template.setText("{stem} on {date}")
    box.add_button.click()
    assert not box.error.isVisible()

    box.pick_folder = lambda parent, title: str(team)  # what the folder chooser returns
    box.choose_button.click()
    assert box.folder.text() == str(team)
    box.kind.setCurrentIndex(box.kind.findData("group"))
    box.name.setText("clientb")
    box.route.setCurrentIndex(box.route.findData("upload_post"))
    box.at.setCurrentIndex(box.at.findData("now"))
    box.add_button.click()
    assert not box.error.isVisible()
    assert [(f.path, f.target.describe(), f.at) for f in wf.watched(services.settings)] == [
        (drop, "account tiktok:carol", "auto"),
        (team, "group clientb via upload_post", "now"),
    ]

    (drop / "waiting.mp4").write_bytes(b"x")
    wf.record(services.settings, 1, "taken", "beach.mp4 at 2030-01-07T09:30:00+00:00: job 4")
    wf.record(services.settings, 1, "failed", "bad.mp4: caption: must be text")
    box.reload()
    cells = [[box.table.item(r, c).text() for c in range(4)] for r in range(2)]
    assert cells[0][:3] == [str(drop), "account tiktok:carol", "{stem} on {date}"]
    assert cells[0][3].splitlines() == [
        "watching",
        "1 waiting",
        "last taken beach.mp4 at 2030-01-07T09:30:00+00:00: job 4",
        "last failed bad.mp4: caption: must be text",
    ]
    assert cells[1][1] == "group clientb via upload_post, at once"
    save_screen(box.parentWidget(), "settings-folders")

    team.rmdir()
    box.reload()
    assert box.table.item(1, 3).text().startswith("missing folder")
    box.table.selectRow(1)
    assert box.remove_button.isEnabled()
    box.remove_button.click()
    assert [f.path for f in wf.watched(services.settings)] == [drop]
    assert box.table.rowCount() == 1
