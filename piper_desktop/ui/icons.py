"""Icons from `resources/icons/*.svg`, tinted for the current theme and cached."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from ..paths import resource
from . import theme

_SIZES = (16, 24, 32)  # Qt scales from the nearest; fewer renders keep start-up quick


@cache
def _svg(name: str) -> str:
    return resource("icons", f"{name}.svg").read_text(encoding="utf-8")


def _renderer(name: str, color: str) -> QSvgRenderer:
    return QSvgRenderer(QByteArray(_svg(name).replace("#COLOR#", color).encode()))


def _render(renderer: QSvgRenderer, size: int) -> QPixmap:
    image = QPixmap(QSize(size, size))
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def pixmap(name: str, size: int = 24, color: str | None = None) -> QPixmap:
    return _render(_renderer(name, color or theme.current().text), size)


_cache: dict[tuple[str, str | None, str], QIcon] = {}


def icon(name: str, color: str | None = None) -> QIcon:
    """A line icon in `color` (default: the theme's text colour)."""
    key = (name, color, theme.current().name)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    result = QIcon()
    normal = _renderer(name, color or theme.current().text)
    for size in _SIZES:
        result.addPixmap(_render(normal, size))
    muted = _renderer(name, QColor(theme.current().muted).name())
    for size in _SIZES[:2]:
        result.addPixmap(_render(muted, size), QIcon.Mode.Disabled)
    _cache[key] = result
    return result


def app_icon() -> QIcon:
    result = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        result.addPixmap(pixmap("piper", size))
    return result


def tray_icon(paused: bool = False) -> QIcon:
    result = QIcon()
    for size in (16, 22, 24, 32, 48, 64):
        result.addPixmap(pixmap("piper-tray-paused" if paused else "piper-tray", size))
    return result


def clear_cache() -> None:
    """After a theme change, icons are tinted again on next use."""
    _cache.clear()
