"""Opening the team's database after the master password, for a data dir that joined a
team (domain/team.py): the passphrase remembered in the keychain if there is one, else a
"Team passphrase" step. A wrong passphrase is said in one line and the step stays for
another try; an unreachable server is said in one line with Retry and Quit — never the
local vault instead, which holds other data. Key derivation and connecting run on a
worker, as the vault's unlock does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..logs import mask
from .forms import set_invalid
from .icons import app_icon
from .tasks import run_task
from .unlock import _header, error_and_note, secret_field

if TYPE_CHECKING:
    from ..domain.team import Membership
    from ..store.db import Database
    from ..store.pg import PgDatabase


class TeamUnlockDialog(QDialog):
    """The team step of the unlock flow; `opened` carries the team's PgDatabase."""

    opened = Signal(object)

    def __init__(self, local: Database, member: Membership, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from ..domain.team import shown_url

        self.local = local
        self.member = member
        self.attempts = 0
        self.setWindowTitle("Open the team")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 22, 24, 18)
        layout.setSpacing(12)
        _header(
            layout,
            "Team passphrase",
            f"This desktop works on the team at {shown_url(member.url)}.",
        )
        self.passphrase = secret_field(
            layout, "team_passphrase", "Team passphrase", self.open_team, lambda _t: self._typed()
        )
        self.remember = QCheckBox("Remember on this desktop")
        self.remember.setObjectName("remember_team_passphrase")
        layout.addWidget(self.remember)
        self.error, self.note = error_and_note(layout)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        quit_button = QPushButton("Quit")
        quit_button.setObjectName("team_quit")
        quit_button.clicked.connect(self.reject)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("team_retry")
        self.retry_button.clicked.connect(self._retry)
        self.retry_button.hide()
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("team_open")
        self.open_button.setProperty("primary", True)
        self.open_button.setDefault(True)
        self.open_button.clicked.connect(self.open_team)
        buttons.addWidget(quit_button)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.open_button)
        layout.addLayout(buttons)
        self._busy = False
        self._last: tuple[str, bool] | None = None  # what Retry tries again (None: keychain)
        self._typed()

    def _typed(self) -> None:
        self.open_button.setEnabled(bool(self.passphrase.text()) and not self._busy)

    def _set_busy(self, busy: bool, text: str = "Open") -> None:
        self._busy = busy
        self.passphrase.setEnabled(not busy)
        self.open_button.setText(text)
        self.retry_button.setEnabled(not busy)
        self._typed()

    def start(self) -> None:
        """The keychain's passphrase first, if this desktop remembered one."""
        self._attempt(None, remember=False)

    def open_team(self) -> None:
        passphrase = self.passphrase.text()
        if not passphrase or self._busy:
            return
        self._attempt(passphrase, remember=self.remember.isChecked())

    def _retry(self) -> None:
        passphrase, remember = self._last if self._last is not None else (None, False)
        self._attempt(passphrase, remember=remember)

    def _attempt(self, passphrase: str | None, *, remember: bool) -> None:
        local, member = self.local, self.member

        def work() -> tuple[PgDatabase | None, bool]:
            from ..domain import team, team_keychain

            typed = passphrase
            if typed is None:
                typed = team_keychain.remembered_passphrase(member)
                if typed is None:
                    return None, False
                try:
                    return team.open_team(local, member, typed), False
                except team.WrongPassphrase:
                    # changed at another desktop: never tried again
                    team_keychain.forget_passphrase(member)
                    raise
            shared = team.open_team(local, member, typed)
            kept = remember and team_keychain.remember_passphrase(member, typed)
            return shared, kept

        self._last = (passphrase, remember) if passphrase is not None else None
        self.error.clear()
        self.retry_button.hide()
        self._set_busy(True, "Opening…")
        run_task(work, self._done, self._failed, owner=self)

    def _done(self, result: tuple[PgDatabase | None, bool]) -> None:
        self._set_busy(False)
        shared, kept = result
        if shared is None:
            self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.note.setText("Remembered on this desktop." if kept else "")
        self.opened.emit(shared)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        from ..domain import team

        self._set_busy(False)
        if isinstance(exc, team.WrongPassphrase):
            self.attempts += 1
            remembered = self._last is None
            self.error.setText(
                "The passphrase remembered here no longer opens the team; type the current one."
                if remembered
                else "Wrong team passphrase. Try again."
                + (f" ({self.attempts} attempts)" if self.attempts > 1 else "")
            )
            set_invalid(self.passphrase, not remembered)
            self.passphrase.selectAll()
            self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        # the server cannot be reached (or refused us): Retry or Quit, nothing else opened
        text = str(exc) if isinstance(exc, team.TeamError) else type(exc).__name__
        self.error.setText(f"Team server: {mask(text)}")
        self.retry_button.show()
        self.retry_button.setFocus(Qt.FocusReason.OtherFocusReason)
