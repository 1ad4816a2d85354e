"""What `piper.spec` keeps and drops, as plain functions the tests can check.

The spec collects every `piper_desktop` module wholesale (the GUI, engine and browser
layers land while the build exists), then trims what a desktop app never loads: Qt
modules nothing imports, Qt plugins for embedded displays, Qt translations, debug
symbols in the Playwright driver's Node binary; and it ships that Node compressed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

# PyInstaller 6 TOC entries: (name in the app, source path, type code).
TocEntry = tuple[str, str, str]

# Qt modules the app may use without naming them in our sources (dependencies of the
# ones it names, or loaded by the platform plugins); never excluded.
QT_ALWAYS_KEEP = frozenset({"QtCore", "QtGui", "QtWidgets", "QtDBus", "QtSvg"})
# and those pyqtgraph (the Performance panel's charts) imports when it loads
QT_KEPT_FOR_LIBRARIES = frozenset({"QtOpenGL", "QtOpenGLWidgets", "QtTest"})

# Plugins for embedded or exotic displays, the virtual keyboard (which pulls in all of
# QtQuick), the GTK3 theme (which bundles the build machine's whole GTK stack, about 15 MB,
# where the desktop's own would be right; the xdg-desktop-portal theme stays), and image
# formats nobody imports videos' thumbnails or icons in. Paths are relative to Qt's plugins
# folder, without the library suffix.
QT_PLUGINS_DROPPED = (
    "platformthemes/libqgtk3",
    "imageformats/libqicns",
    "imageformats/libqtga",
    "imageformats/libqtiff",
    "imageformats/libqwbmp",
    "egldeviceintegrations/",
    "generic/",
    "platforms/libqeglfs",
    "platforms/libqlinuxfb",
    "platforms/libqminimalegl",
    "platforms/libqvkkhrdisplay",
    "platforms/libqvnc",
    "platforms/qdirect2d",
    "platforminputcontexts/libqtvirtualkeyboardplugin",
    "platforminputcontexts/qtvirtualkeyboardplugin",
    "imageformats/libqpdf",
    "imageformats/qpdf",
    "qmltooling/",
    "designer/",
    # QtNetwork is in for QLocalServer/QLocalSocket (single instance); its TLS backends
    # and network-information plugins serve QSslSocket and QNetworkInformation, which
    # Piper does not use (HTTP goes through httpx).
    "tls/",
    "networkinformation/",
)

# The UI speaks English; Qt's own strings (standard buttons) stay English too. Add
# prefixes such as "qtbase_de" here to ship a translation.
QT_TRANSLATIONS_KEPT: tuple[str, ...] = ()

# TypeScript declarations in the Playwright package: read by editors, never at run time.
# Libraries that import their parts by name at run time, out of the analysis' sight:
# uvicorn picks its loop, HTTP protocol and lifespan from "module:attr" strings (the
# local API, intake/api/server.py), anyio (under Starlette) its event-loop backend by
# name; piper.spec collects each one whole, whatever the contrib hooks' version does
DYNAMIC_IMPORT_PACKAGES = ("uvicorn", "anyio")

PLAYWRIGHT_DROPPED = ("playwright/driver/package/types/", "playwright/driver/package/index.d.ts")

_IMPORT_RE = re.compile(
    r"PySide6\.(Qt\w+)|from\s+PySide6\s+import\s+\(?([\w\s,]+)\)?", re.MULTILINE
)
_QT_LIB_RE = re.compile(r"^Qt6?([A-Za-z0-9]+?)(?:\.|$)")


def _norm(name: str) -> str:
    return name.replace("\\", "/")


def used_qt_modules(source_dir: Path) -> set[str]:
    """The `PySide6.Qt*` modules that any source file under `source_dir` names."""
    used: set[str] = set()
    for path in source_dir.rglob("*.py"):
        for match in _IMPORT_RE.finditer(path.read_text(encoding="utf-8", errors="replace")):
            if match.group(1):
                used.add(match.group(1))
            else:
                used.update(n for n in re.split(r"[\s,]+", match.group(2)) if n.startswith("Qt"))
    return used


def installed_qt_modules() -> dict[str, Path]:
    """PySide6's extension modules in this environment, by module name."""
    import PySide6

    folder = Path(PySide6.__file__).parent
    modules: dict[str, Path] = {}
    for path in folder.iterdir():
        name = path.name.split(".")[0]
        if name.startswith("Qt") and path.suffix in (".so", ".pyd"):
            modules[name] = path
    return modules


