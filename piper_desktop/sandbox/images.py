"""Real, small images for the photo-post stand-ins and tests, encoded with PyAV (the
library probe decodes them as it would the operator's photos)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

_ENCODERS = {"jpeg": ("mjpeg", "yuvj420p"), "png": ("png", "rgb24"), "webp": ("libwebp", "yuv420p")}


@lru_cache(maxsize=32)
def encoded_image(fmt: str = "jpeg", width: int = 108, height: int = 192, shade: int = 0) -> bytes:
    """One still picture; `shade` varies its content (and so its sha256)."""
    import av

    codec, pix = _ENCODERS[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="image2pipe") as out:
        stream = out.add_stream(codec, rate=1)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, pix
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane, value in zip(frame.planes, (shade % 256, 128, 128), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        for packet in stream.encode(frame.reformat(format=pix)):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buffer.getvalue()


def write_image(
    path: Path, fmt: str = "jpeg", width: int = 108, height: int = 192, shade: int = 0
) -> Path:
    path.write_bytes(encoded_image(fmt, width, height, shade))
    path.chmod(0o600)
    return path
