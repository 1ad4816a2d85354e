"""Settings' local API box: on/off and port stored and followed at once by this GUI's
engine, the address while serving, the token shown only on request, copied, rotated
(the old one refused at once)."""

from __future__ import annotations

import socket

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QGroupBox

from piper_desktop.engine import Engine
from piper_desktop.intake.api.token import ensure_token, token_matches
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.settings import SettingsPanel
from tests.ui.artifacts import save_screen


def test_the_api_box_turns_the_api_on_and_off_and_shows_its_token(ctx: AppContext, qtbot) -> None:
    # the engine as GUI tray mode makes it (ui/engine_bridge.EngineHost)
    engine = Engine(
        ctx.services, data_dir=ctx.data_dir, watch_system=False, hosted_options={"api_live": True}
    )
    engine.start()
    try:
        panel = SettingsPanel(ctx)
        qtbot.addWidget(panel)
        panel.resize(1100, 900)
        panel.show()
        box = panel.api_settings
        assert box.address.text() == "Not serving in this Piper right now"
        assert not box.enabled.isChecked() and box.port.text() == "8765"
        assert box.token.text() == "" and not box.copy_button.isEnabled()

        box.port.setText("99999")
        box.port.editingFinished.emit()
        assert box.port_error.isVisible() and "Port" in box.port_error.text()
        assert ctx.services.settings.get("api.port") == 8765
        box.port.setText("0")
        box.port.editingFinished.emit()
        assert not box.port_error.isVisible() and ctx.services.settings.get("api.port") == 0

        qtbot.mouseClick(box.enabled, Qt.MouseButton.LeftButton)
        assert ctx.services.settings.get("api.enabled") is True
        assert box.address.text().startswith("Serving on http://127.0.0.1:")
        address = box.address.text().removeprefix("Serving on ")
        assert not address.endswith(":0")
        auth = {"Authorization": f"Bearer {ensure_token(ctx.services.settings)}"}
        assert httpx.get(f"{address}/api/v1/jobs", headers=auth).json() == []

        qtbot.mouseClick(box.show_button, Qt.MouseButton.LeftButton)
        first = box.token.text()
        assert token_matches(ctx.services.settings, first)
        qtbot.mouseClick(box.copy_button, Qt.MouseButton.LeftButton)
        assert QGuiApplication.clipboard().text() == first
        save_screen(panel.findChild(QGroupBox, "api_settings"), "settings-api")
        qtbot.mouseClick(box.rotate_button, Qt.MouseButton.LeftButton)
        second = box.token.text()
        assert second != first and token_matches(ctx.services.settings, second)
        old = {"Authorization": f"Bearer {first}"}
        assert httpx.get(f"{address}/api/v1/jobs", headers=old).status_code == 401
        panel.reload()  # coming back hides it again
        assert box.token.text() == ""

        # a port in use: said in one line, the setting kept, the API off until it is free
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen(1)
            port = taken.getsockname()[1]
            box.port.setText(str(port))
            box.port.editingFinished.emit()
        assert ctx.services.settings.get("api.port") == port
        assert box.address.text() == "Not serving in this Piper right now"
        assert any(
            f"not serving: port {port}" in text and level == "error"
            for text, level in ctx.messages  # type: ignore[attr-defined]
        )

        box.port.setText("0")
        box.port.editingFinished.emit()
        assert box.address.text().startswith("Serving on")
        qtbot.mouseClick(box.enabled, Qt.MouseButton.LeftButton)
        assert ctx.services.settings.get("api.enabled") is False
        assert box.address.text() == "Not serving in this Piper right now"
    finally:
        engine.stop(timeout=5)
    assert engine.hosted.statuses() == {}
