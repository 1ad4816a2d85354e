"""The first window comes before the heavy layers (issue 17, fast first window): the real
`piper` program started offscreen says, at its first window, which heavy modules it had
imported; and the dashboard shows its placeholders at once and its data when it comes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from piper_desktop import startup_probe
from piper_desktop.store.vault import create_vault
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.main_window import MainWindow
from tests.conftest import MASTER_PASSWORD, piper_cmd, piper_env
from tests.ui.artifacts import save_screen


def _first_window(data_dir: Path, **env: str) -> tuple[list[str], dict[str, bool]]:
    """Start `piper` offscreen; the probe lines it printed and the modules loaded then."""
    done = subprocess.run(
        [*piper_cmd(), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env=piper_env(
            data_dir, QT_QPA_PLATFORM="offscreen", **{startup_probe.MODULES_ENV: "1"}, **env
        ),
    )
    assert done.returncode == 0, done.stderr[-500:]
    lines = done.stdout.splitlines()
    modules = [line for line in lines if line.startswith(startup_probe.MODULES_PREFIX)]
    assert modules, done.stdout[-500:]
    return lines, json.loads(modules[0][len(startup_probe.MODULES_PREFIX) :])


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "vault"
    create_vault(folder, MASTER_PASSWORD).close()
    return folder


def test_the_unlock_dialog_is_shown_before_the_heavy_modules_are_imported(
    vault_dir: Path,
) -> None:
    lines, loaded = _first_window(
        vault_dir, PIPER_PASSWORD="", **{startup_probe.EXIT_ENV: "unlock"}
    )
    assert any(line.startswith(startup_probe.UNLOCK_PREFIX) for line in lines)
    # nothing of the application proper: the dialog needs Qt and the vault's file name
    assert {name for name, yes in loaded.items() if yes} <= {"sqlcipher3"}, loaded


def test_the_main_window_is_shown_before_the_browser_media_and_http_layers(
    vault_dir: Path,
) -> None:
    lines, loaded = _first_window(vault_dir, **{startup_probe.EXIT_ENV: "1"})
    assert any(line.startswith(startup_probe.LINE_PREFIX) for line in lines)
    for name in (
        "playwright",
        "av",
        "httpx",
        "pyqtgraph",
        "piper_desktop.engine",
        "piper_desktop.browser",
    ):
        assert loaded[name] is False, (name, loaded)


def test_the_dashboard_shows_placeholders_then_its_data(ctx: AppContext, qtbot, pool_tasks) -> None:
    ctx.services.accounts.add({"username": "first"})
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    dashboard = window.panels["dashboard"]
    # shown, its data still on a pool thread: placeholders, not numbers
    assert dashboard.loads == 0  # type: ignore[attr-defined]
    assert dashboard.metrics["published"].value.text() == "–"  # type: ignore[attr-defined]
    save_screen(window, "startup-placeholders")
    published = dashboard.metrics["published"].value  # type: ignore[attr-defined]
    # then the data: the week and the lists, and after them today's results
    qtbot.waitUntil(lambda: dashboard.loads > 0, timeout=20_000)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: published.text() == "0", timeout=20_000)
    assert dashboard.metrics["needs_attention"].value.text() == "0"  # type: ignore[attr-defined]
    save_screen(window, "startup-with-data")
    pool_tasks.wait(10_000)
