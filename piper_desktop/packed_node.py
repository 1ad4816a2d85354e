"""A large executable shipped xz-compressed and unpacked once per user on first use.

The frozen app carries Playwright's Node.js (about 117 MB) as `node.xz` (about 28 MB)
with a manifest beside it (`node.xz.json`: name, size and SHA-256 of the unpacked file).
`ensure_unpacked` puts the executable in a per-user cache dir, never in the app folder,
which may be read-only. It writes a temp file beside the target, fsyncs it, marks it
executable and renames it into place, so another process never sees a half-written
file, and two processes unpacking at once both succeed (the last rename wins; both
wrote the same bytes). A cached file of the wrong size or digest is unpacked again.

Stdlib only (lzma, hashlib): the build packs with the same module it unpacks with.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import lzma
import os
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ARCHIVE_SUFFIX = ".xz"
MANIFEST_SUFFIX = ".json"
CHUNK = 1 << 20
# A temp file left by an unpacker that was killed; a live one is written to every moment.
STALE_TEMP_SECONDS = 3600
_TEMP_PREFIX = ".unpacking-"
_TEMP_SUFFIX = ".part"


class UnpackError(RuntimeError):
    """The packed file could not be unpacked; the message says where and why."""


class TargetNotWritable(UnpackError):
    """The folder to unpack into cannot be created or written."""


@dataclass(frozen=True)
class PackedFile:
    """An archive and what its unpacked file must be."""

    archive: Path
    name: str
    size: int
    sha256: str

    @property
    def manifest(self) -> Path:
        return manifest_path(self.archive)


def manifest_path(archive: Path) -> Path:
    return archive.with_name(archive.name + MANIFEST_SUFFIX)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_packed(archive: Path) -> PackedFile:
    """The archive with its manifest; UnpackError if the manifest is missing or bad."""
    try:
        fields = json.loads(manifest_path(archive).read_text(encoding="utf-8"))
        return PackedFile(
            archive=archive,
            name=str(fields["name"]),
            size=int(fields["size"]),
            sha256=str(fields["sha256"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UnpackError(f"unreadable manifest for {archive}: {exc}") from exc


def pack_file(source: Path, archive: Path, preset: int = 6) -> PackedFile:
    """Compress `source` to `archive` and write its manifest (the build does this).

    An archive whose manifest already describes `source` is kept: packing Node takes
    about a minute, and rebuilds happen far more often than Playwright updates.
    """
    digest = file_digest(source)
    size = source.stat().st_size
    if archive.is_file():
        with contextlib.suppress(UnpackError):
            existing = read_packed(archive)
            if (existing.name, existing.size, existing.sha256) == (source.name, size, digest):
                return existing
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + _TEMP_SUFFIX)
    # CHECK_SHA256: a damaged archive fails while it is being unpacked, not after.
    with (
        source.open("rb") as src,
        lzma.open(partial, "wb", preset=preset, check=lzma.CHECK_SHA256) as dst,
    ):
        for chunk in iter(lambda: src.read(CHUNK), b""):
            dst.write(chunk)
    os.replace(partial, archive)
    packed = PackedFile(archive=archive, name=source.name, size=size, sha256=digest)
    fields = {k: v for k, v in asdict(packed).items() if k != "archive"}
    manifest_path(archive).write_text(json.dumps(fields, indent=1) + "\n", encoding="utf-8")
    return packed


def is_intact(path: Path, packed: PackedFile) -> bool:
    """True when `path` holds exactly the packed file (size first: it is free)."""
    try:
        if path.stat().st_size != packed.size:
            return False
        return file_digest(path) == packed.sha256
    except OSError:
        return False


@dataclass(frozen=True)
class Unpacked:
    path: Path
    unpacked_now: bool  # False when a previous run (or another process) had done it


def ensure_unpacked(
    packed: PackedFile,
    target_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> Unpacked:
    """The unpacked executable in `target_dir`, unpacking it unless it is there intact.

    `progress` is called with the bytes written so far after each chunk (the file is
    not at its final path yet while it runs).
    """
    target = target_dir / packed.name
    if is_intact(target, packed):
        return Unpacked(target, unpacked_now=False)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        _drop_stale_temps(target_dir)
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=target_dir)
    except OSError as exc:
        raise TargetNotWritable(_not_writable(target_dir, exc)) from exc
    temp = Path(temp_name)
    try:
        _write_unpacked(packed, fd, temp, progress)
        mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
        os.chmod(temp, mode)
        _install(temp, target, packed)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return Unpacked(target, unpacked_now=True)


def _write_unpacked(
    packed: PackedFile, fd: int, temp: Path, progress: Callable[[int], None] | None
) -> None:
    digest = hashlib.sha256()
    written = 0
    with os.fdopen(fd, "wb") as dst:
        try:
            with lzma.open(packed.archive, "rb") as src:
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    dst.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(written)
        except (lzma.LZMAError, EOFError) as exc:
            raise UnpackError(f"damaged archive {packed.archive}: {exc}") from exc
        except OSError as exc:
            if exc.filename is not None and Path(exc.filename) == packed.archive:
                raise UnpackError(f"cannot read {packed.archive}: {exc}") from exc
            raise TargetNotWritable(_not_writable(temp.parent, exc)) from exc
        if written != packed.size or digest.hexdigest() != packed.sha256:
            raise UnpackError(
                f"{packed.archive} unpacks to {written} bytes that do not match its manifest"
                f" ({packed.size} bytes, sha256 {packed.sha256[:12]}…): the app folder is damaged"
            )
        try:
            dst.flush()
            os.fsync(dst.fileno())
        except OSError as exc:
            raise TargetNotWritable(_not_writable(temp.parent, exc)) from exc


def _install(temp: Path, target: Path, packed: PackedFile) -> None:
    try:
        os.replace(temp, target)
    except OSError as exc:
        # Windows refuses to replace an executable that is running; if another process
        # installed an intact copy meanwhile, that one serves.
        if is_intact(target, packed):
            temp.unlink(missing_ok=True)
            return
        raise TargetNotWritable(_not_writable(target.parent, exc)) from exc
    if sys.platform != "win32":
        # Make the rename itself durable, so a crash cannot leave an empty file behind.
        with contextlib.suppress(OSError):
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _drop_stale_temps(folder: Path) -> None:
    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in folder.glob(f"{_TEMP_PREFIX}*{_TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if temp.stat().st_mtime < cutoff:
                temp.unlink()


def _not_writable(folder: Path, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    return f"cannot unpack into {folder}: the folder is not writable ({reason})"
