"""The post as it will look: the video's first frame, the caption as it will go out, its
hashtags picked out, and a count against each platform's caption limit.

The limits are the routes' own (`RouteSpec.caption_limits`, UTF-16 code units as TikTok
counts them); an Upload-Post job counts against each platform it posts to. A count over
its limit turns red and names the overflow. Shown by the campaign wizard's caption page
and by the job editor (ui/post_editor.py).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..routes.registry import default_routes
from .thumbnails import ThumbnailCache

# what TikTok (and the others) turn into a link: # then letters, digits or underscores
HASHTAG = re.compile(r"#\w+")
FRAME_SIZE = 160


def utf16_length(text: str) -> int:
    """What TikTok counts: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def hashtags(text: str) -> list[str]:
    """The caption's hashtags, in order, each once."""
    return list(dict.fromkeys(HASHTAG.findall(text)))


@dataclass(frozen=True)
class CaptionCount:
    platform: str
    used: int
    limit: int

    @property
    def over(self) -> int:
        return max(0, self.used - self.limit)

    def text(self) -> str:
        base = f"{self.platform}: {self.used}/{self.limit}"
        return f"{base} — {self.over} over" if self.over else base


def caption_limits(route: str, platforms: Iterable[str] = ()) -> dict[str, int]:
    """The caption limits that apply to a job on `route` posting to `platforms` (Upload-
    Post's; the other routes post to TikTok alone)."""
    spec = default_routes().find(route)
    limits = dict(spec.caption_limits) if spec is not None else {}
    chosen = [p for p in platforms if p in limits]
    if chosen:
        return {p: limits[p] for p in chosen}
    return {"tiktok": limits["tiktok"]} if "tiktok" in limits else limits


def caption_counts(text: str, limits: dict[str, int]) -> list[CaptionCount]:
    used = utf16_length(text)
    return [CaptionCount(platform, used, limit) for platform, limit in limits.items()]


class PostPreview(QWidget):
    """set_media(row), set_route(route, platforms), set_caption(text): the preview follows."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("postPreview")
        self._thumbs = ThumbnailCache(lambda _media_id: self._show_frame())
        self._media: dict[str, Any] | None = None
        self._limits: dict[str, int] = {}
        self._caption = ""
        self.frame = QLabel()
        self.frame.setFixedSize(FRAME_SIZE, FRAME_SIZE)
        self.frame.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel()
        self.caption.setObjectName("previewCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.tags = QLabel()
        self.tags.setObjectName("previewHashtags")
        self.tags.setWordWrap(True)
        self.counts = QLabel()
        self.counts.setObjectName("previewCounts")
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        side = QVBoxLayout()
        side.addWidget(self.caption, 1)
        side.addWidget(self.tags)
        side.addWidget(self.counts)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.frame, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(side, 1)
        self._refresh()

    # --- inputs ---------------------------------------------------------------------------
    def set_media(self, row: dict[str, Any] | None) -> None:
        self._media = row
        self._show_frame()

    def set_route(self, route: str, platforms: Iterable[str] = ()) -> None:
        self._limits = caption_limits(route, platforms)
        self._refresh()

    def set_limits(self, limits: dict[str, int]) -> None:
        self._limits = dict(limits)
        self._refresh()

    def set_caption(self, text: str) -> None:
        self._caption = text
        self._refresh()

    # --- what it shows --------------------------------------------------------------------
    def count_rows(self) -> list[CaptionCount]:
        return caption_counts(self._caption, self._limits)

    def overflow(self) -> list[CaptionCount]:
        """The platforms whose limit the caption passes (empty: it fits everywhere)."""
        return [c for c in self.count_rows() if c.over]

    def _show_frame(self) -> None:
        if self._media is None:
            self.frame.clear()
            self.frame.setText("no video")
            return
        icon = self._thumbs.icon(self._media)
        self.frame.setPixmap(icon.pixmap(FRAME_SIZE, FRAME_SIZE))

    def _refresh(self) -> None:
        text = self._caption
        # the caption as it goes out, hashtags picked out in the link colour
        shown = HASHTAG.sub(
            lambda m: f'<b style="color:#2f7de1">{m.group(0)}</b>', html.escape(text)
        ).replace("\n", "<br>")
        self.caption.setText(shown or "<i>no caption</i>")
        tags = hashtags(text)
        self.tags.setText(f"Hashtags ({len(tags)}): {' '.join(tags)}" if tags else "No hashtags")
        parts = []
        for count in self.count_rows():
            colour = "#d13438" if count.over else "inherit"
            parts.append(f'<span style="color:{colour}">{html.escape(count.text())}</span>')
        self.counts.setText(" · ".join(parts))
        self.counts.setToolTip(
            "; ".join(f"{c.platform} takes at most {c.limit}" for c in self.overflow())
        )
