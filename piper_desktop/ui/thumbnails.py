"""Thumbnails for the media library: a picture next to the video with the same name,
else the video's own frame half a second in, decoded by PyAV (FFmpeg's libraries from
its wheel: no ffmpeg on PATH, frozen app included), else a drawn card with the
duration. A file that does not probe as a video gets a warning card instead (the item
is flagged, never removed). Frames are read in the background and kept in memory only."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QLinearGradient, QPainter, QPainterPath, QPixmap

from ..domain.mediafile import PROBES, NotMedia, open_regular
from . import formatting as fmt
from .icons import pixmap
from .tasks import run_task

WIDTH, HEIGHT = 64, 40
_SIDE_IMAGES = (".jpg", ".jpeg", ".png", ".webp")
_FRAME_AT = 0.5  # seconds: past a fade-in from black
_FRAME_WIDTH = 160


def first_frame(path: str) -> bytes | None:
    """PNG/JPEG bytes of a still for this video, or None (not a video, unreadable)."""
    video = Path(path)
    for suffix in _SIDE_IMAGES:
        side = video.with_suffix(suffix)
        if side.is_file():
            return side.read_bytes()
    try:
        PROBES.facts(video)  # a regular file FFmpeg reads as a video, else no frame
        return _decoded_frame(video)
    except (NotMedia, OSError):
        return None
    except Exception:  # a damaged stream past its header: no picture, not a crash
        return None


def _decoded_frame(video: Path) -> bytes | None:
    import av

    with open_regular(video) as handle, av.open(handle, mode="r") as container:
        stream = container.streams.video[0]
        if container.duration and container.duration / 1_000_000 > _FRAME_AT:
            container.seek(int(_FRAME_AT * 1_000_000), backward=True)
        for frame in container.decode(stream):
            height = max(2, round(frame.height * _FRAME_WIDTH / max(frame.width, 1) / 2) * 2)
            rgb = frame.reformat(width=_FRAME_WIDTH, height=height, format="rgb24")
            encoder = av.CodecContext.create("png", "w")
            assert isinstance(encoder, av.VideoCodecContext)
            encoder.width, encoder.height, encoder.pix_fmt = _FRAME_WIDTH, height, "rgb24"
            packets = [*encoder.encode(rgb), *encoder.encode(None)]
            return b"".join(bytes(packet) for packet in packets) or None
    return None


def problem_of(path: str) -> str | None:
    """Why this library file is no usable video now (missing, not a video), or None."""
    file = Path(path)
    if not file.exists():
        return "the file is missing"
    return PROBES.problem(file)


def warning_card(row: dict[str, Any]) -> QPixmap:
    """The card of a library item whose file is missing or no video: flagged in place."""
    image = QPixmap(WIDTH * 2, HEIGHT * 2)
    image.setDevicePixelRatio(2)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, WIDTH, HEIGHT), 6, 6)
    painter.fillPath(path, QColor("#B3261E"))
    font = QFont()
    font.setPointSizeF(7)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#FFFFFF"))
    painter.drawText(QRectF(0, 0, WIDTH, HEIGHT), Qt.AlignmentFlag.AlignCenter, "! no video")
    painter.end()
    return image


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
        self._problems: dict[str, str] = {}
        self._updated = updated

    def icon(self, row: dict[str, Any]) -> QIcon:
        key = str(row.get("sha256") or row.get("id"))
        cached = self._icons.get(key)
        if cached is not None:
            return cached
        self._icons[key] = QIcon(placeholder(row))
        if key not in self._pending and row.get("path"):
            self._pending.add(key)
            path = str(row["path"])
            run_task(
                lambda: (problem_of(path), first_frame(path)),
                lambda found: self._arrived(key, row, *found),
                lambda _exc: self._pending.discard(key),
                owner=self,
            )
        return self._icons[key]

    def problem(self, row: dict[str, Any]) -> str | None:
        """What the background check found wrong with this row's file, once known."""
        return self._problems.get(str(row.get("sha256") or row.get("id")))

    def _arrived(
        self, key: str, row: dict[str, Any], problem: str | None, data: bytes | None
    ) -> None:
        self._pending.discard(key)
        media_id = row.get("id")
        if problem is not None:
            self._problems[key] = problem
            self._icons[key] = QIcon(warning_card(row))
        elif data and (framed := _framed(data)) is not None:
            self._icons[key] = QIcon(framed)
        else:
            return
        if media_id is not None:
            self._updated(int(media_id))
