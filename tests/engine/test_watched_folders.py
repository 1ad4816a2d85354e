"""intake/folders.py: a watched folder's finished videos become jobs, then move on.

The watcher runs on a ManualClock that moves only when told: "stable for N seconds"
is the test advancing the clock, never a sleep. Observations are waited on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.intake.folders import FolderWatcher
from piper_desktop.intake.watch_config import WatchedFolder, add_folder, read_state
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.conftest import make_video
from tests.engine.helpers import add_account, make_engine, use_upload_post

STABLE = 5.0


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


@pytest.fixture
def wclock() -> ManualClock:
    return ManualClock(auto_advance=False)


def watcher_for(services: Services, wclock: ManualClock, *, events: bool) -> FolderWatcher:
    return FolderWatcher(services, wclock, stable_seconds=STABLE, scan_seconds=3600, events=events)


@pytest.fixture
def watched(
    services: Services, folder: Path, wclock: ManualClock
) -> Iterator[tuple[WatchedFolder, FolderWatcher]]:
    add_account(services, "carol")
    entry = add_folder(
        services, folder, account="carol", route="upload_post", caption_template="{stem} on {date}"
    )
    watcher = watcher_for(services, wclock, events=True)
    watcher.start()
    yield entry, watcher
    watcher.stop()


def seen_whole(watcher: FolderWatcher, *paths: Path) -> bool:
    """Wait until the watcher has seen each file at its final size (change events arrive
    late: advancing the clock before the last one would restart its stability)."""
    return watcher.wait_for(lambda: all(watcher.observed.get(p) == p.stat().st_size for p in paths))


def video_bytes(tmp_path: Path, name: str = "src.mp4") -> bytes:
    return make_video(tmp_path, name).read_bytes()


def test_a_file_written_slowly_is_taken_only_when_finished(
    services: Services,
    folder: Path,
    tmp_path: Path,
    wclock: ManualClock,
    watched: tuple[WatchedFolder, FolderWatcher],
) -> None:
    _entry, watcher = watched
    data = video_bytes(tmp_path)
    target = folder / "clip.mp4"
    thirds = [
        data[: len(data) // 3],
        data[len(data) // 3 : 2 * len(data) // 3],
        data[2 * len(data) // 3 :],
    ]
    written = 0
    for number, chunk in enumerate(thirds):
        with open(target, "ab") as handle:
            handle.write(chunk)
        written += len(chunk)
        # the change event makes the watcher look at once (the scan is an hour away)
        assert watcher.wait_for(lambda w=written: watcher.observed.get(target) == w)
        if number < 2:
            wclock.advance(STABLE - 1)  # not quite stable: the next chunk comes first
            watcher.scan()
            assert target.exists() and not (folder / "done").exists()
    wclock.advance(STABLE + 1)
    assert watcher.wait_for(lambda: watcher.taken == ["done/clip.mp4"])
    moved = folder / "done" / "clip.mp4"
    assert moved.read_bytes() == data and not target.exists()
    [job] = services.jobs.list()
    media = services.media.get(job.media_id)
    assert Path(media.path) == moved.resolve()
    assert job.caption.startswith("clip on ")
    state = read_state(services)[_entry.id]
    assert state["last_taken"]["name"] == "clip.mp4" and not state["pending"]


def test_a_partial_download_name_waits_until_renamed(
    services: Services,
    folder: Path,
    tmp_path: Path,
    wclock: ManualClock,
    watched: tuple[WatchedFolder, FolderWatcher],
) -> None:
    _entry, watcher = watched
    partial = folder / "clip.mp4.crdownload"
    partial.write_bytes(video_bytes(tmp_path))
    (folder / "~lock.mp4").write_bytes(b"x")
    wclock.advance(STABLE * 3)
    watcher.scan()
    assert watcher.taken == [] and services.jobs.list() == []
    partial.rename(folder / "clip.mp4")
    assert seen_whole(watcher, folder / "clip.mp4")
    wclock.advance(STABLE + 1)
    assert watcher.wait_for(lambda: watcher.taken == ["done/clip.mp4"])
    assert (folder / "~lock.mp4").exists()


def test_sidecars_give_the_caption_and_a_bad_one_fails_naming_the_field(
    services: Services,
    folder: Path,
    tmp_path: Path,
    wclock: ManualClock,
    watched: tuple[WatchedFolder, FolderWatcher],
) -> None:
    _entry, watcher = watched
    (folder / "a.txt").write_text("Caption from a text file\n")
    make_video(folder, "a.mp4")
    (folder / "b.json").write_text(
        json.dumps({"caption": "From JSON", "hashtags": ["cats", "#dogs"]})
    )
    make_video(folder, "b.mp4")
    (folder / "c.json").write_text(json.dumps({"caption": "x", "at": "next tuesday", "colour": 1}))
    make_video(folder, "c.mp4")
    assert seen_whole(watcher, *(folder / f"{n}.mp4" for n in "abc"))
    wclock.advance(STABLE + 1)
    assert watcher.wait_for(lambda: len(watcher.taken) == 3)
    captions = sorted(job.caption for job in services.jobs.list())
    assert captions == ["Caption from a text file", "From JSON #cats #dogs"]
    assert (folder / "done" / "a.txt").exists() and (folder / "done" / "b.json").exists()
    assert (folder / "failed" / "c.mp4").exists() and (folder / "failed" / "c.json").exists()
    reason = (folder / "failed" / "c.mp4.reason.txt").read_text()
    assert reason.count("\n") == 1
    assert "at must be auto, now or an ISO 8601" in reason and "unknown field 'colour'" in reason
    assert (folder / "failed" / "c.mp4.reason.txt").stat().st_mode & 0o077 == 0


def test_a_refused_file_goes_to_failed_with_the_reason_and_names_do_not_collide(
    services: Services,
    folder: Path,
    tmp_path: Path,
    wclock: ManualClock,
    watched: tuple[WatchedFolder, FolderWatcher],
) -> None:
    entry, watcher = watched
    data = video_bytes(tmp_path)
    (folder / "done").mkdir()
    (folder / "done" / "clip.mp4").write_bytes(b"an older clip")
    (folder / "clip.mp4").write_bytes(data)
    assert seen_whole(watcher, folder / "clip.mp4")
    wclock.advance(STABLE + 1)
    assert watcher.wait_for(lambda: watcher.taken == ["done/clip (2).mp4"])
    # the same content again: the duplicate guard refuses it
    (folder / "clip.mp4").write_bytes(data)
    (folder / "notes.mp4").write_text("not a video")
    assert seen_whole(watcher, folder / "clip.mp4", folder / "notes.mp4")
    wclock.advance(STABLE + 1)
    assert watcher.wait_for(lambda: len(watcher.taken) == 3)
    failed = folder / "failed"
    assert "already" in (failed / "clip.mp4.reason.txt").read_text()
    assert (failed / "notes.mp4.reason.txt").read_text().strip()
    assert len(services.jobs.list()) == 1
    state = read_state(services)[entry.id]
    assert state["last_failed"]["reason"]


def test_files_present_before_start_are_taken_by_the_scan_without_events(
    services: Services, folder: Path, tmp_path: Path, wclock: ManualClock
) -> None:
    add_account(services, "dan", group="crew")
    add_account(services, "eve", group="crew")
    add_folder(services, folder, group="crew", route="upload_post")
    make_video(folder, "early.mp4")
    watcher = watcher_for(services, wclock, events=False)
    watcher.start()
    try:
        assert watcher.wait_for(lambda: folder / "early.mp4" in watcher.observed)
        make_video(folder, "later.mp4")  # no events: seen at the next scan only
        wclock.advance(STABLE + 1)
        assert watcher.wait_for(lambda: watcher.taken == ["done/early.mp4"])
        assert folder / "later.mp4" not in watcher.observed
        wclock.advance(3600)
        assert watcher.wait_for(lambda: folder / "later.mp4" in watcher.observed)
        wclock.advance(STABLE + 1)
        assert watcher.wait_for(lambda: len(watcher.taken) == 2)
    finally:
        watcher.stop()
    accounts = sorted(services.accounts.get(j.account_id).username for j in services.jobs.list())
    assert accounts == ["dan", "dan", "eve", "eve"]


def test_a_take_interrupted_after_queueing_finishes_as_done_not_as_a_duplicate(
    services: Services, folder: Path, wclock: ManualClock
) -> None:
    add_account(services, "carol")
    entry = add_folder(services, folder, account="carol", route="upload_post")
    video = make_video(folder, "clip.mp4")
    watcher = watcher_for(services, wclock, events=False)
    watcher.reload()
    # as if killed right after the job was made: journal written, file moved, job queued
    original = watcher._finish
    watcher._finish = lambda *a: (_ for _ in ()).throw(SystemExit)  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        watcher.take(watcher.folders[entry.id], video)
    second = make_video(folder, "second.mp4")
    with pytest.raises(SystemExit):
        watcher.take(watcher.folders[entry.id], second)
    # both journal entries are on disk (a nested change once went unwritten)
    assert sorted(read_state(services)[entry.id]["pending"]) == ["clip.mp4", "second.mp4"]
    assert len(services.jobs.list()) == 2
    # the file is back where it was (the crash came before the move, in another order)
    (folder / "done" / "clip.mp4").rename(video)
    restarted = watcher_for(services, wclock, events=False)
    restarted.start()
    restarted.stop()
    watcher._finish = original  # type: ignore[method-assign]
    assert len(services.jobs.list()) == 2
    assert (folder / "done" / "clip.mp4").exists() and not (folder / "failed").exists()
    assert (folder / "done" / "second.mp4").exists()
    assert not read_state(services)[entry.id]["pending"]
    job = services.jobs.list()[0]
    assert Path(services.media.get(job.media_id).path) == (folder / "done" / "clip.mp4").resolve()


def test_the_moved_file_is_published_on_upload_post(
    services: Services,
    folder: Path,
    wclock: ManualClock,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
) -> None:
    use_upload_post(services, upload_post)
    add_account(services, "carol")
    add_folder(
        services,
        folder,
        account="carol",
        route="upload_post",
        slot="now",
        caption_template="{name}",
    )
    video = make_video(folder, "clip.mp4")
    data = video.read_bytes()
    watcher = watcher_for(services, wclock, events=False)
    watcher.start()
    try:
        assert watcher.wait_for(lambda: video in watcher.observed)
        wclock.advance(STABLE + 1)
        assert watcher.wait_for(lambda: watcher.taken == ["done/clip.mp4"])
    finally:
        watcher.stop()
    # the job's slot is "now" on the real clock (JobService.add's own time)
    make_engine(services, ManualClock(datetime.now(UTC))).run_once()
    [job] = services.jobs.list()
    done = services.jobs.get(job.id)
    assert done.status == "published", (done.attention_reason, done.last_error)
    [upload] = upload_post.uploads
    assert upload["title"] == "clip.mp4"
    assert (folder / "done" / "clip.mp4").read_bytes() == data


def test_the_engine_hosts_the_watcher_only_when_folders_exist(
    services: Services, folder: Path, clock: ManualClock
) -> None:
    engine = make_engine(services, clock)
    engine.start()
    try:
        assert "watched folders" not in engine.hosted.statuses()
    finally:
        engine.stop(timeout=5)
    add_account(services, "carol")
    add_folder(services, folder, account="carol", route="upload_post")
    engine = make_engine(services, clock)
    engine.start()
    try:
        assert engine.hosted.statuses()["watched folders"].startswith("watching 1 folder")
    finally:
        engine.stop(timeout=5)
