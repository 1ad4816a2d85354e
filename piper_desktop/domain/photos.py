"""Photo posts (carousels): what an image is, as PyAV decodes it, and what each route
takes, checked before anything is uploaded or sent.

Limits, from TikTok's public documentation (Content Posting API, "Photo" reference and
the Media Transfer Guide's image restrictions): 1 to 35 images per post; JPEG or WebP
(PNG is not taken by the photo endpoint); at most 1080p (1920 pixels on the long side,
1080 on the short one); at most 20 MB each; the title at most 90 characters and the
description at most 4000. `photo_cover_index` is an index into the images.
Upload-Post hosts the images itself and posts them to TikTok through that same API, so
TikTok's count, size and text limits apply to it; its photo endpoint takes PNG as well
(its documentation: "jpg, png, etc.").
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
MAX_IMAGES = 35
TITLE_MAX = 90
DESCRIPTION_MAX = 4000

# PyAV's decoder name → the format's name and MIME type
_CODECS = {
    "mjpeg": ("jpeg", "image/jpeg"),
    "png": ("png", "image/png"),
    "webp": ("webp", "image/webp"),
}
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}


class ImageError(ValueError):
    """An image that cannot be read as one; the message names the file."""


@dataclass(frozen=True)
class ImageFacts:
    path: str
    format: str  # "jpeg", "png", "webp"
    width: int
    height: int
    size: int

    @property
    def mime(self) -> str:
        return next(m for f, m in _CODECS.values() if f == self.format)


def probe_image(path: str | Path) -> ImageFacts:
    """Decode the first frame of `path` with PyAV; ImageError when it is no image."""
    import av  # a heavy import, only when an image is looked at

    name = os.path.basename(str(path))
    try:
        size = os.path.getsize(path)
        with av.open(str(path), "r") as container:
            streams = container.streams.video
            if not streams:
                raise ImageError(f"{name}: not an image")
            stream = streams[0]
            codec = stream.codec_context.name
            if codec not in _CODECS:
                raise ImageError(f"{name}: {codec} is not a JPEG, PNG or WebP image")
            frame = next(container.decode(stream), None)
            if frame is None:
                raise ImageError(f"{name}: no picture in the file")
            return ImageFacts(str(path), _CODECS[codec][0], frame.width, frame.height, size)
    except ImageError:
        raise
    except (OSError, av.FFmpegError, StopIteration) as exc:
        raise ImageError(f"{name}: not a readable image ({type(exc).__name__})") from None


@dataclass(frozen=True)
class PhotoLimits:
    platform: str
    formats: frozenset[str]
    max_long_side: int = 1920
    max_short_side: int = 1080
    max_size: int = 20 * MB
    max_images: int = MAX_IMAGES
    title_max: int = TITLE_MAX
    description_max: int = DESCRIPTION_MAX

    def image_problem(self, facts: ImageFacts) -> str | None:
        name = os.path.basename(facts.path)
        where = self.platform
        if facts.format not in self.formats:
            allowed = ", ".join(sorted(f.upper() for f in self.formats))
            return (
                f"{name}: {where} does not take {facts.format.upper()} photos (it takes {allowed})"
            )
        long_side, short_side = max(facts.width, facts.height), min(facts.width, facts.height)
        if long_side > self.max_long_side or short_side > self.max_short_side:
            return (
                f"{name}: the picture is {facts.width}x{facts.height}; {where} takes at most "
                f"{self.max_short_side}x{self.max_long_side}"
            )
        if facts.size > self.max_size:
            return (
                f"{name}: the file is {facts.size / MB:.1f} MB; {where} takes at most "
                f"{self.max_size // MB} MB a photo"
            )
        return None

    def post_problem(
        self,
        images: Sequence[ImageFacts],
        *,
        title: str,
        description: str,
        cover_index: int = 0,
    ) -> str | None:
        """Why this photo post cannot go, in one line, or None."""
        if not images:
            return "a photo post needs at least one image"
        if len(images) > self.max_images:
            return (
                f"{len(images)} images; {self.platform} takes at most {self.max_images} in a post"
            )
        if not 0 <= cover_index < len(images):
            return f"cover index {cover_index} is outside the {len(images)} images"
        if len(title) > self.title_max:
            return f"the title has {len(title)} characters; {self.platform} takes at most {self.title_max}"
        if len(description) > self.description_max:
            return (
                f"the description has {len(description)} characters; "
                f"{self.platform} takes at most {self.description_max}"
            )
        for facts in images:
            problem = self.image_problem(facts)
            if problem:
                return problem
        return None


TIKTOK_PHOTOS = PhotoLimits(platform="TikTok", formats=frozenset({"jpeg", "webp"}))
UPLOAD_POST_PHOTOS = PhotoLimits(platform="Upload-Post", formats=frozenset({"jpeg", "png", "webp"}))
