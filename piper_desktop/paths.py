"""Where Piper finds its bundled resources and keeps its data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "PiperDesktop"


def resources_dir() -> Path:
    """The `resources/` folder, from a source checkout or a frozen (PyInstaller) build."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def default_data_dir() -> Path:
    """The data dir: `PIPER_DATA_DIR` if set, else the platform's user data dir.

    The frozen app and a source install share it, so moving between them keeps data.
    """
    override = os.environ.get("PIPER_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_cache_dir() -> Path:
    """The per-user cache dir: `PIPER_CACHE_DIR` if set, else the platform's one.

    It holds what can be made again, such as the frozen app's unpacked Node.js.
    """
    override = os.environ.get("PIPER_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
