"""Photo sets in the media library: an ordered list of 1 to 35 images (JPEG, PNG or
WebP, each probed by PyAV) with a cover, kept as a media item of kind "photo_set".

Its identity is a hash over its images' hashes in order, so adding the same images in
the same order again finds the set already there; the same images in another order
are another set (a carousel's order is part of it)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..store.db import Database
from ..store.models import MediaItem
from .errors import ValidationError
from .mediafile import NotMedia, checked_path, sha256_of
from .photos import MAX_IMAGES, ImageError, probe_image

PHOTO_SET = "photo_set"


def set_digest(image_hashes: Sequence[str]) -> str:
    return hashlib.sha256(("photo_set:" + ",".join(image_hashes)).encode()).hexdigest()


class PhotoSetService:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def inspect(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
        """Each image's facts, in order; ValidationError naming the image that is not one."""
        if not paths:
            raise ValidationError("images", "a photo set needs at least one image")
        if len(paths) > MAX_IMAGES:
            raise ValidationError(
                "images", f"{len(paths)} images; a photo set holds at most {MAX_IMAGES}"
            )
        images = []
        for raw in paths:
            try:
                file = checked_path(Path(raw))
                facts = probe_image(file)
                digest = sha256_of(file)
            except (NotMedia, ImageError) as exc:
                raise ValidationError("images", str(exc)) from None
            images.append(
                {
                    "path": str(file),
                    "sha256": digest,
                    "size": facts.size,
                    "format": facts.format,
                    "width": facts.width,
                    "height": facts.height,
                }
            )
        return images

    def add(
        self,
        paths: Sequence[str | Path],
        *,
        title: str | None = None,
        cover_index: int = 0,
        caption: str | None = None,
    ) -> tuple[MediaItem, bool]:
        images = self.inspect(paths)
        if not 0 <= cover_index < len(images):
            raise ValidationError(
                "cover", f"cover {cover_index + 1} is outside the {len(images)} images"
            )
        if title is not None and len(title) > 300:
            raise ValidationError("title", "is longer than 300 characters")
        digest = set_digest([i["sha256"] for i in images])
        with self.db.write() as session:
            existing = session.scalar(select(MediaItem).where(MediaItem.sha256 == digest))
            if existing is not None:
                existing.images = images  # the files may have moved
                existing.path = images[0]["path"]
                return existing, False
            item = MediaItem(
                kind=PHOTO_SET,
                path=images[0]["path"],
                sha256=digest,
                size=sum(i["size"] for i in images),
                title=title or Path(images[0]["path"]).stem,
                default_caption=caption,
                images=images,
                cover_index=cover_index,
                hashtags=[],
            )
            session.add(item)
            session.flush()
            return item, True

    @staticmethod
    def problem(item: MediaItem) -> str | None:
        """Why this photo set cannot be posted as its files are now, or None."""
        for image in item.images or []:
            path = Path(image["path"])
            if not path.exists():
                return f"an image is missing: {path}"
            try:
                if sha256_of(path) != image["sha256"]:
                    return f"an image changed since it was added: {path.name}"
            except NotMedia as exc:
                return str(exc)
        return None
