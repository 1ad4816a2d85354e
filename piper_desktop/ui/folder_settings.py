"""Settings' "Watched folders" box: the folders whose finished videos are queued, each
with where its videos go, its caption template and slot rule, and its status (watching
or why not, files waiting, the last file taken, the last one failed with its reason).
Add (with a folder chooser) and remove go through domain/watch_folders.py, checked as
`piper watch add` checks them. The watcher itself runs in the engine (intake/folders.py)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..domain import watch_folders as wf
from ..store.enums import JobRoute
from .context import AppContext
from .forms import set_invalid
from .tasks import run_task

COLUMNS = ["Folder", "Videos go to", "Caption", "Status"]


def status_text(state: wf.FolderStatus) -> str:
    parts = [state.watching, f"{state.waiting} waiting"]
    if state.last_taken:
        parts.append(f"last taken {state.last_taken}")
    if state.last_failed:
        parts.append(f"last failed {state.last_failed}")
    return "\n".join(parts)


class WatchedFoldersBox(QWidget):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        # the folder chooser; a test gives its own (a native dialog cannot be clicked)
        self.pick_folder: Callable[[QWidget, str], str] = QFileDialog.getExistingDirectory
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        hint = QLabel(
            "A finished video dropped into a folder is queued, then moved to its done/ "
            "folder (or failed/, with the reason). A <stem>.txt next to it is the caption."
        )
        hint.setObjectName("Hint")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("watched_folders")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(220)
        self.table.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.table)

        form = QGridLayout()
        self.folder = QLineEdit()
        self.folder.setObjectName("watch_folder")
        self.folder.setPlaceholderText("folder to watch")
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setObjectName("watch_choose")
        self.choose_button.clicked.connect(self.choose)
        self.kind = QComboBox()
        self.kind.addItem("Account", "account")
        self.kind.addItem("Group", "group")
        self.name = QLineEdit()
        self.name.setObjectName("watch_target")
        self.name.setPlaceholderText("account or group name")
        self.route = QComboBox()
        self.route.addItem("each account's first route", None)
        for route in JobRoute:
            self.route.addItem(route.value, route.value)
        self.template = QLineEdit()
        self.template.setObjectName("watch_template")
        self.template.setPlaceholderText("caption template, e.g. {stem} {date}")
        self.template.setToolTip("Placeholders: {stem}, {name}, {folder}, {date}")
        self.at = QComboBox()
        self.at.addItem("next free slot", "auto")
        self.at.addItem("at once", "now")
        self.add_button = QPushButton("Watch folder")
        self.add_button.setObjectName("watch_add")
        self.add_button.clicked.connect(self.add)
        self.remove_button = QPushButton("Stop watching")
        self.remove_button.setObjectName("watch_remove")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.choose_button)
        form.addLayout(row, 0, 0, 1, 3)
        form.addWidget(self.kind, 1, 0)
        form.addWidget(self.name, 1, 1)
        form.addWidget(self.route, 1, 2)
        form.addWidget(self.template, 2, 0, 1, 2)
        form.addWidget(self.at, 2, 2)
        form.addWidget(self.remove_button, 3, 1)
        form.addWidget(self.add_button, 3, 2)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

    # --- loading ------------------------------------------------------------------------------
    def reload(self) -> None:
        settings = self.ctx.services.settings

        def load() -> list[tuple[wf.WatchedFolder, wf.FolderStatus]]:
            return [(f, wf.status(settings, f)) for f in wf.watched(settings)]

        run_task(load, self._loaded, self._failed, owner=self)

    def _loaded(self, rows: list[tuple[wf.WatchedFolder, wf.FolderStatus]]) -> None:
        self.table.setRowCount(0)
        for folder, state in rows:
            at = self.table.rowCount()
            self.table.insertRow(at)
            where = folder.target.describe() + ("" if folder.at == "auto" else ", at once")
            cells = [str(folder.path), where, folder.caption_template or "—", status_text(state)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, folder.id)
                item.setToolTip(text)
                self.table.setItem(at, column, item)
        self.table.resizeRowsToContents()
        self._selected()

    def _failed(self, exc: BaseException) -> None:
        self._show_error(str(exc))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _selected(self) -> None:
        self.remove_button.setEnabled(self.selected_id() is not None)

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    # --- changes ------------------------------------------------------------------------------
    def choose(self) -> None:
        chosen = self.pick_folder(self, "Folder to watch")
        if chosen:
            self.folder.setText(chosen)

    def add(self) -> None:
        services = self.ctx.services
        folder, name, template = self.folder.text(), self.name.text(), self.template.text()
        kind, route, at = self.kind.currentData(), self.route.currentData(), self.at.currentData()

        def write() -> wf.WatchedFolder:
            where = {"account": name} if kind == "account" else {"group": name}
            return wf.add(
                services, folder, route=route, caption_template=template or None, at=at, **where
            )

        def done(added: wf.WatchedFolder) -> None:
            self._show_error("")
            for edit in (self.folder, self.name, self.template):
                set_invalid(edit, False)
                edit.clear()
            self.ctx.success(f"Watching {added.path} (runs while the engine runs)")
            self.reload()

        def refused(exc: BaseException) -> None:
            field = getattr(exc, "field", "")
            set_invalid(self.folder, field == "folder")
            set_invalid(self.name, field in ("account", "group"))
            set_invalid(self.template, field == "caption_template")
            self._show_error(str(exc))

        run_task(write, done, refused, owner=self)

    def remove(self) -> None:
        folder_id = self.selected_id()
        if folder_id is None:
            return
        services = self.ctx.services

        def done(gone: wf.WatchedFolder) -> None:
            self.ctx.success(f"{gone.path} is no longer watched")
            self.reload()

        run_task(lambda: wf.remove(services, str(folder_id)), done, self._failed, owner=self)
