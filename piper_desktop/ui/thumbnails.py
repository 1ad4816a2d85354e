"""Thumbnails for the media library: the video's first frame where we can get one
(ffmpeg on PATH, or a picture next to the video with the same name), else a drawn card
with the duration. Frames are read in the background and kept in memory only."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QLinearGradient, QPainter, QPainterPath, QPixmap

from . import formatting as fmt
from .icons import pixmap
from .tasks import run_task

WIDTH, HEIGHT = 64, 40
_SIDE_IMAGES = (".jpg", ".jpeg", ".png", ".webp")


def first_frame(path: str) -> bytes | None:
    """PNG/JPEG bytes of a still for this video, or None."""
    video = Path(path)
    for suffix in _SIDE_IMAGES:
        side = video.with_suffix(suffix)
        if side.is_file():
            return side.read_bytes()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None or not video.is_file():
        return None
    try:
        done = subprocess.run(
            [
                *(ffmpeg, "-v", "error", "-ss", "0.5", "-i", str(video), "-frames:v", "1"),
                *("-vf", "scale=160:-2", "-f", "image2pipe", "-vcodec", "png", "-"),
            ],
            capture_output=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and done.stdout else None


def placeholder(row: dict[str, Any]) -> QPixmap:
    """A small card, coloured from the file's hash so items look apart."""
    seed = int(hashlib.sha1(str(row.get("sha256") or row.get("id")).encode()).hexdigest()[:6], 16)
    hue = seed % 360
    image = QPixmap(WIDTH * 2, HEIGHT * 2)
    image.setDevicePixelRatio(2)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    gradient = QLinearGradient(0, 0, WIDTH, HEIGHT)
    gradient.setColorAt(0, QColor.fromHsl(hue, 120, 120))
    gradient.setColorAt(1, QColor.fromHsl((hue + 40) % 360, 140, 80))
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, WIDTH, HEIGHT), 6, 6)
    painter.fillPath(path, gradient)
    painter.drawPixmap(WIDTH // 2 - 9, HEIGHT // 2 - 11, pixmap("play", 18, "#FFFFFF"))
    duration = fmt.duration(row.get("duration_sec"))
    if duration:
        font = QFont()
        font.setPointSizeF(6.5)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#FFFFFF"))
        painter.drawText(
            QRectF(0, 0, WIDTH - 4, HEIGHT - 2),
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
            duration,
        )
    painter.end()
    return image


def _framed(data: bytes) -> QPixmap | None:
    source = QPixmap()
    if not source.loadFromData(data):
        return None
    scaled = source.scaled(
        WIDTH * 2,
        HEIGHT * 2,
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )
    image = QPixmap(WIDTH * 2, HEIGHT * 2)
    image.setDevicePixelRatio(2)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, WIDTH, HEIGHT), 6, 6)
    painter.setClipPath(path)
    x = (scaled.width() - WIDTH * 2) // 2
    y = (scaled.height() - HEIGHT * 2) // 2
    painter.drawPixmap(0, 0, WIDTH, HEIGHT, scaled, x, y, WIDTH * 2, HEIGHT * 2)
    painter.end()
    return image


class ThumbnailCache(QObject):
    """icon(row) answers at once (placeholder first); `updated(media_id)` is called when
    a real frame arrives."""

    def __init__(self, updated: Callable[[int], object]) -> None:
        super().__init__()
        self._icons: dict[str, QIcon] = {}
        self._pending: set[str] = set()
        self._updated = updated

    def icon(self, row: dict[str, Any]) -> QIcon:
        key = str(row.get("sha256") or row.get("id"))
        cached = self._icons.get(key)
        if cached is not None:
            return cached
        self._icons[key] = QIcon(placeholder(row))
        if key not in self._pending and row.get("path"):
            self._pending.add(key)
            media_id = row.get("id")
            path = str(row["path"])
            run_task(
                lambda: first_frame(path),
                lambda data: self._arrived(key, media_id, data),
                lambda _exc: self._pending.discard(key),
                owner=self,
            )
        return self._icons[key]

    def _arrived(self, key: str, media_id: Any, data: bytes | None) -> None:
        self._pending.discard(key)
        if not data:
            return
        framed = _framed(data)
        if framed is not None:
            self._icons[key] = QIcon(framed)
            if media_id is not None:
                self._updated(int(media_id))
