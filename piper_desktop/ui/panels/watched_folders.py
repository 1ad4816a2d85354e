"""Settings' "Watched folders" box: each folder with its target, route and caption
template and what the engine's watcher did there (watching, files waiting, last taken,
last failed with its reason); add a folder (a folder chooser, then its target) or remove
the selected one. The rules live in intake/watch_config.py; this only shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...domain.errors import ValidationError
from ...intake import watch_config as wc
from ...store.enums import JobRoute
from ..context import AppContext
from ..table_model import Column, ListSource, PagedTableModel
from ..tasks import run_task


def _last(row: dict[str, Any], key: str, detail: str) -> str:
    last = row.get(key)
    if not last:
        return "—"
    return f"{last['name']} ({last['at'][:16].replace('T', ' ')}): {last[detail]}"


COLUMNS = [
    Column("path", "Folder", 220, stretch=True, sort=None),
    Column("target", "Posts to", 140, sort=None),
    Column("route", "Route", 100, sort=None),
    Column("caption_template", "Caption template", 140, sort=None),
    Column("status", "Status", 150, sort=None),
    Column("waiting", "Waiting", 60, sort=None, align="right"),
    Column(
        "last_taken", "Last taken", 200, fmt=lambda r: _last(r, "last_taken", "line"), sort=None
    ),
    Column(
        "last_failed",
        "Last failed",
        220,
        fmt=lambda r: _last(r, "last_failed", "reason"),
        sort=None,
    ),
]


class WatchedFoldersBox(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("watched_folders")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel(
            "A finished video dropped in a watched folder is queued (caption from"
            " <stem>.txt or <stem>.json, else the template) and moved to done/ — or to"
            " failed/ with a reason file. Template placeholders: "
            + " ".join("{" + k + "}" for k in wc.PLACEHOLDERS)
        )
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.source = ListSource([])
        self.model = PagedTableModel(self.source, COLUMNS, parent=self)
        self.table = QTableView()
        self.table.setObjectName("watched_folders_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(130)
        for number, column in enumerate(COLUMNS):
            self.table.setColumnWidth(number, column.width)
        layout.addWidget(self.table)

        form = QFormLayout()
        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("watch_folder")
        self.folder_edit.setPlaceholderText("a folder on this machine")
        choose = QPushButton("Choose…")
        choose.setObjectName("watch_choose")
        choose.clicked.connect(self.choose)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(choose)
        form.addRow("Folder", row)
        self.kind = QComboBox()
        self.kind.setObjectName("watch_kind")
        self.kind.addItem("Account", "account")
        self.kind.addItem("Group", "group")
        self.who = QLineEdit()
        self.who.setObjectName("watch_who")
        self.who.setPlaceholderText("username or group name")
        who = QHBoxLayout()
        who.addWidget(self.kind)
        who.addWidget(self.who, 1)
        form.addRow("Posts to", who)
        self.route = QComboBox()
        self.route.setObjectName("watch_route")
        for route in JobRoute:
            self.route.addItem(route.value, route.value)
        self.slot = QComboBox()
        self.slot.setObjectName("watch_slot")
        self.slot.addItem("Next free slot", "auto")
        self.slot.addItem("Now", "now")
        rs = QHBoxLayout()
        rs.addWidget(self.route)
        rs.addWidget(self.slot)
        rs.addStretch(1)
        form.addRow("Route, slot", rs)
        self.template = QLineEdit()
        self.template.setObjectName("watch_template")
        self.template.setPlaceholderText("e.g. {stem} #newvideo (empty: the media's caption)")
        form.addRow("Caption template", self.template)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Watch this folder")
        self.add_button.setObjectName("watch_add")
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton("Stop watching the selected folder")
        self.remove_button.setObjectName("watch_remove")
        self.remove_button.clicked.connect(self.remove)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.result = QLabel()
        self.result.setObjectName("FieldError")
        self.result.setWordWrap(True)
        layout.addWidget(self.result)
        self.dialog: QFileDialog | None = None

    def reload(self) -> None:
        services = self.ctx.services

        def work() -> list[dict[str, Any]]:
            now = datetime.now(UTC)
            return [wc.folder_status(services, f, now) for f in wc.load_folders(services)]

        run_task(work, self._shown, lambda exc: self.ctx.error(str(exc)), owner=self)

    def _shown(self, rows: list[dict[str, Any]]) -> None:
        self.source.rows = rows
        self.model.refresh(keep=True)

    def choose(self) -> None:
        dialog = QFileDialog(self, "Watch a folder")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.folder_edit.setText)
        self.dialog = dialog
        dialog.open()

    def add(self) -> None:
        services = self.ctx.services
        folder = self.folder_edit.text().strip()
        who = self.who.text().strip() or None
        kind = self.kind.currentData()
        choice = {
            "account": who if kind == "account" else None,
            "group": who if kind == "group" else None,
            "route": self.route.currentData(),
            "caption_template": self.template.text().strip() or None,
            "slot": self.slot.currentData(),
        }

        def work() -> wc.WatchedFolder:
            if not folder:
                raise ValidationError("folder", "choose a folder")
            if who is None:
                raise ValidationError(kind, f"give the {kind}'s name")
            return wc.add_folder(services, Path(folder), **choice)

        def done(added: wc.WatchedFolder) -> None:
            self.result.setText("")
            self.folder_edit.clear()
            self.ctx.success(
                f"Watching {added.path} for {added.target_text()} (from the engine's next scan;"
                " the first folder from its next start)"
            )
            self.reload()

        def failed(exc: BaseException) -> None:
            self.result.setText(str(exc))
            self.ctx.error(f"Folder not added: {exc}")

        run_task(work, done, failed, owner=self)

    def remove(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.result.setText("Select a folder to stop watching.")
            return
        folder_id = str(self.model.row(rows[0].row())["id"])
        services = self.ctx.services

        def done(removed: wc.WatchedFolder) -> None:
            self.result.setText("")
            self.ctx.success(f"No longer watching {removed.path}; its files stay")
            self.reload()

        run_task(
            lambda: wc.remove_folder(services, folder_id),
            done,
            lambda exc: self.result.setText(str(exc)),
            owner=self,
        )
