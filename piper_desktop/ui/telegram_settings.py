"""Settings' "Telegram bot" box: whether the bot is connected (as @name, the token
missing, or Telegram's error in one line), the chats it serves with where their videos
go (add and remove, checked as `piper telegram allow` checks them), and when it last
received an update. The token itself is the Telegram group's setting above."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..domain import telegram_chats
from ..domain.telegram_chats import AllowedChat
from ..store.enums import JobRoute
from .context import AppContext
from .forms import set_invalid
from .tasks import run_task


def shown_time(stamp: str) -> str:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class TelegramBotBox(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.status = QLabel("Checking…")
        self.status.setObjectName("telegram_status")
        self.status.setWordWrap(True)
        top.addWidget(self.status, 1)
        self.check_button = QPushButton("Check")
        self.check_button.setObjectName("telegram_check")
        self.check_button.clicked.connect(self.reload)
        top.addWidget(self.check_button)
        layout.addLayout(top)
        self.last_update = QLabel()
        self.last_update.setObjectName("Hint")
        layout.addWidget(self.last_update)

        heading = QLabel("Chats the bot takes videos from:")
        layout.addWidget(heading)
        self.chats = QListWidget()
        self.chats.setObjectName("telegram_chats")
        self.chats.setMaximumHeight(120)
        self.chats.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.chats)

        form = QGridLayout()
        self.chat_id = QLineEdit()
        self.chat_id.setObjectName("telegram_chat_id")
        self.chat_id.setPlaceholderText("chat id, e.g. 123456789")
        self.kind = QComboBox()
        self.kind.addItem("Account", "account")
        self.kind.addItem("Group", "group")
        self.name = QLineEdit()
        self.name.setObjectName("telegram_target")
        self.name.setPlaceholderText("account or group name")
        self.route = QComboBox()
        self.route.addItem("each account's first route", None)
        for route in JobRoute:
            self.route.addItem(route.value, route.value)
        self.add_button = QPushButton("Allow chat")
        self.add_button.setObjectName("telegram_allow")
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton("Stop serving")
        self.remove_button.setObjectName("telegram_deny")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove)
        form.addWidget(self.chat_id, 0, 0)
        form.addWidget(self.kind, 0, 1)
        form.addWidget(self.name, 0, 2)
        form.addWidget(self.route, 1, 0, 1, 2)
        form.addWidget(self.add_button, 1, 2)
        form.addWidget(self.remove_button, 2, 2)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

    # --- loading ------------------------------------------------------------------------------
    def reload(self) -> None:
        services = self.ctx.services
        self.status.setText("Checking…")
        self.check_button.setEnabled(False)

        def load() -> tuple[list[AllowedChat], str | None]:
            return telegram_chats.listed(services.settings), services.settings.get(
                "telegram.last_update"
            )

        def check() -> str:
            from ..intake.telegram_bot import check_bot  # httpx: only when asked

            return check_bot(services)

        run_task(load, self._loaded, self._failed, owner=self)
        run_task(check, self._checked, self._failed, owner=self)

    def _loaded(self, data: tuple[list[AllowedChat], str | None]) -> None:
        chats, last = data
        self.chats.clear()
        for chat in chats:
            item = QListWidgetItem(chat.line())
            item.setData(Qt.ItemDataRole.UserRole, chat.chat_id)
            self.chats.addItem(item)
        if not chats:
            self.chats.addItem(QListWidgetItem("No chat allowed yet."))
        self.last_update.setText(
            f"Last update received {shown_time(last)}" if last else "No update received yet."
        )

    def _checked(self, line: str) -> None:
        self.status.setText(f"Bot: {line}")
        self.check_button.setEnabled(True)

    def _failed(self, exc: BaseException) -> None:
        self.check_button.setEnabled(True)
        self._show_error(str(exc))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _selected(self) -> None:
        item = self.chats.currentItem()
        self.remove_button.setEnabled(
            item is not None and item.data(Qt.ItemDataRole.UserRole) is not None
        )

    # --- changes ------------------------------------------------------------------------------
    def add(self) -> None:
        services = self.ctx.services
        chat, name = self.chat_id.text(), self.name.text()
        kind, route = self.kind.currentData(), self.route.currentData()

        def write() -> AllowedChat:
            where = {"account": name} if kind == "account" else {"group": name}
            return telegram_chats.allow(services, chat, route=route, **where)

        def done(allowed: AllowedChat) -> None:
            self._show_error("")
            set_invalid(self.chat_id, False)
            set_invalid(self.name, False)
            self.chat_id.clear()
            self.name.clear()
            self.ctx.success(f"Telegram chat {allowed.chat_id} allowed")
            self.reload()

        def refused(exc: BaseException) -> None:
            field = getattr(exc, "field", "")
            set_invalid(self.chat_id, field == "chat_id")
            set_invalid(self.name, field in ("account", "group"))
            self._show_error(str(exc))

        run_task(write, done, refused, owner=self)

    def remove(self) -> None:
        item = self.chats.currentItem()
        if item is None or item.data(Qt.ItemDataRole.UserRole) is None:
            return
        chat = int(item.data(Qt.ItemDataRole.UserRole))
        services = self.ctx.services

        def done(_chat: int) -> None:
            self.ctx.success(f"Telegram chat {chat} is no longer served")
            self.reload()

        run_task(lambda: telegram_chats.deny(services, chat), done, self._failed, owner=self)
