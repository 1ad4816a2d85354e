"""What differs when Piper runs from the PyInstaller build rather than from source."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

from .logs import get_logger
from .packed_node import (
    ARCHIVE_SUFFIX,
    PackedFile,
    TargetNotWritable,
    Unpacked,
    UnpackError,
    ensure_unpacked,
    read_packed,
)
from .paths import default_cache_dir

log = get_logger("packaging")

NODE_NAME = "node.exe" if sys.platform == "win32" else "node"
# The build ships Playwright's Node compressed under this name, beside the driver's package.
PACKED_NODE_NAME = NODE_NAME + ARCHIVE_SUFFIX
NODE_CACHE_FOLDER = "playwright-node"


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


class PackedPlaywrightNode:
    """Playwright's Node.js, shipped as `node.xz` in `driver_dir` and unpacked on first use
    into a per-user cache folder keyed by the Playwright version and the file's digest."""

    def __init__(self, driver_dir: Path, playwright_version: str) -> None:
        self.driver_dir = driver_dir
        self.playwright_version = playwright_version
        self._lock = threading.Lock()
        self._unpacked: Unpacked | None = None

    @property
    def archive(self) -> Path:
        return self.driver_dir / PACKED_NODE_NAME

    @property
    def cli(self) -> Path:
        return self.driver_dir / "package" / "cli.js"

    def cache_dir(self, packed: PackedFile) -> Path:
        version = f"{self.playwright_version}-{packed.sha256[:12]}"
        return default_cache_dir() / NODE_CACHE_FOLDER / version

    def executable(self) -> Unpacked:
        """The unpacked Node.js, unpacking it if needed (digest checked once a process).

        Raises UnpackError with what to do when it cannot be unpacked.
        """
        with self._lock:  # one unpack per process, however many threads start Playwright
            packed = read_packed(self.archive)
            known = self._unpacked
            if known is not None and _size(known.path) == packed.size:
                return Unpacked(known.path, unpacked_now=False)
            target_dir = self.cache_dir(packed)
            started = time.perf_counter()
            try:
                unpacked = ensure_unpacked(packed, target_dir)
            except TargetNotWritable as exc:
                raise TargetNotWritable(
                    f"Playwright's Node.js: {exc}; make it writable, or set PIPER_CACHE_DIR"
                    " to a writable folder (or PLAYWRIGHT_NODEJS_PATH to a Node.js executable)"
                ) from exc
            except UnpackError as exc:
                raise UnpackError(f"Playwright's Node.js: {exc}") from exc
            if unpacked.unpacked_now:
                log.info(
                    "unpacked Node.js to %s in %.1f s", unpacked.path, time.perf_counter() - started
                )
            self._unpacked = unpacked
            return unpacked


_packed_node: PackedPlaywrightNode | None = None


def playwright_node() -> Unpacked | None:
    """The Node.js unpacked for Playwright, or None where the driver's own is used
    (a source install, or a build that ships Node uncompressed)."""
    return _packed_node.executable() if _packed_node is not None else None


def use_packed_playwright_node(driver_dir: Path) -> bool:
    """Make Playwright start the Node.js unpacked from `driver_dir/node.xz`, with the rest
    of the driver (cli.js, package/) where it is. False when there is no `node.xz`.

    Playwright finds Node in `compute_driver_executable()`, which its transport imports by
    name; patching the function before the transport is imported (and on it, if it already
    is) covers every driver start. `PLAYWRIGHT_NODEJS_PATH`, when set, still wins.
    """
    global _packed_node
    if not (driver_dir / PACKED_NODE_NAME).is_file():
        return False
    from playwright._impl import _driver
    from playwright._repo_version import version

    node = PackedPlaywrightNode(driver_dir, version)
    original = _driver.compute_driver_executable

    def compute_driver_executable() -> tuple[str, str]:
        if os.environ.get("PLAYWRIGHT_NODEJS_PATH"):
            return original()
        return str(node.executable().path), str(node.cli)

    _driver.compute_driver_executable = compute_driver_executable
    transport = sys.modules.get("playwright._impl.transport")
    if transport is not None:
        # a module found by name only (Playwright's private transport, if imported yet)
        transport.compute_driver_executable = compute_driver_executable  # type: ignore[attr-defined]
    _packed_node = node
    return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1


def prepare_frozen_environment() -> None:
    """Run first thing in the frozen app (from its PyInstaller runtime hook).

    Playwright in a frozen app looks for browsers inside the app folder
    (PLAYWRIGHT_BROWSERS_PATH=0), where none are bundled; pointing it at the per-user
    cache the source install uses means a browser installed for one is found by both.
    Its Node.js ships compressed; it is unpacked when Playwright first starts, not here.
    """
    os.environ.setdefault("PLAYWRIGHT_BROWSERS_PATH", str(playwright_browsers_dir()))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        use_packed_playwright_node(Path(bundle) / "playwright" / "driver")
