"""Settings, generated from `domain/settings.DEFS`: endpoints, API keys (masked, never
shown back), limits, browser, grace period, notifications, theme; plus what lives outside
the vault (start at login, keychain unlock). Values are checked as they are typed with
each setting's own parser; Save writes only what changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...domain.errors import ValidationError
from ...domain.settings import DEFS, SettingDef
from ...store import vault
from .. import autostart
from ..api_settings import ApiSettingsBox
from ..context import AppContext
from ..dialogs import ask_text
from ..folder_settings import WatchedFoldersBox
from ..forms import set_invalid
from ..tasks import run_task
from ..telegram_settings import TelegramBotBox
from .site_selectors import SiteSelectorsBox

GROUPS = {
    "engine": "Publishing",
    "notifications": "Notifications",
    "ui": "Appearance",
    "security": "Security",
    "tiktok": "TikTok",
    "upload_post": "Upload-Post",
    "openrouter": "Caption assistant (OpenRouter)",
    "telegram": "Telegram notifications",
    "watch": "Watched folders",
    "browser": "Browser",
    "proxy": "Proxy checks",
}
# kept by Piper itself, shown in their own place (the site selectors box)
NOT_EDITED = {"browser.selector_drift", "telegram.chats", "telegram.offset", "telegram.last_update"}
NOT_EDITED |= {"watch.folders", "watch.last"}  # the Watched folders box and the watcher
CHOICES = {"ui.theme": [("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")]}


class SettingRow:
    def __init__(self, spec: SettingDef, changed: Callable[[], object]) -> None:
        self.spec = spec
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.hide()
        self.source = QLabel()
        self.source.setObjectName("Hint")
        self.initial: Any = None
        self.widget: QWidget
        if spec.key in CHOICES:
            combo = QComboBox()
            for label, value in CHOICES[spec.key]:
                combo.addItem(label, value)
            combo.currentIndexChanged.connect(lambda _i: changed())
            self.widget = combo
        elif isinstance(spec.default, bool):
            box = QCheckBox()
            box.toggled.connect(lambda _v: changed())
            self.widget = box
        else:
            line = QLineEdit()
            if spec.secret:
                line.setEchoMode(QLineEdit.EchoMode.Password)
            line.textChanged.connect(lambda _t: changed())
            if isinstance(spec.default, int):
                line.setMaximumWidth(140)
            self.widget = line
        self.widget.setObjectName(f"setting_{spec.key}")

    def raw(self) -> Any:
        if isinstance(self.widget, QComboBox):
            return self.widget.currentData()
        if isinstance(self.widget, QCheckBox):
            return self.widget.isChecked()
        assert isinstance(self.widget, QLineEdit)
        return self.widget.text()

    def load(self, row: dict[str, Any]) -> None:
        value, source = row["value"], row["source"]
        widget = self.widget
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(0, widget.findData(value)))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        else:
            assert isinstance(widget, QLineEdit)
            if self.spec.secret:
                # a secret is never shown back: the field stays empty, the mask says
                # whether one is stored
                widget.setText("")
                widget.setPlaceholderText(
                    f"stored ({value}) — type to replace" if value else "not set"
                )
            else:
                widget.setText("" if value is None else str(value))
                widget.setPlaceholderText(
                    "" if self.spec.default is None else f"default: {self.spec.default}"
                )
        env = source.startswith("env ")
        widget.setEnabled(not env)
        self.source.setText(
            f"Set by the environment ({source[4:]}); change it there."
            if env
            else ("default" if source == "default" else "")
        )
        self.initial = self.raw()

    def changed(self) -> bool:
        raw = self.raw()
        if self.spec.secret:
            return bool(raw)
        return raw != self.initial

    def check(self) -> str | None:
        raw = self.raw()
        if self.spec.secret and not raw:
            return None
        try:
            self.spec.parse(self.spec.key, raw)
        except ValidationError as exc:
            return exc.reason
        return None


class SettingsPanel(QWidget):
    status_changed = Signal(str)
    theme_changed = Signal(str)
    title = "Settings"
    table_name = "settings"
    icon_name = "settings"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.status = "Settings"
        self.rows: dict[str, SettingRow] = {}
        self._stale = True
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        outer.addWidget(scroll, 1)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        heading = QLabel("Settings")
        heading.setObjectName("PanelTitle")
        note = QLabel(
            "Kept encrypted in the vault. API keys are never shown again once saved; an "
            "environment variable overrides the stored value."
        )
        note.setObjectName("PanelSubtitle")
        note.setWordWrap(True)
        titles.addWidget(heading)
        titles.addWidget(note)
        header.addLayout(titles, 1)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.reload)
        self.save_button = QPushButton("Save changes")
        self.save_button.setObjectName("save_settings")
        self.save_button.setProperty("primary", True)
        self.save_button.clicked.connect(self.save)
        header.addWidget(self.revert_button)
        header.addWidget(self.save_button)
        layout.addLayout(header)

        grouped: dict[str, list[SettingDef]] = {}
        for spec in DEFS.values():
            if spec.key in NOT_EDITED:
                continue
            grouped.setdefault(spec.key.split(".")[0], []).append(spec)
        columns = QHBoxLayout()
        columns.setSpacing(14)
        left, right = QVBoxLayout(), QVBoxLayout()
        for column in (left, right):
            column.setSpacing(14)
        for number, prefix in enumerate(GROUPS):
            specs = grouped.get(prefix)
            if not specs:
                continue
            box = QGroupBox(GROUPS[prefix])
            form = QFormLayout(box)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
            for spec in specs:
                row = SettingRow(spec, self.validate)
                self.rows[spec.key] = row
                holder = QVBoxLayout()
                holder.setSpacing(1)
                holder.addWidget(row.widget)
                holder.addWidget(row.error)
                holder.addWidget(row.source)
                label = QLabel(spec.description)
                label.setWordWrap(True)
                label.setMinimumWidth(170)
                form.addRow(label, holder)
            if prefix == "browser":
                self.site_selectors = SiteSelectorsBox(ctx, self.reload)
                form.addRow(QLabel("Site selectors"), self.site_selectors)
            if prefix == "security":
                self.autostart_box = QCheckBox()
                self.autostart_box.setObjectName("setting_autostart")
                self.autostart_box.setChecked(autostart.is_enabled())
                self.autostart_box.toggled.connect(self.set_autostart)
                form.addRow(QLabel("Start Piper when I log in"), self.autostart_box)
                self.keychain_note = QLabel()
                self.keychain_note.setObjectName("Hint")
                self.keychain_note.setWordWrap(True)
                form.addRow("", self.keychain_note)
            if prefix == "watch":  # the folders, their targets and status (issue 20)
                self.watched_folders = WatchedFoldersBox(ctx)
                form.addRow(self.watched_folders)
            (left if number < 4 else right).addWidget(box)
            if prefix == "telegram":  # the intake bot: its status and chats (issue 20)
                bot_box = QGroupBox("Telegram bot")
                self.telegram_bot = TelegramBotBox(ctx)
                QVBoxLayout(bot_box).addWidget(self.telegram_bot)
                right.addWidget(bot_box)
        api_box = QGroupBox("Local automation API")
        api_box.setObjectName("api_settings")
        self.api_settings = ApiSettingsBox(ctx)
        QVBoxLayout(api_box).addWidget(self.api_settings)
        right.addWidget(api_box)
        left.addStretch(1)
        right.addStretch(1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout.addLayout(columns)
        self.message = QLabel()
        self.message.setObjectName("FormError")
        layout.addWidget(self.message)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def reload(self) -> None:
        self._stale = False
        services = self.ctx.services
        run_task(
            services.settings.all, self._loaded, lambda exc: self.ctx.error(str(exc)), owner=self
        )
        self.site_selectors.reload()
        self.telegram_bot.reload()
        self.api_settings.reload()
        self.watched_folders.reload()

    def _loaded(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if row["key"] in self.rows:
                self.rows[row["key"]].load(row)
        self.validate()

    def validate(self) -> bool:
        ok = True
        for row in self.rows.values():
            reason = row.check()
            row.error.setText(f"{row.spec.description}: {reason}" if reason else "")
            row.error.setVisible(bool(reason))
            set_invalid(row.widget, bool(reason))
            ok = ok and reason is None
        dirty = any(row.changed() for row in self.rows.values())
        self.save_button.setEnabled(ok and dirty)
        self.revert_button.setEnabled(dirty)
        return ok

    def changes(self) -> dict[str, Any]:
        return {key: row.raw() for key, row in self.rows.items() if row.changed()}

    def save(self) -> None:
        if not self.validate():
            return
        changes = self.changes()
        if not changes:
            return
        keychain = changes.pop("security.keychain", None)
        services = self.ctx.services

        def write() -> list[str]:
            for key, value in changes.items():
                services.settings.set(key, value)
            return list(changes)

        def done(keys: list[str]) -> None:
            if keys:
                self.ctx.success(f"Saved {len(keys)} setting(s)")
            if "ui.theme" in keys:
                self.theme_changed.emit(str(changes["ui.theme"]))
            if keychain is not None:
                self.set_keychain(bool(keychain))
            self.reload()

        self.save_button.setEnabled(False)
        run_task(write, done, lambda exc: self.ctx.error(f"Settings not saved: {exc}"), owner=self)

    # --- outside the vault ------------------------------------------------------------------
    def set_autostart(self, enabled: bool) -> None:
        try:
            autostart.set_enabled(enabled)
        except OSError as exc:
            self.ctx.error(f"Start at login: {exc}")
            return
        self.ctx.success("Piper starts when you log in" if enabled else "Start at login is off")

    def set_keychain(self, enabled: bool) -> None:
        data_dir = self.ctx.data_dir
        services = self.ctx.services
        if not enabled:
            result = vault.forget_keychain(data_dir)
            services.settings.set("security.keychain", False)
            self.keychain_note.setText(result.message)
            self.reload()
            return

        def remember(password: str) -> None:
            def work() -> vault.KeychainResult:
                # proves the password opens this vault before storing it anywhere
                vault.unlock_vault(data_dir, password).close()
                result = vault.remember_in_keychain(data_dir, password)
                if result.ok:
                    services.settings.set("security.keychain", True)
                return result

            def done(result: vault.KeychainResult) -> None:
                self.keychain_note.setText(result.message)
                (self.ctx.success if result.ok else self.ctx.error)(result.message)
                self.reload()

            run_task(
                work,
                done,
                lambda exc: self.ctx.error(f"Keychain: {exc}"),
                owner=self,
            )

        self.dialog = ask_text(
            self,
            "Remember the master password",
            "Type the master password to keep it in the OS keychain:",
            remember,
            password=True,
        )
