"""Chart cards for the Performance panel, drawn with pyqtgraph.

A `ChartCard` is a titled card holding either its plots or, when it has nothing to draw,
its empty-state sentence; each card keeps the rows it shows (`header`, `rows`) so that
*CSV* exports exactly what is drawn and *PNG* a picture of it. Data arrives as plain
Python/numpy from a worker (ui/panels/performance.py); `setData` with numpy arrays and
pyqtgraph's own downsampling and clipping keep large series quick to paint.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.analytics_views import WEEKDAYS, Comparison, Curve, HourGrid, Series
from ..domain.textfiles import safe_cell
from ..owner_only import write_private_bytes, write_private_text
from . import theme

EMPTY_TEXT = (
    "No readings yet — connect a TikTok account with the video.list scope (and "
    "user.info.stats for followers); Piper then reads its posts' numbers on its own."
)
BAR_LIMIT = 15  # the bars with the most views; more are unreadable on one card
ROW_HEIGHT = 260


def _pen(colour: str, width: float = 2.0) -> Any:
    return pg.mkPen(colour, width=width)


def png_bytes(widget: QWidget) -> bytes:
    """The widget as it looks now, as PNG (QWidget.grab: what the operator sees)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    widget.grab().save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


class ChartCard(QFrame):
    """A card: title, export buttons, and either the plots or the empty sentence."""

    exported = Signal(str)  # the path written

    plot_height = ROW_HEIGHT  # the plots' height: cards sit in a scrolling column

    def __init__(self, name: str, title: str, empty_text: str = EMPTY_TEXT) -> None:
        super().__init__()
        self.setObjectName("Card")
        # as tall as its plots, never stretched: the panel is a scrolling column of cards
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.name = name
        self.header: list[str] = []
        self._plots: dict[int, pg.PlotItem] = {}
        self._rows: list[list[Any]] | Callable[[], list[list[Any]]] = []
        layout = self.body = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        top = QHBoxLayout()
        heading = QLabel(title)
        heading.setObjectName("CardTitle")
        top.addWidget(heading, 1)
        self.csv_button = QPushButton("CSV…")
        self.csv_button.setObjectName(f"{name}_csv")
        self.csv_button.clicked.connect(lambda: self._ask(self.export_csv, "CSV (*.csv)", "csv"))
        self.png_button = QPushButton("PNG…")
        self.png_button.setObjectName(f"{name}_png")
        self.png_button.clicked.connect(lambda: self._ask(self.export_png, "PNG (*.png)", "png"))
        top.addWidget(self.csv_button)
        top.addWidget(self.png_button)
        layout.addLayout(top)
        self.stack = QStackedWidget()
        palette = theme.current()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName(f"{name}_chart")
        self.graphics.setBackground(palette.base)
        self.stack.setFixedHeight(self.plot_height)  # the same with plots and empty
        self.empty = QLabel(empty_text)
        self.empty.setObjectName(f"{name}_empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setProperty("muted", True)
        self.stack.addWidget(self.graphics)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        self.set_empty()

    # --- state -------------------------------------------------------------------------
    @property
    def rows(self) -> list[list[Any]]:
        """The rows drawn, as *CSV…* writes them (built on first use: a chart of
        300,000 readings should not pay for its CSV until someone asks)."""
        if callable(self._rows):
            self._rows = self._rows()
        return self._rows

    @property
    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty

    def set_empty(self, text: str | None = None) -> None:
        if text is not None:
            self.empty.setText(text)
        self.header, self._rows = [], []
        self.wipe()
        self.stack.setCurrentWidget(self.empty)
        self.csv_button.setEnabled(False)

    def _shown(
        self, header: list[str], rows: list[list[Any]] | Callable[[], list[list[Any]]]
    ) -> None:
        self.header, self._rows = header, rows
        self.stack.setCurrentWidget(self.graphics)
        self.csv_button.setEnabled(True)

    def _plot(
        self, row: int = 0, setup: Callable[[pg.PlotItem], None] | None = None, **labels: str
    ) -> pg.PlotItem:
        """The card's plot in `row`, emptied: made (and `setup`) once, then reused, since
        a new PlotItem (axes, menus) costs more than drawing thousands of points."""
        plot = self._plots.get(row)
        if plot is not None:
            self._clear(plot)
            return plot
        plot = self._plots[row] = self.graphics.addPlot(row=row, col=0)
        plot.showGrid(x=True, y=True, alpha=0.15)
        for side, text in labels.items():
            plot.setLabel(side, text)
        if setup is not None:
            setup(plot)
        return plot

    @staticmethod
    def _clear(plot: pg.PlotItem) -> None:
        plot.clear()
        if plot.legend is not None:
            plot.legend.clear()

    def wipe(self) -> None:
        """Nothing drawn (the plots stay, empty, for the next data)."""
        for plot in self._plots.values():
            self._clear(plot)

    def plots(self) -> list[pg.PlotItem]:
        return [self._plots[row] for row in sorted(self._plots)]

    # --- export ------------------------------------------------------------------------
    def export_csv(self, path: Path) -> Path:
        write_private_text(path, csv_text(self.header, self.rows), newline="")
        self.exported.emit(str(path))
        return path

    def export_png(self, path: Path) -> Path:
        write_private_bytes(path, png_bytes(self.stack.currentWidget() or self))
        self.exported.emit(str(path))
        return path

    def _ask(self, export: Any, kind: str, suffix: str) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(self, "Export", f"{self.name}.{suffix}", kind)
        if chosen:
            export(Path(chosen))


class GrowthChart(ChartCard):
    """Followers and views over time, one line per account."""

    plot_height = 2 * ROW_HEIGHT - 60

    def show_series(self, series: Sequence[tuple[str, str, Series]]) -> None:
        """`series`: (account label, colour, its series)."""
        drawn = [(label, colour, s) for label, colour, s in series if s.times]
        if not drawn:
            self.set_empty()
            return

        def setup(plot: pg.PlotItem) -> None:
            plot.setAxisItems({"bottom": pg.DateAxisItem()})
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)

        followers = self._plot(0, setup, left="Followers")
        followers.addLegend(offset=(6, 6))  # the same legend once made

        def setup_views(plot: pg.PlotItem) -> None:
            setup(plot)
            plot.setXLink(followers)

        views = self._plot(1, setup_views, left="Views")
        for label, colour, s in drawn:
            times = np.asarray(s.times, dtype=float)
            followers.plot(
                times, np.asarray(s.followers, dtype=float), pen=_pen(colour), name=label
            )
            views.plot(times, np.asarray(s.views, dtype=float), pen=_pen(colour))

        def rows() -> list[list[Any]]:
            return [
                [label, _iso(t), f, v]
                for label, _colour, s in drawn
                for t, f, v in zip(s.times, s.followers, s.views, strict=True)
            ]

        self._shown(["account", "at", "followers", "views"], rows)


