"""The TikTok stand-in's photo posts (`content/init`, media_type PHOTO): the request's
own limits are refused at init (title at most 90 characters, description at most 4000,
photo_cover_index inside 1 to 35 images); then the platform pulls each image — here only
from 127.0.0.1, never anywhere else — and checks it as TikTok does (JPEG or WebP, at most
1080x1920, at most 20 MB). An image it refuses fails the publish with TikTok's
fail_reason, seen by status/fetch, as the real pull is asynchronous.

These are the platform's rules written out again on purpose (not imported from
domain/photos.py), so that a mistake in Piper's checks shows up against the stand-in.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

import httpx

MAX_BYTES = 20 * 1024 * 1024
_FORMATS = {"mjpeg", "webp"}


class PhotoRefusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def check_request(post_info: dict[str, Any], source_info: dict[str, Any]) -> list[str]:
    """The photo URLs, or PhotoRefusal("invalid_params", ...) for what init refuses."""
    title = post_info.get("title", "")
    if not isinstance(title, str) or len(title) > 90:
        raise PhotoRefusal("invalid_params", "title must be a string of at most 90 characters.")
    description = post_info.get("description", "")
    if not isinstance(description, str) or len(description) > 4000:
        raise PhotoRefusal(
            "invalid_params", "description must be a string of at most 4000 characters."
        )
    images = source_info.get("photo_images")
    if not isinstance(images, list) or not 1 <= len(images) <= 35:
        raise PhotoRefusal("invalid_params", "photo_images must list 1 to 35 URLs.")
    cover = source_info.get("photo_cover_index")
    if not isinstance(cover, int) or isinstance(cover, bool) or not 0 <= cover < len(images):
        raise PhotoRefusal("invalid_params", "photo_cover_index must index photo_images.")
    return images


def pull_problem(urls: list[str]) -> str | None:
    """Pull every image; TikTok's fail_reason for the first it refuses, or None."""
    with httpx.Client(trust_env=False, timeout=10, follow_redirects=False) as http:
        for url in urls:
            if urlsplit(url).hostname != "127.0.0.1":
                return "photo_pull_failed"  # the stand-in reaches loopback only
            try:
                answer = http.get(url)
            except httpx.HTTPError:
                return "photo_pull_failed"
            if answer.status_code != 200 or len(answer.content) > MAX_BYTES:
                return (
                    "photo_pull_failed" if answer.status_code != 200 else "file_format_check_failed"
                )
            problem = _image_problem(answer.content)
            if problem:
                return problem
    return None


def _image_problem(data: bytes) -> str | None:
    import av

    try:
        with av.open(io.BytesIO(data), "r") as container:
            if not container.streams.video:
                return "file_format_check_failed"
            stream = container.streams.video[0]
            if stream.codec_context.name not in _FORMATS:
                return "file_format_check_failed"
            frame = next(container.decode(stream), None)
    except (av.FFmpegError, OSError):
        return "file_format_check_failed"
    if frame is None:
        return "file_format_check_failed"
    if max(frame.width, frame.height) > 1920 or min(frame.width, frame.height) > 1080:
        return "picture_size_check_failed"
    return None
