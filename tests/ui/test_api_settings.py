"""Settings' local API box: on/off and port stored, the address while serving, the token
shown only on request, copied, rotated (the old one refused at once)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QGroupBox

from piper_desktop.intake.api.server import ApiServer
from piper_desktop.intake.api.token import token_matches
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.settings import SettingsPanel
from tests.ui.artifacts import save_screen


def test_the_api_box_serves_its_settings_and_token(ctx: AppContext, qtbot, tmp_path: Path) -> None:
    server = ApiServer(ctx.services, tmp_path, 0)
    server.start()
    try:
        panel = SettingsPanel(ctx)
        qtbot.addWidget(panel)
        panel.resize(1100, 900)
        panel.show()
        box = panel.api_settings
        assert box.address.text() == f"Serving on {server.address}"
        assert not box.enabled.isChecked() and box.port.text() == "8765"
        assert box.token.text() == "" and not box.copy_button.isEnabled()

        qtbot.mouseClick(box.enabled, Qt.MouseButton.LeftButton)
        assert ctx.services.settings.get("api.enabled") is True
        box.port.setText("99999")
        box.port.editingFinished.emit()
        assert box.port_error.isVisible() and "Port" in box.port_error.text()
        assert ctx.services.settings.get("api.port") == 8765
        box.port.setText("0")
        box.port.editingFinished.emit()
        assert not box.port_error.isVisible() and ctx.services.settings.get("api.port") == 0

        qtbot.mouseClick(box.show_button, Qt.MouseButton.LeftButton)
        first = box.token.text()
        assert token_matches(ctx.services.settings, first)
        qtbot.mouseClick(box.copy_button, Qt.MouseButton.LeftButton)
        assert QGuiApplication.clipboard().text() == first
        save_screen(panel.findChild(QGroupBox, "api_settings"), "settings-api")
        qtbot.mouseClick(box.rotate_button, Qt.MouseButton.LeftButton)
        second = box.token.text()
        assert second != first and token_matches(ctx.services.settings, second)
        assert not token_matches(ctx.services.settings, first)
        # leaving and coming back hides it again
        panel.reload()
        assert box.token.text() == ""
    finally:
        server.stop()
    box.reload()
    assert box.address.text() == "Not serving in this Piper right now"