class CurveChart(ChartCard):
    """One post's views and likes over its first 48 hours."""

    plot_height = 2 * ROW_HEIGHT - 60

    def show_curve(self, title: str, curve: Curve | None) -> None:
        if curve is None or not curve.hours:
            self.set_empty(
                "Pick a post in the table to see its first 48 hours."
                if curve is None
                else "No readings of this post in its first 48 hours yet."
            )
            return
        palette = theme.current()
        hours = np.asarray(curve.hours, dtype=float)
        views = self._plot(0, left="Views")
        views.setTitle(title, size="9pt")
        likes = self._plot(1, left="Likes", bottom="Hours since posted")
        likes.setXLink(views)
        for plot in (views, likes):
            plot.setXRange(0, 48, padding=0.02)
        views.plot(
            hours,
            np.asarray(curve.views, dtype=float),
            pen=_pen(palette.accent),
            symbol="o",
            symbolSize=4,
            symbolBrush=palette.accent,
        )
        likes.plot(
            hours,
            np.asarray(curve.likes, dtype=float),
            pen=_pen("#E0457B"),
            symbol="o",
            symbolSize=4,
            symbolBrush="#E0457B",
        )
        rows = [
            [round(h, 3), v, lk]
            for h, v, lk in zip(curve.hours, curve.views, curve.likes, strict=True)
        ]
        self._shown(["hours", "views", "likes"], rows)


