"""The calendar's list view: an agenda of the jobs scheduled in a span of days, grouped
by day, in the operator's time. A `PagedTableModel` over the jobs table (SQL-side
filtering, sorting and paging, so 10,000 jobs load a page at a time); a click, a
double-click or Enter on a row asks to open its job."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QTableView, QWidget

from ..domain.calendar_grid import account_colour
from ..domain.tables import TableQuery, TableService
from . import formatting as fmt
from .delegates import CellDelegate
from .month_calendar import post_tooltip
from .table_model import Column, PagedTableModel, TableSource

Index = QModelIndex | QPersistentModelIndex
DAY_COLUMN = 0


class AgendaModel(PagedTableModel):
    """Jobs by scheduled time. Sorted by time, a day's label shows on its first row
    only, so the rows read as one group per day."""

    def __init__(self, tables: TableService, zone: tzinfo, parent: Any = None) -> None:
        self.zone = zone
        columns = [
            Column("day", "Day", 150, fmt=self._day, sort="scheduled_at"),
            Column("time", "Time", 70, fmt=self._time, sort="scheduled_at", tooltip=self._tooltip),
            Column(
                "account_username",
                "Account",
                150,
                fmt=lambda r: f"@{r.get('account_username')}",
                decoration=lambda r: QColor(account_colour(int(r.get("account_id") or 0))),
            ),
            Column("route", "Route", 110, fmt=lambda r: fmt.route(r.get("route"))),
            Column("status", "Status", 130, kind="badge"),
            Column("caption", "Caption", 260, sort=None, stretch=True),
        ]
        super().__init__(
            TableSource(tables, "jobs"),
            columns,
            page_size=200,
            query=TableQuery(sort="scheduled_at"),
            parent=parent,
        )

    def _local(self, row: dict[str, Any]) -> datetime | None:
        moment = fmt.to_datetime(row.get("scheduled_at"))
        return moment.astimezone(self.zone) if moment is not None else None

    def day_of(self, row: dict[str, Any]) -> date | None:
        local = self._local(row)
        return local.date() if local is not None else None

    def _day(self, row: dict[str, Any]) -> str:
        day = self.day_of(row)
        return f"{day:%a %d %b %Y}" if day is not None else ""

    def _time(self, row: dict[str, Any]) -> str:
        local = self._local(row)
        return f"{local:%H:%M}" if local is not None else ""

    @staticmethod
    def _tooltip(row: dict[str, Any]) -> str:
        return post_tooltip({**row, "at": row.get("scheduled_at")})

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and index.isValid()
            and index.column() == DAY_COLUMN
            and self.query.sort == "scheduled_at"
            and 0 < index.row() < self.rowCount()
            and self.day_of(self.row(index.row())) == self.day_of(self.row(index.row() - 1))
        ):
            return ""  # same day as the row above: one label per day
        return super().data(index, role)

    def first_row_on(self, day: date) -> int | None:
        return next((n for n in range(self.rowCount()) if self.day_of(self.row(n)) == day), None)


class AgendaList(QTableView):
    job_activated = Signal(int)

    def __init__(self, tables: TableService, zone: tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agenda_list")
        self.agenda = AgendaModel(tables, zone, self)
        self.setModel(self.agenda)
        self.setItemDelegate(CellDelegate(self))
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(30)
        self.setShowGrid(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setSortingEnabled(True)
        self.horizontalHeader().setSortIndicator(DAY_COLUMN, Qt.SortOrder.AscendingOrder)
        for number, column in enumerate(self.agenda.columns):
            self.setColumnWidth(number, column.width)
            if column.stretch:
                self.horizontalHeader().setSectionResizeMode(number, QHeaderView.ResizeMode.Stretch)
        self.clicked.connect(self._open)
        self.activated.connect(self._open)  # double-click, or Enter where the style says
        self.pending_day: date | None = None
        self.agenda.loaded.connect(self._scroll_to_pending)

    def set_zone(self, zone: tzinfo) -> None:
        self.agenda.zone = zone

    def show_span(
        self,
        start: datetime,
        end: datetime,
        *,
        account_id: int | None = None,
        group: str | None = None,
        day: date | None = None,
    ) -> None:
        """Jobs scheduled in [start, end) (aware UTC), of one account or group if given;
        `day` is scrolled to once its rows are in."""
        filters: dict[str, Any] = {"scheduled_from": start, "scheduled_until": end}
        if account_id is not None:
            filters["account_id"] = account_id
        if group:
            filters["account_group"] = group
        # the same span again (the dashboard's live reload): keep the rows shown, the
        # selection and the scroll position
        same = self.agenda.loaded_once and filters == self.agenda.query.filters
        self.agenda.query.filters = filters
        self.pending_day = day
        self.agenda.refresh(keep=same)

    def _scroll_to_pending(self) -> None:
        if self.pending_day is None:
            return
        row = self.agenda.first_row_on(self.pending_day)
        if row is not None:
            index = self.agenda.index(row, 0)
            self.selectRow(row)
            self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
        self.pending_day = None

    def _open(self, index: Index) -> None:
        if index.isValid():
            self.job_activated.emit(int(self.agenda.row(index.row())["id"]))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._open(self.currentIndex())
            return
        super().keyPressEvent(event)
