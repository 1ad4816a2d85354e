"""Accounts panel: create, edit with invalid input, import with bad lines, filters, bulk
actions, delete, cookies, and connecting the TikTok API against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from piper_desktop.domain.errors import ValidationError
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.dialogs import ProxyPickerDialog
from piper_desktop.ui.forms import FormDialog
from piper_desktop.ui.panels.accounts import AccountsPanel
from tests.ui.artifacts import save_screen


@pytest.fixture
def panel(ctx: AppContext, qtbot) -> AccountsPanel:
    widget = AccountsPanel(ctx)
    qtbot.addWidget(widget)
    widget.resize(1300, 700)
    widget.show()
    return widget


def _select(panel: AccountsPanel, *ids: int) -> None:
    panel.view.selectionModel().clearSelection()
    for row_id in ids:
        position = panel.model.position_of(row_id)
        assert position is not None
        panel.view.selectionModel().select(
            panel.model.index(position, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )


def test_create_names_what_is_wrong_then_saves(
    panel: AccountsPanel, ctx: AppContext, qtbot
) -> None:
    panel.find_action("Add account").trigger()
    dialog = panel.dialog
    assert isinstance(dialog, FormDialog) and dialog.isVisible()
    assert not dialog.save_button.isEnabled()  # username is required
    dialog.editors["username"].set_raw("bad name!")
    qtbot.waitUntil(lambda: dialog.editors["username"].error.isVisible())
    assert "has an invalid format" in dialog.editors["username"].error.text()
    assert not dialog.save_button.isEnabled()
    dialog.editors["username"].set_raw("@alice")
    dialog.editors["email"].set_raw("alice-at-example")
    qtbot.waitUntil(lambda: dialog.editors["email"].error.isVisible())
    assert dialog.editors["email"].error.text().startswith("E-mail: has an invalid format")
    dialog.editors["email"].set_raw("alice@example.com")
    dialog.editors["group"].set_raw("EU")
    dialog.editors["tags"].set_raw("fitness, morning")
    dialog.editors["password"].set_raw("s3cret-pass")
    qtbot.waitUntil(dialog.save_button.isEnabled)
    dialog.save_button.click()
    assert not dialog.isVisible()
    account = ctx.services.accounts.find("alice")
    assert account.group == "EU" and account.tags == ["fitness", "morning"]
    assert account.password == "s3cret-pass"
    assert panel.model.total == 1
    assert panel.selected_ids() == [account.id]
    assert ("Added @alice", "success") in ctx.messages  # type: ignore[attr-defined]
    # the same name again: the service's refusal shows at the field, the dialog stays
    panel.new_account()
    again = panel.dialog
    again.editors["username"].set_raw("alice")
    qtbot.waitUntil(again.save_button.isEnabled)
    again.save_button.click()
    assert again.isVisible()
    assert "already exists" in again.editors["username"].error.text()
    again.reject()


def test_edit_with_invalid_input(panel: AccountsPanel, ctx: AppContext, qtbot) -> None:
    account = ctx.services.accounts.add({"username": "bob", "max_posts_per_day": 3})
    panel.reload()
    panel.edit(panel.model.row(0))
    dialog = panel.dialog
    editors = dialog.editors
    assert editors["username"].raw() == "bob"
    editors["max_posts_per_day"].set_raw("0")
    editors["timezone"].set_raw("Mars/Olympus")
    editors["window_enabled"].set_raw(True)
    qtbot.waitUntil(lambda: editors["max_posts_per_day"].error.isVisible())
    assert "must be at least 1" in editors["max_posts_per_day"].error.text()
    assert "unknown time zone 'Mars/Olympus'" in editors["timezone"].error.text()
    assert not dialog.save_button.isEnabled()
    editors["max_posts_per_day"].set_raw("5")
    editors["timezone"].set_raw("Europe/Berlin")
    qtbot.waitUntil(lambda: "needs a start and an end" in editors["window_start"].error.text())
    editors["window_start"].set_raw("25:00")
    qtbot.waitUntil(lambda: "must be a time HH:MM" in editors["window_start"].error.text())
    editors["window_start"].set_raw("09:00")
    editors["window_end"].set_raw("17:30")
    qtbot.waitUntil(dialog.save_button.isEnabled)
    assert dialog.values() == {
        "timezone": "Europe/Berlin",
        "window_enabled": True,
        "window_start": "09:00",
        "window_end": "17:30",
        "max_posts_per_day": "5",
    }
    dialog.save_button.click()
    saved = ctx.services.accounts.get(account.id)
    assert saved.max_posts_per_day == 5 and saved.timezone == "Europe/Berlin"
    assert saved.window_enabled and saved.window_start.strftime("%H:%M") == "09:00"
    assert panel.model.row(0)["timezone"] == "Europe/Berlin"


def test_import_previews_bad_lines_and_imports_the_good(
    panel: AccountsPanel, ctx: AppContext, tmp_path: Path, qtbot
) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text(
        "username,group,timezone,max_posts_per_day\n"
        "carol,EU,Europe/Paris,3\n"
        "bad name,EU,UTC,3\n"
        "dave,US,America/Chicago,2\n"
        "erin,US,Moon/Base,2\n"
        "frank,US,UTC,4\n",
        encoding="utf-8",
    )
    dialog = panel.import_file(str(source))
    preview = {r["line"]: r for r in dialog.model.rows()}
    assert len(preview) == 5
    assert preview[3]["ok"] is False and "username" in preview[3]["problem"]
    assert preview[5]["ok"] is False and "unknown time zone" in preview[5]["problem"]
    assert dialog.import_button.text() == "Import 3 good lines"
    dialog.import_button.click()
    assert dialog.report is not None
    assert (dialog.report.created, len(dialog.report.errors)) == (3, 2)
    assert [e.line for e in dialog.report.errors] == [3, 5]
    assert "3 created" in dialog.summary.text()
    assert panel.model.total == 3
    # a file that is not accounts at all is refused as a whole
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("colour,size\nred,2\n", encoding="utf-8")
    refused = panel.import_file(str(wrong))
    assert "unknown column 'colour'" in refused.summary.text()
    assert not refused.import_button.isEnabled()
    refused.reject()
    dialog.reject()


def test_import_shows_why_lines_failed_bad_first_and_names_them(
    panel: AccountsPanel, ctx: AppContext, tmp_path: Path, qtbot
) -> None:
    """Issue 17 item 9: bad lines first, the full problem as a tooltip, and the summary
    after importing names the skipped accounts (also those only the vault refuses)."""
    source = tmp_path / "accounts.csv"
    source.write_text(
        "username,group,timezone,proxy_id\n"
        "carol,EU,Europe/Paris,\n"
        "dave,US,America/Chicago,\n"
        "erin,US,Moon/Base_of_the_far_side_where_no_zone_is_known,\n"
        "ghost,US,UTC,999\n",
        encoding="utf-8",
    )
    dialog = panel.import_file(str(source))
    dialog.resize(960, 520)
    rows = dialog.model.rows()
    assert [r["line"] for r in rows] == [4, 2, 3, 5]  # the bad line first
    problem_col = [c.key for c in dialog.model.columns].index("problem")
    tip = dialog.model.index(0, problem_col).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == rows[0]["problem"] and "Moon/Base_of_the_far_side" in tip
    assert dialog.model.index(1, problem_col).data(Qt.ItemDataRole.ToolTipRole) is None
    save_screen(dialog, "import-preview")
    dialog.import_button.click()
    assert dialog.report is not None and dialog.report.created == 2
    after = dialog.model.rows()
    assert [(r["line"], r["username"], r["check"]) for r in after] == [
        (4, "erin", "error"),
        (5, "ghost", "error"),
        (2, "carol", "imported"),
        (3, "dave", "imported"),
    ]
    assert "999" in after[1]["problem"]
    summary = dialog.summary.text()
    assert "2 skipped: @erin (line 4), @ghost (line 5)" in summary
    save_screen(dialog, "import-done")
    dialog.reject()


def test_filters_and_bulk_assign(panel: AccountsPanel, ctx: AppContext, qtbot) -> None:
    services = ctx.services
    ids = [
        services.accounts.add({"username": f"u{n}", "group": "A" if n < 3 else "B"}).id
        for n in range(5)
    ]
    services.accounts.set_status(ids[4], "needs_login")
    proxy = services.proxies.add({"host": "127.0.0.1", "port": 8080, "name": "Office"})
    panel.reload()
    status = panel._filter_boxes["status"]
    status.setCurrentIndex(status.findData("needs_login"))
    qtbot.waitUntil(lambda: panel.model.total == 1)
    assert panel.model.row(0)["username"] == "u4"
    status.setCurrentIndex(0)
    group = panel._filter_boxes["group"]
    assert group.findData("B") > 0  # loaded from the data
    group.setCurrentIndex(group.findData("A"))
    qtbot.waitUntil(lambda: panel.model.total == 3)
    panel.search.setText("u1")
    qtbot.waitUntil(lambda: panel.model.total == 1)
    panel.search.clear()
    qtbot.waitUntil(lambda: panel.model.total == 3)

    _select(panel, ids[0], ids[1])
    assert "2 selected" in panel.status
    assert panel.find_action("Set group…").isEnabled()
    assert not panel.find_action("Edit…").isEnabled()  # needs exactly one
    panel.ask_assign("proxy_id")
    picker = panel.dialog
    assert isinstance(picker, ProxyPickerDialog)
    picker.select_ids([proxy.id])
    picker.accept()
    assert services.accounts.get(ids[0]).proxy_id == proxy.id
    assert panel.model.row(panel.model.position_of(ids[0]) or 0)["proxy_label"].endswith(":8080")
    panel.ask_assign("group")
    chooser = panel.dialog
    chooser.choose("VIP")
    chooser.accept()
    assert {services.accounts.get(i).group for i in ids[:2]} == {"VIP"}
    # the group filter (A) no longer matches them
    qtbot.waitUntil(lambda: panel.model.total == 1)

    group.setCurrentIndex(0)
    qtbot.waitUntil(lambda: panel.model.total == 5)
    _select(panel, ids[2], ids[3])
    panel.find_action("Disable").trigger()
    assert services.accounts.get(ids[2]).status == "disabled"
    menu = panel.context_menu()
    assert menu is not None
    texts = [a.text() for a in menu.actions() if a.text()]
    assert "Delete…" in texts and "Edit…" not in texts  # two rows: no single-row actions
    panel.delete_selected()
    box = panel.last_dialog
    assert isinstance(box, QMessageBox)
    box.findChild(type(box.buttons()[0]), "confirm_yes").click()
    assert services.accounts.count() == 3


def test_keyboard_shortcut_opens_the_create_dialog(
    panel: AccountsPanel, ctx: AppContext, qtbot
) -> None:
    ctx.services.accounts.add({"username": "keyboard"})
    panel.reload()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    panel.view.setFocus()
    qtbot.waitUntil(panel.view.hasFocus)
    qtbot.keyClick(panel.view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(getattr(panel, "dialog", None), FormDialog))
    assert panel.dialog.windowTitle() == "Add account"
    panel.dialog.reject()


def test_cookies_round_trip(panel: AccountsPanel, ctx: AppContext, tmp_path: Path) -> None:
    account = ctx.services.accounts.add({"username": "cookie_monster"})
    panel.reload()
    _select(panel, account.id)
    source = tmp_path / "cookies.json"
    source.write_text(
        json.dumps(
            [
                {"name": "sessionid", "value": "abc123", "domain": ".tiktok.com", "path": "/"},
                {"name": "", "value": "bad"},
            ]
        ),
        encoding="utf-8",
    )
    panel.import_cookies(str(source))
    state = ctx.services.accounts.storage_state(account.id)
    assert [c["name"] for c in state["cookies"]] == ["sessionid"]
    assert any("imported 1 cookies, skipped 1" in m for m, _ in ctx.messages)  # type: ignore[attr-defined]
    target = tmp_path / "out.txt"
    panel.export_cookies(str(target))
    assert "sessionid\tabc123" in target.read_text(encoding="utf-8")
    assert panel.model.row(0)["has_session"]


@pytest.fixture
def tiktok() -> Iterator[TikTokApiSandbox]:
    with TikTokApiSandbox() as server:
        yield server  # type: ignore[misc]


def test_connect_tiktok_api_through_the_sandbox(
    panel: AccountsPanel, ctx: AppContext, tiktok: TikTokApiSandbox
) -> None:
    services = ctx.services
    services.settings.set("tiktok.client_key", tiktok.client_key)
    services.settings.set("tiktok.client_secret", tiktok.client_secret)
    services.settings.set("tiktok.api_base", tiktok.base_url)
    services.settings.set("tiktok.auth_url", tiktok.auth_url)
    account = services.accounts.add({"username": "creator1"})
    tiktok.authorize_as("creator1")
    answers: list[int] = []

    def browser(url: str) -> None:
        # the person's browser: the sandbox consents and redirects to Piper's listener
        with httpx.Client(trust_env=False, timeout=30) as client:
            answers.append(client.get(url, follow_redirects=True).status_code)

    ctx.url_opener = browser
    panel.reload()
    _select(panel, account.id)
    panel.find_action("Connect TikTok API").trigger()
    assert answers == [200]
    credentials = services.accounts.load(account.id, "tiktok_api")
    assert credentials["access_token"].startswith("act.")
    assert services.accounts.get(account.id).routes == ["tiktok_api"]
    assert "TikTok API" in panel.model.row(0)["connected_routes"].replace(
        "tiktok_api", "TikTok API"
    )
    assert any("connected to the TikTok API" in m for m, _ in ctx.messages)  # type: ignore[attr-defined]


def test_assign_proxies_spreads_one_per_account_and_marks_dead_ones(
    panel: AccountsPanel, ctx: AppContext, qtbot
) -> None:
    services = ctx.services
    ids = [services.accounts.add({"username": f"s{n}"}).id for n in range(5)]
    live = [services.proxies.add({"host": "127.0.0.1", "port": 9000 + n}) for n in range(2)]
    dead = services.proxies.add({"host": "127.0.0.1", "port": 9009})
    services.proxies.record_check(
        dead.id, ok=False, latency_ms=None, exit_ip=None, error="Connection refused by 127.0.0.1:9009"
    )
    services.proxies.record_check(
        live[0].id, ok=True, latency_ms=12.0, exit_ip="127.0.0.1", error=None
    )
    panel.reload()
    qtbot.waitUntil(lambda: panel.model.total == 5)
    _select(panel, *ids)
    panel.ask_assign("proxy_id")
    picker = panel.dialog
    assert isinstance(picker, ProxyPickerDialog)
    texts = [picker.list.item(r).text() for r in range(picker.list.count())]
    # the dead one is listed last, marked, with its full error as tooltip
    assert texts[-1].startswith("✕ dead") and "9009" in texts[-1]
    assert not any(t.startswith("✕") for t in texts[:-1])
    assert "Connection refused" in picker.list.item(picker.list.count() - 1).toolTip()
    picker.select_ids([p.id for p in live])
    assert picker.note.text() == ""
    picker.accept()
    proxies = [services.accounts.get(i).proxy_id for i in ids]
    assert proxies == [live[0].id, live[1].id, live[0].id, live[1].id, live[0].id]
    # the accounts table shows each account's proxy health, the error as tooltip
    qtbot.waitUntil(lambda: panel.model.row(0).get("proxy_status") == "ok")
    column = [c.key for c in panel.model.columns].index("proxy_status")
    assert panel.model.index(0, column).data() == "ok"
    assert "12 ms" in panel.model.index(0, column).data(Qt.ItemDataRole.ToolTipRole)
    services.accounts.bulk_assign([ids[0]], {"proxy_id": dead.id})
    panel.reload()
    qtbot.waitUntil(lambda: panel.model.row(0).get("proxy_status") == "error")
    tip = panel.model.index(0, column).data(Qt.ItemDataRole.ToolTipRole)
    assert "Connection refused by 127.0.0.1:9009" in tip
    save_screen(panel, "accounts-proxy-health")
    _select(panel, *ids)
    panel.ask_assign("proxy_id")
    picker = panel.dialog
    picker.select_ids([dead.id])
    assert "1 of the chosen proxies failed" in picker.note.text()
    save_screen(picker, "accounts-assign-proxies")
    picker.reject()


def test_assign_proxies_domain_rules(ctx: AppContext) -> None:
    services = ctx.services
    ids = [services.accounts.add({"username": f"d{n}"}).id for n in range(3)]
    proxy = services.proxies.add({"host": "127.0.0.1", "port": 9100})
    assert services.accounts.assign_proxies(ids, [proxy.id], "same") == dict.fromkeys(ids, proxy.id)
    with pytest.raises(ValidationError, match="no proxy with id 999"):
        services.accounts.assign_proxies(ids, [999])
    with pytest.raises(ValidationError, match="spread"):
        services.accounts.assign_proxies(ids, [proxy.id], "by_country")
    with pytest.raises(ValidationError, match="at least one"):
        services.accounts.assign_proxies(ids, [])


def test_connect_tiktok_api_as_another_creator_warns_and_records_it(
    panel: AccountsPanel, ctx: AppContext, tiktok: TikTokApiSandbox, qtbot
) -> None:
    services = ctx.services
    services.settings.set("tiktok.client_key", tiktok.client_key)
    services.settings.set("tiktok.client_secret", tiktok.client_secret)
    services.settings.set("tiktok.api_base", tiktok.base_url)
    services.settings.set("tiktok.auth_url", tiktok.auth_url)
    account = services.accounts.add({"username": "brand_main"})
    tiktok.authorize_as("someone_else")

    def browser(url: str) -> None:
        with httpx.Client(trust_env=False, timeout=30) as client:
            client.get(url, follow_redirects=True)

    ctx.url_opener = browser
    panel.reload()
    _select(panel, account.id)
    panel.find_action("Connect TikTok API").trigger()
    messages = ctx.messages  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: any(level == "warning" for _, level in messages), timeout=30_000)
    warning = next(m for m, level in messages if level == "warning")
    assert "@brand_main" in warning and "@someone_else" in warning
    assert not any(level == "success" for _, level in messages)
    credentials = services.accounts.load(account.id, "tiktok_api")
    assert credentials["identity_mismatch"] is True
    assert credentials["creator_username"] == "someone_else"
