"""Facts about a video file read from disk: sha256, size, duration from the MP4 header."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import BinaryIO

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"}
_CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def mp4_duration(path: Path) -> float | None:
    """Seconds from the `moov/mvhd` box of an MP4/MOV file, or None if not found."""
    try:
        with path.open("rb") as handle:
            return _find_mvhd(handle, path.stat().st_size)
    except (OSError, struct.error):
        return None


def _boxes(handle: BinaryIO, start: int, end: int) -> list[tuple[bytes, int, int]]:
    boxes = []
    position = start
    while position + 8 <= end:
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            break
        size, kind = struct.unpack(">I4s", header)
        header_len = 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            header_len = 16
        elif size == 0:
            size = end - position
        if size < header_len:
            break
        boxes.append((kind, position + header_len, position + size))
        position += size
    return boxes


def _find_mvhd(handle: BinaryIO, file_size: int) -> float | None:
    for kind, body, end in _boxes(handle, 0, file_size):
        if kind != b"moov":
            continue
        for inner, inner_body, _ in _boxes(handle, body, end):
            if inner != b"mvhd":
                continue
            handle.seek(inner_body)
            version = handle.read(1)[0]
            handle.read(3)
            if version == 1:
                _, _, timescale, duration = struct.unpack(">QQIQ", handle.read(28))
            else:
                _, _, timescale, duration = struct.unpack(">IIII", handle.read(16))
            return duration / timescale if timescale else None
    return None
