"""Scratch directories for the browser, under one known root, safe to clean after a crash.

Playwright's driver and Chromium write a throw-away profile and artifacts to the temp
dir. Piper points their temp dir at `<tmp>/piper-browser/run-<pid>-<token>/`, holds an
exclusive lock on a file inside while running, and removes the run dir on stop. On the
next start any run dir whose lock can be taken belongs to a dead process and is removed.
The root carries a marker file so cleanup never touches a directory Piper did not make.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from piper_desktop.logs import get_logger

log = get_logger("browser")

ROOT_NAME = "piper-browser"
MARKER = ".piper-browser-root"
LOCK_NAME = "owner.lock"


def default_temp_root() -> Path:
    base = Path(tempfile.gettempdir())
    # Chromium puts a unix socket under the temp dir and aborts if its path passes
    # ~100 characters; macOS's per-user TMPDIR is long, so prefer /tmp there.
    if os.name == "posix" and len(str(base)) > 20 and Path("/tmp").is_dir():
        base = Path("/tmp")
    return base / ROOT_NAME


def ensure_root(root: Path | None = None) -> Path:
    root = root or default_temp_root()
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    marker = root / MARKER
    if not marker.exists():
        marker.write_text("Piper Desktop browser scratch space; removed automatically.\n")
    return root


def _try_lock(handle: IO[bytes]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class RunDir:
    """One host's scratch dir, locked for as long as the host lives."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = ensure_root(root)
        clean_stale(self.root)
        self.path = self.root / f"run-{os.getpid()}-{secrets.token_hex(2)}"
        self.path.mkdir(mode=0o700)
        self._lock: IO[bytes] | None = open(self.path / LOCK_NAME, "wb")  # noqa: SIM115
        if not _try_lock(self._lock):  # pragma: no cover - a fresh name cannot be held
            raise RuntimeError(f"could not lock {self.path}")

    def remove(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        shutil.rmtree(self.path, ignore_errors=True)


def clean_stale(root: Path) -> list[Path]:
    """Remove run dirs left by processes that died; returns what was removed."""
    if not (root / MARKER).is_file():
        return []
    removed: list[Path] = []
    for run in root.glob("run-*"):
        if not run.is_dir():
            continue
        lock_path = run / LOCK_NAME
        if lock_path.exists():
            with open(lock_path, "ab") as handle:
                if not _try_lock(handle):
                    continue  # a live host owns it
        shutil.rmtree(run, ignore_errors=True)
        removed.append(run)
    if removed:
        log.info("removed %d browser scratch dir(s) left by a crash", len(removed))
    return removed


@contextlib.contextmanager
def temp_env(path: Path) -> Iterator[None]:
    """Point child processes' temp dir at `path` while they are spawned."""
    names = ("TMPDIR", "TEMP", "TMP")
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ[name] = str(path)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
