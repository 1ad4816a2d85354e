"""The media library: video files known by content (sha256), with captions and hashtags.

A file joins the library only when FFmpeg (PyAV) reads it as a video: a text file named
`.mp4`, /etc/passwd, a device or a link out of its folder is refused with the reason. A
file already in the library that no longer probes as a video (replaced, truncated) is
flagged by `check` and in `to_dict`'s `problem`, never removed: the operator decides."""

from __future__ import annotations

import builtins
import os
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from ..store.db import Database
from ..store.models import MediaItem
from . import fields as f
from .errors import NotFound, ValidationError
from .mediafile import PROBES, VIDEO_SUFFIXES, MediaFacts, NotMedia, checked_path, probe, sha256_of
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
        """Files as given, folders expanded to the videos inside them (sorted; links
        in them are followed only within their folder, see mediafile.checked_path)."""
        result: list[Path] = []
        for raw in paths:
            path = Path(raw).expanduser()
            if path.is_dir():
                result.extend(
                    sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
                )
            elif os.path.lexists(path):
                result.append(path)  # add() says what it is when it is no video
            else:
                raise ValidationError("path", f"no such file or folder: {path}")
        return result

    @staticmethod
    def inspect(path: str | Path) -> tuple[Path, MediaFacts]:
        """The file's real path and what it is, or ValidationError("path", why not)."""
        try:
            file = checked_path(Path(path))
            return file, probe(file)
        except NotMedia as exc:
            raise ValidationError("path", str(exc)) from None

    def add(self, path: str | Path, record: dict[str, Any] | None = None) -> tuple[MediaItem, bool]:
        """Add one file (or refresh its path if the same content is known). Returns
        (item, created)."""
        values = f.parse_record(FIELDS, record or {})
        file, facts = self.inspect(path)
        if values.get("hashtags"):
            values["hashtags"] = normalise_hashtags(values["hashtags"])
        try:
            digest = sha256_of(file)
        except NotMedia as exc:
            raise ValidationError("path", str(exc)) from None
        size = facts.size
        given_duration = values.pop("duration_sec", None)
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
                # the file's own duration; the given one only when FFmpeg found none
                duration_sec=facts.duration_sec or given_duration,
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
            path = Path(ref).expanduser()
            if path.is_file():
                return self.add(ref)[0]
            if path.is_dir():
                raise ValidationError(
                    "media", f"{ref} is a folder; a job posts one video (a campaign takes folders)"
                ) from None
            raise

    def find_or_add_all(self, refs: list[str]) -> list[MediaItem]:
        """Campaign media as the operator gives them: ids, sha256, files, and folders
        (their videos, added to the library as `media add` would), in order, once each."""
        items: list[MediaItem] = []
        seen: set[int] = set()
        for ref in refs:
            if Path(ref).expanduser().is_dir():
                videos = self.expand_paths([ref])
                if not videos:
                    raise ValidationError("media", f"no videos in the folder {ref}")
                found = [self.add(video)[0] for video in videos]
            else:
                found = [self.find_or_add(ref)]
            for item in found:
                if item.id not in seen:
                    seen.add(item.id)
                    items.append(item)
        return items

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

    def problem(self, item: MediaItem) -> str | None:
        """Why this library item cannot be posted as it is on disk now, or None."""
        if item.kind == "photo_set":
            from .photo_sets import PhotoSetService

            return PhotoSetService.problem(item)
        path = Path(item.path)
        if not path.exists():
            return f"the file is missing: {path}"
        return PROBES.problem(path)

    def check(self, ids: builtins.list[int] | None = None) -> builtins.list[tuple[MediaItem, str]]:
        """The library items whose file is missing or no longer a video, with the reason.
        Nothing is removed: the operator replaces the file or removes the item."""
        items = self.list() if ids is None else [self.get(media_id) for media_id in ids]
        found = []
        for item in items:
            reason = self.problem(item)
            if reason is not None:
                found.append((item, reason))
        return found

    def to_dict(self, item: MediaItem) -> dict[str, Any]:
        data = row_dict(item)
        data["exists"] = Path(item.path).exists()
        data["problem"] = self.problem(item)
        return data
