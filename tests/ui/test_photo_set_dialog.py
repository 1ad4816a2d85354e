"""The Media panel's "Add photo set…": images in order with thumbnails, reordered,
a cover chosen, stored as one photo set; a refused image is named and nothing stored."""

from __future__ import annotations

from pathlib import Path

from piper_desktop.sandbox.images import write_image
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.media import MediaPanel
from piper_desktop.ui.panels.photo_set_dialog import PhotoSetDialog
from tests.ui.artifacts import save_screen


def test_add_photo_set_reordered_with_cover(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    panel = MediaPanel(ctx)
    qtbot.addWidget(panel)
    dialog = panel.add_photo_set()
    assert isinstance(dialog, PhotoSetDialog)
    paths = [
        str(write_image(tmp_path / f"{name}.jpg", "jpeg", 120, 160, shade=i * 60))
        for i, name in enumerate(["beach", "sunset", "dinner"])
    ]
    dialog.add_images(paths)
    assert not dialog.images.item(0).icon().isNull()  # a thumbnail
    dialog.images.setCurrentRow(2)
    dialog.move_image(-1)  # dinner before sunset
    dialog.cover.setValue(2)
    dialog.title.setText("Weekend")
    assert dialog.images.item(1).text() == "2. dinner.jpg ★ cover"
    save_screen(dialog, "media-photo-set")
    dialog.save()
    qtbot.waitUntil(lambda: ctx.services.media.count() == 1)
    [item] = ctx.services.media.list()
    assert item.kind == "photo_set" and item.title == "Weekend" and item.cover_index == 1
    assert [Path(i["path"]).stem for i in item.images or []] == ["beach", "dinner", "sunset"]


def test_refused_image_is_named_and_nothing_stored(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    dialog = PhotoSetDialog(ctx)
    qtbot.addWidget(dialog)
    note = tmp_path / "note.jpg"
    note.write_text("not a picture")
    dialog.add_images([str(write_image(tmp_path / "ok.jpg")), str(note)])
    dialog.save()
    qtbot.waitUntil(lambda: "note.jpg" in dialog.error.text())
    assert ctx.services.media.count() == 0 and dialog.box.isEnabled()