def _heat_colours() -> Any:
    # built here, not pg.colormap.get(): no colour-map data files to ship in the build
    return pg.ColorMap(
        np.array([0.0, 0.5, 1.0]),
        np.array([[244, 245, 249, 255], [139, 131, 255, 255], [40, 24, 140, 255]], dtype=np.ubyte),
    )


class HeatmapChart(ChartCard):
    """Mean views per post by local weekday (rows) × hour (columns), shaded by log views."""

    def __init__(self, name: str, title: str, empty_text: str = EMPTY_TEXT) -> None:
        super().__init__(name, title, empty_text)
        self.image: pg.ImageItem | None = None
        self.caption = QLabel("")
        self.caption.setObjectName(f"{name}_best")
        self.caption.setWordWrap(True)
        self.body.addWidget(self.caption)

    def show_grid(self, grid: HourGrid, best_labels: Sequence[str]) -> None:
        self.image = None
        if grid.total_posts == 0:
            self.caption.setText("")
            self.set_empty()
            return
        means = np.asarray(grid.means(), dtype=float)  # 7 × 24
        posts = np.asarray(grid.posts)
        # colour by log views, so a quiet slot still shows beside a viral one; a slot
        # without posts is NaN, which pyqtgraph leaves transparent (no data, not "0")
        shade = np.where(posts > 0, np.log1p(means), np.nan)
        plot = self._plot(0, bottom="Hour (the account's time)")
        plot.invertY(True)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        # ImageItem's first axis is x: hours across, weekdays down
        self.image = pg.ImageItem(shade.T, axisOrder="col-major")
        self.image.setLookupTable(_heat_colours().getLookupTable(nPts=256))
        top = float(np.nanmax(shade)) or 1.0
        self.image.setLevels((0.0, top))
        plot.addItem(self.image)
        plot.getAxis("left").setTicks([[(d + 0.5, WEEKDAYS[d]) for d in range(7)]])
        plot.getAxis("bottom").setTicks([[(h + 0.5, f"{h:02d}") for h in range(0, 24, 2)]])
        plot.setRange(xRange=(0, 24), yRange=(0, 7), padding=0)
        self.caption.setText(
            "Best hours: " + ", ".join(best_labels)
            if best_labels
            else "Not enough posts in any one hour yet to call one best."
        )
        rows = [
            [WEEKDAYS[d], h, grid.posts[d][h], round(grid.mean(d, h), 1)]
            for d in range(7)
            for h in range(24)
            if grid.posts[d][h]
        ]
        self._shown(["weekday", "hour", "posts", "mean_views"], rows)


class BarChart(ChartCard):
    """Mean views (and likes) per post of each group: campaigns, caption templates."""

    def __init__(self, name: str, title: str, empty_text: str = EMPTY_TEXT) -> None:
        super().__init__(name, title, empty_text)
        self.bars: list[pg.BarGraphItem] = []

    def show_comparison(self, rows: Sequence[Comparison], empty_text: str | None = None) -> None:
        self.bars = []
        if not rows:
            self.set_empty(empty_text)
            return
        shown = list(rows[:BAR_LIMIT])
        palette = theme.current()
        plot = self._plot(0, left="Mean per post")
        plot.setMouseEnabled(x=False, y=True)
        plot.addLegend(offset=(-6, 6))  # top right: the first bars are usually the tallest
        xs = np.arange(len(shown), dtype=float)
        views = pg.BarGraphItem(
            x=xs - 0.2,
            height=np.array([c.mean_views for c in shown]),
            width=0.38,
            brush=palette.accent,
            name="views",
        )
        likes = pg.BarGraphItem(
            x=xs + 0.2,
            height=np.array([c.mean_likes for c in shown]),
            width=0.38,
            brush="#E0457B",
            name="likes",
        )
        for bar in (views, likes):
            plot.addItem(bar)
        self.bars = [views, likes]
        plot.getAxis("bottom").setTicks(
            [[(float(n), _short(c.label)) for n, c in enumerate(shown)]]
        )
        self._shown(
            ["label", "posts", "mean_views", "mean_likes"],
            [[c.label, c.posts, round(c.mean_views, 2), round(c.mean_likes, 2)] for c in rows],
        )


def _short(text: str, limit: int = 18) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")
