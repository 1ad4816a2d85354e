"""Settings' "Local automation API" box: on/off, port, the address while this Piper
serves it, and the bearer token — shown only when asked for, with Copy and Rotate.

The on/off switch and the port are the settings `api.enabled` and `api.port`; a change
is applied at once to the engine of this GUI (`intake/api/server.apply_settings`). A
rotation applies at once too: every request checks the token stored in the vault.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import ValidationError
from ..domain.settings import DEFS
from .context import AppContext
from .forms import set_invalid
from .tasks import run_task


def _serving() -> str | None:
    from ..intake.api.server import serving_address

    return serving_address()


def _apply() -> list[str]:
    from ..intake.api.server import apply_settings

    return apply_settings()


class ApiSettingsBox(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        layout.addLayout(form)
        self.enabled = QCheckBox("Serve the API on 127.0.0.1 while Piper publishes")
        self.enabled.setObjectName("api_enabled")
        self.enabled.toggled.connect(self._save_enabled)
        form.addRow("API", self.enabled)
        self.port = QLineEdit()
        self.port.setObjectName("api_port")
        self.port.setMaximumWidth(140)
        self.port.editingFinished.connect(self._save_port)
        self.port_error = QLabel()
        self.port_error.setObjectName("FieldError")
        self.port_error.hide()
        port_holder = QVBoxLayout()
        port_holder.setSpacing(1)
        port_holder.addWidget(self.port)
        port_holder.addWidget(self.port_error)
        form.addRow("Port (0: any free)", port_holder)
        self.address = QLabel()
        self.address.setObjectName("api_address")
        self.address.setWordWrap(True)
        form.addRow("Address", self.address)
        self.token = QLineEdit()
        self.token.setObjectName("api_token")
        self.token.setReadOnly(True)
        self.token.setPlaceholderText("hidden — Show token to see it")
        form.addRow("Token", self.token)
        buttons = QHBoxLayout()
        self.show_button = QPushButton("Show token")
        self.show_button.setObjectName("api_show_token")
        self.show_button.clicked.connect(self.show_token)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("api_copy_token")
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_token)
        self.rotate_button = QPushButton("Rotate")
        self.rotate_button.setObjectName("api_rotate_token")
        self.rotate_button.setToolTip("Make a new token; the old one stops working at once")
        self.rotate_button.clicked.connect(self.rotate)
        for button in (self.show_button, self.copy_button, self.rotate_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        form.addRow("", buttons)
        self.note = QLabel(
            "Requests carry Authorization: Bearer <token>. The token is shown only when you "
            "ask; Rotate makes a new one and the old one stops working at once."
        )
        self.note.setObjectName("Hint")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self._loading = False

    def reload(self) -> None:
        settings = self.ctx.services.settings
        self.hide_token()
        run_task(
            lambda: (bool(settings.get("api.enabled")), settings.get("api.port"), _serving()),
            self._loaded,
            lambda exc: self.ctx.error(str(exc)),
            owner=self,
        )

    def _loaded(self, values: tuple[bool, int, str | None]) -> None:
        enabled, port, address = values
        self._loading = True
        self.enabled.setChecked(enabled)
        self.port.setText(str(port))
        self._loading = False
        self._show_address(address)

    def _show_address(self, address: str | None) -> None:
        self.address.setText(
            f"Serving on {address}" if address else "Not serving in this Piper right now"
        )

    def _store(self, key: str, value: object) -> None:
        settings = self.ctx.services.settings
        saved: list[bool] = []

        def work() -> tuple[list[str], str | None]:
            settings.set(key, value)
            saved.append(True)
            # the engine of this GUI follows at once (none running: at its start)
            return _apply(), _serving()

        def done(result: tuple[list[str], str | None]) -> None:
            statuses, address = result
            self._show_address(address)
            where = f"; API {statuses[0]}" if statuses else "; it applies when publishing starts"
            self.ctx.success(f"Saved {key}{where}")

        def failed(exc: BaseException) -> None:
            self._show_address(_serving())
            self.ctx.error(f"Saved, but the API is {exc}" if saved else f"Not saved: {exc}")

        run_task(work, done, failed, owner=self)

    def _save_enabled(self, on: bool) -> None:
        if not self._loading:
            self._store("api.enabled", on)

    def _save_port(self) -> None:
        try:
            port = DEFS["api.port"].parse("api.port", self.port.text())
        except ValidationError as exc:
            self.port_error.setText(f"Port: {exc.reason}")
            self.port_error.show()
            set_invalid(self.port, True)
            return
        self.port_error.hide()
        set_invalid(self.port, False)
        self._store("api.port", port)

    # --- the token: shown on request only ------------------------------------------------------
    def show_token(self) -> None:
        from ..intake.api.token import ensure_token

        settings = self.ctx.services.settings
        run_task(lambda: ensure_token(settings), self._shown, self._failed, owner=self)

    def rotate(self) -> None:
        from ..intake.api.token import rotate_token

        settings = self.ctx.services.settings

        def done(token: str) -> None:
            self._shown(token)
            self.ctx.success("New API token; the old one no longer works")

        run_task(lambda: rotate_token(settings), done, self._failed, owner=self)

    def _shown(self, token: str) -> None:
        self.token.setText(token)
        self.copy_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self.ctx.error(f"API token: {exc}")

    def hide_token(self) -> None:
        self.token.clear()
        self.copy_button.setEnabled(False)

    def copy_token(self) -> None:
        if self.token.text():
            QGuiApplication.clipboard().setText(self.token.text())
            self.ctx.info("API token copied")
