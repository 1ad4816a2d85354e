"""The real `piper run` watching a folder, killed with SIGKILL while files arrive: every
file is queued exactly once, none is lost, none lands in failed/."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from piper_desktop.domain import watch_folders as wf
from piper_desktop.domain.services import Services
from tests.conftest import make_video, piper_cmd, piper_env
from tests.engine.helpers import add_account

pytestmark = [pytest.mark.slow, pytest.mark.local_store]


def eventually(check: Callable[[], bool], timeout: float = 90.0) -> None:
    """Wait for a condition the child process brings about (polled, bounded)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def start(data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*piper_cmd(), "run", "--json"],
        env=piper_env(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )


def test_kill_9_while_files_arrive_queues_each_file_exactly_once(
    services: Services, data_dir: Path, tmp_path: Path
) -> None:
    services.settings.set("watch.stable_seconds", 1)
    services.settings.set("watch.scan_seconds", 2)
    add_account(services, "carol")
    add_account(services, "dan", group="crew")
    add_account(services, "erin", group="crew")
    drop = tmp_path / "drop"
    drop.mkdir()
    wf.add(services, drop, group="crew")
    src = tmp_path / "src"
    names = [f"clip{i}.mp4" for i in range(9)]
    for name in names:
        make_video(src, name)
    done = drop / "done"

    def taken() -> int:
        return len(list(done.glob("*.mp4"))) if done.exists() else 0

    def drop_in(batch: list[str]) -> None:
        for name in batch:
            # written under a partial name, then renamed, as a browser saves a download
            part = drop / (name + ".part")
            part.write_bytes((src / name).read_bytes())
            part.rename(drop / name)

    for batch, kill_at in ((names[0:3], 1), (names[3:6], 4)):
        proc = start(data_dir)
        try:
            drop_in(batch)
            eventually(lambda goal=kill_at: taken() >= goal)
            drop_in(names[6:7] if kill_at == 4 else [])
        finally:
            proc.kill()  # SIGKILL, while files are still being taken
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    proc = start(data_dir)
    try:
        drop_in(names[7:])
        eventually(lambda: taken() == len(names))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not (drop / "failed").exists()
    assert sorted(p.name for p in done.iterdir()) == sorted(names)
    jobs = services.jobs.list()
    # two accounts in the group: exactly two jobs per file
    per_media: dict[int, list[int]] = {}
    for job in jobs:
        per_media.setdefault(job.media_id, []).append(job.account_id)
    assert len(per_media) == len(names)
    assert all(sorted(ids) == sorted(set(ids)) and len(ids) == 2 for ids in per_media.values())
    for media_id in per_media:
        path = Path(services.media.get(media_id).path)
        assert path.parent == done and path.exists()
