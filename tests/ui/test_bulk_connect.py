"""The "Connect accounts" dialog against the real stand-ins: TikTok sign-ins one after
another (progress states, a mismatch flagged, Cancel ending the wait, the link copied,
no browser said), Upload-Post profiles by name, cookies files by name with a bad one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QGuiApplication

from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.ui.bulk_connect import BulkConnectDialog
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.accounts import AccountsPanel
from tests.ui.artifacts import save_screen


@pytest.fixture
def tiktok(ctx: AppContext) -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox() as server:
        settings = ctx.services.settings
        settings.set("tiktok.client_key", server.client_key)  # type: ignore[attr-defined]
        settings.set("tiktok.client_secret", server.client_secret)  # type: ignore[attr-defined]
        settings.set("tiktok.api_base", server.base_url)
        settings.set("tiktok.auth_url", server.auth_url)  # type: ignore[attr-defined]
        yield server  # type: ignore[misc]


def _accounts(ctx: AppContext, *names: str) -> list[tuple[int, str]]:
    return [(ctx.services.accounts.add({"username": n}).id, n) for n in names]


def _dialog(ctx: AppContext, qtbot, route: str, accounts, **kw) -> BulkConnectDialog:
    dialog = BulkConnectDialog(ctx, route, accounts, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _follow(url: str) -> int:
    """The person's browser: the stand-in consents and redirects to Piper's listener."""
    with httpx.Client(trust_env=False, timeout=30) as client:
        return client.get(url, follow_redirects=True).status_code


def test_tiktok_sign_ins_one_after_another_with_states_and_a_mismatch(
    ctx: AppContext, qtbot, tiktok: TikTokApiSandbox
) -> None:
    accounts = _accounts(ctx, "first", "second", "third")
    tiktok.authorize_as("first")
    tiktok.authorize_as("Someone_Else")
    dialog = _dialog(ctx, qtbot, "tiktok_api", accounts, timeout=2.0)
    seen: list[tuple[str, str]] = []
    dialog.model.dataChanged.connect(
        lambda top, _bottom: seen.append(
            (dialog.rows[top.row()].username, dialog.rows[top.row()].state)
        )
    )

    def browser(url: str) -> None:
        # the third person never consents: its wait runs out, the walk goes on
        assert dialog.current is not None
        if dialog.current.username != "third":
            assert _follow(url) == 200

    ctx.url_opener = browser
    assert [r.state for r in dialog.rows] == ["waiting"] * 3
    dialog.start()
    qtbot.waitUntil(lambda: dialog.done_walking, timeout=20_000)
    assert [r.state for r in dialog.rows] == [
        "connected as @first",
        "connected as @Someone_Else — another creator!",
        "failed: no authorization answer arrived in time",
    ]
    # one after another: each account waited for its consent only after the one before
    assert seen == [
        ("first", "waiting for consent"),
        ("first", "connected as @first"),
        ("second", "waiting for consent"),
        ("second", "connected as @Someone_Else — another creator!"),
        ("third", "waiting for consent"),
        ("third", "failed: no authorization answer arrived in time"),
    ]
    # the mismatch rule of a single connect, flagged on its row
    second = dialog.rows[1]
    assert second.flagged and not dialog.rows[0].flagged
    assert "@second is now connected to the TikTok creator @Someone_Else" in second.detail
    creds = ctx.services.accounts.load(accounts[1][0], "tiktok_api")
    assert creds["identity_mismatch"] is True
    assert ctx.services.accounts.get(accounts[0][0]).routes == ["tiktok_api"]
    assert dialog.summary.text() == "Done: 2 connected (1 as another creator), 1 failed"
    assert dialog.close_button.text() == "Close"


def test_cancel_ends_the_consent_wait_at_once(
    ctx: AppContext, qtbot, tiktok: TikTokApiSandbox, pool_tasks
) -> None:
    accounts = _accounts(ctx, "slowpoke", "next_one")
    dialog = _dialog(ctx, qtbot, "tiktok_api", accounts)  # the 5-minute limit
    dialog.start()
    qtbot.waitUntil(lambda: bool(dialog.link), timeout=10_000)
    assert dialog.rows[0].state == "waiting for consent" and dialog.rows[1].state == "waiting"
    assert "left of the 5:00 limit" in dialog.wait_label.text()
    assert ctx.opened_urls == [dialog.link]  # type: ignore[attr-defined]
    redirect = parse_qs(urlsplit(dialog.link).query)["redirect_uri"][0]
    dialog.close_button.click()
    # the wait ends now, not after five minutes
    qtbot.waitUntil(lambda: dialog.done_walking, timeout=10_000)
    assert [r.state for r in dialog.rows] == ["cancelled", "cancelled"]
    assert dialog.summary.text() == "Done: 0 connected, 2 cancelled"
    assert ctx.services.accounts.load(accounts[0][0], "tiktok_api") == {}
    # nothing listens for the redirect any more
    with pytest.raises(httpx.ConnectError):
        httpx.get(redirect, timeout=5)


def test_no_browser_is_said_and_the_link_copies(
    ctx: AppContext, qtbot, tiktok: TikTokApiSandbox, pool_tasks
) -> None:
    accounts = _accounts(ctx, "brand_main", "brand_two")
    tiktok.authorize_as("someone_else")
    ctx.url_opener = ctx._open_in_browser  # the real one: offscreen has no browser
    dialog = _dialog(ctx, qtbot, "tiktok_api", accounts)
    dialog.resize(900, 480)
    dialog.start()
    qtbot.waitUntil(lambda: bool(dialog.link), timeout=10_000)
    assert dialog.browser_note.isVisible()
    assert dialog.browser_note.text().startswith("No browser opened: copy the link")
    assert "@brand_main" in dialog.browser_note.text()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == dialog.link
    assert dialog.link_edit.text() == dialog.link
    # the person pastes it into a browser of their own
    first_link = dialog.link
    assert _follow(first_link) == 200
    qtbot.waitUntil(lambda: dialog.link != first_link and bool(dialog.link), timeout=10_000)
    assert (
        dialog.rows[0].state == "connected as @someone_else — another creator!"
        and dialog.rows[0].flagged
    )
    assert dialog.rows[1].state == "waiting for consent"
    assert "@brand_two" in dialog.browser_note.text()
    save_screen(dialog, "bulk-connect")
    dialog.skip_button.click()
    qtbot.waitUntil(lambda: dialog.done_walking, timeout=10_000)
    assert dialog.rows[1].state == "skipped"
    assert dialog.summary.text() == "Done: 1 connected (1 as another creator), 1 skipped"


def test_upload_post_profiles_matched_by_name(ctx: AppContext, qtbot) -> None:
    accounts = _accounts(ctx, "anna", "ben", "carl", "dora")
    with UploadPostSandbox(profiles={"Anna", "@BEN", "zed"}) as server:
        ctx.services.settings.set("upload_post.api_key", server.api_key)  # type: ignore[attr-defined]
        ctx.services.settings.set("upload_post.base", server.api_base)  # type: ignore[attr-defined]
        dialog = _dialog(ctx, qtbot, "upload_post", accounts)
        dialog.start()
        assert dialog.profiles == ["@BEN", "Anna", "zed"]
    assert [r.match for r in dialog.rows] == [
        "Anna",
        "@BEN",
        "— no profile of that name",
        "— no profile of that name",
    ]
    assert dialog.connect_button.text() == "Connect matched (2)"
    assert "2 of 4 accounts matched by name" in dialog.status.text()
    # a profile chosen by hand for one of the unmatched
    dialog.view.selectionModel().select(
        dialog.model.index(2, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    dialog.choose_button.click()
    dialog.chooser.choose("zed")
    dialog.chooser.accept()
    assert dialog.connect_button.text() == "Connect matched (3)"
    dialog.connect_button.click()
    assert [r.state for r in dialog.rows] == [
        "connected to profile Anna",
        "connected to profile @BEN",
        "connected to profile zed",
        "skipped: no profile",
    ]
    load = ctx.services.accounts.load
    assert [load(a, "upload_post") for a, _ in accounts] == [
        {"profile": "Anna"}, {"profile": "@BEN"}, {"profile": "zed"}, {}
    ]  # fmt: skip
    assert dialog.summary.text() == "Done: 3 connected, 1 skipped"


def test_upload_post_without_a_key_says_so_and_lets_a_name_be_typed(ctx: AppContext, qtbot) -> None:
    accounts = _accounts(ctx, "solo")
    dialog = _dialog(ctx, qtbot, "upload_post", accounts)
    dialog.start()
    assert dialog.status.text().startswith("Could not list the Upload-Post profiles")
    assert "upload_post.api_key" in dialog.status.text()
    assert not dialog.connect_button.isEnabled()
    dialog.set_profile(accounts[0][0], "solo-profile")
    dialog.connect_button.click()
    assert ctx.services.accounts.load(accounts[0][0], "upload_post") == {"profile": "solo-profile"}


def test_cookies_folder_matched_by_name_with_a_bad_file(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    accounts = _accounts(ctx, "anna", "ben", "carl", "dora")
    folder = tmp_path / "sessions"
    folder.mkdir()
    cookie = {"name": "sessionid", "value": "anna-session", "domain": ".tiktok.com", "path": "/"}
    (folder / "ANNA.json").write_text(json.dumps([cookie]), encoding="utf-8")
    (folder / "ben.txt").write_text(
        ".tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\tben-session\n", encoding="utf-8"
    )
    (folder / "carl.json").write_text('{"cookies": [', encoding="utf-8")
    (folder / "stranger.txt").write_text(
        ".tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\tx\n", encoding="utf-8"
    )
    dialog = _dialog(ctx, qtbot, "browser", accounts)
    dialog.start()
    assert dialog.folder_button.isVisible() and not dialog.connect_button.isVisible()
    dialog.import_folder(str(folder))
    states = [r.state for r in dialog.rows]
    assert states[:2] == [
        "connected: 1 cookies from ANNA.json",
        "connected: 1 cookies from ben.txt",
    ]
    # the bad file is its row's one line; the others went on
    assert states[2].startswith("failed: carl.json: no usable cookie (line 1")
    assert states[3] == "waiting" and dialog.rows[3].match == "— no cookies file"
    assert "not imported: stranger.txt (no account of that name)" in dialog.status.text()
    assert "1 accounts have no file" in dialog.status.text()
    state = ctx.services.accounts.storage_state(accounts[1][0])
    assert state is not None and state["cookies"][0]["value"] == "ben-session"
    assert ctx.services.accounts.storage_state(accounts[2][0]) in (None, {})
    assert dialog.summary.text() == "Done: 2 connected, 1 failed, 1 not connected"


def test_accounts_panel_opens_it_for_the_selected_accounts(ctx: AppContext, qtbot) -> None:
    ids = [i for i, _ in _accounts(ctx, "one", "two", "three")]
    panel = AccountsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    panel.reload()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 3)
    assert not panel.connect_button.isEnabled()
    selection = panel.view.selectionModel()
    for row_id in ids[:2]:
        position = panel.model.position_of(row_id)
        assert position is not None
        selection.select(
            panel.model.index(position, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    assert panel.connect_button.isEnabled()
    panel.connect_actions["browser"].trigger()
    dialog = panel.connect_dialog
    qtbot.addWidget(dialog)
    assert isinstance(dialog, BulkConnectDialog) and dialog.isVisible()
    assert sorted(r.username for r in dialog.rows) == ["one", "two"]
    assert dialog.windowTitle() == "Connect accounts — Browser (TikTok Studio)"
    dialog.close_button.click()
    assert not dialog.isVisible()


def test_tiktok_without_the_app_s_keys_fails_every_row_once(ctx: AppContext, qtbot) -> None:
    accounts = _accounts(ctx, "one", "two")
    dialog = _dialog(ctx, qtbot, "tiktok_api", accounts)
    dialog.start()
    assert dialog.done_walking
    assert [r.state for r in dialog.rows] == [
        "failed: tiktok.client_key: is not set: piper settings set tiktok.client_key --stdin"
    ] * 2
    assert ctx.opened_urls == []  # type: ignore[attr-defined]
