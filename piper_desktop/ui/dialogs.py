"""Small non-blocking dialogs: confirm, pick one item, enter a line of text.

They open with `open()` (window-modal, no nested event loop) and call back; the dialog
object is returned so callers and tests can reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

_open: list[QDialog] = []


def last_dialog() -> QDialog | None:
    """The most recent dialog opened here that is still showing (tests, screenshots)."""
    while _open and not _open[-1].isVisible():
        _open.pop()
    return _open[-1] if _open else None


def _track(dialog: QDialog) -> None:
    _open.append(dialog)
    dialog.finished.connect(lambda _r: _open.remove(dialog) if dialog in _open else None)


def confirm(
    parent: QWidget,
    title: str,
    text: str,
    on_yes: Callable[[], Any],
    *,
    yes_text: str = "OK",
    danger: bool = False,
    detail: str = "",
) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setText(text)
    if detail:
        box.setInformativeText(detail)
    box.setIcon(QMessageBox.Icon.Warning if danger else QMessageBox.Icon.Question)
    yes = box.addButton(yes_text, QMessageBox.ButtonRole.AcceptRole)
    yes.setObjectName("confirm_yes")
    if danger:
        yes.setProperty("danger", True)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)

    def finished(_result: int) -> None:
        if box.clickedButton() is yes:
            on_yes()

    box.finished.connect(finished)
    _track(box)
    box.open()
    return box


class ChoiceDialog(QDialog):
    """Pick one value from a list (bulk assign)."""

    def __init__(
        self,
        parent: QWidget,
        title: str,
        label: str,
        choices: Sequence[tuple[str, Any]],
        on_choice: Callable[[Any], Any],
        *,
        editable: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(label))
        self.combo = QComboBox()
        self.combo.setObjectName("choice")
        self.combo.setEditable(editable)
        for text, value in choices:
            self.combo.addItem(text, value)
        layout.addWidget(self.combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        ok = QPushButton("Apply")
        ok.setObjectName("apply")
        ok.setProperty("primary", True)
        ok.setDefault(True)
        buttons.addButton(ok, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._on_choice = on_choice
        self._editable = editable
        self.accepted.connect(self._chosen)

    def choose(self, value: Any) -> None:
        index = self.combo.findData(value)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            self.combo.setCurrentText(str(value))

    def _chosen(self) -> None:
        index = self.combo.findText(self.combo.currentText())
        if self._editable and (index < 0 or self.combo.itemData(index) is None):
            value: Any = self.combo.currentText().strip() or None
        else:
            value = self.combo.currentData()
        self._on_choice(value)


def choose(
    parent: QWidget,
    title: str,
    label: str,
    choices: Sequence[tuple[str, Any]],
    on_choice: Callable[[Any], Any],
    *,
    editable: bool = False,
) -> ChoiceDialog:
    dialog = ChoiceDialog(parent, title, label, choices, on_choice, editable=editable)
    _track(dialog)
    dialog.open()
    return dialog


class TextDialog(QDialog):
    def __init__(
        self,
        parent: QWidget,
        title: str,
        label: str,
        on_text: Callable[[str], Any],
        *,
        password: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(label))
        self.edit = QLineEdit()
        self.edit.setObjectName("text")
        if password:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        layout.addWidget(self.edit)
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.accepted.connect(lambda: on_text(self.edit.text()))


def ask_text(
    parent: QWidget,
    title: str,
    label: str,
    on_text: Callable[[str], Any],
    *,
    password: bool = False,
) -> TextDialog:
    dialog = TextDialog(parent, title, label, on_text, password=password)
    _track(dialog)
    dialog.open()
    return dialog
