"""Import accounts or proxies from a file: preview every line with its problem, import
the good ones, then show the importer's report (created, updated, per-line errors)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import ValidationError
from ..domain.importers import (
    ACCOUNT_FILE,
    PROXY_FILE,
    ImportReport,
    RecordFile,
    detect_format,
    parse_row,
    read_rows,
)
from ..domain.textfiles import read_text_file
from ..logs import mask
from ..store.db import Database
from .delegates import CellDelegate
from .table_model import Column, ListSource, PagedTableModel
from .tasks import run_task


@dataclass(frozen=True)
class ImportKind:
    file: RecordFile  # the importer's description of the file
    key_columns: tuple[str, ...]  # shown in the preview
    run: Callable[[Database, str], ImportReport]

    @property
    def noun(self) -> str:
        return self.file.noun

    @property
    def parse_line(self) -> Callable[[str], dict[str, Any]] | None:
        return self.file.parse_line


def _import_accounts(db: Database, text: str) -> ImportReport:
    from ..domain.importers import import_accounts

    return import_accounts(db, text)


def _import_proxies(db: Database, text: str) -> ImportReport:
    from ..domain.importers import import_proxies

    return import_proxies(db, text)


ACCOUNTS = ImportKind(
    ACCOUNT_FILE, ("platform", "username", "group", "tags", "timezone"), _import_accounts
)
PROXIES = ImportKind(PROXY_FILE, ("scheme", "host", "port", "username", "kind"), _import_proxies)


def preview_rows(kind: ImportKind, text: str) -> tuple[str, list[dict[str, Any]], str | None]:
    """(format, one row per line with `ok`/`problem`, a whole-file problem or None).

    The importer's own reading and field checks (importers.read_rows, parse_row); checks
    against the database (unknown proxy ids, duplicates) show in the report after
    importing.
    """
    if not text.strip():
        return "empty", [], "the file is empty"
    try:
        fmt, records, errors = read_rows(kind.file, text)
    except ValidationError as exc:
        return detect_format(text, kind.file), [], f"{exc.field}: {exc.reason}"
    rows: list[dict[str, Any]] = [
        {"id": e.line, "line": e.line, "ok": False, "problem": f"{e.field}: {e.reason}"}
        for e in errors
    ]
    for record in records:
        row: dict[str, Any] = {"id": record.line, "line": record.line}
        aliased = {kind.file.aliases.get(k, k): v for k, v in record.record.items()}
        for key in kind.key_columns:
            value = aliased.get(key)
            row[key] = ", ".join(map(str, value)) if isinstance(value, list) else value
        try:
            parse_row(kind.file, record)
        except ValidationError as exc:
            row.update(ok=False, problem=f"{exc.field}: {exc.reason}")
        else:
            row.update(ok=True, problem="")
        rows.append(row)
    # the lines to fix first, then the good ones, each in file order
    rows.sort(key=lambda r: (bool(r["ok"]), r["line"]))
    return fmt, rows, None


def _who(row: dict[str, Any], key_columns: tuple[str, ...]) -> str:
    """How a line is named in the summary: its username (or host), else its number."""
    name = row.get("username") if "platform" in key_columns else row.get("host")
    if name and "platform" in key_columns:
        name = f"@{str(name).lstrip('@')}"
    return f"{name} (line {row['line']})" if name else f"line {row['line']}"


def after_import(
    rows: list[dict[str, Any]], report: ImportReport, key_columns: tuple[str, ...]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The preview's rows after importing, marked imported or skipped with the
    importer's reason (names kept), skipped first; and the skipped lines by name."""
    problems: dict[int, str] = {}
    for error in report.errors:
        text = f"{error.field}: {error.reason}"
        problems[error.line] = f"{problems[error.line]}; {text}" if error.line in problems else text
    marked: list[dict[str, Any]] = []
    seen: set[int] = set()
    for row in rows:
        seen.add(row["line"])
        if row["line"] in problems:
            marked.append({**row, "ok": False, "check": "error", "problem": problems[row["line"]]})
        elif row["ok"]:
            marked.append({**row, "check": "imported"})
        else:
            marked.append({**row, "check": "error"})
    for line, problem in problems.items():  # lines the preview did not have
        if line not in seen:
            marked.append({"id": line, "line": line, "ok": False, "check": "error", "problem": problem})
    marked.sort(key=lambda r: (r["check"] != "error", r["line"]))
    skipped = [_who(r, key_columns) for r in marked if r["check"] == "error"]
    return marked, skipped


