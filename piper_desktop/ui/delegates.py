"""Cell painters: status badges (coloured pills) and progress bars inside table cells."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from . import theme
from .table_model import KindRole, ValueRole

Index = QModelIndex | QPersistentModelIndex


def paint_badge(painter: QPainter, rect: QRect, status: str, font: QFont) -> None:
    label = theme.status_label(status)
    if not label:
        return
    bg, fg = theme.status_colors(status)
    badge_font = QFont(font)
    badge_font.setPointSizeF(max(7.5, font.pointSizeF() * 0.88))
    badge_font.setWeight(QFont.Weight.DemiBold)
    metrics = QFontMetrics(badge_font)
    width = metrics.horizontalAdvance(label) + 18
    height = metrics.height() + 6
    box = QRectF(rect.x() + 6, rect.center().y() - height / 2 + 1, width, height)
    path = QPainterPath()
    path.addRoundedRect(box, height / 2, height / 2)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.fillPath(path, bg)
    dot = QRectF(box.x() + 7, box.center().y() - 2.5, 5, 5)
    painter.setBrush(fg)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(dot)
    painter.setPen(fg)
    painter.setFont(badge_font)
    painter.drawText(box.adjusted(15, 0, -3, 0), Qt.AlignmentFlag.AlignVCenter, label)
    painter.restore()


class CellDelegate(QStyledItemDelegate):
    """Paints badge and progress columns; other cells as usual."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        kind = index.data(KindRole)
        if kind not in ("badge", "progress"):
            super().paint(painter, option, index)
            return
        # background and selection as for any cell, then our content
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        value: Any = index.data(ValueRole)
        if kind == "badge":
            paint_badge(painter, option.rect, str(value or ""), option.font)
        else:
            self._paint_progress(painter, option, value)

    def _paint_progress(self, painter: QPainter, option: QStyleOptionViewItem, value: Any) -> None:
        try:
            percent = max(0.0, min(100.0, float(value or 0)))
        except (TypeError, ValueError):
            percent = 0.0
        rect = option.rect.adjusted(8, 0, -8, 0)
        bar = QRectF(rect.x(), rect.center().y() - 3, rect.width() - 44, 6)
        p = theme.current()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(p.border))
        painter.drawRoundedRect(bar, 3, 3)
        if percent > 0:
            filled = QRectF(bar.x(), bar.y(), max(6.0, bar.width() * percent / 100), bar.height())
            painter.setBrush(QColor(p.accent))
            painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(QColor(p.muted))
        text_rect = QRectF(bar.right() + 6, rect.y(), 40, rect.height())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter, f"{percent:.0f}%")
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), max(hint.height(), 30))
