"""Everything Piper writes is for its owner only: 0700 folders, 0600 files.

`restrict_process()` runs first thing in the `piper` entry point (the GUI starts through
it too), so every file and folder the process makes is owner-only whoever makes it
(SQLite's -wal and -shm, logs, screenshots, Chromium's scratch). The writers below add
the mode explicitly where a file may already exist (an export over an old one keeps
its mode otherwise), and `tighten_data_dir` fixes a data dir an older Piper left open.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

OWNER_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700
# what Piper keeps in its data dir (names, so that a data dir pointed at a shared
# folder never has the operator's other files changed)
DATA_FILE_PATTERNS = (
    "piper.db",
    "piper.db-*",
    "piper.*.bak",
    "piper.*.bak-*",
    "ui-state.json",  # ui/ui_state.py
    "vault-backups.txt",  # store/copies.py
)
DATA_DIRS = ("logs", "crash-reports")


def restrict_process() -> None:
    os.umask(OWNER_UMASK)


def private_dir(path: Path) -> Path:
    """`path` as an owner-only folder (made with its parents if missing)."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _chmod(path, DIR_MODE)
    return path


def write_private_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path`, the file owner-only even if it existed before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(data)
    return path


def write_private_text(path: Path, text: str, *, newline: str | None = None) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
        os.fchmod(handle.fileno(), FILE_MODE)
        handle.write(text)
    return path


def make_private(path: Path) -> None:
    """Owner-only mode on a file Piper made (a folder gets 0700)."""
    try:
        info = path.lstat()
    except OSError:
        return
    if stat.S_ISDIR(info.st_mode):
        _chmod(path, DIR_MODE)
    elif stat.S_ISREG(info.st_mode):
        _chmod(path, FILE_MODE)


def tighten_data_dir(data_dir: Path) -> None:
    """Owner-only modes on the data dir and what Piper keeps in it (symlinks untouched)."""
    if not data_dir.is_dir() or data_dir.is_symlink():
        return
    _chmod(data_dir, DIR_MODE)
    for pattern in DATA_FILE_PATTERNS:
        for path in data_dir.glob(pattern):
            make_private(path)
    for name in DATA_DIRS:
        folder = data_dir / name
        if folder.is_dir() and not folder.is_symlink():
            _chmod(folder, DIR_MODE)
            for path in folder.iterdir():
                make_private(path)


def _chmod(path: Path, mode: int) -> None:
    try:
        if stat.S_IMODE(path.lstat().st_mode) != mode:
            os.chmod(path, mode)
    except OSError:  # not ours to change (another owner): nothing to fix here
        pass
