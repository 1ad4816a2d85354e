"""One table model for every list: rows fetched a page at a time off the GUI thread.

`PagedTableModel` shows rows (plain dicts) from a `RowSource` under a set of `Column`s.
Filtering, sorting and paging happen in the source (SQL for the domain tables): the
model asks for the first page and the total, then `fetchMore` loads the next page when
the view scrolls near the end. Changing the search, a filter or the sort starts a new
generation; answers for an older generation are dropped. Live updates (`patch`,
`reload_ids`, `refresh(keep=True)`) keep the selection and scroll position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from ..domain.tables import TableQuery, TableService
from ..logs import mask
from .tasks import run_task

RowRole = Qt.ItemDataRole.UserRole + 1
KindRole = Qt.ItemDataRole.UserRole + 2
ValueRole = Qt.ItemDataRole.UserRole + 3
IdRole = Qt.ItemDataRole.UserRole + 4

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """How one column shows a row.

    kind: "text", "badge" (a coloured status pill), "progress" (0..100 bar) or "thumb".
    sort: the source's sort key ("" means the column key; None: not sortable).
    """

    key: str
    title: str
    width: int = 120
    fmt: Callable[[dict[str, Any]], Any] | None = None
    kind: str = "text"
    sort: str | None = ""
    align: str = "left"
    tooltip: Callable[[dict[str, Any]], str | None] | None = None
    decoration: Callable[[dict[str, Any]], Any] | None = None
    stretch: bool = False
    hidden: bool = False  # hidden until the operator shows it (header menu)

    @property
    def sort_key(self) -> str | None:
        if self.sort is None:
            return None
        return self.sort or self.key

    def text(self, row: dict[str, Any]) -> str:
        value = self.fmt(row) if self.fmt else row.get(self.key)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return str(value)


class RowSource(Protocol):
    def fetch(self, query: TableQuery, offset: int, limit: int) -> list[dict[str, Any]]: ...

    def count(self, query: TableQuery) -> int: ...

    def by_ids(self, ids: list[int]) -> list[dict[str, Any]]: ...


@dataclass
class TableSource:
    """A `RowSource` over one of the domain's tables (see domain/tables.py)."""

    tables: TableService
    table: str

    def fetch(self, query: TableQuery, offset: int, limit: int) -> list[dict[str, Any]]:
        return self.tables.rows(self.table, query, offset, limit)

    def count(self, query: TableQuery) -> int:
        return self.tables.count(self.table, query)

    def by_ids(self, ids: list[int]) -> list[dict[str, Any]]:
        return self.tables.by_ids(self.table, ids)


