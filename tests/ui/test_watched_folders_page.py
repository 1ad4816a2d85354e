"""Settings' watched-folders box: add through the chooser's path, a bad one named in one
line, each folder's status (watching, waiting, last taken/failed), remove."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from piper_desktop.intake.watch_config import load_folders, update_state
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.settings import SettingsPanel
from tests.conftest import make_video
from tests.engine.helpers import add_account
from tests.ui.artifacts import save_screen


def test_watched_folders_box(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    add_account(ctx.services, "carol")
    add_account(ctx.services, "dan", group="crew")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    panel = SettingsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    box = panel.watched_folders
    assert box.model.rowCount() == 0

    box.folder_edit.setText(str(tmp_path / "missing"))
    box.who.setText("carol")
    box.add_button.click()
    assert box.result.text() == f"folder: no such folder: {tmp_path / 'missing'}"

    box.choose()
    assert box.dialog is not None
    box.dialog.fileSelected.emit(str(inbox))  # what choosing the folder does
    box.dialog.close()
    assert box.folder_edit.text() == str(inbox)
    box.template.setText("{stem} #fresh")
    box.add_button.click()
    assert box.result.text() == ""
    [folder] = load_folders(ctx.services)
    assert folder.account == "carol" and folder.caption_template == "{stem} #fresh"

    crew = tmp_path / "crew"
    crew.mkdir()
    box.folder_edit.setText(str(crew))
    box.kind.setCurrentIndex(box.kind.findData("group"))
    box.who.setText("crew")
    box.template.setText("{title}")
    box.add_button.click()
    assert "unknown placeholder {title}" in box.result.text()
    box.template.setText("")
    box.add_button.click()
    assert len(load_folders(ctx.services)) == 2

    # what the watcher leaves behind, as the box reads it
    make_video(inbox, "waiting.mp4")
    now = datetime.now(UTC).isoformat()

    def did(state: dict) -> None:
        state["seen_at"] = now
        state["last_taken"] = {
            "name": "a.mp4",
            "at": now,
            "line": "job 1 at 2026-12-07T18:00+00:00",
        }
        state["last_failed"] = {"name": "b.mp4", "at": now, "reason": "b.json: unknown field 'x'"}

    update_state(ctx.services, folder.id, did)
    box.reload()
    rows = {r["path"]: r for r in box.model.rows()}
    mine = rows[str(inbox.resolve())]
    assert mine["status"] == "watching" and mine["waiting"] == 1
    assert rows[str(crew.resolve())]["status"].startswith("not watched")
    texts = [box.model.index(0, c).data() for c in range(box.model.columnCount())]
    assert "account carol" in texts and "{stem} #fresh" in texts
    assert any("unknown field 'x'" in str(t) for t in texts)
    box.resize(1100, 520)
    save_screen(box, "settings-folders")

    box.remove_button.click()
    assert box.result.text() == "Select a folder to stop watching."
    box.table.selectRow(1)
    box.remove_button.click()
    assert [f.path for f in load_folders(ctx.services)] == [str(inbox.resolve())]
    assert box.model.rowCount() == 1
