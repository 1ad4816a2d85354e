"""The frame every list panel shares: title, quick filter, filter drop-downs, actions
(toolbar, context menu, shortcuts), a paged table and an optional details pane.

A panel subclass gives its table name, columns and filters, then adds actions with
`add_action`; enabling by selection, the context menu and the status-bar counts come
from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QIcon, QKeyEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..domain.tables import TableQuery
from . import formatting as fmt
from .context import AppContext
from .delegates import CellDelegate
from .icons import icon
from .table_model import Column, PagedTableModel, RowSource, TableSource
from .tasks import run_task


@dataclass
class FilterDef:
    """A drop-down filter: fixed options, or values loaded in the background."""

    key: str
    label: str  # the "everything" entry, e.g. "All statuses"
    options: list[tuple[str, Any]] = field(default_factory=list)
    load: Callable[[], list[str]] | None = None


class TablePanel(QWidget):
    status_changed = Signal(str)
    title = ""
    subtitle = ""
    noun = "row"
    noun_plural = ""
    table_name = ""
    icon_name = "jobs"
    details_position = Qt.Orientation.Horizontal  # details to the right (or below)
    empty_hint = ""

    def __init__(
        self,
        ctx: AppContext,
        columns: Sequence[Column],
        filters: Sequence[FilterDef] = (),
        *,
        source: RowSource | None = None,
        query: TableQuery | None = None,
        page_size: int = 200,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.filters = list(filters)
        self.model = PagedTableModel(
            source or TableSource(ctx.tables, self.table_name),
            columns,
            page_size=page_size,
            query=query,
            parent=self,
        )
        self._selection_actions: list[tuple[QAction, str]] = []
        self._context_actions: list[QAction | None] = []
        self._restore_ids: list[Any] = []
        self._focus_next: list[Any] = []
        self._stale = True
        self._filter_boxes: dict[str, QComboBox] = {}
        self.status = ""
        self._build()
        self.model.loaded.connect(self._on_loaded)
        self.model.failed.connect(
            lambda text: self.ctx.error(f"Could not load {self.title}: {text}")
        )
        self.model.rowsInserted.connect(lambda *_: self._update_status())
        self.model.counted.connect(self._update_status)
        ctx.data_changed.connect(self._on_data_changed)

    # --- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(24, 20, 24, 12)
        outer.setSpacing(12)

        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        heading = QLabel(self.title)
        heading.setObjectName("PanelTitle")
        self.subtitle_label = QLabel(self.subtitle)
        self.subtitle_label.setObjectName("PanelSubtitle")
        titles.addWidget(heading)
        titles.addWidget(self.subtitle_label)
        header.addLayout(titles)
        header.addStretch(1)
        self.toolbar = QHBoxLayout()
        self.toolbar.setSpacing(6)
        header.addLayout(self.toolbar)
        header.addSpacing(10)
        self.header_buttons = QHBoxLayout()
        self.header_buttons.setSpacing(8)
        header.addLayout(self.header_buttons)
        outer.addLayout(header)

        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.search = QLineEdit()
        self.search.setPlaceholderText(f"Filter {self.noun_plural or self.noun + 's'}…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search", fmt_color()), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setMinimumWidth(260)
        self.search.setMaximumWidth(340)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(lambda: self.model.set_search(self.search.text()))
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        bar.addWidget(self.search)
        for spec in self.filters:
            box = QComboBox()
            box.setObjectName(f"filter_{spec.key}")
            box.setMinimumWidth(150)
            self._fill_filter(box, spec, [(label, value) for label, value in spec.options])
            box.currentIndexChanged.connect(
                lambda _i, key=spec.key, combo=box: self.model.set_filter(
                    key, self.filter_value(key, combo.currentData())
                )
            )
            self._filter_boxes[spec.key] = box
            bar.addWidget(box)
        bar.addStretch(1)
        outer.addLayout(bar)

        self.view = QTableView()
        self.view.setObjectName(f"{self.table_name}_table")
        self.view.setModel(self.model)
        self.view.setItemDelegate(CellDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setSortingEnabled(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(34)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(self._activated)
        header_view = self.view.horizontalHeader()
        header_view.setHighlightSections(False)
        header_view.setSectionsClickable(True)
        header_view.setSortIndicatorShown(True)
        header_view.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header_view.sortIndicatorChanged.connect(self._sort_requested)
        header_view.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hidden = set(self.ctx.ui_state.get(f"hidden_columns.{self.table_name}") or [])
        for number, column in enumerate(self.model.columns):
            self.view.setColumnWidth(number, column.width)
            if column.stretch:
                header_view.setSectionResizeMode(number, QHeaderView.ResizeMode.Stretch)
            known = self.ctx.ui_state.has(f"hidden_columns.{self.table_name}")
            if (column.key in hidden) if known else column.hidden:
                self.view.setColumnHidden(number, True)
        header_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header_view.customContextMenuRequested.connect(self._header_menu)
        self.view.viewport().installEventFilter(self)  # its size is the room we have
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())

        self.empty = QLabel()
        self.empty.setObjectName("Muted")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)

        details = self.build_details()
        if details is not None:
            splitter = QSplitter(self.details_position)
            splitter.addWidget(self.stack)
            splitter.addWidget(details)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 2)
            splitter.setChildrenCollapsible(False)
            outer.addWidget(splitter, 1)
        else:
            outer.addWidget(self.stack, 1)

        find = QAction("Find", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(self._find)
        self.addAction(find)
        self.refresh_action = QAction(icon("refresh"), "Refresh", self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.refresh_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.refresh_action.triggered.connect(self.reload)
        self.addAction(self.refresh_action)
        self.build_actions()
        self._selection_changed()

    def _header_menu(self, point: QPoint) -> None:
        self.column_menu().exec(self.view.horizontalHeader().viewport().mapToGlobal(point))

    def column_menu(self) -> QMenu:
        """Show or hide columns; the choice is kept between runs."""
        menu = QMenu(self)
        for number, column in enumerate(self.model.columns):
            if not column.title:
                continue
            action = menu.addAction(column.title)
            action.setCheckable(True)
            action.setChecked(not self.view.isColumnHidden(number))
            action.toggled.connect(lambda shown, n=number: self.set_column_shown(n, shown))
        return menu

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return super().eventFilter(watched, event)

    def fit_columns(self) -> None:
        """Stretch columns share the spare room; when there is none they keep their own
        width and the table scrolls sideways: squeezed, "Connection refused" would
        read "C…"."""
        header = self.view.horizontalHeader()
        room = self.view.viewport().width()
        need = 0
        for number, column in enumerate(self.model.columns):
            if not self.view.isColumnHidden(number):
                need += column.width if column.stretch else header.sectionSize(number)
        squeezed = room < need
        for number, column in enumerate(self.model.columns):
            if not column.stretch:
                continue
            mode = header.sectionResizeMode(number)
            if squeezed and mode == QHeaderView.ResizeMode.Stretch:
                header.setSectionResizeMode(number, QHeaderView.ResizeMode.Interactive)
                header.resizeSection(number, column.width)
            elif not squeezed and mode != QHeaderView.ResizeMode.Stretch:
                header.setSectionResizeMode(number, QHeaderView.ResizeMode.Stretch)

    def set_column_shown(self, number: int, shown: bool) -> None:
        self.view.setColumnHidden(number, not shown)
        self.fit_columns()
        hidden = [c.key for n, c in enumerate(self.model.columns) if self.view.isColumnHidden(n)]
        self.ctx.ui_state.set(f"hidden_columns.{self.table_name}", hidden)

    def build_details(self) -> QWidget | None:
        """A details pane beside the table (override)."""
        return None

    def build_actions(self) -> None:
        """Add this panel's actions (override)."""

    def add_action(
        self,
        text: str,
        slot: Callable[[], Any],
        *,
        icon_name: str | None = None,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        needs: str = "",
        toolbar: bool = False,
        header: bool = False,
        primary: bool = False,
        context: bool = True,
        menu: QMenu | None = None,
        tip: str | None = None,
    ) -> QAction:
        """An action in the context menu (and toolbar / header), enabled by selection.

        needs: "" (always), "one" (exactly one row selected) or "any" (one or more).
        """
        action = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        action.setObjectName(_object_name(text))
        if icon_name:
            action.setProperty("icon_name", icon_name)  # re-tinted when the theme changes
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            # shortcuts work while the panel (any child) has focus, so panels in the
            # stack never compete for the same keys
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        if tip:
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        if needs:
            self._selection_actions.append((action, needs))
        if context:
            self._context_actions.append(action)
        if header:
            button = QPushButton(action.icon(), text)
            button.setObjectName(f"button_{_object_name(text)}")
            if icon_name:
                button.setProperty("icon_name", icon_name)
            if primary:
                button.setProperty("primary", True)
                if icon_name:
                    button.setIcon(icon(icon_name, "#FFFFFF"))
                    button.setProperty("icon_color", "#FFFFFF")
            button.clicked.connect(action.trigger)
            action.enabledChanged.connect(button.setEnabled)
            self.header_buttons.addWidget(button)
        elif toolbar:
            tool = QToolButton()
            tool.setDefaultAction(action)
            tool.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            if menu is not None:
                tool.setMenu(menu)
                tool.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            self.toolbar.addWidget(tool)
        return action

    def add_menu_button(self, text: str, icon_name: str, menu: QMenu) -> QToolButton:
        tool = QToolButton()
        tool.setText(text)
        tool.setIcon(icon(icon_name))
        tool.setProperty("icon_name", icon_name)
        tool.setObjectName(f"menu_{_object_name(text)}")
        tool.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tool.setMenu(menu)
        tool.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.toolbar.addWidget(tool)
        return tool

    def add_separator(self) -> None:
        self._context_actions.append(None)

    # --- filters --------------------------------------------------------------------------
    def _fill_filter(self, box: QComboBox, spec: FilterDef, options: list[tuple[str, Any]]) -> None:
        current = box.currentData()
        box.blockSignals(True)
        box.clear()
        box.addItem(spec.label, None)
        for label, value in options:
            box.addItem(label, value)
        if current is not None:
            position = box.findData(current)
            box.setCurrentIndex(max(0, position))
        box.blockSignals(False)

    def filter_value(self, key: str, value: Any) -> Any:
        """The query value for a drop-down's choice (override to expand groups)."""
        return value

    def _find(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def reload_filter_options(self) -> None:
        for spec in self.filters:
            if spec.load is None:
                continue
            box = self._filter_boxes[spec.key]
            loader = spec.load
            run_task(loader, partial(self._filter_options_loaded, box, spec), owner=self)

    def _filter_options_loaded(
        self, box: QComboBox, spec: FilterDef, values: Iterable[Any]
    ) -> None:
        self._fill_filter(box, spec, [*spec.options, *((str(v), v) for v in values)])

    def set_filter_value(self, key: str, value: Any) -> None:
        box = self._filter_boxes[key]
        position = box.findData(value)
        if position < 0:
            box.addItem(str(value), value)
            position = box.count() - 1
        box.setCurrentIndex(position)

    # --- loading ----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def reload(self) -> None:
        self._stale = False
        self._restore_ids = self._focus_next or self.selected_ids()
        self._focus_next = []
        self.model.refresh(keep=self.model.loaded_once)
        self.reload_filter_options()

    def _on_data_changed(self, table: str) -> None:
        if table not in (self.table_name, "*") and table not in self.depends_on():
            return
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def select_after_reload(self, ids: Sequence[Any]) -> None:
        """Select these rows once the next reload arrives (a row just created)."""
        self._focus_next = list(ids)

    def depends_on(self) -> tuple[str, ...]:
        """Other tables whose changes show in this one (labels, counts)."""
        return ()

    def _on_loaded(self) -> None:
        if self._restore_ids:
            self.select_ids(self._restore_ids)
            self._restore_ids = []
        filtered = bool(self.model.query.search.strip()) or any(
            v not in (None, "") for v in self.model.query.filters.values()
        )
        if self.model.rowCount() == 0:
            self.empty.setText(
                "Nothing matches the filter."
                if filtered
                else (self.empty_hint or f"No {self.noun_plural or self.noun + 's'} yet.")
            )
            self.stack.setCurrentWidget(self.empty)
        else:
            self.stack.setCurrentWidget(self.view)
        self._update_status()
        self._selection_changed()

    def _sort_requested(self, section: int, order: Qt.SortOrder) -> None:
        if section < 0 or self.model.columns[section].sort_key is None:
            return
        self.model.sort(section, order)

    # --- selection --------------------------------------------------------------------------
    def selected_rows(self) -> list[dict[str, Any]]:
        rows = sorted({index.row() for index in self.view.selectionModel().selectedRows()})
        return [self.model.row(r) for r in rows if r < self.model.rowCount()]

    def selected_ids(self) -> list[Any]:
        return [row.get("id") for row in self.selected_rows()]

    def current_row(self) -> dict[str, Any] | None:
        rows = self.selected_rows()
        return rows[0] if len(rows) == 1 else None

    def select_ids(self, ids: Sequence[Any]) -> None:
        selection = self.view.selectionModel()
        selection.clearSelection()
        first = None
        for row_id in ids:
            position = self.model.position_of(row_id)
            if position is None:
                continue
            index = self.model.index(position, 0)
            selection.select(
                index,
                QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
            )
            first = first or index
        if first is not None:
            self.view.scrollTo(first)

    def _selection_changed(self) -> None:
        count = len(self.view.selectionModel().selectedRows())
        for action, needs in self._selection_actions:
            action.setEnabled(count == 1 if needs == "one" else count >= 1)
        self._update_status()
        self.selection_changed(self.selected_rows())

    def selection_changed(self, rows: list[dict[str, Any]]) -> None:
        """React to a new selection (override: details pane)."""

    def _update_status(self) -> None:
        total = self.model.total
        if self.model.total_exact:
            parts = [fmt.count(total, self.noun, self.noun_plural or None)]
        else:
            parts = [f"{total:,}+ {self.noun_plural or self.noun + 's'} (counting…)"]
        shown = self.model.rowCount()
        if self.model.total_exact and shown < total:
            parts.append(f"{shown:,} loaded")
        selected = len(self.view.selectionModel().selectedRows())
        if selected:
            parts.append(f"{selected:,} selected")
        self.status = " · ".join(parts)
        if not self.subtitle:
            self.subtitle_label.setText(self.status)
        self.status_changed.emit(self.status)

    # --- activation / context menu -------------------------------------------------------------
    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.activated(self.model.row(index.row()))

    def activated(self, row: dict[str, Any]) -> None:
        """Double-click or Enter on a row (override: edit, open)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.view.hasFocus():
            row = self.current_row()
            if row is not None:
                self.activated(row)
                return
        super().keyPressEvent(event)

    def _context_menu(self, point: QPoint) -> None:
        menu = self.context_menu()
        if menu is not None:
            menu.exec(self.view.viewport().mapToGlobal(point))

    def context_menu(self) -> QMenu | None:
        if not self._context_actions:
            return None
        menu = QMenu(self)
        for action in self._context_actions:
            if action is None:
                menu.addSeparator()
            elif action.isEnabled():
                menu.addAction(action)
        return menu

    def find_action(self, text: str) -> QAction:
        for action in self._context_actions:
            if action is not None and action.text() == text:
                return action
        for action in self.actions():
            if action.text() == text:
                return action
        raise KeyError(text)

    # --- helpers for subclasses ---------------------------------------------------------------
    def saved(self, text: str, item: Any, table: str) -> None:
        """After a create/edit dialog: select the row once reloaded, say so, refresh."""
        if item is not None:
            self.select_after_reload([item.id])
        self.ctx.success(text)
        self.ctx.changed(table)

    def open_form(self, dialog: Any, table: str, text: str | Callable[[Any], str]) -> None:
        """Show a create/edit dialog; once it saved, select the row and say so."""

        def accepted() -> None:
            item = dialog.result_value
            self.saved(text(item) if callable(text) else text, item, table)

        dialog.accepted.connect(accepted)
        self.dialog = dialog
        dialog.open()

    def confirm_delete(
        self,
        *,
        title: str,
        question: Callable[[int], str],
        remove_one: Callable[[Any], None],
        success: str,
        changed: Sequence[str],
        detail: str,
        yes_text: str = "Delete",
        error_prefix: str = "",
    ) -> None:
        """Ask, then remove the selected rows in the background."""
        from .dialogs import confirm

        ids = self.selected_ids()
        if not ids:
            return

        def remove() -> int:
            for item_id in ids:
                remove_one(item_id)
            return len(ids)

        self.last_dialog = confirm(
            self,
            title,
            question(len(ids)),
            lambda: self.run(remove, success=success, changed=changed, error_prefix=error_prefix),
            yes_text=yes_text,
            danger=True,
            detail=detail,
        )

    def run(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        *,
        success: str | None = None,
        changed: Sequence[str] = (),
        error_prefix: str = "",
    ) -> None:
        """Run a service call in the background; say what happened; refresh tables."""

        def on_result(result: Any) -> None:
            for table in changed:
                self.ctx.changed(table)
            if success:
                self.ctx.success(success.format(result=result))
            if done is not None:
                done(result)

        def on_error(exc: BaseException) -> None:
            self.ctx.error(f"{error_prefix}{exc}")

        run_task(fn, on_result, on_error, owner=self)


def fmt_color() -> str:
    from . import theme

    return theme.current().muted


def _object_name(text: str) -> str:
    return "".join(ch.lower() if ch.isalnum() else "_" for ch in text).strip("_")
