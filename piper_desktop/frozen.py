"""What differs when Piper runs from the PyInstaller build rather than from source."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def playwright_browsers_dir() -> Path:
    """Where Playwright keeps the browsers it downloads, as Playwright itself decides it."""
    override = os.environ.get("PLAYWRIGHT_BROWSERS_PATH")
    if override and override != "0":
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ms-playwright"


def prepare_frozen_environment() -> None:
    """Run first thing in the frozen app (from its PyInstaller runtime hook).

    Playwright in a frozen app looks for browsers inside the app folder
    (PLAYWRIGHT_BROWSERS_PATH=0), where none are bundled; pointing it at the per-user
    cache the source install uses means a browser installed for one is found by both.
    """
    os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", str(playwright_browsers_dir()))
