"""The accounts import dialog's mapping step, template and spread (issue 17 item 4)."""

from __future__ import annotations

import json
from pathlib import Path

from piper_desktop.ui.context import AppContext
from piper_desktop.ui.dialogs import ProxyPickerDialog
from piper_desktop.ui.import_dialog import ACCOUNTS, ImportDialog
from tests.ui.artifacts import save_screen


def _dialog(ctx: AppContext, qtbot, path: Path) -> ImportDialog:
    dialog = ImportDialog(ACCOUNTS, ctx.services.db, str(path))
    qtbot.addWidget(dialog)
    dialog.resize(980, 640)
    return dialog


def test_mapping_step_guesses_remembers_and_imports(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    services = ctx.services
    (tmp_path / "ann.json").write_text(
        json.dumps([{"name": "sessionid", "value": "v-1", "domain": ".tiktok.com", "path": "/"}])
    )
    source = tmp_path / "gologin.csv"
    source.write_text(
        "Profile Name,Proxy,Cookies,Zona,Colour\n"
        "ann,http://u:pw-secret@127.0.0.1:8090,ann.json,Asia/Tokyo,blue\n"
        "ben,,,Europe/Berlin,red\n"
        "cat,,,,green\n"
    )
    dialog = _dialog(ctx, qtbot, source)
    assert dialog.mapping_box("Profile Name").currentData() == "username"
    assert dialog.mapping_box("Proxy").currentData() == "proxy"
    assert dialog.mapping_box("Zona").currentData() is None  # not guessed: choose
    assert "unknown column 'Zona'" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()
    # the proxy cell holds a password: the preview masks it
    assert dialog.mapping_table.item(1, 1).text() == "••••"
    assert "cookies" in dialog.columns_hint.text() and "proxy" in dialog.columns_hint.text()
    dialog.mapping_box("Zona").setCurrentIndex(dialog.mapping_box("Zona").findData("timezone"))
    dialog.mapping_box("Colour").setCurrentIndex(dialog.mapping_box("Colour").findData("ignore"))
    assert dialog.import_button.text() == "Import 3 good lines"
    save_screen(dialog, "import-mapping")
    dialog.import_button.click()
    report = dialog.report
    assert report is not None and report.created == 3 and report.proxies_created == 1
    assert "1 account had no time zone: UTC" in dialog.summary.text()
    ann = services.accounts.find("ann")
    assert ann.timezone == "Asia/Tokyo" and ann.proxy_id is not None
    assert services.accounts.storage_state(ann.id)["cookies"][0]["name"] == "sessionid"
    assert services.accounts.find("cat").timezone == "UTC"
    # the same columns next time: the remembered mapping is offered
    again = tmp_path / "again.csv"
    again.write_text("colour,zona,profile name,proxy,cookies\nred,UTC,dan,,\n")
    second = _dialog(ctx, qtbot, again)
    assert second.mapping_box("zona").currentData() == "timezone"
    assert second.mapping_box("colour").currentData() == "ignore"
    assert "chose last time" in second.mapping_note.text()
    assert second.import_button.isEnabled()
    # no secret went into the remembered mapping
    stored = json.dumps(services.settings.get("accounts.import_mappings"))
    assert "pw-secret" not in stored and "timezone" in stored


def test_template_saved_from_the_dialog(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_text("username\nann\n")
    dialog = _dialog(ctx, qtbot, source)
    target = tmp_path / "template.csv"
    dialog.save_template(str(target))
    assert "Template saved" in dialog.summary.text()
    header = target.read_text().splitlines()[0]
    for column in ("username", "proxy", "cookies", "posting_window", "country", "timezone"):
        assert f'"{column}"' in header
    assert target.stat().st_mode & 0o077 == 0
    # the template imports as it is
    reread = _dialog(ctx, qtbot, target)
    assert reread.import_button.text() == "Import 1 good lines"


def test_spread_options_on_import_and_in_assign(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    services = ctx.services
    jp = services.proxies.add({"host": "127.0.0.1", "port": 9201, "name": "tokyo"})
    us = services.proxies.add({"host": "127.0.0.1", "port": 9202, "name": "newyork"})
    dead = services.proxies.add({"host": "127.0.0.1", "port": 9203, "name": "dead-jp"})
    for proxy, country in ((jp, "JP"), (us, "US")):
        services.proxies.record_check(
            proxy.id, ok=True, latency_ms=5.0, exit_ip="127.0.0.1", error=None, country=country
        )
    services.proxies.record_check(dead.id, ok=False, latency_ms=None, exit_ip=None, error="refused")
    source = tmp_path / "a.csv"
    source.write_text(
        "username,timezone\nt1,Asia/Tokyo\nt2,Asia/Tokyo\nn1,America/New_York\nz1,UTC\n"
    )
    dialog = _dialog(ctx, qtbot, source)
    dialog.spread.setCurrentIndex(dialog.spread.findData("country"))
    dialog.import_button.click()
    assert dialog.report is not None and dialog.report.spread == 4
    got = {a.username: a.proxy_id for a in services.accounts.list()}
    assert got["t1"] == got["t2"] == jp.id and got["n1"] == us.id
    assert got["z1"] in (jp.id, us.id)  # no country: any live one, never the dead one
    assert "got a proxy (by country)" in dialog.summary.text()

    from piper_desktop.ui.panels.accounts import AccountsPanel

    panel = AccountsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    panel.reload()
    qtbot.waitUntil(lambda: panel.model.total == 4)
    ids = sorted(a.id for a in services.accounts.list())
    panel.ask_proxies(ids)
    picker = panel.dialog
    assert isinstance(picker, ProxyPickerDialog)
    assert picker.spread.findData("country") >= 0
    texts = [picker.list.item(r).text() for r in range(picker.list.count())]
    assert any("tokyo · JP" in t for t in texts) and texts[-1].startswith("✕ dead")
    picker.select_ids([jp.id, us.id, dead.id])
    picker.spread.setCurrentIndex(picker.spread.findData("round_robin"))
    assert "spreading skips them" in picker.note.text()
    save_screen(picker, "assign-proxy-spread")
    picker.accept()
    assigned = [services.accounts.get(i).proxy_id for i in ids]
    assert dead.id not in assigned and assigned == [jp.id, us.id, jp.id, us.id]
