"""Real, small videos for the stand-ins, tests, benchmarks and `piper sandbox`: encoded
with PyAV (H.264 in MP4), so the library's probe, the thumbnails and the platforms'
limits see a true video — 360x640 at 24 fps fits TikTok's rules unless asked otherwise.

Encoding costs tens of milliseconds per second of video, so one clip per shape is made
once per process and copies differ by a trailing MP4 `free` box (players and FFmpeg
skip it): distinct content (a distinct sha256) for the price of a file write, and any
size up to gigabytes as a sparse file."""

from __future__ import annotations

import io
import os
import struct
from fractions import Fraction
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=32)
def encoded(
    seconds: float = 1.0,
    width: int = 360,
    height: int = 640,
    fps: int = 24,
    codec: str = "libx264",
    container: str = "mp4",
) -> bytes:
    """The bytes of a clip of one colour per second (a still picture compresses to
    almost nothing, so long clips stay small)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        frame = av.VideoFrame(width, height, "yuv420p")
        frames = max(1, round(seconds * fps))
        for number in range(frames):
            if number % fps == 0:
                shade = (number // fps * 37) % 200 + 30
                for plane, value in zip(frame.planes, (shade, 90, 170), strict=True):
                    plane.update(bytes([value]) * plane.buffer_size)
            frame.pts = number
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buffer.getvalue()


def write_video(
    path: Path,
    *,
    size: int | None = None,
    seconds: float = 1.0,
    width: int = 360,
    height: int = 640,
    fps: int = 24,
    codec: str = "libx264",
    tag: bytes | None = None,
) -> Path:
    """Write a real video to `path`. `size`: pad to exactly that many bytes (sparse);
    `tag`: bytes that make this copy's content its own (random when not given)."""
    clip = encoded(seconds, width, height, fps, codec)
    mark = tag if tag is not None else os.urandom(16)
    box = max(8 + len(mark), (size - len(clip)) if size is not None else 0)
    if size is not None and size < len(clip) + box:
        raise ValueError(f"a {width}x{height} clip of {seconds} s needs {len(clip) + box} bytes")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        handle.write(clip)
        if box <= 0xFFFFFFFF:
            handle.write(struct.pack(">I4s", box, b"free") + mark)
        else:  # a box over 4 GB carries a 64-bit size
            handle.write(struct.pack(">I4sQ", 1, b"free", box) + mark)
        handle.truncate(len(clip) + box)
    return path
