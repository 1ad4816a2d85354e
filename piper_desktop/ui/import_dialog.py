"""Import accounts or proxies from a file: preview every line with its problem, import
the good ones, then show the importer's report (created, updated, per-line errors)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..domain.errors import ValidationError
from ..domain.import_columns import ACCOUNT_COLUMNS, IGNORE
from ..domain.importers import (
    ACCOUNT_FILE,
    PROXY_FILE,
    AccountFileContext,
    ImportReport,
    RecordFile,
    account_headers,
    account_mapping,
    account_template,
    complete_account_row,
    detect_format,
    import_accounts,
    parse_row,
    read_rows,
)
from ..domain.textfiles import first_line, json_items, read_text_file, sniff_delimiter
from ..logs import mask
from ..owner_only import write_private_text
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


def preview_rows(
    kind: ImportKind,
    text: str,
    mapping: dict[str, str] | None = None,
    context: AccountFileContext | None = None,
) -> tuple[str, list[dict[str, Any]], str | None]:
    """(format, one row per line with `ok`/`problem`, a whole-file problem or None).

    The importer's own reading and field checks (importers.read_rows, parse_row, and
    for accounts complete_account_row: proxy pieces, cookies), with the column
    `mapping`; checks against the database (unknown proxy ids, duplicates) show in the
    report after importing.
    """
    if not text.strip():
        return "empty", [], "the file is empty"
    try:
        fmt, records, errors = read_rows(kind.file, text, mapping=mapping)
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
            values = parse_row(kind.file, record)
            if context is not None:
                complete_account_row(values, context)
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


SAMPLE_ROWS = 3
# the spread choices for accounts a file gives no proxy (None: leave them)
IMPORT_SPREADS = (
    ("Accounts without a proxy: leave them without", None),
    ("Accounts without a proxy: one live proxy each, round-robin", "round_robin"),
    ("Accounts without a proxy: one live proxy each, by country", "country"),
)
CHOOSE = "— choose —"


def sample_rows(text: str, headers: list[str], count: int = SAMPLE_ROWS) -> list[list[str]]:
    """The first rows' cells under `headers`, as the file writes them (the mapping
    step's preview; secrets in them are shown masked by the dialog)."""
    if detect_format(text, ACCOUNT_FILE) == "json":
        rows = []
        for item in json_items(text.lstrip("\ufeff"), ACCOUNT_FILE.list_keys)[:count]:
            value = item.value if isinstance(item.value, dict) else {}
            rows.append(["" if value.get(h) is None else str(value.get(h)) for h in headers])
        return rows
    lines = [line for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    reader = csv.reader(lines[1 : count + 1], delimiter=sniff_delimiter(first_line(text)))
    try:
        return [row[: len(headers)] for row in reader]
    except csv.Error:
        return []


@dataclass
class Loaded:
    """What reading a file gives the dialog: its text, columns, their mapping, and the
    preview under that mapping."""

    text: str
    headers: list[str]
    mapping: dict[str, str]
    remembered: bool
    samples: list[list[str]]
    preview: tuple[str, list[dict[str, Any]], str | None]


def _read_cookies(text: str) -> list[dict[str, Any]]:
    from ..browser.cookies import read_cookie_list

    return read_cookie_list(text)


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
        self.accounts = kind.file is ACCOUNT_FILE
        self.headers: list[str] = []
        self.mapping: dict[str, str] = {}
        self.path: str | None = None
        if self.accounts:
            self.template_button = QPushButton("Save template…")
            self.template_button.setObjectName("save_template")
            self.template_button.setToolTip("A CSV with every accepted column and an example row")
            self.template_button.clicked.connect(self._ask_template)
            chooser.addWidget(self.template_button)
        outer.addLayout(chooser)
        if self.accounts:
            columns_hint = QLabel(
                "Accepted columns: " + ", ".join(c.name for c in ACCOUNT_COLUMNS) + "."
            )
            columns_hint.setObjectName("Muted")
            columns_hint.setWordWrap(True)
            columns_hint.setToolTip("\n".join(f"{c.name}: {c.meaning}" for c in ACCOUNT_COLUMNS))
            self.columns_hint = columns_hint
            outer.addWidget(columns_hint)
            self.mapping_note = QLabel("")
            self.mapping_note.setObjectName("Muted")
            self.mapping_note.setWordWrap(True)
            self.mapping_note.hide()
            outer.addWidget(self.mapping_note)
            # the mapping step: a drop-down per column over the first rows
            self.mapping_table = QTableWidget(0, 0)
            self.mapping_table.setObjectName("import_mapping")
            self.mapping_table.verticalHeader().setVisible(False)
            self.mapping_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            self.mapping_table.setMaximumHeight(150)
            self.mapping_table.hide()
            outer.addWidget(self.mapping_table)
            self.spread = QComboBox()
            self.spread.setObjectName("import_spread")
            for text, value in IMPORT_SPREADS:
                self.spread.addItem(text, value)
            self.spread.setToolTip(
                "Dead proxies (last check failed) are never given; by country matches the"
                " account's country column, else its time zone's country"
            )
            outer.addWidget(self.spread)

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

    def _context(self) -> AccountFileContext:
        folder = Path(self.path).resolve().parent if self.path else None
        return AccountFileContext(folder, _read_cookies)

    def load(self, path: str) -> None:
        self.path = path
        self.path_edit.setText(path)
        self.summary.setText("Reading…")
        self.summary.show()
        if self.accounts:
            db, context = self.db, self._context()

            def read_accounts() -> Loaded:
                text = read_text_file(path)
                try:
                    headers = account_headers(text) if text.strip() else []
                except ValidationError:
                    headers = []  # the preview says what is wrong with the file
                mapping, remembered = account_mapping(db, text) if headers else ({}, False)
                return Loaded(
                    text,
                    headers,
                    mapping,
                    remembered,
                    sample_rows(text, headers) if headers else [],
                    preview_rows(self.kind, text, mapping, context),
                )

            run_task(read_accounts, self._loaded, self._read_failed, owner=self)
            return

        def read() -> tuple[str, tuple[str, list[dict[str, Any]], str | None]]:
            text = read_text_file(path)
            return text, preview_rows(self.kind, text)

        run_task(read, self._previewed, self._read_failed, owner=self)

    # --- the mapping step (accounts) -------------------------------------------------
    def _loaded(self, loaded: Loaded) -> None:
        self.headers = loaded.headers
        self.mapping = dict(loaded.mapping)
        self._fill_mapping(loaded.samples)
        if loaded.remembered:
            self.mapping_note.setText(
                "Using the mapping you chose last time for these columns; change any below."
            )
        else:
            self.mapping_note.setText(
                "Each column of the file is read as the field chosen above its values."
            )
        self.mapping_note.setVisible(bool(self.headers))
        self._previewed((loaded.text, loaded.preview))

    def _fill_mapping(self, samples: list[list[str]]) -> None:
        table = self.mapping_table
        table.clear()
        table.setColumnCount(len(self.headers))
        table.setRowCount(1 + len(samples))
        table.setHorizontalHeaderLabels(self.headers)
        secret = {"password", "proxy", "cookies", "proxy_password"}
        for number, header in enumerate(self.headers):
            box = QComboBox()
            box.setObjectName(f"map:{header}")
            box.addItem(CHOOSE, None)
            box.addItem("ignore", IGNORE)
            for name in ACCOUNT_FILE.fields:
                box.addItem(name, name)
            chosen = self.mapping.get(header)
            box.setCurrentIndex(max(0, box.findData(chosen)) if chosen else 0)
            box.currentIndexChanged.connect(partial(self._mapping_changed, header, box))
            table.setCellWidget(0, number, box)
            for row, cells in enumerate(samples, start=1):
                value = cells[number] if number < len(cells) else ""
                # a cell of a secret column is not shown, only that it has a value
                if chosen in secret and value:
                    value = "••••"
                table.setItem(row, number, QTableWidgetItem(value))
            table.setColumnWidth(number, 150)
        table.setVisible(bool(self.headers))

    def mapping_box(self, header: str) -> QComboBox:
        box = self.mapping_table.cellWidget(0, self.headers.index(header))
        assert isinstance(box, QComboBox)
        return box

    def _mapping_changed(self, header: str, box: QComboBox, _index: int) -> None:
        value = box.currentData()
        if value is None:
            self.mapping.pop(header, None)
        else:
            self.mapping[header] = str(value)
        self._repreview()

    def _repreview(self) -> None:
        text, mapping, context = self.text, dict(self.mapping), self._context()
        self.summary.setText("Checking…")
        run_task(
            lambda: (text, preview_rows(self.kind, text, mapping, context)),
            self._previewed,
            self._read_failed,
            owner=self,
        )

    # --- the template ------------------------------------------------------------------
    def _ask_template(self) -> None:
        dialog = QFileDialog(self, "Save accounts template")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(["CSV files (*.csv)"])
        dialog.setDefaultSuffix("csv")
        dialog.selectFile("piper-accounts-template.csv")
        dialog.fileSelected.connect(self.save_template)
        dialog.open()

    def save_template(self, path: str) -> None:
        def write() -> str:
            write_private_text(Path(path), account_template())
            return path

        run_task(
            write,
            lambda done: self.summary.setText(f"Template saved: {done}"),
            lambda exc: self.summary.setText(f"Cannot save the template: {mask(str(exc))}"),
            owner=self,
        )
        self.summary.show()

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
        if self.accounts:
            db, mapping, context = self.db, dict(self.mapping), self._context()
            spread = self.spread.currentData()
            run_task(
                lambda: import_accounts(
                    db, text, mapping=mapping, context=context, spread=spread, remember=True
                ),
                self._done,
                self._import_failed,
                owner=self,
            )
            return
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
        if report.proxies_created:
            text += f". {report.proxies_created:,} proxies created"
        if report.notes:
            text += ". " + ". ".join(report.notes)
        self.summary.setText(text)
        self.summary.setToolTip("\n".join(skipped[:200]))
        self.import_button.setText("Imported")
        self.close_button.setText("Done")
        self.close_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.imported.emit(report)
