"""A week of scheduled posts: days across, hours down, in the operator's time zone, with
the account's own clock beside it when one account is shown. Within each day every
account that posts that week has its own lane (domain/calendar_grid.lanes), so posts of
several accounts at the same hour sit side by side. A waiting post can be dragged to
another time; the move is checked against the account's rules by the planner, and a
refused move snaps back with the reason. A click (or Enter) on a chip asks to open its
job (`job_activated`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QApplication, QSizePolicy, QToolTip, QWidget

from ..domain.calendar_grid import Lane, account_colour, lane_slices, lanes, local_range
from ..domain.calendar_grid import week_start as week_start
from . import formatting as fmt
from . import theme

HOUR_HEIGHT = 30
HEADER = 34
GUTTER = 54
CHIP_HEIGHT = 22
SNAP_MINUTES = 15
NARROW_CHIP = 90  # px: narrower lanes name the account before the time
LANE_STRIP = 4  # the day header's colour strip naming each lane


@dataclass
class Chip:
    post: dict[str, Any]
    rect: QRect


def day_label(day: date) -> str:
    return day.strftime("%a %d %b")


class WeekCalendar(QWidget):
    move_requested = Signal(int, object)  # job id, new time (aware UTC datetime)
    job_activated = Signal(int)  # a chip was clicked (or Enter on the current chip)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("week_calendar")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.zone: tzinfo = fmt.local_zone()
        self.first_day: date = week_start(datetime.now(self.zone).date())
        self.account_zone: str | None = None
        self.posts: list[dict[str, Any]] = []
        # waiting posts per UTC hour, when there are too many to show one by one
        self.density: dict[datetime, int] = {}
        self.chips: list[Chip] = []
        self.lanes: list[Lane] = []
        self.current: int | None = None  # the chip the keyboard is on (index into chips)
        self._pressed: Chip | None = None
        self._press_point = QPoint()
        self._moved = False
        self._drag: Chip | None = None
        self._drag_offset = 0
        self._ghost: QRect | None = None
        self._ghost_time: datetime | None = None
        self.pending: set[int] = set()
        # the day headers: painted on top, or by a frozen DayHeader above a scroll area
        self.top = HEADER
        self.day_header: DayHeader | None = None

    # --- data -----------------------------------------------------------------------------
    def set_zone(self, zone: tzinfo) -> None:
        self.zone = zone
        self.update()

    def range(self) -> tuple[datetime, datetime]:
        return local_range(self.first_day, 7, self.zone)

    def set_density(self, buckets: dict[datetime, int]) -> None:
        self.density = buckets
        self.posts = []
        self.account_zone = None
        self.pending.clear()
        self._layout_chips()
        self.update()

    def set_posts(self, posts: list[dict[str, Any]], account_zone: str | None = None) -> None:
        self.density = {}
        self.posts = posts
        self.account_zone = account_zone
        self.pending.clear()
        self._layout_chips()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(900, self.top + 24 * HOUR_HEIGHT + 2)

    def minimumSizeHint(self) -> QSize:
        return QSize(560, self.top + 24 * HOUR_HEIGHT + 2)

    # --- geometry ---------------------------------------------------------------------------
    def _gutters(self) -> int:
        return GUTTER * (2 if self.account_zone else 1)

    def _day_width(self) -> float:
        return max(40.0, (self.width() - self._gutters() - 1) / 7)

    def _x_of(self, day_index: int) -> int:
        return int(self._gutters() + day_index * self._day_width())

    def _y_of(self, local: datetime) -> int:
        minutes = local.hour * 60 + local.minute
        return int(self.top + minutes * HOUR_HEIGHT / 60)

    def time_at(self, point: QPoint) -> datetime | None:
        """The (snapped) moment under a point, as an aware UTC datetime."""
        if point.x() < self._gutters() or point.y() < self.top:
            return None
        day_index = int((point.x() - self._gutters()) // self._day_width())
        if not 0 <= day_index < 7:
            return None
        minutes = (point.y() - self.top) * 60 / HOUR_HEIGHT
        minutes = int(round(minutes / SNAP_MINUTES) * SNAP_MINUTES)
        minutes = max(0, min(24 * 60 - SNAP_MINUTES, minutes))
        local = datetime.combine(
            self.first_day + timedelta(days=day_index), time(0), tzinfo=self.zone
        ) + timedelta(minutes=minutes)
        return local.astimezone(UTC)

    def point_of(self, moment: datetime) -> QPoint | None:
        """Where a moment sits: the middle of the top edge of a chip at that time."""
        local = moment.astimezone(self.zone)
        day_index = (local.date() - self.first_day).days
        if not 0 <= day_index < 7:
            return None
        return QPoint(int(self._x_of(day_index) + self._day_width() / 2), self._y_of(local))

    def _layout_chips(self) -> None:
        """One lane per account of the week, the same on every day; a post sits in its
        account's lane at its time. Two posts of one account close together (the
        account's spacing allows it only for pinned times) stack down its lane."""
        self.chips = []
        self.lanes = lanes(
            (int(p.get("account_id") or 0), str(p.get("account_username") or ""))
            for p in self.posts
            if fmt.to_datetime(p.get("at")) is not None
        )
        lane_of = {lane.account_id: n for n, lane in enumerate(self.lanes)}
        bottoms: dict[tuple[int, int], int] = {}
        for post in self.posts:
            moment = fmt.to_datetime(post.get("at"))
            if moment is None:
                continue
            local = moment.astimezone(self.zone)
            day_index = (local.date() - self.first_day).days
            if not 0 <= day_index < 7:
                continue
            lane = lane_of[int(post.get("account_id") or 0)]
            x, width = self.lane_slice(day_index, lane)
            y = max(self._y_of(local), bottoms.get((day_index, lane), 0))
            rect = QRect(x, y, width, CHIP_HEIGHT - 2)
            bottoms[(day_index, lane)] = rect.bottom() + 2
            self.chips.append(Chip(post, rect))
        if self.current is not None and self.current >= len(self.chips):
            self.current = None

    def lane_slice(self, day_index: int, lane: int) -> tuple[int, int]:
        """(x, width) of one account's lane in one day's column."""
        slices = lane_slices(
            max(1, len(self.lanes)), self._x_of(day_index) + 3, self._day_width() - 4
        )
        return slices[min(lane, len(slices) - 1)]

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._layout_chips()

    def chip_at(self, point: QPoint) -> Chip | None:
        for chip in reversed(self.chips):
            if chip.rect.contains(point):
                return chip
        return None

    def chip_of(self, job_id: int) -> Chip | None:
        return next((c for c in self.chips if c.post.get("id") == job_id), None)

    # --- painting ----------------------------------------------------------------------------
    def frozen_header(self) -> DayHeader:
        """The day headers as their own widget, to sit above the scroll area the
        calendar scrolls in: they stay in view whatever hour is scrolled to."""
        if self.day_header is None:
            self.day_header = DayHeader(self)
            self.top = 8  # room for the 00:00 label
            self.updateGeometry()
            self._layout_chips()
        return self.day_header

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.day_header is not None:
            self.day_header.update()  # same days and widths as what is painted here
        p = theme.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(p.base))
        grid = QColor(p.border)
        muted = QColor(p.muted)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.85))
        painter.setFont(small)
        today = datetime.now(self.zone).date()
        now_local = datetime.now(self.zone)
        # day headers and columns
        for index in range(7):
            day = self.first_day + timedelta(days=index)
            x = self._x_of(index)
            if day == today:
                painter.fillRect(
                    QRectF(x, self.top, self._day_width(), 24 * HOUR_HEIGHT),
                    QColor(p.hover),
                )
            painter.setPen(QColor(p.accent) if day == today else QColor(p.text))
            bold = QFont(small)
            bold.setBold(True)
            painter.setFont(bold)
            if self.day_header is None:
                painter.drawText(
                    QRectF(x, 0, self._day_width(), self.top),
                    Qt.AlignmentFlag.AlignCenter,
                    day_label(day),
                )
            painter.setFont(small)
            painter.setPen(QPen(grid))
            painter.drawLine(x, self.top, x, self.top + 24 * HOUR_HEIGHT)
        # hour rows and gutters
        account_zone = fmt.zone(self.account_zone) if self.account_zone else None
        for hour in range(25):
            y = self.top + hour * HOUR_HEIGHT
            painter.setPen(QPen(grid))
            painter.drawLine(self._gutters(), y, self.width(), y)
            if hour == 24:
                continue
            painter.setPen(muted)
            painter.drawText(
                QRectF(0, y - 1, GUTTER - 8, 14),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                f"{hour:02d}:00",
            )
            if account_zone is not None:
                moment = datetime.combine(self.first_day, time(hour), tzinfo=self.zone)
                other = moment.astimezone(account_zone)
                painter.setPen(QColor(p.accent))
                painter.drawText(
                    QRectF(GUTTER, y - 1, GUTTER - 8, 14),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                    other.strftime("%H:%M"),
                )
        # the current time
        if 0 <= (now_local.date() - self.first_day).days < 7:
            index = (now_local.date() - self.first_day).days
            y = self._y_of(now_local)
            painter.setPen(QPen(QColor(p.danger), 1.5))
            painter.drawLine(self._x_of(index), y, int(self._x_of(index) + self._day_width()), y)
        # many accounts at once: how many posts wait in each hour
        if self.density:
            peak = max(self.density.values())
            for moment, count in self.density.items():
                local = moment.astimezone(self.zone)
                day_index = (local.date() - self.first_day).days
                if not 0 <= day_index < 7:
                    continue
                cell = QRectF(
                    self._x_of(day_index) + 2,
                    self._y_of(local) + 1,
                    self._day_width() - 4,
                    HOUR_HEIGHT - 2,
                )
                shade = QColor(p.accent)
                shade.setAlpha(40 + int(170 * count / peak))
                painter.fillRect(cell, shade)
                painter.setPen(QColor(p.accent_text if count > peak / 2 else p.text))
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, f"{count:,}")
        # posts
        for chip in self.chips:
            if chip is self._drag:
                continue
            self._paint_chip(painter, chip.rect, chip.post, faded=chip.post["id"] in self.pending)
        if self._drag is not None and self._ghost is not None:
            self._paint_chip(painter, self._ghost, self._drag.post, ghost=True)
        painter.end()

    def _paint_chip(
        self,
        painter: QPainter,
        rect: QRect,
        post: dict[str, Any],
        *,
        ghost: bool = False,
        faded: bool = False,
    ) -> None:
        bg, fg = theme.status_colors(post.get("status"))
        if ghost or faded:
            bg.setAlpha(150)
        path = QPainterPath()
        path.addRoundedRect(QRectF(rect), 5, 5)
        painter.fillPath(path, bg)
        # the account's colour (its lane's) beside the status colour
        stripe = QColor(account_colour_of(post))
        painter.fillRect(QRectF(rect.x(), rect.y() + 2, 4, rect.height() - 4), stripe)
        if ghost:
            painter.setPen(QPen(fg, 1, Qt.PenStyle.DashLine))
            painter.drawPath(path)
        if not ghost and self.current is not None and self.chips[self.current].post is post:
            painter.setPen(QPen(QColor(theme.current().accent), 2))
            painter.drawPath(path)
        painter.setPen(fg)
        moment = self._ghost_time if ghost else fmt.to_datetime(post.get("at"))
        label = f"@{post.get('account_username')}"
        if moment is not None and rect.width() < NARROW_CHIP:
            # a narrow lane: whose it is first (its place already says the time)
            label = f"{post.get('account_username')} {moment.astimezone(self.zone):%H:%M}"
        elif moment is not None:
            label = f"{moment.astimezone(self.zone):%H:%M} {label}"
        painter.drawText(
            QRectF(rect.adjusted(7, 0, -2, 0)),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            painter.fontMetrics().elidedText(label, Qt.TextElideMode.ElideRight, rect.width() - 10),
        )

    # --- interaction ---------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        chip = self.chip_at(point)
        self._pressed = chip if event.button() == Qt.MouseButton.LeftButton else None
        if chip is not None:
            self.current = self.chips.index(chip)
        if (
            event.button() == Qt.MouseButton.LeftButton
            and chip is not None
            and chip.post.get("movable")
            and chip.post["id"] not in self.pending
        ):
            self._drag = chip
            self._drag_offset = point.y() - chip.rect.y()
            self._press_point = point
            self._moved = False
            self._ghost = QRect(chip.rect)
            self._ghost_time = fmt.to_datetime(chip.post.get("at"))
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        if self._drag is None:
            chip = self.chip_at(point)
            if chip is not None:
                self.setCursor(
                    Qt.CursorShape.OpenHandCursor
                    if chip.post.get("movable")
                    else Qt.CursorShape.ArrowCursor
                )
                QToolTip.showText(event.globalPosition().toPoint(), self.tooltip(chip.post), self)
            else:
                self.unsetCursor()
            return
        if not self._moved:
            # a click's small jitter is not a move (it would snap to another slot)
            distance = (point - self._press_point).manhattanLength()
            if distance < QApplication.startDragDistance():
                return
            self._moved = True
        # the chip's top edge follows the pointer: that is the time it lands on
        moment = self.time_at(QPoint(point.x(), point.y() - self._drag_offset))
        if moment is None:
            return
        target = self.point_of(moment)
        if target is None:
            return
        local = moment.astimezone(self.zone)
        day_index = (local.date() - self.first_day).days
        self._ghost = QRect(
            self._x_of(day_index) + 3,
            self._y_of(local),
            int(self._day_width() - 6),
            CHIP_HEIGHT - 2,
        )
        self._ghost_time = moment
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pressed, self._pressed = self._pressed, None
        if self._drag is None:
            if pressed is not None and self.chip_at(event.position().toPoint()) is pressed:
                self.job_activated.emit(int(pressed.post["id"]))
            super().mouseReleaseEvent(event)
            return
        chip, moment = self._drag, self._ghost_time
        self._drag = None
        self._ghost = None
        self.unsetCursor()
        original = fmt.to_datetime(chip.post.get("at"))
        if self._moved and moment is not None and original is not None and moment != original:
            self.pending.add(chip.post["id"])
            self.move_requested.emit(int(chip.post["id"]), moment)
        elif chip is pressed:
            self.job_activated.emit(int(chip.post["id"]))  # a click, not a move
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Arrows walk the chips in time order (left/up earlier, right/down later);
        Enter opens the current chip's job."""
        key = event.key()
        if not self.chips:
            super().keyPressEvent(event)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current is not None:
            self.job_activated.emit(int(self.chips[self.current].post["id"]))
            return
        step = {
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Up: -1,
        }.get(Qt.Key(key))
        if step is None:
            super().keyPressEvent(event)
            return
        order = sorted(
            range(len(self.chips)),
            key=lambda n: (
                (self.chips[n].rect.x() - self._gutters()) // max(1, int(self._day_width())),
                self.chips[n].rect.y(),
                self.chips[n].rect.x(),
            ),
        )
        at = order.index(self.current) if self.current in order else -1
        self.current = order[max(0, min(len(order) - 1, at + step))]
        self.update()

    def tooltip(self, post: dict[str, Any]) -> str:
        moment = post.get("at")
        zone = post.get("account_timezone") or "UTC"
        lines = [
            f"Job #{post['id']} · @{post.get('account_username')} · {post.get('media_title')}",
            f"Your time: {fmt.full_time(moment)}",
            f"Account's time: {fmt.full_time(moment, zone)} ({zone})",
            fmt.status_text(post.get("status")),
        ]
        if post.get("movable"):
            lines.append("Drag to move it to another free slot")
        lines.append("Click to open the job")
        return "\n".join(lines)


