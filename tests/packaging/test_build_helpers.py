"""What piper.spec keeps and drops, checked without running PyInstaller."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from piper_desktop.cli import main as cli_main

from .helpers import REPO, build_helpers

bh = build_helpers()


def test_used_qt_modules_reads_every_import_form(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "from PySide6.QtCore import Qt\nimport PySide6.QtSvg\n", encoding="utf-8"
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text(
        "from PySide6 import (\n    QtGui,\n    QtQuickWidgets,\n)\n", encoding="utf-8"
    )
    assert bh.used_qt_modules(tmp_path) == {"QtCore", "QtSvg", "QtGui", "QtQuickWidgets"}


@pytest.mark.parametrize(
    ("library", "module"),
    [
        ("libQt6Quick.so.6", "QtQuick"),
        ("/opt/qt/lib/libQt6WaylandClient.so.6", "QtWaylandClient"),
        ("Qt6Core.dll", "QtCore"),
        ("@rpath/QtGui.framework/Versions/A/QtGui", "QtGui"),
        ("libicuuc.so.73", None),
        ("libc.so.6", None),
    ],
)
def test_qt_module_name(library: str, module: str | None) -> None:
    assert bh.qt_module_name(library) == module


def test_excludes_keep_used_modules_and_what_they_link() -> None:
    installed = {
        name: Path(f"/qt/{name}.so")
        for name in ("QtCore", "QtGui", "QtWidgets", "QtQml", "QtQuick", "QtQuickWidgets", "QtHelp")
    }
    links = {
        "QtQuickWidgets": {"QtQuick", "QtWidgets"},
        "QtQuick": {"QtQml", "QtGui"},
        "QtQml": {"QtCore"},
    }

    def linked(path: Path) -> set[str]:
        return links.get(path.stem, set())

    assert bh.qt_module_excludes(installed, set(), linked) == [
        "PySide6.QtHelp",
        "PySide6.QtQml",
        "PySide6.QtQuick",
        "PySide6.QtQuickWidgets",
    ]
    assert bh.qt_module_excludes(installed, {"QtQuickWidgets"}, linked) == ["PySide6.QtHelp"]


def test_no_qt_module_the_sources_use_is_excluded() -> None:
    """Against the real PySide6 and the real sources, as the GUI grows."""
    used = bh.used_qt_modules(REPO / "piper_desktop")
    installed = bh.installed_qt_modules()
    excluded = {m.split(".", 1)[1] for m in bh.qt_module_excludes(installed, used)}
    assert "QtWidgets" in used
    assert not (excluded & used)
    assert "QtQuick" in excluded or "QtQuick" in used


def test_every_command_module_is_a_hidden_import() -> None:
    hidden = bh.command_hidden_imports()
    for name in cli_main.COMMAND_MODULES:
        assert f"piper_desktop.cli.{name}" in hidden
    cli_dir = REPO / "piper_desktop" / "cli"
    for name in cli_main.OPTIONAL_COMMAND_MODULES:
        assert (f"piper_desktop.cli.{name}" in hidden) == (cli_dir / f"{name}.py").exists()


def test_dropping_plugins_translations_and_playwright_types() -> None:
    qt = "PySide6/Qt"
    binaries = [
        (f"{qt}/plugins/platforms/libqxcb.so", "/src/libqxcb.so", "BINARY"),
        (f"{qt}/plugins/platforms/libqoffscreen.so", "/src/libqoffscreen.so", "BINARY"),
        (f"{qt}/plugins/platforms/libqeglfs.so", "/src/libqeglfs.so", "BINARY"),
        (f"{qt}/plugins/platformthemes/libqgtk3.so", "/src/libqgtk3.so", "BINARY"),
        (f"{qt}/plugins/platformthemes/libqxdgdesktopportal.so", "/src/p.so", "BINARY"),
        (
            f"{qt}/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so",
            "/src/vk.so",
            "BINARY",
        ),
        ("libfoo.so", "/src/libfoo.so", "BINARY"),
    ]
    kept, dropped = bh.split_qt_plugins(binaries)
    assert [dest.rsplit("/", 1)[-1] for dest, _, _ in kept] == [
        "libqxcb.so",
        "libqoffscreen.so",
        "libqxdgdesktopportal.so",
        "libfoo.so",
    ]
    assert len(dropped) == 3

    datas = [
        (f"{qt}/translations/qtbase_de.qm", "/src/de.qm", "DATA"),
        ("playwright/driver/package/types/protocol.d.ts", "/src/p.d.ts", "DATA"),
        ("playwright/driver/package/cli.js", "/src/cli.js", "DATA"),
        ("resources/sites/tiktok.json", "/src/tiktok.json", "DATA"),
    ]
    trimmed = bh.drop_playwright_extras(bh.drop_qt_translations(datas))
    assert [dest for dest, _, _ in trimmed] == [
        "playwright/driver/package/cli.js",
        "resources/sites/tiktok.json",
    ]


def test_libraries_only_dropped_plugins_needed_go() -> None:
    kept = [
        ("PySide6/QtWidgets.abi3.so", "/s/QtWidgets.abi3.so", "EXTENSION"),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", "/s/libQt6Widgets.so.6", "BINARY"),
        ("PySide6/Qt/lib/libQt6Gui.so.6", "/s/libQt6Gui.so.6", "BINARY"),
        ("libglib-2.0.so.0", "/s/libglib-2.0.so.0", "BINARY"),
        ("libgtk-3.so.0", "/s/libgtk-3.so.0", "BINARY"),
        ("libcairo.so.2", "/s/libcairo.so.2", "BINARY"),
        ("libloaded_by_ctypes.so", "/s/libloaded_by_ctypes.so", "BINARY"),
    ]
    dropped = [("PySide6/Qt/plugins/platformthemes/libqgtk3.so", "/s/libqgtk3.so", "BINARY")]
    graph = {
        "/s/QtWidgets.abi3.so": ["libQt6Widgets.so.6", "libc.so.6"],
        "/s/libQt6Widgets.so.6": ["libQt6Gui.so.6"],
        "/s/libQt6Gui.so.6": ["libglib-2.0.so.0"],
        "/s/libqgtk3.so": ["libgtk-3.so.0", "libQt6Gui.so.6", "libglib-2.0.so.0"],
        "/s/libgtk-3.so.0": ["libcairo.so.2", "libglib-2.0.so.0"],
    }
    result = bh.drop_orphaned_libraries(kept, dropped, lambda src: graph.get(src, []))
    assert [dest.rsplit("/", 1)[-1] for dest, _, _ in result] == [
        "QtWidgets.abi3.so",
        "libQt6Widgets.so.6",
        "libQt6Gui.so.6",
        "libglib-2.0.so.0",
        "libloaded_by_ctypes.so",
    ]


def test_packaging_files_are_in_place() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(REPO / "packaging" / "linux" / "piper-desktop.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"] == "piper"
    assert desktop["Icon"] == "piper-desktop"
    icons = REPO / "packaging" / "icons"
    assert (icons / "piper.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (icons / "piper.ico").read_bytes()[:4] == b"\0\0\1\0"  # an ICO directory
    assert (REPO / "resources" / "icons" / "piper.svg").is_file()
    iss = (REPO / "packaging" / "windows" / "piper.iss").read_text(encoding="utf-8")
    assert "PiperDesktop.exe" in iss


def test_node_ships_packed_with_its_manifest(tmp_path: Path) -> None:
    from piper_desktop.packed_node import ensure_unpacked, read_packed

    node = tmp_path / "site-packages" / "playwright" / "driver" / "node"
    node.parent.mkdir(parents=True)
    # A real program with symbols stands in for Node (the interpreter running this test).
    shutil.copy(sys.executable, node)
    # PyInstaller files Node under binaries (an executable); it leaves them for datas.
    binaries = [
        ("playwright/driver/node", str(node), "BINARY"),
        ("libfoo.so", "/src/libfoo.so", "BINARY"),
    ]
    datas = [("playwright/driver/package/cli.js", "/src/cli.js", "DATA")]

    new_binaries, new_datas = bh.packed_node(binaries, datas, tmp_path / "work")

    assert new_binaries == [("libfoo.so", "/src/libfoo.so", "BINARY")]
    assert [dest for dest, _, _ in new_datas] == [
        "playwright/driver/package/cli.js",
        "playwright/driver/node.xz",
        "playwright/driver/node.xz.json",
    ]
    archive = read_packed(Path(new_datas[1][1]))
    assert Path(new_datas[2][1]) == archive.manifest
    unpacked = ensure_unpacked(archive, tmp_path / "cache").path
    if sys.platform.startswith("linux") and shutil.which("strip"):
        # Stripped on the way: smaller than the original, still the same program.
        assert 0 < unpacked.stat().st_size < node.stat().st_size
        version = subprocess.run(
            [str(unpacked), "-c", "import sys; print(sys.version)"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert version.stdout.strip() == sys.version
    else:
        assert unpacked.read_bytes() == node.read_bytes()
    # A second build reuses the archive rather than packing Node again.
    before = archive.archive.stat().st_mtime_ns
    bh.packed_node(binaries, datas, tmp_path / "work")
    assert archive.archive.stat().st_mtime_ns == before


def test_what_uvicorn_loads_by_name_is_collected() -> None:
    """uvicorn finds its loop, HTTP and lifespan parts from "module:attr" strings, anyio
    its backend by name; every one lies in a package piper.spec collects whole."""
    import uvicorn.config

    refs = [
        *uvicorn.config.LOOP_FACTORIES.values(),
        *uvicorn.config.HTTP_PROTOCOLS.values(),
        *uvicorn.config.LIFESPAN.values(),
    ]
    modules = {ref.partition(":")[0] for ref in refs if ref}
    modules.add("anyio._backends._asyncio")  # anyio imports its backend by name
    assert modules
    for module in modules:
        assert module.split(".")[0] in bh.DYNAMIC_IMPORT_PACKAGES, module
    spec = (REPO / "piper.spec").read_text(encoding="utf-8")
    assert "for package in bh.DYNAMIC_IMPORT_PACKAGES:" in spec


def test_openblas_is_not_stripped() -> None:
    binaries = [
        ("numpy.libs/libscipy_openblas64_-x.so", "/src/a.so", "BINARY"),
        ("numpy/_core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so", "/src/b.so", "BINARY"),
    ]
    kept, datas = bh.unstripped(binaries, [("x.txt", "/src/x.txt", "DATA")])
    assert [d for d, _, _ in kept] == [binaries[1][0]]
    assert ("numpy.libs/libscipy_openblas64_-x.so", "/src/a.so", "DATA") in datas
    assert len(datas) == 2


def test_what_pyqtgraph_imports_is_kept() -> None:
    """The frozen app's charts import pyqtgraph, which imports these Qt modules itself."""
    script = (
        "import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
        "import pyqtgraph; pyqtgraph.PlotWidget();"
        "print(' '.join(m.split('.')[1] for m in sys.modules if m.startswith('PySide6.Qt')))"
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    installed = bh.installed_qt_modules()
    excluded = bh.qt_module_excludes(installed, bh.used_qt_modules(REPO / "piper_desktop"))
    assert [m for m in out if f"PySide6.{m}" in excluded] == []
