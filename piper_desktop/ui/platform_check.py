"""Qt platform-plugin checks for `piper self-test` (here because only ui/ imports Qt)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The plugins that draw real windows on each system (offscreen only renders to memory).
DESKTOP_PLUGINS = {"linux": ("xcb", "wayland"), "win32": ("windows",), "darwin": ("cocoa",)}


def _plugins_dir() -> Path:
    from PySide6.QtCore import QLibraryInfo

    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"


def _plugin_name(file: Path) -> str:
    """ "xcb" for libqxcb.so, "windows" for qwindows.dll."""
    return file.name.split(".")[0].removeprefix("lib").removeprefix("q")


def platform_plugins() -> dict[str, Path]:
    folder = _plugins_dir()
    if not folder.is_dir():
        return {}
    return {_plugin_name(f): f for f in sorted(folder.iterdir()) if f.is_file()}


def check_platform_plugin() -> str:
    """Start a QGuiApplication (offscreen unless QT_QPA_PLATFORM says otherwise)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    # kept while it answers: the platform name is the running application's
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    available = ", ".join(platform_plugins()) or "none listed"
    return f"platform plugin {QGuiApplication.platformName()!r} loaded (available: {available})"


def check_desktop_plugins() -> str:
    """Load the window-system plugins' libraries, which finds missing system libraries
    (libxcb-cursor0 and friends on Linux) without needing a display."""
    from PySide6.QtCore import QPluginLoader

    wanted = DESKTOP_PLUGINS.get("linux" if sys.platform.startswith("linux") else sys.platform)
    if not wanted:
        return f"no desktop plugin expected on {sys.platform}"
    plugins = platform_plugins()
    results, loadable = [], 0
    for name in wanted:
        file = plugins.get(name)
        if file is None:
            results.append(f"{name} missing")
            continue
        loader = QPluginLoader(str(file))
        if loader.load():
            loadable += 1
            results.append(f"{name} loads")
        else:
            results.append(f"{name} does not load ({loader.errorString()})")
    summary = "; ".join(results)
    if not loadable:
        raise RuntimeError(f"{summary} — install the system libraries Qt needs")
    return summary
