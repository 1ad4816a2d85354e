"""AI caption suggestions: a "Suggest captions" button that asks OpenRouter (through
clients/captions.py, the key from the vault) on the task pool, lists the 3–5 answers,
and hands the one the operator picks to `on_pick`. Nothing is used unless picked.

Errors (no key, an HTTP error, a timeout) show as one line; the key never appears in it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..clients.captions import caption_suggestions
from ..clients.errors import ApiError
from ..domain.errors import DomainError
from ..domain.services import Services
from .tasks import run_task

COUNT = 4  # between the 3 and 5 a person reads at a glance


def error_line(exc: BaseException, key: str | None) -> str:
    """One line for the operator, never the key (an echoing server or proxy could
    put it in its answer)."""
    if isinstance(exc, ApiError) and exc.http_status is None:
        text = f"OpenRouter did not answer ({exc})"
    elif isinstance(exc, (ApiError, DomainError)):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    line = " ".join(text.split()) or type(exc).__name__
    if key:
        line = line.replace(key, "***")
    return f"No suggestions: {line}"[:300]


class CaptionSuggestions(QWidget):
    """set_target(media_id, account_id) before asking; `on_pick(text)` gets the choice."""

    def __init__(
        self, services: Services, on_pick: Callable[[str], None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.on_pick = on_pick
        self.media_id: int | None = None
        self.account_id: int | None = None
        self.button = QPushButton("Suggest captions")
        self.button.clicked.connect(self.ask)
        self.use = QPushButton("Use this caption")
        self.use.setEnabled(False)
        self.use.clicked.connect(self._pick)
        self.status = QLabel()
        self.status.setObjectName("suggestionStatus")
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("suggestionList")
        self.list.setWordWrap(True)
        self.list.setVisible(False)
        self.list.itemSelectionChanged.connect(
            lambda: self.use.setEnabled(bool(self.list.selectedItems()))
        )
        self.list.itemDoubleClicked.connect(lambda _item: self._pick())
        buttons = QHBoxLayout()
        buttons.addWidget(self.button)
        buttons.addWidget(self.use)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.list)

    def set_target(self, media_id: int | None, account_id: int | None = None) -> None:
        self.media_id = media_id
        self.account_id = account_id
        self.button.setEnabled(media_id is not None)

    def suggestions(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def ask(self) -> None:
        if self.media_id is None:
            self.status.setText("Choose a video first")
            return
        media_id, account_id = self.media_id, self.account_id
        services = self.services
        self.button.setEnabled(False)
        self.status.setText("Asking OpenRouter…")

        def work() -> list[str]:
            account = services.accounts.get(account_id) if account_id is not None else None
            return caption_suggestions(services, media_id, account=account, n=COUNT)

        run_task(work, self._arrived, self._failed, owner=self)

    def _arrived(self, found: list[str]) -> None:
        self.button.setEnabled(True)
        self.list.clear()
        for text in found:
            self.list.addItem(QListWidgetItem(text))
        self.list.setVisible(bool(found))
        self.status.setText(
            f"{len(found)} suggestions: pick one, or keep your own"
            if found
            else "OpenRouter gave no suggestions"
        )

    def _failed(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        key = self.services.settings.get("openrouter.api_key")
        self.status.setText(error_line(exc, str(key) if key else None))

    def _pick(self) -> None:
        items = self.list.selectedItems()
        if items:
            self.on_pick(items[0].text())
            self.status.setText("Caption replaced by the suggestion")
