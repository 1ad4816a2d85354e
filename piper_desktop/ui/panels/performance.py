"""The Performance panel: how the accounts' posts did, drawn from the analytics readings.

Per account (or all of them): followers and views over time, the best posting hours as a
weekday × hour heatmap (each account's own time zone), the top posts (select one to see
its first 48 hours), and mean views/likes per post by campaign and by caption template.
Everything is read and aggregated on a worker (`load_performance`, through
`run_task`); the GUI thread only hands the result to the charts (ui/charts.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...domain import analytics_views as av
from ...domain.calendar_grid import account_colour
from ...domain.services import Services
from ...owner_only import write_private_text
from .. import formatting as fmt
from ..charts import (
    EMPTY_TEXT,
    BarChart,
    ChartCard,
    CurveChart,
    GrowthChart,
    HeatmapChart,
    csv_text,
)
from ..context import AppContext
from ..icons import icon
from ..tasks import run_task
from .dashboard import page_header, scrolled_page

RELOAD_AFTER_S = 60
MATCH_TEXT = {"id": "Piper job", "guess": "Piper job (guess)", "outside": "Outside Piper"}


@dataclass(frozen=True)
class Loaded:
    accounts: dict[int, av.AccountInfo]
    performance: av.Performance


def account_infos(services: Services) -> dict[int, av.AccountInfo]:
    return {
        a.id: av.AccountInfo(a.id, a.username, a.timezone or "UTC")
        for a in services.accounts.list()
    }


def load_performance(services: Services, account_id: int | None) -> Loaded:
    """The panel's data for one account filter: read and aggregated here, on a worker."""
    accounts = account_infos(services)
    posts = services.analytics.posts(account_id)
    readings = services.analytics.account_readings(account_id)
    names = {c.id: c.name for c in services.campaigns.list()}
    return Loaded(accounts, av.build_performance(posts, readings, accounts, names, account_id))


