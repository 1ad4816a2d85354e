"""The frozen (PyInstaller) app, run as a user would: self-test, shared data, headless start.

These run only when FROZEN_PIPER_APP names a built `piper` executable, as
scripts/ci_frozen_check.sh does after building and unpacking the Linux tarball
(the variable does not start with PIPER_, which the test set-up clears).
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

import pytest

from piper_desktop import startup_probe
from piper_desktop.selftest import CHECKS

from ..conftest import MASTER_PASSWORD, piper_cmd

FROZEN = os.environ.get("FROZEN_PIPER_APP")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not FROZEN, reason="set FROZEN_PIPER_APP to a built app (scripts/ci_frozen_check.sh does)"
    ),
]
TIMEOUT = 180


def frozen() -> Path:
    assert FROZEN
    return Path(FROZEN)


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without Piper's overrides, and without the source tree on the
    path: the frozen app must find everything inside itself."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PIPER_") and k not in ("PYTHONPATH", "PYTHONHOME")
    }
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


def run(command: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    result = subprocess.run(
        command, input=stdin, capture_output=True, text=True, env=env, timeout=TIMEOUT
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_frozen_self_test_passes() -> None:
    result = run([str(frozen()), "self-test"], clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0].split()[-1] for line in lines] == [c.name for c in CHECKS]
    for check, line in zip(CHECKS, lines, strict=True):
        if check.required:
            assert line.startswith("ok    "), line
    internal = str(frozen().resolve().parent)
    by_name = {c.name: line for c, line in zip(CHECKS, lines, strict=True)}
    # Found inside the app, not in the source tree or the build's virtualenv.
    for name in ("migrations", "resources", "playwright"):
        assert internal in by_name[name], by_name[name]


@pytest.mark.skipif(sys.platform == "win32", reason="Windows' data dir cannot be redirected")
def test_frozen_app_and_source_cli_share_the_default_data_dir(tmp_path: Path) -> None:
    """No PIPER_DATA_DIR: both find the per-user data dir of the same (temporary) home."""
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(HOME=str(home), PIPER_PASSWORD=MASTER_PASSWORD)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env.pop(var, None)
    source_env = env | {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}

    created = run([*piper_cmd(), "init", "--password-stdin"], source_env, MASTER_PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    where = run(
        [sys.executable, "-c", "from piper_desktop.paths import default_data_dir as d; print(d())"],
        source_env,
    )
    data_dir = Path(where.stdout.strip())
    assert home in data_dir.parents
    before = {p.name for p in data_dir.iterdir()}
    assert "piper.db" in before

    wrote = run([str(frozen()), "settings", "set", "openrouter.model", "from/frozen"], env)
    assert wrote.returncode == 0, wrote.stderr
    read = run([*piper_cmd(), "settings", "get", "openrouter.model"], source_env)
    assert read.stdout.strip() == "from/frozen"

    wrote = run([*piper_cmd(), "settings", "set", "openrouter.model", "from/source"], source_env)
    assert wrote.returncode == 0, wrote.stderr
    read = run([str(frozen()), "settings", "get", "openrouter.model"], env)
    assert read.stdout.strip() == "from/source"
    # Neither side made a second database somewhere else in the home.
    assert [p for p in home.rglob("piper.db")] == [data_dir / "piper.db"]


def test_frozen_gui_starts_headless_over_an_existing_data_dir_and_exits(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = clean_env(PIPER_DATA_DIR=str(data_dir), PIPER_PASSWORD=MASTER_PASSWORD)
    created = run([str(frozen()), "init", "--password-stdin"], env, MASTER_PASSWORD + "\n")
    assert created.returncode == 0, created.stderr

    started = run(
        [str(frozen())],
        env | {startup_probe.REPORT_ENV: "1", startup_probe.EXIT_ENV: "1"},
    )
    shown = [t for t in map(startup_probe.parse_line, started.stdout.splitlines()) if t]
    assert shown, f"no window line; stdout: {started.stdout!r} stderr: {started.stderr!r}"
    assert started.returncode == 0, started.stderr
    assert (data_dir / "piper.db").is_file()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux tarball only")
def test_tarball_installs_a_desktop_entry(tmp_path: Path) -> None:
    """Run from the unpacked tarball: its script installs a menu entry pointing at it."""
    folder = frozen().resolve().parent
    script = folder / "install-desktop-entry.sh"
    if not script.exists():
        pytest.skip("FROZEN_PIPER_APP is not an unpacked tarball")
    home = tmp_path / "home"
    env = clean_env(HOME=str(home), XDG_DATA_HOME=str(home / "share"))
    result = run(["sh", str(script)], env)
    assert result.returncode == 0, result.stderr
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(home / "share" / "applications" / "piper-desktop.desktop", encoding="utf-8")
    assert entry["Desktop Entry"]["Exec"] == f'"{folder / "piper"}"'
    assert (
        home / "share" / "icons" / "hicolor" / "scalable" / "apps" / "piper-desktop.svg"
    ).is_file()
    assert (home / ".local" / "bin" / "piper").resolve() == (folder / "piper").resolve()


def playwright_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.split(":", 1)[0].endswith("playwright")]
    assert len(lines) == 1, stdout
    return lines[0]


def test_frozen_node_ships_packed_and_unpacks_once_into_the_user_cache(tmp_path: Path) -> None:
    driver = frozen().resolve().parent / "_internal" / "playwright" / "driver"
    if not (driver / "node.xz").is_file():
        pytest.skip("this build ships Node uncompressed")
    assert not (driver / "node").exists()
    assert (driver / "package" / "cli.js").is_file()
    cache = tmp_path / "cache"
    env = clean_env(PIPER_CACHE_DIR=str(cache))

    first = run([str(frozen()), "self-test"], env)
    second = run([str(frozen()), "self-test"], env)

    assert first.returncode == 0, first.stdout + first.stderr
    assert second.returncode == 0, second.stdout + second.stderr
    unpacked = list((cache / "playwright-node").glob("*/node"))
    assert len(unpacked) == 1 and os.access(unpacked[0], os.X_OK)
    assert f"Node.js unpacked just now to {unpacked[0]}" in playwright_line(first.stdout)
    assert f"Node.js from {unpacked[0]}" in playwright_line(second.stdout)


def test_frozen_self_test_says_when_the_node_cache_is_not_writable(tmp_path: Path) -> None:
    driver = frozen().resolve().parent / "_internal" / "playwright" / "driver"
    if not (driver / "node.xz").is_file():
        pytest.skip("this build ships Node uncompressed")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")

    result = run([str(frozen()), "self-test"], clean_env(PIPER_CACHE_DIR=str(blocker)))

    assert result.returncode == 1
    line = playwright_line(result.stdout)
    assert line.startswith("FAIL  playwright: "), line
    assert "not writable" in line and str(blocker) in line and "PIPER_CACHE_DIR" in line


def test_frozen_app_runs_playwrights_command_line(tmp_path: Path) -> None:
    """`piper playwright install chromium` is how a frozen-only machine gets Chromium."""
    env = clean_env(PIPER_CACHE_DIR=str(tmp_path / "cache"))
    result = run([str(frozen()), "playwright", "install", "--dry-run", "chromium"], env)
    assert result.returncode == 0, result.stderr
    assert "chromium" in result.stdout.lower() and "Install location" in result.stdout
