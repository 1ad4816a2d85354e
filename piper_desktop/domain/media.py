"""The media library: video files known by content (sha256), with captions and hashtags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from ..store.db import Database
from ..store.models import MediaItem
from . import fields as f
from .errors import NotFound, ValidationError
from .mediafile import VIDEO_SUFFIXES, mp4_duration, sha256_of
from .records import row_dict

FIELDS: dict[str, f.Field] = {
    field.name: field
    for field in [
        f.Field("title", f.text(300)),
        f.Field("default_caption", f.text(2200)),
        f.Field("hashtags", f.string_list(";, ")),
        f.Field("notes", f.text(5000)),
        f.Field("duration_sec", f.number(0)),
    ]
}


def normalise_hashtags(tags: list[str]) -> list[str]:
    return [t.lstrip("#") for t in tags if t.lstrip("#")]


class MediaService:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def expand_paths(paths: list[str | Path]) -> list[Path]:
        """Files as given, folders expanded to the videos inside them (sorted)."""
        result: list[Path] = []
        for raw in paths:
            path = Path(raw).expanduser()
            if path.is_dir():
                result.extend(
                    sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
                )
            elif path.is_file():
                result.append(path)
            else:
                raise ValidationError("path", f"no such file or folder: {path}")
        return result

    def add(self, path: str | Path, record: dict[str, Any] | None = None) -> tuple[MediaItem, bool]:
        """Add one file (or refresh its path if the same content is known). Returns
        (item, created)."""
        file = Path(path).expanduser().resolve()
        if not file.is_file():
            raise ValidationError("path", f"no such file: {file}")
        values = f.parse_record(FIELDS, record or {})
        if values.get("hashtags"):
            values["hashtags"] = normalise_hashtags(values["hashtags"])
        digest = sha256_of(file)
        size = file.stat().st_size
        if size == 0:
            raise ValidationError("path", f"file is empty: {file}")
        with self.db.write() as session:
            existing = session.scalar(select(MediaItem).where(MediaItem.sha256 == digest))
            if existing is not None:
                existing.path = str(file)
                for key, value in values.items():
                    if value is not None:
                        setattr(existing, key, value)
                return existing, False
            item = MediaItem(
                path=str(file),
                sha256=digest,
                size=size,
                duration_sec=values.pop("duration_sec", None) or mp4_duration(file),
                title=values.pop("title", None) or file.stem,
                **{k: v for k, v in values.items() if v is not None},
            )
            session.add(item)
            session.flush()
            return item, True

    def edit(self, media_id: int, record: dict[str, Any]) -> MediaItem:
        values = f.parse_record(FIELDS, record, partial=True)
        if values.get("hashtags"):
            values["hashtags"] = normalise_hashtags(values["hashtags"])
        with self.db.write() as session:
            item = session.get(MediaItem, media_id)
            if item is None:
                raise NotFound("media", media_id)
            for key, value in values.items():
                setattr(item, key, value if value is not None or key != "hashtags" else [])
            return item

    def get(self, media_id: int) -> MediaItem:
        with self.db.session() as session:
            item = session.get(MediaItem, media_id)
        if item is None:
            raise NotFound("media", media_id)
        return item

    def find(self, ref: str) -> MediaItem:
        """By id, sha256 (or a unique prefix of 8+), or path."""
        ref = ref.strip()
        if ref.isdigit():
            return self.get(int(ref))
        with self.db.session() as session:
            if len(ref) >= 8 and all(c in "0123456789abcdef" for c in ref.lower()):
                item = session.scalar(
                    select(MediaItem).where(MediaItem.sha256.like(ref.lower() + "%")).limit(1)
                )
                if item is not None:
                    return item
            path = str(Path(ref).expanduser().resolve())
            item = session.scalar(select(MediaItem).where(MediaItem.path == path).limit(1))
        if item is None:
            raise NotFound("media", ref)
        return item

    def find_or_add(self, ref: str) -> MediaItem:
        try:
            return self.find(ref)
        except NotFound:
            if Path(ref).expanduser().is_file():
                return self.add(ref)[0]
            raise

    def list(
        self, *, search: str | None = None, offset: int = 0, limit: int | None = None
    ) -> list[MediaItem]:
        with self.db.session() as session:
            query = select(MediaItem).order_by(MediaItem.id)
            if search:
                pattern = f"%{search}%"
                query = query.where(
                    or_(MediaItem.title.like(pattern), MediaItem.path.like(pattern))
                )
            return list(session.scalars(query.offset(offset).limit(limit)))

    def count(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count(MediaItem.id))) or 0

    def remove(self, media_id: int) -> None:
        with self.db.write() as session:
            item = session.get(MediaItem, media_id)
            if item is None:
                raise NotFound("media", media_id)
            session.delete(item)

    def to_dict(self, item: MediaItem) -> dict[str, Any]:
        data = row_dict(item)
        data["exists"] = Path(item.path).exists()
        return data
