"""The Upload-Post stand-in's photo endpoint (`POST /api/upload_photos`): multipart
`photos[]` files, `user`, `platform[]`, `title`, `description`, the usual scheduling and
`request_id` fields. Checked as the service and TikTok behind it would: 1 to 35 photos
for TikTok, each a JPEG, PNG or WebP (by its bytes, not its name) of at most 20 MB and not
empty; TikTok's title at most 90 characters and description at most 4000."""

from __future__ import annotations

from typing import Any

from piper_desktop.sandbox.multipart import FilePart

MAX_PHOTO = 20 * 1024 * 1024


def image_format(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def photo_problem(
    platforms: list[str], photos: list[FilePart], title: str, description: str
) -> tuple[str, str] | None:
    """(field, error) for what the service refuses, or None."""
    if not photos:
        return ("photos[]", "at least one photos[] file is required")
    if "tiktok" in platforms:
        if len(photos) > 35:
            return ("photos[]", "TikTok takes at most 35 photos")
        if len(title) > 90:
            return ("title", "TikTok photo titles take at most 90 characters")
        if len(description) > 4000:
            return ("description", "TikTok photo descriptions take at most 4000 characters")
    for part in photos:
        if part.size == 0:
            return ("photos[]", f"{part.filename} is empty")
        if part.size > MAX_PHOTO:
            return ("photos[]", f"{part.filename} is larger than 20 MB")
        if image_format(part.head) is None:
            return ("photos[]", f"{part.filename} is not a JPEG, PNG or WebP image")
    return None


def photos_record(photos: list[FilePart], description: str) -> dict[str, Any]:
    """What the record keeps of the photos (as `video` for a video upload)."""
    return {
        "photos": [
            {
                "filename": p.filename,
                "size": p.size,
                "sha256": p.sha256,
                "format": image_format(p.head),
            }
            for p in photos
        ],
        "description": description,
    }