def qt_module_name(library: str) -> str | None:
    """ "QtQuick" for libQt6Quick.so.6, Qt6Quick.dll or @rpath/QtQuick.framework/.../QtQuick."""
    match = _QT_LIB_RE.match(_norm(library).split("/")[-1].removeprefix("lib"))
    return "Qt" + match.group(1) if match else None


def qt_libraries_linked(binary: Path) -> set[str]:
    """Qt module names (e.g. "QtQuick") whose shared libraries `binary` links."""
    from PyInstaller.depend import bindepend

    names = (qt_module_name(referenced) for referenced, _ in bindepend.get_imports(str(binary)))
    return {n for n in names if n}


def qt_module_excludes(
    installed: dict[str, Path],
    used: Iterable[str],
    linked: Callable[[Path], set[str]] = qt_libraries_linked,
) -> list[str]:
    """`PySide6.Qt*` modules to exclude: installed, and neither used nor needed by one used.

    A used module keeps the modules its library links (QtQuickWidgets keeps QtQuick and
    QtQml), so excluding never breaks a module the GUI imports.
    """
    keep = set(QT_ALWAYS_KEEP | QT_KEPT_FOR_LIBRARIES) | {m for m in used if m in installed}
    pending = list(keep)
    while pending:
        module = pending.pop()
        if module not in installed:
            continue
        for dependency in linked(installed[module]):
            if dependency in installed and dependency not in keep:
                keep.add(dependency)
                pending.append(dependency)
    return sorted(f"PySide6.{m}" for m in installed if m not in keep)


def command_hidden_imports() -> list[str]:
    """`piper`'s command modules, which cli.main imports by name at run time."""
    from piper_desktop.cli import main

    package = Path(main.__file__).parent
    names = list(main.COMMAND_MODULES) + [
        n for n in main.OPTIONAL_COMMAND_MODULES if (package / f"{n}.py").exists()
    ]
    return [f"piper_desktop.cli.{n}" for n in names]


def _plugin_path(dest: str) -> str | None:
    dest = _norm(dest)
    marker = "/plugins/"
    if "PySide6/" not in dest or marker not in dest:
        return None
    return dest.split(marker, 1)[1]


def split_qt_plugins(binaries: list[TocEntry]) -> tuple[list[TocEntry], list[TocEntry]]:
    """(kept, dropped): the Qt plugins in QT_PLUGINS_DROPPED go, everything else stays."""
    kept, dropped = [], []
    for entry in binaries:
        plugin = _plugin_path(entry[0])
        if plugin is not None and plugin.startswith(QT_PLUGINS_DROPPED):
            dropped.append(entry)
        else:
            kept.append(entry)
    return kept, dropped


def drop_qt_translations(datas: list[TocEntry]) -> list[TocEntry]:
    kept = []
    for entry in datas:
        dest = _norm(entry[0])
        is_translation = "PySide6/" in dest and "/translations/" in dest
        if is_translation and not Path(dest).name.startswith(QT_TRANSLATIONS_KEPT or ("\0",)):
            continue
        kept.append(entry)
    return kept


def drop_playwright_extras(datas: list[TocEntry]) -> list[TocEntry]:
    return [e for e in datas if not _norm(e[0]).startswith(PLAYWRIGHT_DROPPED)]


def _basename(name: str) -> str:
    return _norm(name).split("/")[-1]


def _default_imports(src: str) -> Iterable[str]:
    from PyInstaller.depend import bindepend

    return (_basename(name) for name, _ in bindepend.get_imports(src))


