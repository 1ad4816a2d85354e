"""`piper self-test`: one line per check, so a frozen build proves it has what it needs.

Each line reads `ok    name: detail`, `FAIL  name: reason` (a required check) or
`warn  name: reason` (an optional one). The run passes when every required check does.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .frozen import is_frozen, playwright_node
from .paths import resource, resources_dir


@dataclass
class Check:
    name: str
    run: Callable[[], str]
    required: bool = True


# Files the layers read from resources/ at run time; a build without them is broken.
REQUIRED_RESOURCES = ("profile_templates.json", "sites/tiktok.json")


def _qt() -> str:
    from .ui.platform_check import check_platform_plugin

    return check_platform_plugin()


def _qt_desktop() -> str:
    from .ui.platform_check import check_desktop_plugins

    return check_desktop_plugins()


def _database() -> str:
    from .store.vault import change_password, create_vault, unlock_vault

    with tempfile.TemporaryDirectory(prefix="piper-selftest-") as tmp:
        directory = Path(tmp)
        db = create_vault(directory, "self-test-password")
        db.close()
        db = unlock_vault(directory, "self-test-password")
        change_password(db, "self-test-password-2")
        db.close()
        unlock_vault(directory, "self-test-password-2").close()
    import sqlcipher3

    version = sqlcipher3.connect(":memory:")
    try:
        cipher = version.execute("PRAGMA cipher_version").fetchone()[0]
    finally:
        version.close()
    return f"SQLCipher {cipher}: create, unlock and re-key in a temp dir"


def _migrations() -> str:
    from .store.migrate import MIGRATIONS_DIR, head_revision

    versions = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    if not versions:
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return f"{len(versions)} revisions, head {head_revision()}, in {MIGRATIONS_DIR}"


def _resources() -> str:
    missing = [n for n in REQUIRED_RESOURCES if not resource(*n.split("/")).is_file()]
    if missing:
        raise RuntimeError(f"missing in {resources_dir()}: {', '.join(missing)}")
    count = sum(1 for p in resources_dir().rglob("*") if p.is_file())
    return f"{count} files in {resources_dir()}"


def _playwright() -> str:
    from importlib.metadata import version

    import playwright
    from playwright.sync_api import sync_playwright

    driver = Path(playwright.__file__).resolve().parent / "driver"
    # The frozen app unpacks its compressed Node.js here on first run; a cache dir it
    # cannot write to fails this line with what to do about it.
    node = playwright_node()
    with sync_playwright() as p:
        browser_type = p.chromium.name
    if node is None:
        where = ""
    elif node.unpacked_now:
        where = f", Node.js unpacked just now to {node.path}"
    else:
        where = f", Node.js from {node.path}"
    return f"driver {version('playwright')} started from {driver}{where} ({browser_type} available)"


def _browser() -> str:
    executable = importlib.import_module("piper_desktop.browser.executable")
    try:
        found = executable.find_browser()
    except executable.BrowserNotFound as exc:
        # The browser layer's message says how to get one; the frozen app adds why.
        bundled = "; this app does not bundle a browser" if is_frozen() else ""
        raise RuntimeError(f"{exc}{bundled}") from None
    return str(found.describe())


def _media() -> str:
    # PyAV carries FFmpeg's libraries in its wheel: a frozen build that missed one of
    # them cannot tell a video from a text file, nor draw a thumbnail
    import av

    from .domain.mediafile import probe
    from .sandbox.media import write_video

    with tempfile.TemporaryDirectory(prefix="piper-selftest-") as tmp:
        facts = probe(write_video(Path(tmp) / "clip.mp4", seconds=0.5))
    return (
        f"PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info}): wrote and read {facts.summary()}"
    )


def _routes() -> str:
    # the registry imports each route's spec module when asked: a frozen build that
    # missed one fails here, not at the route's first job
    registry = importlib.import_module("piper_desktop.routes.registry")
    return ", ".join(spec.name for spec in registry.default_routes())


def _charts() -> str:
    # the Performance panel's charts: pyqtgraph finds its Qt binding and shims at run time
    import numpy
    import pyqtgraph

    return f"pyqtgraph {pyqtgraph.__version__} (numpy {numpy.__version__}, {pyqtgraph.Qt.QT_LIB})"


CHECKS = [
    Check("qt", _qt),
    Check("qt-desktop", _qt_desktop, required=False),
    Check("database", _database),
    Check("migrations", _migrations),
    Check("resources", _resources),
    Check("routes", _routes),
    Check("media", _media),
    Check("charts", _charts),
    Check("playwright", _playwright),
    Check("browser", _browser, required=False),
]


def run_self_test(print_line: Callable[[str], None] = print) -> bool:
    ok = True
    for check in CHECKS:
        try:
            detail = check.run()
            print_line(f"ok    {check.name}: {detail}")
        except Exception as exc:
            status = "FAIL" if check.required else "warn"
            ok = ok and not check.required
            print_line(f"{status}  {check.name}: {exc}")
    return ok
