"""A month of scheduled posts: six weeks of days (domain/calendar_grid.month_grid), each
day with as many chips (account colour, time, status colour) as fit and "+N more" for
the rest, which asks to open that day in the list view (`day_requested`). Today is
marked; days outside the month are dimmed. A chip click asks to open its job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ..domain.calendar_grid import (
    GRID_WEEKS,
    account_colour,
    day_fit,
    local_range,
    month_grid,
    month_start,
)
from . import formatting as fmt
from . import theme

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HEADER = 24
DAY_LABEL = 20
CHIP_HEIGHT = 18


@dataclass
class MonthChip:
    rect: QRect
    day: date
    post: dict[str, Any] | None = None  # None: the day's "+N more"
    more: int = 0


class MonthCalendar(QWidget):
    job_activated = Signal(int)
    day_requested = Signal(object)  # a date: "+N more" opens it in the list view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("month_calendar")
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.zone: tzinfo = fmt.local_zone()
        self.month: date = month_start(datetime.now(self.zone).date())
        self.days: list[date] = month_grid(self.month)
        self.by_day: dict[date, list[dict[str, Any]]] = {}
        self.chips: list[MonthChip] = []

    # --- data -----------------------------------------------------------------------------
    def set_zone(self, zone: tzinfo) -> None:
        self.zone = zone
        self.update()

    def set_month(self, month: date) -> None:
        self.month = month_start(month)
        self.days = month_grid(self.month)
        self.by_day = {}
        self._layout_chips()
        self.update()

    def range(self) -> tuple[datetime, datetime]:
        """The grid's six weeks, from the operator's midnight to midnight (DST kept)."""
        return local_range(self.days[0], len(self.days), self.zone)

    def set_posts(self, posts: list[dict[str, Any]]) -> None:
        """Posts by the operator's day, in time order; only what fits becomes a chip."""
        by_day: dict[date, list[dict[str, Any]]] = {}
        for post in posts:
            moment = fmt.to_datetime(post.get("at"))
            if moment is not None:
                by_day.setdefault(moment.astimezone(self.zone).date(), []).append(post)
        self.by_day = by_day
        self._layout_chips()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(900, HEADER + GRID_WEEKS * 110)

    def minimumSizeHint(self) -> QSize:
        return QSize(560, HEADER + GRID_WEEKS * 70)

    # --- geometry ---------------------------------------------------------------------------
    def cell(self, index: int) -> QRectF:
        width = (self.width() - 1) / 7
        height = (self.height() - HEADER - 1) / GRID_WEEKS
        return QRectF((index % 7) * width, HEADER + (index // 7) * height, width, height)

    def cell_of(self, day: date) -> QRectF | None:
        index = (day - self.days[0]).days
        return self.cell(index) if 0 <= index < len(self.days) else None

    def _layout_chips(self) -> None:
        self.chips = []
        for index, day in enumerate(self.days):
            posts = self.by_day.get(day, [])
            if not posts:
                continue
            box = self.cell(index)
            shown, rest = day_fit(int(box.height()) - DAY_LABEL - 2, CHIP_HEIGHT, len(posts))
            x, width = int(box.x()) + 3, int(box.width()) - 6
            y = int(box.y()) + DAY_LABEL
            for post in posts[:shown]:
                self.chips.append(MonthChip(QRect(x, y, width, CHIP_HEIGHT - 2), day, post))
                y += CHIP_HEIGHT
            if rest:
                self.chips.append(MonthChip(QRect(x, y, width, CHIP_HEIGHT - 2), day, more=rest))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._layout_chips()

    def chip_at(self, point: QPoint) -> MonthChip | None:
        return next((c for c in self.chips if c.rect.contains(point)), None)

    def more_chip(self, day: date) -> MonthChip | None:
        return next((c for c in self.chips if c.day == day and c.post is None), None)

    def shown_on(self, day: date) -> list[dict[str, Any]]:
        return [c.post for c in self.chips if c.day == day and c.post is not None]

    # --- painting ----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = theme.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(p.base))
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
        bold = QFont(small)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(QColor(p.muted))
        for index, name in enumerate(WEEKDAYS):
            box = self.cell(index)
            painter.drawText(
                QRectF(box.x(), 0, box.width(), HEADER), Qt.AlignmentFlag.AlignCenter, name
            )
        today = datetime.now(self.zone).date()
        for index, day in enumerate(self.days):
            box = self.cell(index)
            inside = day.month == self.month.month
            if not inside:
                painter.fillRect(box, QColor(p.hover))  # outside the month: dimmed
            painter.setPen(QPen(QColor(p.border)))
            painter.drawRect(box)
            label = QRectF(box.x() + 4, box.y() + 2, 26, DAY_LABEL - 4)
            if day == today:
                path = QPainterPath()
                path.addRoundedRect(label, 8, 8)
                painter.fillPath(path, QColor(p.accent))
                painter.setPen(QColor(p.accent_text))
            else:
                painter.setPen(QColor(p.text if inside else p.muted))
            painter.setFont(bold if day == today else small)
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, str(day.day))
        painter.setFont(small)
        for chip in self.chips:
            self._paint_chip(painter, chip)
        painter.end()

    def _paint_chip(self, painter: QPainter, chip: MonthChip) -> None:
        rect = QRectF(chip.rect)
        if chip.post is None:
            painter.setPen(QColor(theme.current().accent))
            painter.drawText(
                rect.adjusted(6, 0, 0, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                f"+{chip.more} more",
            )
            return
        post = chip.post
        bg, fg = theme.status_colors(post.get("status"))
        path = QPainterPath()
        path.addRoundedRect(rect, 4, 4)
        painter.fillPath(path, bg)
        stripe = QColor(account_colour(int(post.get("account_id") or 0)))
        painter.fillRect(QRectF(rect.x(), rect.y() + 2, 4, rect.height() - 4), stripe)
        moment = fmt.to_datetime(post.get("at"))
        text = f"@{post.get('account_username')}"
        if moment is not None:
            text = f"{moment.astimezone(self.zone):%H:%M} {text}"
        painter.setPen(fg)
        painter.drawText(
            rect.adjusted(7, 0, -2, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            painter.fontMetrics().elidedText(
                text, Qt.TextElideMode.ElideRight, int(rect.width()) - 9
            ),
        )

    # --- interaction ---------------------------------------------------------------------------
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        chip = self.chip_at(event.position().toPoint())
        if chip is None:
            self.unsetCursor()
            return
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        QToolTip.showText(event.globalPosition().toPoint(), self.tooltip(chip), self)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        chip = self.chip_at(event.position().toPoint())
        if event.button() != Qt.MouseButton.LeftButton or chip is None:
            super().mouseReleaseEvent(event)
            return
        if chip.post is None:
            self.day_requested.emit(chip.day)
        else:
            self.job_activated.emit(int(chip.post["id"]))

    def tooltip(self, chip: MonthChip) -> str:
        if chip.post is None:
            return f"{chip.more} more on {chip.day:%a %d %b}: click to list the day"
        return post_tooltip(chip.post)


def post_tooltip(post: dict[str, Any]) -> str:
    """A post in the operator's time and the account's own (both views say the same)."""
    moment = post.get("at")
    zone = post.get("account_timezone") or "UTC"
    return "\n".join(
        [
            f"Job #{post['id']} · @{post.get('account_username')} · {post.get('media_title')}",
            f"Your time: {fmt.full_time(moment)}",
            f"Account's time: {fmt.full_time(moment, zone)} ({zone})",
            fmt.status_text(post.get("status")),
            "Click to open the job",
        ]
    )
