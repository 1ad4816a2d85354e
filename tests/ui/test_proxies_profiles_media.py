"""Proxies, browser profiles and the media library panels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from piper_desktop.sandbox.openrouter import OpenRouterSandbox
from piper_desktop.sandbox.proxy import LocalProxy
from piper_desktop.sandbox.tiktok_studio import TikTokStudioSandbox
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.media import MediaDialog, MediaPanel
from piper_desktop.ui.panels.profiles import ProfilesPanel
from piper_desktop.ui.panels.proxies import ProxiesPanel
from piper_desktop.ui.table_panel import TablePanel
from tests.conftest import make_video
from tests.ui.artifacts import save_screen


def _show(panel: TablePanel, qtbot) -> TablePanel:
    qtbot.addWidget(panel)
    panel.resize(1300, 700)
    panel.show()
    return panel


def _select(panel: TablePanel, *ids: int) -> None:
    selection = panel.view.selectionModel()
    selection.clearSelection()
    for row_id in ids:
        position = panel.model.position_of(row_id)
        assert position is not None
        selection.select(
            panel.model.index(position, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


# --- proxies ------------------------------------------------------------------------------


@pytest.fixture
def stand_ins() -> Iterator[tuple[LocalProxy, TikTokStudioSandbox]]:
    with (
        LocalProxy(users={"piper": "sandbox"}) as proxy,
        TikTokStudioSandbox() as web,
    ):
        yield proxy, web  # type: ignore[misc]


def test_proxies_create_edit_import_filter(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    panel = _show(ProxiesPanel(ctx), qtbot)
    panel.new_proxy()
    dialog = panel.dialog
    dialog.editors["host"].set_raw("proxy one")
    dialog.editors["port"].set_raw("70000")
    qtbot.waitUntil(lambda: dialog.editors["port"].error.isVisible())
    assert dialog.editors["port"].error.text() == "Port: must be at most 65535"
    assert "has an invalid format" in dialog.editors["host"].error.text()
    dialog.editors["host"].set_raw("127.0.0.1")
    dialog.editors["port"].set_raw("3128")
    dialog.editors["username"].set_raw("bob")
    dialog.editors["password"].set_raw("pw-123456")
    qtbot.waitUntil(dialog.save_button.isEnabled)
    dialog.save_button.click()
    assert panel.model.total == 1
    assert panel.model.row(0)["has_password"] and "password" not in panel.model.row(0)

    lines = tmp_path / "proxies.txt"
    lines.write_text(
        "# office\n127.0.0.2:8080\nnot a proxy\n127.0.0.3:8081:user:p:ss\n127.0.0.4:99999\n",
        encoding="utf-8",
    )
    importer = panel.import_file(str(lines))
    bad = [r["line"] for r in importer.model.rows() if not r["ok"]]
    assert bad == [3, 5]
    importer.import_button.click()
    assert importer.report is not None and importer.report.created == 2
    assert panel.model.total == 3
    assert ctx.services.proxies.find("127.0.0.3:8081").password == "p:ss"

    panel.edit(panel.model.rows()[0])
    edit = panel.dialog
    edit.editors["port"].set_raw("abc")
    qtbot.waitUntil(lambda: "must be a whole number" in edit.editors["port"].error.text())
    edit.editors["port"].set_raw("3129")
    qtbot.waitUntil(edit.save_button.isEnabled)
    edit.save_button.click()
    assert {p.port for p in ctx.services.proxies.list()} >= {3129}

    kind = panel._filter_boxes["kind"]
    kind.setCurrentIndex(kind.findData("residential"))
    qtbot.waitUntil(lambda: panel.model.total == 0)
    assert panel.stack.currentWidget() is panel.empty
    assert panel.empty.text() == "Nothing matches the filter."


def test_proxy_checks_fill_in_live(
    ctx: AppContext, qtbot, stand_ins: tuple[LocalProxy, TikTokStudioSandbox], pool_tasks
) -> None:
    proxy, web = stand_ins
    services = ctx.services
    services.settings.set("proxy.check_url", web.base_url + "/api/ip")
    host, port = proxy.httpd.server_address[:2]
    good = services.proxies.add(
        {"host": str(host), "port": port, "username": "piper", "password": "sandbox"}
    )
    wrong = services.proxies.add(
        {"host": str(host), "port": port, "username": "intruder", "password": "nope-nope"}
    )
    dead = services.proxies.add({"host": "127.0.0.1", "port": 9})
    panel = _show(ProxiesPanel(ctx), qtbot)
    qtbot.waitUntil(lambda: panel.model.total == 3)
    _select(panel, good.id, wrong.id)
    patched: list[int] = []
    panel.model.dataChanged.connect(lambda top, _bottom, _roles: patched.append(top.row()))
    panel.find_action("Check selected").trigger()
    assert panel.model.row(panel.model.position_of(good.id) or 0)["status"] == "checking"
    qtbot.waitUntil(lambda: not panel.checking, timeout=30_000)
    qtbot.waitUntil(
        lambda: panel.model.row(panel.model.position_of(good.id) or 0)["status"] == "ok"
    )
    rows = {r["id"]: r for r in panel.model.rows()}
    assert rows[good.id]["latency_ms"] is not None and rows[good.id]["exit_ip"]
    # the exit country, from the IP-info answer, shows live and is kept
    assert rows[good.id]["country"] == "US" and services.proxies.get(good.id).country == "US"
    assert rows[wrong.id]["status"] == "error"
    assert "407" in rows[wrong.id]["last_error"]
    assert rows[dead.id]["status"] == "unchecked"  # not selected, not checked
    assert patched  # rows changed as results arrived
    panel.check_all()
    qtbot.waitUntil(lambda: services.proxies.get(dead.id).status == "error", timeout=30_000)


# --- browser profiles -----------------------------------------------------------------------


def test_proxy_errors_are_not_squeezed_to_a_letter(ctx: AppContext, qtbot) -> None:
    """Issue 17 item 10: in a narrow window the error keeps its width (the table
    scrolls sideways) and its full text is the tooltip; wide, it takes the spare room."""
    services = ctx.services
    proxy = services.proxies.add({"host": "127.0.0.1", "port": 9})
    error = "Connection refused by 127.0.0.1:9 while opening the tunnel\n(after 3 tries)"
    services.proxies.record_check(proxy.id, ok=False, latency_ms=None, exit_ip=None, error=error)
    panel = ProxiesPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    qtbot.waitUntil(lambda: panel.model.total == 1)
    column = [c.key for c in panel.model.columns].index("last_error")
    header = panel.view.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(column) >= 280)
    index = panel.model.index(0, column)
    assert index.data() == (
        "Connection refused by 127.0.0.1:9 while opening the tunnel (after 3 tries)"
    )
    assert index.data(Qt.ItemDataRole.ToolTipRole) == error
    save_screen(panel, "proxies-narrow-error")
    panel.resize(2400, 600)
    qtbot.waitUntil(lambda: header.sectionSize(column) > 400)  # stretched again


def test_profiles_from_template_edit_used_by(ctx: AppContext, qtbot) -> None:
    panel = _show(ProfilesPanel(ctx), qtbot)
    panel.new_profile("chrome-android")
    dialog = panel.dialog
    assert dialog.editors["is_mobile"].raw() is True
    assert "Android" in dialog.editors["user_agent"].raw()
    dialog.editors["viewport_width"].set_raw("50")
    qtbot.waitUntil(lambda: "must be at least 200" in dialog.editors["viewport_width"].error.text())
    dialog.editors["viewport_width"].set_raw("412")
    dialog.editors["name"].set_raw("Pixel")
    dialog.editors["locale"].set_raw("de-DE")
    qtbot.waitUntil(dialog.save_button.isEnabled)
    dialog.save_button.click()
    profile = ctx.services.profiles.find("Pixel")
    assert profile.template == "chrome-android" and profile.locale == "de-DE"
    account = ctx.services.accounts.add({"username": "phone_user", "profile_id": profile.id})
    panel.reload()
    _select(panel, profile.id)
    assert [panel.users.item(i).text() for i in range(panel.users.count())] == ["@phone_user"]
    assert "1 account" in panel.users_hint.text()
    panel.duplicate()
    assert ctx.services.profiles.find("Pixel (copy)").user_agent == profile.user_agent
    template = panel._filter_boxes["template"]
    template.setCurrentIndex(template.findData("chrome-windows"))
    qtbot.waitUntil(lambda: panel.model.total == 0)
    template.setCurrentIndex(template.findData("chrome-android"))
    qtbot.waitUntil(lambda: panel.model.total == 2)
    panel.edit(panel.current_row() or panel.model.row(0))
    edit = panel.dialog
    edit.editors["geolocation_lat"].set_raw("123")
    qtbot.waitUntil(lambda: "must be at most 90" in edit.editors["geolocation_lat"].error.text())
    edit.reject()
    _select(panel, profile.id)
    panel.delete_selected()
    panel.last_dialog.findChild(type(panel.last_dialog.buttons()[0]), "confirm_yes").click()
    assert ctx.services.accounts.get(account.id).profile_id is None


def _drag_enter(mime: QMimeData) -> QDragEnterEvent:
    # PySide6 6.12 takes a QPointF (and deprecates QPoint); earlier ones take a QPoint
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    try:
        return QDragEnterEvent(QPointF(20, 20), *args)
    except TypeError:
        return QDragEnterEvent(QPoint(20, 20), *args)


# --- media library ------------------------------------------------------------------------------


def test_media_drop_files_and_folders_then_edit(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    panel = _show(MediaPanel(ctx), qtbot)
    folder = tmp_path / "batch"
    folder.mkdir()
    make_video(folder, "one.mp4")
    make_video(folder, "two.mov")
    (folder / "notes.txt").write_text("not a video", encoding="utf-8")
    single = make_video(tmp_path, "three.mp4")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder)), QUrl.fromLocalFile(str(single))])
    # Qt delivers drops only during a real drag; the handlers get the same events
    enter = _drag_enter(mime)
    panel.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    panel.dropEvent(drop)
    assert panel.model.total == 3
    assert any(m == "Added 3 videos" for m, _ in ctx.messages)  # type: ignore[attr-defined]
    # the same files again: known by content, not added twice
    panel.add_paths([str(folder)])
    assert panel.model.total == 3
    # a thumbnail for every row (a drawn card when there is no frame to show)
    icon = panel.model.data(panel.model.index(0, 0), Qt.ItemDataRole.DecorationRole)
    assert icon is not None and not icon.isNull()

    panel.search.setText("tw")
    qtbot.waitUntil(lambda: panel.model.total == 1)
    assert panel.model.row(0)["title"] == "two"
    panel.search.clear()
    qtbot.waitUntil(lambda: panel.model.total == 3)
    row = next(r for r in panel.model.rows() if r["title"] == "three")
    dialog = panel.edit(row)
    assert isinstance(dialog, MediaDialog)
    dialog.editors["title"].set_raw("x" * 301)
    qtbot.waitUntil(lambda: "longer than 300" in dialog.editors["title"].error.text())
    dialog.editors["title"].set_raw("Three")
    dialog.editors["hashtags"].set_raw("#one two, three")
    dialog.editors["default_caption"].set_raw("Hello")
    qtbot.waitUntil(dialog.save_button.isEnabled)
    dialog.save_button.click()
    item = ctx.services.media.get(row["id"])
    assert item.title == "Three" and item.hashtags == ["one", "two", "three"]


def test_media_side_picture_becomes_the_thumbnail(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    from piper_desktop.sandbox.demo import gradient_png

    video = make_video(tmp_path, "clip.mp4")
    (tmp_path / "clip.png").write_bytes(gradient_png(64, 36, 3))
    ctx.services.media.add(video)
    panel = _show(MediaPanel(ctx), qtbot)
    key = ctx.services.media.get(1).sha256
    panel.model.data(panel.model.index(0, 0), Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: key in panel.thumbs._icons and key not in panel.thumbs._pending)
    image = panel.thumbs._icons[key].pixmap(64, 40).toImage()
    # the gradient's corner, not the placeholder's rounded transparent corner
    assert image.pixelColor(32, 20).alpha() == 255


def test_media_thumbnail_is_the_videos_own_frame(tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    from piper_desktop.ui.thumbnails import first_frame

    data = first_frame(str(make_video(tmp_path, "frame.mp4", seconds=2)))  # no side picture
    assert data is not None and data.startswith(b"\x89PNG")
    image = QImage.fromData(data)
    assert (image.width(), image.height()) == (160, 284)
    colour = image.pixelColor(80, 140)  # the clip's first second: a dark red
    assert colour.red() > colour.green() + 30 and colour.red() > colour.blue() + 30
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n")
    assert first_frame(str(text)) is None


def test_media_no_longer_a_video_is_flagged_in_place(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    video = make_video(tmp_path, "gone.mp4")
    ctx.services.media.add(video)
    video.write_text("overwritten")
    panel = _show(MediaPanel(ctx), qtbot)
    key = ctx.services.media.get(1).sha256
    panel.model.data(panel.model.index(0, 0), Qt.ItemDataRole.DecorationRole)
    qtbot.waitUntil(lambda: key in panel.thumbs._problems)
    assert "is not a video file" in panel.thumbs._problems[key]
    image = panel.thumbs._icons[key].pixmap(64, 40).toImage()
    assert image.pixelColor(4, 20).red() > 150 and image.pixelColor(4, 20).green() < 80
    assert ctx.services.media.count() == 1  # flagged, not removed


@pytest.fixture
def openrouter() -> Iterator[OpenRouterSandbox]:
    with OpenRouterSandbox() as server:
        yield server  # type: ignore[misc]


def test_media_caption_suggestions(
    ctx: AppContext, qtbot, tmp_path: Path, openrouter: OpenRouterSandbox
) -> None:
    ctx.services.settings.set("openrouter.base", openrouter.api_base)
    ctx.services.settings.set("openrouter.api_key", openrouter.api_key)
    ctx.services.media.add(make_video(tmp_path, "beach.mp4"), {"title": "Beach day"})
    panel = _show(MediaPanel(ctx), qtbot)
    dialog = panel.edit(panel.model.row(0))
    dialog.suggest_button.click()
    qtbot.waitUntil(lambda: dialog.ideas.count() > 0)
    first = dialog.ideas.item(0)
    dialog.use_idea(first)
    assert dialog.editors["default_caption"].raw() == first.text()
    assert ctx.services.media.get(1).default_caption is None  # nothing saved until Save
    dialog.reject()
    # without a key it says what to do
    ctx.services.settings.unset("openrouter.api_key")
    again = panel.edit(panel.model.row(0))
    again.suggest_button.click()
    assert "openrouter.api_key" in again.ideas_note.text()
    again.reject()
