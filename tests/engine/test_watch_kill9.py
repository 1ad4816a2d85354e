"""kill -9 of the real `piper run` while files arrive in a watched folder: each file is
queued exactly once and none is lost (intake/folders.py's journal)."""

from __future__ import annotations

import random
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.intake.watch_config import add_folder, read_state
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.conftest import make_video, piper_cmd, piper_env
from tests.engine.helpers import add_account

pytestmark = [pytest.mark.slow, pytest.mark.local_store]
FILES = 12


@pytest.fixture
def live_upload_post() -> Iterator[UploadPostSandbox]:
    with UploadPostSandbox(rate_limit=(100_000, 60.0)) as sandbox:
        yield sandbox  # type: ignore[misc]


def wait_until(predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    """Polls the file system (the child's progress shows only there)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_kill_9_while_files_arrive_queues_each_once(
    services: Services, data_dir: Path, tmp_path: Path, live_upload_post: UploadPostSandbox
) -> None:
    rng = random.Random(20)
    services.settings.set("upload_post.api_key", live_upload_post.api_key)
    services.settings.set("watch.stable_seconds", 1)
    services.settings.set("watch.scan_seconds", 1)
    add_account(services, "carol")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    add_folder(services, inbox, account="carol", route="upload_post", caption_template="{stem}")
    staging = tmp_path / "staging"
    staging.mkdir()
    sources = [make_video(staging, f"clip{i:02}.mp4") for i in range(FILES)]
    digests = {p.name: p.read_bytes() for p in sources}
    env = piper_env(data_dir, PIPER_UPLOAD_POST_BASE=live_upload_post.api_base)
    done = inbox / "done"

    def finished() -> int:
        return len(list(done.glob("*.mp4"))) if done.is_dir() else 0

    def journal() -> list[str]:
        return [n for s in read_state(services).values() for n in s.get("pending") or {}]

    pending = list(sources)
    kills = 0
    while finished() < FILES and kills < 8:
        proc = subprocess.Popen(
            [*piper_cmd(), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        try:
            for _ in range(rng.randint(1, 3)):
                if pending:
                    source = pending.pop(0)
                    source.rename(inbox / source.name)  # arrives whole, as a move does
            goal = min(FILES - len(pending), finished() + rng.randint(0, 2))
            wait_until(lambda g=goal: finished() >= g, 90)
        finally:
            proc.kill()  # SIGKILL: no clean-up of any kind
            proc.wait(30)
        kills += 1
    for source in pending:
        source.rename(inbox / source.name)
    proc = subprocess.Popen(
        [*piper_cmd(), "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        # a file is done once in done/ and out of the journal (a kill may leave it in
        # done/ before its job exists: the next start finishes it)
        assert wait_until(lambda: finished() == FILES and not journal(), 120), sorted(
            p.name for p in inbox.rglob("*")
        )
    finally:
        proc.terminate()
        proc.wait(60)
    assert not (inbox / "failed").exists()
    assert sorted(p.name for p in done.glob("*.mp4")) == sorted(digests)
    jobs = services.jobs.list()
    if len(jobs) != FILES:
        for log in (data_dir / "logs").glob("*"):
            print("".join(line for line in log.read_text().splitlines(True) if "intake" in line))
    by_media = Counter(job.media_id for job in jobs)
    assert len(jobs) == FILES and set(by_media.values()) == {1}, by_media
    for job in jobs:
        media = services.media.get(job.media_id)
        assert Path(media.path).parent == done.resolve()
        assert Path(media.path).read_bytes() == digests[Path(media.path).name]
    print(f"{kills} kills")
