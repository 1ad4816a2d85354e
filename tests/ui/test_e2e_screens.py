"""The real program on a real (virtual) X display, like an operator starts it: it unlocks
from the environment, shows each panel once its data has loaded, photographs it and
quits. The pictures land in test-artifacts/screenshots/ for people to look at."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from piper_desktop.engine import Engine
from piper_desktop.sandbox.demo import DemoEnvironment, gradient_png, start_demo
from piper_desktop.store.models import Artifact, Job
from tests.conftest import REPO, piper_cmd

ARTIFACTS = REPO / "test-artifacts" / "screenshots"
PANELS = [
    "01-dashboard",
    "02-accounts",
    "03-proxies",
    "04-profiles",
    "05-media",
    "06-campaigns",
    "07-jobs",
    "08-performance",
    "09-settings",
    "10-job-details",
    "11-campaign-wizard",
    "12-account-form",
    "13-dark-jobs",
]


@pytest.fixture
def display() -> Iterator[str]:
    """A private Xvfb display; its number is read from -displayfd once it is ready."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (scripts/setup.sh installs it)")
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    try:
        assert number.isdigit(), "Xvfb did not report a display"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def prepared(tmp_path: Path) -> Iterator[DemoEnvironment]:
    """A data dir with history: what was due is published, one job failed with a
    screenshot kept as evidence."""
    demo = start_demo(tmp_path / "try")
    try:
        services = demo.services()
        Engine(services, watch_system=False).run_once()
        with demo.db.write() as session:
            failed = Job(
                account_id=3,
                media_id=5,
                route="browser",
                status="failed",
                caption="Ten minutes for your back #fitness",
                last_error="the post button never became enabled (captured the page)",
                attempts=3,
            )
            session.add(failed)
            session.flush()
            session.add(
                Artifact(
                    job_id=failed.id,
                    name="failure.png",
                    content_type="image/png",
                    content=gradient_png(480, 270, 9),
                )
            )
        demo.db.close()  # the program opens the vault itself
        yield demo
    finally:
        demo.close()


@pytest.mark.slow
@pytest.mark.gui
def test_the_real_app_photographs_each_panel(
    display: str, prepared: DemoEnvironment, tmp_path: Path
) -> None:
    shots = tmp_path / "shots"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPER_")}
    env.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        PIPER_PASSWORD=prepared.password,
        PIPER_SCREENSHOT_DIR=str(shots),
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        HOME=str(tmp_path / "home"),  # nothing of the test machine's user settings
    )
    done = subprocess.run(
        [*piper_cmd(), "--data-dir", str(prepared.data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    index = json.loads((shots / "index.json").read_text(encoding="utf-8"))
    assert index["title"].startswith("Piper Desktop")
    assert index["screenshots"] == [f"{name}.png" for name in PANELS]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name in PANELS:
        image = QImage(str(shots / f"{name}.png"))
        assert not image.isNull(), name
        assert image.width() >= 500 and image.height() >= 400, name
        # a real picture, not a blank window: many distinct colours
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 37)
            for y in range(0, image.height(), 23)
        }
        assert len(colours) > 8, name
        shutil.copy(shots / f"{name}.png", ARTIFACTS / f"{name}.png")
    # the program quit cleanly and left the vault closed and readable
    from piper_desktop.store.vault import unlock_vault

    unlock_vault(prepared.data_dir, prepared.password).close()


@pytest.mark.slow
@pytest.mark.gui
def test_password_on_stdin_unlocks_without_a_dialog(data_dir: Path, tmp_path: Path) -> None:
    from piper_desktop.startup_probe import EXIT_ENV, REPORT_ENV, parse_line
    from piper_desktop.store.vault import create_vault
    from tests.conftest import MASTER_PASSWORD

    create_vault(data_dir, MASTER_PASSWORD).close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPER_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        HOME=str(tmp_path / "home"),
        **{REPORT_ENV: "1", EXIT_ENV: "1"},
    )
    command = [*piper_cmd(), "--data-dir", str(data_dir), "--password-stdin", "--minimized"]
    done = subprocess.run(
        command, input=MASTER_PASSWORD + "\n", env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert any(parse_line(line) for line in done.stdout.splitlines())  # it came up
    wrong = subprocess.run(
        command, input="not it\n", env=env, capture_output=True, text=True, timeout=120
    )
    assert wrong.returncode == 2 and "wrong master password" in wrong.stderr