@dataclass
class ListSource:
    """A `RowSource` over rows already in memory (small fixed lists, tests)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def fetch(self, query: TableQuery, offset: int, limit: int) -> list[dict[str, Any]]:
        return self._matching(query)[offset : offset + limit]

    def count(self, query: TableQuery) -> int:
        return len(self._matching(query))

    def by_ids(self, ids: list[int]) -> list[dict[str, Any]]:
        wanted = set(ids)
        return [r for r in self.rows if r.get("id") in wanted]

    def _matching(self, query: TableQuery) -> list[dict[str, Any]]:
        text = query.search.strip().lower()
        rows = [
            r
            for r in self.rows
            if (not text or any(text in str(v).lower() for v in r.values()))
            and all(r.get(k) == v for k, v in query.filters.items() if v not in (None, ""))
        ]
        if query.sort:
            rows.sort(
                key=lambda r: (r.get(query.sort or "") is None, str(r.get(query.sort or ""))),
                reverse=query.descending,
            )
        return rows


class PagedTableModel(QAbstractTableModel):
    loaded = Signal()  # a (re)load's rows are in (the exact total may follow)
    counted = Signal()  # the exact total for the current query is known
    failed = Signal(str)  # a load failed; the text names why
    busy_changed = Signal(bool)

    def __init__(
        self,
        source: RowSource,
        columns: Sequence[Column],
        *,
        page_size: int = 200,
        query: TableQuery | None = None,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.columns = list(columns)
        self.page_size = page_size
        self.query = query or TableQuery()
        self._rows: list[dict[str, Any]] = []
        self._positions: dict[Any, int] = {}
        self._total = 0
        self._exact = False  # _total is the query's exact count (else: rows so far)
        self._more = False  # the last page was full: there may be more rows
        self._generation = 0
        self._fetching = False
        self._loading = False
        self._loaded_once = False

    # --- Qt model interface -------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == RowRole:
            return row
        if role == IdRole:
            return row.get("id")
        if role == KindRole:
            return column.kind
        if role == ValueRole:
            return column.fmt(row) if column.fmt else row.get(column.key)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column.tooltip is not None:
                return column.tooltip(row)
            text = column.text(row)
            return text if len(text) > 24 else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = {
                "right": Qt.AlignmentFlag.AlignRight,
                "center": Qt.AlignmentFlag.AlignHCenter,
            }.get(column.align, Qt.AlignmentFlag.AlignLeft)
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and column.decoration is not None:
            return column.decoration(row)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.align == "right":
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid():
            return False
        if not self._loaded_once or self._fetching:
            return False
        return len(self._rows) < self._total if self._exact else self._more

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        generation = self._generation
        offset = len(self._rows)
        query = self._snapshot()
        run_task(
            lambda: self.source.fetch(query, offset, self.page_size + 1),
            lambda rows: self._append(generation, offset, rows),
            lambda exc: self._fail(generation, exc),
            owner=self,
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        key = self.columns[column].sort_key
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if self.query.sort == key and self.query.descending == descending and self._loaded_once:
            return
        self.query.sort = key
        self.query.descending = descending
        self.refresh(keep=False)

    # --- queries ------------------------------------------------------------------------
    def set_search(self, text: str) -> None:
        if text == self.query.search:
            return
        self.query.search = text
        self.refresh(keep=False)

    def set_filter(self, key: str, value: Any) -> None:
        if self.query.filters.get(key) == value:
            return
        if value in (None, "", []):
            self.query.filters.pop(key, None)
        else:
            self.query.filters[key] = value
        self.refresh(keep=False)

    def _snapshot(self) -> TableQuery:
        return TableQuery(
            search=self.query.search,
            filters=dict(self.query.filters),
            sort=self.query.sort,
            descending=self.query.descending,
        )

    @property
    def total(self) -> int:
        """The query's row count (the rows loaded so far until the count arrives)."""
        return self._total if self._exact else len(self._rows)

    @property
    def total_exact(self) -> bool:
        return self._exact

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def loaded_once(self) -> bool:
        return self._loaded_once

    def refresh(self, *, keep: bool = True) -> None:
        """Load again. keep=True re-reads as many rows as are shown now and keeps the
        selection (live updates); keep=False starts from the first page (new query).

        Rows come first (a page is an index walk that stops early), the exact count in
        a second task (counting may have to read every matching row)."""
        self._generation += 1
        generation = self._generation
        limit = max(self.page_size, len(self._rows)) if keep else self.page_size
        query = self._snapshot()
        self._fetching = False
        self._set_loading(True)
        run_task(
            lambda: self.source.fetch(query, 0, limit + 1),
            lambda rows: self._loaded(generation, keep, limit, rows, query),
            lambda exc: self._fail(generation, exc),
            owner=self,
        )

    def reload_ids(self, ids: list[int]) -> None:
        """Re-read these rows (if shown) without touching the others."""
        shown = [i for i in ids if i in self._positions]
        if not shown:
            return
        generation = self._generation
        run_task(
            lambda: self.source.by_ids(shown),
            lambda rows: self._replace(generation, rows),
            lambda exc: self._fail(generation, exc),
            owner=self,
        )

    def patch(self, row_id: Any, changes: dict[str, Any]) -> bool:
        """Merge `changes` into a shown row at once (an engine event), True if shown."""
        position = self._positions.get(row_id)
        if position is None:
            return False
        self._rows[position].update(changes)
        self.dataChanged.emit(self.index(position, 0), self.index(position, len(self.columns) - 1))
        return True

    # --- rows ---------------------------------------------------------------------------
    def row(self, position: int) -> dict[str, Any]:
        return self._rows[position]

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def position_of(self, row_id: Any) -> int | None:
        return self._positions.get(row_id)

    def column_index(self, key: str) -> int:
        for number, column in enumerate(self.columns):
            if column.key == key:
                return number
        raise KeyError(key)

    # --- answers --------------------------------------------------------------------------
    def _set_loading(self, value: bool) -> None:
        if self._loading != value:
            self._loading = value
            self.busy_changed.emit(value)

    def _reindex(self) -> None:
        self._positions = {row.get("id"): n for n, row in enumerate(self._rows)}

    def _loaded(
        self,
        generation: int,
        keep: bool,
        limit: int,
        rows: list[dict[str, Any]],
        query: TableQuery,
    ) -> None:
        if generation != self._generation:
            return
        self._more = len(rows) > limit
        rows = rows[:limit]
        self._exact = not self._more  # a short answer is the whole answer
        self._total = len(rows)
        if keep and self._loaded_once:
            self._merge(rows)
        else:
            self.beginResetModel()
            self._rows = list(rows)
            self._reindex()
            self.endResetModel()
        self._loaded_once = True
        self._set_loading(False)
        self.loaded.emit()
        if self._exact:
            self.counted.emit()
            return
        run_task(
            lambda: self.source.count(query),
            lambda total: self._counted(generation, total),
            lambda exc: self._fail(generation, exc),
            owner=self,
        )

    def _counted(self, generation: int, total: int) -> None:
        if generation != self._generation:
            return
        self._total = max(total, len(self._rows))
        self._exact = True
        self.counted.emit()

    def _merge(self, rows: list[dict[str, Any]]) -> None:
        """Swap in new rows keeping persistent indexes (selection, current) by id."""
        old_count = len(self._rows)
        new_count = len(rows)
        if new_count < old_count:
            self.beginRemoveRows(QModelIndex(), new_count, old_count - 1)
            del self._rows[new_count:]
            self.endRemoveRows()
        shared = min(old_count, new_count)
        new_positions = {row.get("id"): n for n, row in enumerate(rows[:shared])}
        self.layoutAboutToBeChanged.emit()
        old_indexes = self.persistentIndexList()
        moved = []
        for index in old_indexes:
            row_id = self._rows[index.row()].get("id") if index.row() < len(self._rows) else None
            target = new_positions.get(row_id)
            moved.append(QModelIndex() if target is None else self.index(target, index.column()))
        self._rows[:shared] = rows[:shared]
        self.changePersistentIndexList(old_indexes, moved)
        self.layoutChanged.emit()
        if shared:
            self.dataChanged.emit(self.index(0, 0), self.index(shared - 1, len(self.columns) - 1))
        if new_count > old_count:
            self.beginInsertRows(QModelIndex(), old_count, new_count - 1)
            self._rows.extend(rows[old_count:])
            self.endInsertRows()
        self._reindex()

    def _append(self, generation: int, offset: int, rows: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        if offset != len(self._rows):
            return
        self._more = len(rows) > self.page_size
        known = set(self._positions)
        fresh = [r for r in rows[: self.page_size] if r.get("id") not in known]
        if not fresh:
            self._more = False
            if self._exact:
                self._total = len(self._rows)  # the table shrank under us: stop paging
            return
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows) + len(fresh) - 1)
        self._rows.extend(fresh)
        self._reindex()
        self.endInsertRows()

    def _replace(self, generation: int, rows: list[dict[str, Any]]) -> None:
        if generation != self._generation:
            return
        for row in rows:
            position = self._positions.get(row.get("id"))
            if position is None:
                continue
            self._rows[position] = row
            self.dataChanged.emit(
                self.index(position, 0), self.index(position, len(self.columns) - 1)
            )

    def _fail(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        self._set_loading(False)
        self.failed.emit(mask(str(exc)) or type(exc).__name__)