class ImportDialog(QDialog):
    imported = Signal(object)  # the ImportReport

    def __init__(
        self, kind: ImportKind, db: Database, path: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.db = db
        self.text = ""
        self.report: ImportReport | None = None
        self.setWindowTitle(f"Import {kind.noun}")
        self.resize(860, 560)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(20, 18, 20, 16)
        heading = QLabel(f"Import {kind.noun}")
        heading.setObjectName("PanelTitle")
        outer.addWidget(heading)
        hint = QLabel(
            "CSV with a header row or JSON"
            + (
                "; or one proxy per line: host:port, host:port:user:pass, "
                "user:pass@host:port, scheme://user:pass@host:port"
                if kind.parse_line
                else ""
            )
            + ". Lines with problems are skipped; the good ones are imported, and "
            "importing the same file again updates instead of duplicating."
        )
        hint.setObjectName("Muted")
        hint.setWordWrap(True)
        outer.addWidget(hint)

        chooser = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("import_path")
        self.path_edit.setPlaceholderText("Choose a file…")
        self.path_edit.setReadOnly(True)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        chooser.addWidget(self.path_edit, 1)
        chooser.addWidget(browse)
        outer.addLayout(chooser)

        self.summary = QLabel("")
        self.summary.setObjectName("Banner")
        self.summary.setWordWrap(True)
        self.summary.hide()
        outer.addWidget(self.summary)

        columns = [
            Column("line", "Line", 60, align="right", sort=None),
            Column(
                "ok",
                "Check",
                110,
                fmt=lambda r: r.get("check") or ("ok" if r.get("ok") else "error"),
                kind="badge",
                sort=None,
            ),
            Column(
                "problem",
                "Problem",
                320,
                stretch=True,
                sort=None,
                tooltip=lambda r: r.get("problem") or None,
            ),
            *(
                Column(key, key.replace("_", " ").capitalize(), 100, sort=None)
                for key in kind.key_columns
            ),
        ]
        self.source = ListSource([])
        self.model = PagedTableModel(self.source, columns, page_size=100_000, parent=self)
        self.table = QTableView()
        self.table.setObjectName("import_preview")
        self.table.setModel(self.model)
        self.table.setItemDelegate(CellDelegate(self.table))
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)  # a long problem wraps rather than ends in "…"
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for number, column in enumerate(columns):
            self.table.setColumnWidth(number, column.width)
        # the problem, next to the check, takes the room: it is what the operator reads
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(60)
        outer.addWidget(self.table, 1)

        self.buttons = QDialogButtonBox()
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName("do_import")
        self.import_button.setProperty("primary", True)
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self._import)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        if path:
            self.load(path)

    def _browse(self) -> None:
        dialog = QFileDialog(self, f"Import {self.kind.noun}")
        dialog.setNameFilters(["Data files (*.csv *.json *.txt *.tsv)", "All files (*)"])
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.load)
        dialog.open()

    def load(self, path: str) -> None:
        self.path_edit.setText(path)
        self.summary.setText("Reading…")
        self.summary.show()

        def read() -> tuple[str, tuple[str, list[dict[str, Any]], str | None]]:
            text = read_text_file(path)
            return text, preview_rows(self.kind, text)

        run_task(read, self._previewed, self._read_failed, owner=self)

    def _read_failed(self, exc: BaseException) -> None:
        self.summary.setText(f"Cannot read the file: {mask(str(exc))}")
        self.import_button.setEnabled(False)

    def _previewed(self, result: tuple[str, tuple[str, list[dict[str, Any]], str | None]]) -> None:
        self.text, (fmt, rows, problem) = result
        self.source.rows = rows
        self.model.refresh(keep=False)
        self._fit_rows()
        good = sum(1 for r in rows if r["ok"])
        bad = len(rows) - good
        if problem:
            self.summary.setText(f"This file cannot be imported: {problem}")
            self.import_button.setEnabled(False)
            return
        self.summary.setText(
            f"{fmt.upper()} file · {len(rows):,} lines: {good:,} look good"
            + (f", {bad:,} with problems (skipped)" if bad else "")
        )
        self.import_button.setText(f"Import {good:,} good lines")
        self.import_button.setEnabled(good > 0)

    def _import(self) -> None:
        self.import_button.setEnabled(False)
        self.import_button.setText("Importing…")
        text = self.text
        run_task(lambda: self.kind.run(self.db, text), self._done, self._import_failed, owner=self)

    def _import_failed(self, exc: BaseException) -> None:
        self.summary.setText(f"Import failed: {mask(str(exc))}")
        self.import_button.setText("Import")
        self.import_button.setEnabled(True)

    def _fit_rows(self) -> None:
        # wrapped problems need taller rows; measuring is per row, so only for small files
        if self.model.rowCount() <= 500:
            self.table.resizeRowsToContents()

    def _done(self, report: ImportReport) -> None:
        self.report = report
        rows, skipped = after_import(list(self.source.rows), report, self.kind.key_columns)
        self.source.rows = rows
        self.model.refresh(keep=False)
        self._fit_rows()
        text = f"Imported: {report.created:,} created, {report.updated:,} updated"
        if skipped:
            shown = ", ".join(skipped[:8]) + (f" and {len(skipped) - 8:,} more" if len(skipped) > 8 else "")
            text += f"; {len(skipped):,} skipped: {shown} (listed first below)"
        self.summary.setText(text)
        self.summary.setToolTip("\n".join(skipped[:200]))
        self.import_button.setText("Imported")
        self.close_button.setText("Done")
        self.close_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.imported.emit(report)