class DayHeader(QWidget):
    """The calendar's day headers, frozen above its scroll area (same columns)."""

    def __init__(self, calendar: WeekCalendar) -> None:
        super().__init__()
        self.setObjectName("week_day_header")
        self.calendar = calendar
        self.setFixedHeight(HEADER)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def labels(self) -> list[str]:
        return [day_label(self.calendar.first_day + timedelta(days=n)) for n in range(7)]

    def paintEvent(self, event: QPaintEvent) -> None:
        p = theme.current()
        calendar = self.calendar
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(p.base))
        font = QFont(calendar.font())
        font.setPointSizeF(max(7.0, calendar.font().pointSizeF() * 0.85))
        font.setBold(True)
        painter.setFont(font)
        today = datetime.now(calendar.zone).date()
        for index, text in enumerate(self.labels()):
            day = calendar.first_day + timedelta(days=index)
            painter.setPen(QColor(p.accent) if day == today else QColor(p.text))
            painter.drawText(
                QRectF(calendar._x_of(index), 0, calendar._day_width(), HEADER),
                Qt.AlignmentFlag.AlignCenter,
                text,
            )
        # each day's lanes, in their accounts' colours: which lane is whose
        for index in range(7):
            for number, lane in enumerate(calendar.lanes):
                x, width = calendar.lane_slice(index, number)
                painter.fillRect(
                    QRectF(x, HEADER - LANE_STRIP - 1, width, LANE_STRIP), QColor(lane.colour)
                )
        painter.setPen(QPen(QColor(p.border)))
        painter.drawLine(0, HEADER - 1, self.width(), HEADER - 1)


def account_colour_of(post: dict[str, Any]) -> str:
    return account_colour(int(post.get("account_id") or 0))
