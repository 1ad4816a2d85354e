"""Small non-blocking dialogs: confirm, pick one item, pick proxies to spread, enter a
line of text.

They open with `open()` (window-modal, no nested event loop) and call back; the dialog
object is returned so callers and tests can reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
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


@dataclass(frozen=True)
class ProxyChoice:
    """One proxy as the picker shows it: dead ones (last check failed) are marked."""

    id: int
    label: str
    status: str  # ProxyStatus value
    error: str | None = None
    country: str | None = None  # of its exit IP, from its last good check

    @property
    def dead(self) -> bool:
        return self.status == "error"


SPREADS = (
    ("One proxy per account (round-robin over the chosen)", "round_robin"),
    ("One proxy per account, by country (the account's, else its time zone's)", "country"),
    ("The same proxy for every account", "same"),
)


class ProxyPickerDialog(QDialog):
    """Choose one or more proxies for many accounts; several are spread one per
    account. Dead proxies are listed last, marked and red, with their error as tooltip:
    they can still be chosen (the operator may know better than the last check)."""

    def __init__(
        self,
        parent: QWidget,
        title: str,
        proxies: Sequence[ProxyChoice],
        on_choice: Callable[[list[int], str], Any],
        on_clear: Callable[[], Any],
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumSize(460, 380)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Proxies (select several to spread them over the accounts)"))
        self.list = QListWidget()
        self.list.setObjectName("proxies")
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        for proxy in sorted(proxies, key=lambda p: p.dead):  # live ones first
            text = f"{proxy.label} · {proxy.country}" if proxy.country else proxy.label
            if proxy.dead:
                text = f"✕ dead — {text}: {proxy.error or 'last check failed'}"
            elif proxy.status == "ok":
                text = f"✓ {text}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, proxy.id)
            item.setToolTip(
                f"Last check failed: {proxy.error}" if proxy.dead and proxy.error else text
            )
            if proxy.dead:
                item.setForeground(QColor("#c62828"))
            self.list.addItem(item)
        layout.addWidget(self.list, 1)
        self.spread = QComboBox()
        self.spread.setObjectName("spread")
        for text, value in SPREADS:
            self.spread.addItem(text, value)
        layout.addWidget(self.spread)
        self.note = QLabel("")
        self.note.setObjectName("Muted")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        clear = QPushButton("Remove proxy")
        clear.setObjectName("clear")
        clear.clicked.connect(self._clear)
        buttons.addButton(clear, QDialogButtonBox.ButtonRole.ResetRole)
        self.apply = QPushButton("Apply")
        self.apply.setObjectName("apply")
        self.apply.setProperty("primary", True)
        self.apply.setDefault(True)
        self.apply.setEnabled(False)
        buttons.addButton(self.apply, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self._on_choice = on_choice
        self._on_clear = on_clear
        self.accepted.connect(self._chosen)

    def chosen_ids(self) -> list[int]:
        return [
            int(self.list.item(row).data(Qt.ItemDataRole.UserRole))
            for row in range(self.list.count())
            if self.list.item(row).isSelected()
        ]

    def select_ids(self, ids: Sequence[int]) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) in ids)

    def _selection_changed(self) -> None:
        chosen = [self.list.item(r) for r in range(self.list.count())]
        dead = sum(1 for item in chosen if item.isSelected() and item.text().startswith("✕"))
        self.apply.setEnabled(bool(self.chosen_ids()))
        self.note.setText(
            f"{dead} of the chosen proxies failed their last check: spreading skips them."
            if dead
            else ""
        )

    def _clear(self) -> None:
        self._on_clear()
        self.reject()

    def _chosen(self) -> None:
        ids = self.chosen_ids()
        if ids:
            self._on_choice(ids, str(self.spread.currentData()))


def pick_proxies(
    parent: QWidget,
    title: str,
    proxies: Sequence[ProxyChoice],
    on_choice: Callable[[list[int], str], Any],
    on_clear: Callable[[], Any],
) -> ProxyPickerDialog:
    dialog = ProxyPickerDialog(parent, title, proxies, on_choice, on_clear)
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
