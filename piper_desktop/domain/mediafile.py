"""Facts about a video file read from disk: what it is (container, codecs, duration,
picture size, frame rate, probed with PyAV — FFmpeg's libraries come in its wheel, so
no ffmpeg on PATH is needed, frozen app included), its sha256 and size.

Only regular files are read: a device, a FIFO or a socket is refused before it is
opened for reading (a FIFO would block the reader forever), and a symbolic link is
followed only when its target stays inside the folder it was found in."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

VIDEO_SUFFIXES = {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"}
_CHUNK = 1024 * 1024
# codecs FFmpeg reads as a "video" stream that are really one still picture
_STILL_CODECS = {"png", "bmp", "gif", "webp", "tiff", "jpegls", "mjpeg_still", "svg"}
# FFmpeg demuxer names of the containers the library keeps
_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "mkv", "avi": "avi"}
_WEBM_CODECS = {"vp8", "vp9", "av1"}


class NotMedia(ValueError):
    """The file is not a video Piper can use; the message says why, in a user's words."""


@dataclass(frozen=True)
class MediaFacts:
    container: str  # mp4, mov, webm, mkv, avi
    video_codec: str  # FFmpeg's codec name: h264, hevc, vp9, ...
    audio_codec: str | None
    width: int
    height: int
    fps: float | None
    duration_sec: float | None
    size: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        fps = f" {self.fps:g} fps" if self.fps else ""
        length = f" {self.duration_sec:.1f} s" if self.duration_sec else ""
        return f"{self.container} {self.video_codec} {self.width}x{self.height}{fps}{length}"


def checked_path(path: Path, inside: Path | None = None) -> Path:
    """The real path of a regular file, or NotMedia saying what it is instead.

    A symbolic link is followed only if its target is inside `inside` (the folder it
    was found in, or given in): a link to /etc/shadow in a folder of videos is refused."""
    given = Path(path).expanduser()
    try:
        info = os.lstat(given)
    except OSError as exc:
        raise NotMedia(f"cannot read {given}: {exc.strerror or exc}") from None
    real = given.resolve()
    if stat.S_ISLNK(info.st_mode):
        folder = (inside or given.absolute().parent).resolve()
        if not real.is_relative_to(folder):
            raise NotMedia(f"{given} is a link to {real}, outside {folder}; add the file itself")
    try:
        info = os.stat(real)
    except OSError as exc:
        raise NotMedia(f"cannot read {given}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise NotMedia(f"{given} is not a regular file ({_kind(info.st_mode)})")
    return real


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a plain file"


@contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """Open for reading, refusing anything but a regular file. O_NONBLOCK so that a
    FIFO swapped in after the check does not block; fstat decides on what was opened."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise NotMedia(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotMedia(f"{path} is not a regular file ({_kind(mode)})")
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def probe(path: Path) -> MediaFacts:
    """What the file is, read by FFmpeg (through PyAV); NotMedia if it is not a video."""
    import av  # FFmpeg's libraries load on first use, not at import of the domain

    with open_regular(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            raise NotMedia(f"{path} is empty")
        try:
            container = av.open(handle, mode="r")
        except (av.FFmpegError, UnicodeDecodeError, ValueError):
            raise NotMedia(f"{path} is not a video file (FFmpeg cannot read it)") from None
        with container:
            return _facts(path, container, size)


def _facts(path: Path, container: Any, size: int) -> MediaFacts:
    kind = _CONTAINERS.get(container.format.name)
    name = str(container.format.name)
    if kind is None and (name.endswith("_pipe") or name in ("image2", "gif", "webp")):
        picture = name.removesuffix("_pipe")
        raise NotMedia(f"{path} holds a still picture ({picture}), not a video")
    if kind is None:
        raise NotMedia(f"{path} is not a video file (FFmpeg reads it as {container.format.name})")
    video = next(iter(container.streams.video), None)
    if video is None:
        raise NotMedia(f"{path} has no video in it")
    codec = video.codec_context.name
    if codec in _STILL_CODECS:
        raise NotMedia(f"{path} holds a still picture ({codec}), not a video")
    width, height = int(video.codec_context.width or 0), int(video.codec_context.height or 0)
    if width <= 0 or height <= 0:
        raise NotMedia(f"{path} has no readable picture size")
    audio = next(iter(container.streams.audio), None)
    audio_codec = audio.codec_context.name if audio is not None else None
    duration: float | None = None
    if container.duration:
        duration = container.duration / 1_000_000  # AV_TIME_BASE
    elif video.duration and video.time_base:
        duration = float(video.duration * video.time_base)
    if duration is not None and duration <= 0:
        duration = None
    rate = video.average_rate or video.guessed_rate
    fps = round(float(rate), 3) if rate else None
    if kind == "mp4" and (container.metadata.get("major_brand") or "").strip() == "qt":
        kind = "mov"
    elif kind == "mkv" and codec in _WEBM_CODECS and audio_codec in (None, "opus", "vorbis"):
        kind = "webm"
    return MediaFacts(kind, codec, audio_codec, width, height, fps, duration, size)


class ProbeCache:
    """probe() by (path, size, mtime): a file is read again only when it changed."""

    def __init__(self, capacity: int = 4096) -> None:
        self._lock = threading.Lock()
        self._known: OrderedDict[tuple[str, int, int], MediaFacts | str] = OrderedDict()
        self._capacity = capacity

    def facts(self, path: Path) -> MediaFacts:
        """MediaFacts, or NotMedia (remembered too, so a bad file costs one probe)."""
        try:
            info = os.stat(path)
        except OSError as exc:
            raise NotMedia(f"cannot read {path}: {exc.strerror or exc}") from None
        key = (str(path), info.st_size, info.st_mtime_ns)
        with self._lock:
            known = self._known.get(key)
            if known is not None:
                self._known.move_to_end(key)
        if known is None:
            try:
                known = probe(path)
            except NotMedia as exc:
                known = str(exc)
            with self._lock:
                self._known[key] = known
                while len(self._known) > self._capacity:
                    self._known.popitem(last=False)
        if isinstance(known, str):
            raise NotMedia(known)
        return known

    def problem(self, path: Path) -> str | None:
        try:
            self.facts(path)
        except NotMedia as exc:
            return str(exc)
        return None


# one per process: the library, the routes' checks and the thumbnails share it
PROBES = ProbeCache()
