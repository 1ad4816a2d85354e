"""Find the Chromium-family browser Piper drives.

Order: the setting / `PIPER_BROWSER`, then Playwright's own bundled Chromium if it was
installed, then a system Chromium, Chrome or Edge in the usual places.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

NOT_FOUND_HELP = (
    "no browser found: install chromium (apt install chromium) or set PIPER_BROWSER "
    "to a Chromium, Chrome or Edge executable"
)

_SYSTEM_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "microsoft-edge",
    "microsoft-edge-stable",
)
_LINUX_PATHS = (
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
    "/usr/bin/microsoft-edge",
    "/opt/microsoft/msedge/msedge",
)
_MAC_PATHS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
)
_WINDOWS_SUFFIXES = (
    r"Chromium\Application\chrome.exe",
    r"Google\Chrome\Application\chrome.exe",
    r"Microsoft\Edge\Application\msedge.exe",
)


class BrowserNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class BrowserExecutable:
    path: Path
    source: str  # "setting", "env PIPER_BROWSER", "playwright", "system"

    def describe(self) -> str:
        return f"{self.path} (from {self.source})"


def _is_executable(path: Path) -> bool:
    return path.is_file() and (sys.platform == "win32" or os.access(path, os.X_OK))


def playwright_browsers_dirs(env: Mapping[str, str]) -> list[Path]:
    """Where Playwright keeps the browsers `playwright install` downloads."""
    configured = env.get("PLAYWRIGHT_BROWSERS_PATH")
    dirs: list[Path] = []
    if configured and configured != "0":
        dirs.append(Path(configured))
    try:
        import playwright

        # PLAYWRIGHT_BROWSERS_PATH=0 (and frozen builds) keep them inside the package.
        dirs.append(Path(playwright.__file__).parent / "driver" / "package" / ".local-browsers")
    except ImportError:  # pragma: no cover - playwright is a dependency
        pass
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if sys.platform == "darwin":
        dirs.append(home / "Library" / "Caches" / "ms-playwright")
    elif sys.platform == "win32":
        local = env.get("LOCALAPPDATA")
        dirs.append(
            Path(local) / "ms-playwright" if local else home / "AppData/Local/ms-playwright"
        )
    else:
        dirs.append(Path(env.get("XDG_CACHE_HOME") or home / ".cache") / "ms-playwright")
    return dirs


def _bundled_candidates(root: Path) -> Iterable[Path]:
    patterns = (
        "chromium-*/chrome-linux*/chrome",
        "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
        "chromium-*/chrome-mac*/Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing",
        "chromium-*/chrome-win*/chrome.exe",
    )
    for pattern in patterns:
        yield from sorted(root.glob(pattern), reverse=True)


def _system_candidates(env: Mapping[str, str]) -> Iterable[Path]:
    for name in _SYSTEM_NAMES:
        found = shutil.which(name, path=env.get("PATH"))
        if found:
            yield Path(found)
    if sys.platform == "darwin":
        yield from (Path(p) for p in _MAC_PATHS)
    elif sys.platform == "win32":
        for var in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA"):
            base = env.get(var)
            if base:
                yield from (Path(base) / suffix for suffix in _WINDOWS_SUFFIXES)
    else:
        yield from (Path(p) for p in _LINUX_PATHS)


def find_browser(
    setting: str | None = None, env: Mapping[str, str] | None = None
) -> BrowserExecutable:
    """The browser to launch, and where it was found; BrowserNotFound if none."""
    env = os.environ if env is None else env
    for value, source in ((setting, "setting"), (env.get("PIPER_BROWSER"), "env PIPER_BROWSER")):
        if value:
            path = Path(value).expanduser()
            if not path.is_absolute():
                resolved = shutil.which(value, path=env.get("PATH"))
                path = Path(resolved) if resolved else path
            if not _is_executable(path):
                raise BrowserNotFound(f"the browser set by {source} is not an executable: {value}")
            return BrowserExecutable(path, source)
    for root in playwright_browsers_dirs(env):
        for candidate in _bundled_candidates(root):
            if _is_executable(candidate):
                return BrowserExecutable(candidate, "playwright")
    for candidate in _system_candidates(env):
        if _is_executable(candidate):
            return BrowserExecutable(candidate, "system")
    raise BrowserNotFound(NOT_FOUND_HELP)