def drop_orphaned_libraries(
    kept: list[TocEntry],
    dropped: list[TocEntry],
    imports: Callable[[str], Iterable[str]] = _default_imports,
) -> list[TocEntry]:
    """Drop the libraries that only the dropped plugins needed.

    The analysis collected each plugin's dependencies with it (the GTK3 theme brings GTK,
    GDK, Cairo and Pango; the virtual keyboard brings QtQuick and QtQml). A library goes
    if a dropped plugin reaches it through the link graph and no kept binary does; a
    library nothing links (one loaded through ctypes, say) is never touched.
    """
    by_name = {_basename(e[0]): e for e in kept}

    def reach(sources: Iterable[str]) -> set[str]:
        found: set[str] = set()
        pending = list(sources)
        seen: set[str] = set()
        while pending:
            src = pending.pop()
            if src in seen:
                continue
            seen.add(src)
            for name in imports(src):
                if name in by_name and name not in found:
                    found.add(name)
                    pending.append(by_name[name][1])
        return found

    orphans = reach(e[1] for e in dropped)
    still_needed = reach(e[1] for e in kept if _basename(e[0]) not in orphans)
    gone = orphans - still_needed
    return [e for e in kept if _basename(e[0]) not in gone]


# libraries `strip` breaks: numpy's OpenBLAS (stripped, it no longer loads: "ELF load
# command address/offset not page-aligned")
UNSTRIPPABLE = ("numpy.libs/",)


def unstripped(
    binaries: list[TocEntry], datas: list[TocEntry], prefixes: tuple[str, ...] = UNSTRIPPABLE
) -> tuple[list[TocEntry], list[TocEntry]]:
    """Move the libraries under `prefixes` from the binaries (which COLLECT strips on
    Linux) to the data files (copied as they are, to the same place)."""
    keep = [entry for entry in binaries if not entry[0].replace("\\", "/").startswith(prefixes)]
    moved = [
        (dest, src, "DATA")
        for dest, src, _ in binaries
        if dest.replace("\\", "/").startswith(prefixes)
    ]
    return keep, datas + moved


def stripped_node(datas: list[TocEntry], workdir: Path) -> list[TocEntry]:
    """Swap Playwright's Node binary for a copy without debug symbols (Linux only).

    The driver's Node ships with symbols and debug info (27 MB of its 144 MB). COLLECT
    strips binaries, but Node is packed before that (`packed_node`), so it is done here.
    macOS signs Node (stripping would break the signature) and Windows' has no symbols.
    """
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        return datas
    result = []
    for dest, src, kind in datas:
        if _norm(dest) == "playwright/driver/node":  # node.exe (Windows) has no symbols
            target = workdir / "stripped" / "node"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists() or target.stat().st_mtime < Path(src).stat().st_mtime:
                shutil.copy2(src, target)
                subprocess.run([strip, str(target)], check=True)
            src = str(target)
        result.append((dest, src, kind))
    return result


def _is_node(dest: str) -> bool:
    return _norm(dest) in ("playwright/driver/node", "playwright/driver/node.exe")


def packed_node(
    binaries: list[TocEntry], datas: list[TocEntry], workdir: Path
) -> tuple[list[TocEntry], list[TocEntry]]:
    """(binaries, datas) with Playwright's Node swapped for `node.xz` and its manifest.

    PyInstaller files Node under binaries (it is an executable), and COLLECT would strip
    it there; as a packed data file it has to be stripped first (`stripped_node`), then
    compressed (117 MB -> 28 MB). The frozen app unpacks it on first use into the
    per-user cache (`piper_desktop.frozen.use_packed_playwright_node`). The archive is
    kept in the work dir and made again only when Node changes: packing takes a minute.
    """
    from piper_desktop.packed_node import pack_file

    nodes = [e for e in binaries + datas if _is_node(e[0])]
    binaries = [e for e in binaries if not _is_node(e[0])]
    datas = [e for e in datas if not _is_node(e[0])]
    for dest, src, _ in stripped_node([(d, s, "DATA") for d, s, _ in nodes], workdir):
        name = _basename(dest)
        packed = pack_file(Path(src), workdir / "packed" / f"{name}.xz")
        folder = _norm(dest).rsplit("/", 1)[0]
        datas.append((f"{folder}/{packed.archive.name}", str(packed.archive), "DATA"))
        datas.append((f"{folder}/{packed.manifest.name}", str(packed.manifest), "DATA"))
    return binaries, datas


def data_files_under(root: Path, folder: Path, patterns: Iterable[str]) -> list[tuple[str, str]]:
    """(source, destination folder) pairs for `Analysis(datas=...)`, skipping caches."""
    pairs = []
    for pattern in patterns:
        for path in sorted(folder.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                pairs.append((str(path), str(path.parent.relative_to(root))))
    return pairs
