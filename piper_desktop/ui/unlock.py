"""Opening the vault: the welcome dialog on first run (create the master password and
the data dir) and the unlock dialog afterwards (keychain first if the operator enabled
it; a wrong password is said in the dialog, which stays open for another try).

Key derivation takes a moment, so creating and unlocking run off the GUI thread.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..logs import mask
from ..store import vault
from .forms import set_invalid
from .icons import app_icon, pixmap
from .tasks import run_task

if TYPE_CHECKING:
    from ..store.db import Database


# Two threads importing SQLAlchemy at once can each meet the other's half-made modules
# (its packages import each other): every import of the layers behind this dialog goes
# through one lock, on whichever worker comes first.
_import_lock = threading.Lock()
BEHIND_THE_DIALOG = ("piper_desktop.store.migrate", "piper_desktop.domain.services")


def load_application() -> None:
    """Import the Qt-free modules the vault and the window after this dialog need (the
    store with SQLAlchemy and Alembic, the services). Off the GUI thread; idempotent."""
    with _import_lock:
        for name in BEHIND_THE_DIALOG:
            importlib.import_module(name)


def unlock_loaded(data_dir: Path, password: str) -> Database:
    """`vault.unlock_vault` after `load_application` (both on the calling worker)."""
    load_application()
    return vault.unlock_vault(data_dir, password)


def strength(password: str) -> tuple[int, str]:
    """(0..4, words) — a hint, not a rule; the rule is `check_password_strength`."""
    if not password:
        return 0, ""
    if vault.check_password_strength(password):
        return 0, "Too short"
    classes = sum(
        any(test(c) for c in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )
    score = 1 + (len(password) >= 12) + (len(password) >= 16) + (classes >= 3)
    if " " in password.strip() and len(password) >= 20:
        score = 4  # a passphrase of several words
    return min(score, 4), ["Too short", "Weak", "Fair", "Good", "Strong"][min(score, 4)]


def _header(layout: QVBoxLayout, title: str, text: str) -> None:
    row = QHBoxLayout()
    logo = QLabel()
    logo.setPixmap(pixmap("piper", 48))
    row.addWidget(logo)
    texts = QVBoxLayout()
    heading = QLabel(title)
    heading.setObjectName("PanelTitle")
    texts.addWidget(heading)
    note = QLabel(text)
    note.setObjectName("Muted")
    note.setWordWrap(True)
    texts.addWidget(note)
    row.addLayout(texts, 1)
    layout.addLayout(row)



def secret_field(
    layout: QVBoxLayout,
    name: str,
    placeholder: str,
    on_enter: Callable[[], object],
    on_typed: Callable[[str], object],
) -> QLineEdit:
    """A masked line for a password or passphrase, added to `layout`."""
    field = QLineEdit()
    field.setObjectName(name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    field.returnPressed.connect(on_enter)
    field.textChanged.connect(on_typed)
    layout.addWidget(field)
    return field


def error_and_note(layout: QVBoxLayout) -> tuple[QLabel, QLabel]:
    """The one-line error and the hint under a secret field."""
    labels = []
    for name in ("FormError", "Hint"):
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        layout.addWidget(label)
        labels.append(label)
    return labels[0], labels[1]

class WelcomeDialog(QDialog):
    """First run: choose the master password (and where data lives)."""

    opened = Signal(object, str)  # Database, data dir

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.setWindowTitle("Welcome to Piper Desktop")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 18)
        layout.setSpacing(12)
        _header(
            layout,
            "Welcome to Piper Desktop",
            "Piper keeps accounts, sessions, tokens and keys in an encrypted database on "
            "this computer. Choose the master password that unlocks it. There is no way "
            "to recover it if it is lost.",
        )
        form = QFormLayout()
        self.password = QLineEdit()
        self.password.setObjectName("new_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.textChanged.connect(self._changed)
        form.addRow("Master password", self.password)
        meter = QHBoxLayout()
        self.meter = QProgressBar()
        self.meter.setObjectName("strength")
        self.meter.setRange(0, 4)
        self.meter.setTextVisible(False)
        self.meter.setFixedHeight(8)
        self.meter_text = QLabel("")
        self.meter_text.setObjectName("Hint")
        self.meter_text.setMinimumWidth(80)
        meter.addWidget(self.meter, 1)
        meter.addWidget(self.meter_text)
        form.addRow("", meter)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("confirm_password")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm.textChanged.connect(self._changed)
        form.addRow("Repeat it", self.confirm)
        place = QHBoxLayout()
        self.folder = QLineEdit(str(data_dir))
        self.folder.setObjectName("data_dir")
        self.folder.textChanged.connect(self._changed)
        browse = QPushButton("Change…")
        browse.clicked.connect(self._browse)
        place.addWidget(self.folder, 1)
        place.addWidget(browse)
        form.addRow("Data folder", place)
        self.keychain = QCheckBox("Remember it in this computer's keychain")
        self.keychain.setObjectName("remember_keychain")
        form.addRow("", self.keychain)
        layout.addLayout(form)
        self.hint = QLabel(
            f"At least {vault.MIN_PASSWORD_LENGTH} characters; a phrase of a few words is "
            "easy to remember and hard to guess."
        )
        self.hint.setObjectName("Hint")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.error = QLabel()
        self.error.setObjectName("FormError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Quit")
        cancel.clicked.connect(self.reject)
        self.create_button = QPushButton("Create my vault")
        self.create_button.setObjectName("create_vault")
        self.create_button.setProperty("primary", True)
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.create_vault)
        buttons.addWidget(cancel)
        buttons.addWidget(self.create_button)
        layout.addLayout(buttons)
        self._busy = False
        self._changed()

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Where Piper keeps its data")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.folder.setText)
        dialog.open()

    def problem(self) -> str | None:
        password = self.password.text()
        weak = vault.check_password_strength(password)
        if weak:
            return weak
        if self.confirm.text() != password:
            return "the two passwords differ"
        if not self.folder.text().strip():
            return "choose a data folder"
        return None

    def _changed(self) -> None:
        score, words = strength(self.password.text())
        self.meter.setValue(score)
        self.meter_text.setText(words)
        problem = self.problem()
        typed = bool(self.password.text())
        set_invalid(
            self.password, typed and bool(vault.check_password_strength(self.password.text()))
        )
        mismatch = bool(self.confirm.text()) and self.confirm.text() != self.password.text()
        set_invalid(self.confirm, mismatch)
        shown = bool(problem) and (typed or bool(self.confirm.text()))
        if problem and problem.startswith("master password"):
            problem = "M" + problem[1:]  # the rule's own words name the field
        elif problem:
            problem = "The master password " + problem
        self.error.setText(problem if problem and shown else "")
        self.create_button.setEnabled(problem is None and not self._busy)

    def create_vault(self) -> None:
        if self.problem() is not None:
            return
        self._busy = True
        self.create_button.setEnabled(False)
        self.create_button.setText("Creating…")
        password = self.password.text()
        folder = Path(self.folder.text().strip()).expanduser()
        remember = self.keychain.isChecked()

        def work() -> tuple[Database, str]:
            load_application()
            db = vault.create_vault(folder, password)
            note = ""
            if remember:
                result = vault.remember_in_keychain(folder, password)
                note = result.message
                if result.ok:
                    from ..domain.settings import SettingsService

                    SettingsService(db).set("security.keychain", True)
            return db, note

        run_task(work, lambda result: self._done(folder, *result), self._failed, owner=self)

    def _done(self, folder: Path, db: Database, note: str) -> None:
        self._busy = False
        self.data_dir = folder
        self.keychain_note = note
        self.opened.emit(db, str(folder))
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.create_button.setText("Create my vault")
        self.error.setText(mask(str(exc)))
        self._changed()


class UnlockDialog(QDialog):
    """Later runs: the master password (or the keychain) opens the vault."""

    opened = Signal(object, str)

    def __init__(
        self, data_dir: Path, *, try_keychain: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.attempts = 0
        self.setWindowTitle("Unlock Piper Desktop")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 18)
        layout.setSpacing(12)
        _header(layout, "Unlock Piper", f"Your data in {data_dir} is encrypted.")
        self.password = secret_field(
            layout, "password", "Master password", self.unlock, lambda _t: self._typed()
        )
        self.error, self.note = error_and_note(layout)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Quit")
        cancel.clicked.connect(self.reject)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("unlock")
        self.unlock_button.setProperty("primary", True)
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.unlock)
        buttons.addWidget(cancel)
        buttons.addWidget(self.unlock_button)
        layout.addLayout(buttons)
        self._busy = False
        self._typed()
        if try_keychain:
            self.try_keychain()

    def _typed(self) -> None:
        self.unlock_button.setEnabled(bool(self.password.text()) and not self._busy)

    def _set_busy(self, busy: bool, text: str = "Unlock") -> None:
        self._busy = busy
        self.password.setEnabled(not busy)
        self.unlock_button.setText(text)
        self._typed()

    def show_opening(self) -> None:
        """The password came with the start (PIPER_PASSWORD, --password-stdin): the dialog
        is the first window all the same, saying the vault is being opened."""
        self.password.setPlaceholderText("Password given at start")
        self.note.setText("Opening your vault…")
        self._set_busy(True, "Opening…")

    def try_keychain(self) -> None:
        folder = self.data_dir

        def work() -> Database | None:
            remembered = vault.keychain_password(folder)
            if not remembered:
                return None
            return unlock_loaded(folder, remembered)

        def done(db: Database | None) -> None:
            self._set_busy(False)
            if db is None:
                self.password.setFocus(Qt.FocusReason.OtherFocusReason)
                return
            self.note.setText("Unlocked with the keychain.")
            self.opened.emit(db, str(folder))
            self.accept()

        def failed(exc: BaseException) -> None:
            self._set_busy(False)
            self.note.setText(
                "The password in the keychain no longer opens this vault; type it."
                if isinstance(exc, vault.WrongPassword)
                else f"Keychain unavailable ({type(exc).__name__}); type the password."
            )

        self._set_busy(True, "Checking the keychain…")
        run_task(work, done, failed, owner=self)

    def unlock(self) -> None:
        password = self.password.text()
        if not password or self._busy:
            return
        folder = self.data_dir
        self._set_busy(True, "Unlocking…")
        self.error.clear()
        run_task(
            lambda: unlock_loaded(folder, password),
            self._unlocked,
            self._failed,
            owner=self,
        )

    def _unlocked(self, db: Database) -> None:
        self._set_busy(False)
        self.opened.emit(db, str(self.data_dir))
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.attempts += 1
        if isinstance(exc, vault.WrongPassword):
            self.error.setText(
                "Wrong master password. Try again."
                + (f" ({self.attempts} attempts)" if self.attempts > 1 else "")
            )
        else:
            self.error.setText(f"Cannot open the vault: {mask(str(exc))}")
        set_invalid(self.password, True)
        self.password.selectAll()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)
