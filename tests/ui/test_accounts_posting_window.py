"""Accounts panel: the posting window of several accounts at once (Assign → Posting window)."""

from __future__ import annotations

from datetime import time

from PySide6.QtCore import QItemSelectionModel

from piper_desktop.ui.context import AppContext
from piper_desktop.ui.dialogs import TextDialog
from piper_desktop.ui.panels.accounts import AccountsPanel


def test_posting_window_for_the_selected_accounts(ctx: AppContext, qtbot) -> None:
    services = ctx.services
    ids = [services.accounts.add({"username": f"w{n}"}).id for n in range(3)]
    panel = AccountsPanel(ctx)
    qtbot.addWidget(panel)
    panel.show()
    panel.reload()
    qtbot.waitUntil(lambda: panel.model.total == 3)
    selection = panel.view.selectionModel()
    for row_id in ids[:2]:
        position = panel.model.position_of(row_id)
        assert position is not None
        selection.select(
            panel.model.index(position, 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    messages: list[tuple[str, str]] = []
    ctx.message.connect(lambda text, kind: messages.append((kind, text)))

    panel.ask_posting_window()
    dialog = panel.dialog
    assert isinstance(dialog, TextDialog)
    dialog.edit.setText("25:00-10:00")
    dialog.accept()
    qtbot.waitUntil(lambda: any(kind == "error" for kind, _ in messages))
    assert "posting_window" in messages[-1][1]
    assert not any(services.accounts.get(i).window_enabled for i in ids)

    panel.ask_posting_window()
    dialog = panel.dialog
    dialog.edit.setText("09:00-21:00")
    dialog.accept()
    qtbot.waitUntil(lambda: services.accounts.get(ids[1]).window_enabled)
    for account_id in ids[:2]:
        account = services.accounts.get(account_id)
        assert (account.window_start, account.window_end) == (time(9), time(21))
    assert not services.accounts.get(ids[2]).window_enabled