class TopPostsModel(QAbstractTableModel):
    COLUMNS = (
        ("account", "Account"),
        ("created_at", "Posted"),
        ("views", "Views"),
        ("likes", "Likes"),
        ("comments", "Comments"),
        ("shares", "Shares"),
        ("match", "Made by"),
        ("caption", "Caption"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.posts: list[Any] = []
        self.zones: dict[int, str] = {}

    def set_posts(self, posts: list[Any], zones: dict[int, str]) -> None:
        self.beginResetModel()
        self.posts = list(posts)
        self.zones = zones
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.posts)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section][1]
        return None

    def text(self, row: int, column: int) -> str:
        post = self.posts[row]
        key = self.COLUMNS[column][0]
        if key == "account":
            return f"@{post.account}"
        if key == "created_at":
            return fmt.when(post.created_at, self.zones.get(post.account_id))
        if key == "match":
            return MATCH_TEXT.get(post.match, post.match)
        if key == "caption":
            return " ".join(str(post.caption or "").split())
        return f"{getattr(post, key):,}"

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index.row(), index.column())
        if role == Qt.ItemDataRole.ToolTipRole and self.COLUMNS[index.column()][0] == "caption":
            return self.posts[index.row()].caption
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (2, 3, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def csv_rows(self) -> tuple[list[str], list[list[Any]]]:
        header = [
            "account",
            "post_id",
            "created_at",
            "views",
            "likes",
            "comments",
            "shares",
            "match",
            "share_url",
            "caption",
        ]
        rows = [
            [
                p.account,
                p.post_id,
                p.created_at.isoformat(),
                p.views,
                p.likes,
                p.comments,
                p.shares,
                p.match,
                getattr(p, "share_url", None) or "",
                p.caption,
            ]
            for p in self.posts
        ]
        return header, rows


class PerformancePanel(QWidget):
    status_changed = Signal(str)
    painted = Signal()  # every chart shows the last load
    post_shown = Signal(int)  # the selected post's curve is drawn (its key)
    title = "Performance"
    icon_name = "chart"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.loads = 0
        self.status = ""
        self.account_id: int | None = None
        self.accounts: dict[int, av.AccountInfo] = {}
        self.performance: av.Performance | None = None
        self.selected_key: int | None = None
        # seconds per step of the last load (bench/performance_panel.py prints them)
        self.timings: dict[str, float] = {}
        self._asked = 0.0
        self.loaded_at = 0.0  # time.monotonic() of the last load
        self._stale = True
        layout = scrolled_page(self)
        header, self.subtitle = page_header("Performance")
        self.account_filter = QComboBox()
        self.account_filter.setObjectName("performance_account")
        self.account_filter.setMinimumWidth(200)
        self.account_filter.addItem("All accounts", None)
        self.account_filter.currentIndexChanged.connect(self._filter_changed)
        header.addWidget(self.account_filter)
        refresh = QPushButton(icon("refresh"), "Refresh")
        refresh.clicked.connect(self.reload)
        header.addWidget(refresh)
        layout.addLayout(header)

        self.growth = GrowthChart("performance_growth", "Followers and views over time")
        layout.addWidget(self.growth)
        self.heatmap = HeatmapChart("performance_hours", "Best posting hours (mean views per post)")
        layout.addWidget(self.heatmap)

        posts_row = QHBoxLayout()
        posts_row.setSpacing(12)
        table_card = QFrame()
        table_card.setObjectName("Card")
        table_layout = QVBoxLayout(table_card)
        table_layout.setContentsMargins(16, 12, 16, 14)
        table_top = QHBoxLayout()
        table_title = QLabel("Top posts")
        table_title.setObjectName("CardTitle")
        table_top.addWidget(table_title, 1)
        self.posts_csv = QPushButton("CSV…")
        self.posts_csv.setObjectName("performance_posts_csv")
        self.posts_csv.clicked.connect(self._ask_posts_csv)
        table_top.addWidget(self.posts_csv)
        table_layout.addLayout(table_top)
        self.top_model = TopPostsModel(self)
        self.top_view = QTableView()
        self.top_view.setObjectName("performance_top_posts")
        self.top_view.setModel(self.top_model)
        self.top_view.verticalHeader().setVisible(False)
        self.top_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.top_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.top_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.top_view.setWordWrap(False)
        self.top_view.setMinimumHeight(300)
        self.top_view.horizontalHeader().setSectionResizeMode(
            len(TopPostsModel.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch
        )
        for column, width in enumerate((110, 150, 76, 64, 84, 64, 104)):
            self.top_view.setColumnWidth(column, width)
        self.top_view.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.select_post(current.row())
        )
        table_layout.addWidget(self.top_view)
        self.top_empty = QLabel(EMPTY_TEXT)
        self.top_empty.setObjectName("performance_top_empty")
        self.top_empty.setWordWrap(True)
        table_layout.addWidget(self.top_empty)
        posts_row.addWidget(table_card, 3)
        self.curve = CurveChart("performance_curve", "First 48 hours of the selected post")
        posts_row.addWidget(self.curve, 2)
        layout.addLayout(posts_row)

        bars = QGridLayout()
        bars.setSpacing(12)
        self.campaigns = BarChart("performance_campaigns", "By campaign")
        self.templates = BarChart("performance_templates", "By caption template")
        bars.addWidget(self.campaigns, 0, 0)
        bars.addWidget(self.templates, 0, 1)
        layout.addLayout(bars)
        layout.addStretch(1)
        for card in self.cards():
            card.exported.connect(lambda path: self.ctx.success(f"Saved {path}"))
        ctx.data_changed.connect(self._changed)

    def cards(self) -> list[ChartCard]:
        return [self.growth, self.heatmap, self.curve, self.campaigns, self.templates]

    # --- loading ---------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # the collection duty records readings without telling the GUI: shown again after
        # a while, the panel reads them anew
        if self._stale or time.monotonic() - self.loaded_at > RELOAD_AFTER_S:
            self.reload()

    def _changed(self, table: str) -> None:
        if table in ("analytics", "accounts", "campaigns", "*"):
            self._stale = True
            if self.isVisible():
                self.reload()

    def _filter_changed(self) -> None:
        data = self.account_filter.currentData()
        self.account_id = int(data) if data is not None else None
        self.reload()

    def reload(self) -> None:
        self._stale = False
        services = self.ctx.services
        account_id = self.account_id
        self._asked = time.perf_counter()
        run_task(
            lambda: load_performance(services, account_id),
            self._loaded,
            lambda exc: self.ctx.error(f"Performance: {exc}"),
            owner=self,
        )

    def _loaded(self, loaded: Loaded) -> None:
        if loaded.performance.account_id != self.account_id:
            return  # an older filter's answer
        arrived = time.perf_counter()
        timings = {"load": arrived - self._asked}
        self.loads += 1
        self.loaded_at = time.monotonic()
        self.accounts = loaded.accounts
        self._fill_filter()
        data = self.performance = loaded.performance
        zones = {key: info.timezone for key, info in self.accounts.items()}

        def timed(name: str, draw: Any) -> None:
            started = time.perf_counter()
            draw()
            timings[name] = time.perf_counter() - started

        timed(
            "growth",
            lambda: self.growth.show_series(
                [
                    (f"@{info.username}", account_colour(info.account_id), series)
                    for info, series in data.growth
                ]
            ),
        )
        timed("hours", lambda: self.heatmap.show_grid(data.grid, [s.label for s in data.best]))
        timed("top_posts", lambda: self._show_top(data.top, zones))
        no_posts = EMPTY_TEXT if not data.posts else None
        timed(
            "campaigns",
            lambda: self.campaigns.show_comparison(
                data.by_campaign, no_posts or "None of these posts came from a Piper campaign."
            ),
        )
        timed(
            "templates",
            lambda: self.templates.show_comparison(
                data.by_template, no_posts or "None of these posts had a caption template."
            ),
        )
        self.timings = timings
        text = f"{fmt.count(data.posts, 'post')} with readings"
        if data.best:
            text += f" · best hour {data.best[0].label}"
        self.subtitle.setText(text)
        self.status = text
        self.status_changed.emit(text)
        self.painted.emit()

    def _fill_filter(self) -> None:
        self.account_filter.blockSignals(True)
        try:
            self.account_filter.clear()
            self.account_filter.addItem("All accounts", None)
            for info in sorted(self.accounts.values(), key=lambda i: i.username.lower()):
                self.account_filter.addItem(f"@{info.username}", info.account_id)
            index = self.account_filter.findData(self.account_id)
            self.account_filter.setCurrentIndex(max(index, 0))
        finally:
            self.account_filter.blockSignals(False)

    def set_account(self, account_id: int | None) -> None:
        """Show one account (None: all); the same as choosing it in the filter."""
        index = self.account_filter.findData(account_id)
        if index < 0:
            raise ValueError(f"no account {account_id} in the filter")
        if index == self.account_filter.currentIndex():
            return
        self.account_filter.setCurrentIndex(index)

    def _show_top(self, posts: list[Any], zones: dict[int, str]) -> None:
        self.top_model.set_posts(posts, zones)
        self.top_view.setVisible(bool(posts))
        self.top_empty.setVisible(not posts)
        self.posts_csv.setEnabled(bool(posts))
        self.selected_key = None
        if posts:
            self.top_view.selectRow(0)  # the best post's curve, without a click
        else:
            self.curve.show_curve("", None)
            self.curve.set_empty(EMPTY_TEXT)

    # --- one post ------------------------------------------------------------------------------
    def select_post(self, row: int) -> None:
        if not 0 <= row < len(self.top_model.posts):
            return
        post = self.top_model.posts[row]
        self.selected_key = post.key
        services = self.ctx.services
        zone = self.accounts[post.account_id].timezone if post.account_id in self.accounts else None
        title = f"@{post.account} · {fmt.when(post.created_at, zone)} (its time)"

        def curve() -> av.Curve:
            readings = services.analytics.post_readings([post.key]).get(post.key, [])
            return av.first_hours_curve(post.created_at, readings)

        started = time.perf_counter()

        def show(result: av.Curve) -> None:
            if self.selected_key != post.key:
                return  # another post was picked meanwhile
            self.curve.show_curve(title, result)
            self.timings["curve"] = time.perf_counter() - started
            self.post_shown.emit(post.key)

        run_task(curve, show, lambda exc: self.ctx.error(f"Performance: {exc}"), owner=self)

    # --- export ------------------------------------------------------------------------------
    def export_posts_csv(self, path: Path) -> Path:
        header, rows = self.top_model.csv_rows()
        write_private_text(path, csv_text(header, rows), newline="")
        self.ctx.success(f"Saved {path}")
        return path

    def _ask_posts_csv(self) -> None:
        stamp = datetime.now().strftime("%Y-%m-%d")
        chosen, _filter = QFileDialog.getSaveFileName(
            self, "Export top posts", f"top-posts-{stamp}.csv", "CSV (*.csv)"
        )
        if chosen:
            self.export_posts_csv(Path(chosen))
