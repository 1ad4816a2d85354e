"""Watched folders (intake/folders.py) end to end: real files in a real folder, the
watcher hosted as the engine hosts it, the real engine publishing on the Upload-Post
stand-in. Time for the stability window moves only when the test advances the clock;
the test waits on the watcher's rounds, never on time."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.domain import origins
from piper_desktop.domain import watch_folders as wf
from piper_desktop.domain.intake import queue_file
from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.engine.hosted import HOSTED, EngineControls, HostContext
from piper_desktop.intake.folders import SOURCE, FolderWatcher, partial_name, watched_folders
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.conftest import make_video
from tests.engine.helpers import add_account, make_engine, use_upload_post

STABLE = 5


def context(services: Services, clock: ManualClock, **options: Any) -> HostContext:
    engine = make_engine(services, clock)
    controls = EngineControls(lambda: engine.state, engine.pause, engine.resume, engine.wake)
    return HostContext(services, services.events, clock, controls, None, options)


@contextmanager
def running(services: Services, clock: ManualClock, **options: Any) -> Iterator[FolderWatcher]:
    watcher = watched_folders(context(services, clock, **options))
    assert watcher is not None
    watcher.start()
    try:
        assert watcher.wait_rounds(1)
        yield watcher
    finally:
        watcher.stop()


def settle_round(watcher: FolderWatcher, clock: ManualClock, seconds: float = STABLE + 1) -> None:
    """One round sees the file as it is now, the clock passes the window, one more takes it."""
    assert watcher.wait_rounds(2)
    clock.advance(seconds)
    assert watcher.wait_rounds(2)


def setup(services: Services, tmp_path: Path, **where: Any) -> Path:
    services.settings.set("watch.stable_seconds", STABLE)
    services.settings.set("watch.scan_seconds", 10)
    add_account(services, "carol")
    drop = tmp_path / "drop"
    drop.mkdir()
    wf.add(services, drop, **(where or {"account": "carol"}))
    return drop


def test_the_factory_is_registered_and_needs_a_folder(
    services: Services, clock: ManualClock
) -> None:
    assert "piper_desktop.intake.folders:watched_folders" in HOSTED
    assert watched_folders(context(services, clock)) is None


def test_a_slowly_written_file_is_taken_only_when_finished_then_published(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    drop = setup(services, tmp_path)
    wf.remove(services, drop)
    wf.add(services, drop, account="carol", caption_template="{stem} on {date} #{folder}")
    data = make_video(tmp_path / "src", "clip.mp4").read_bytes()
    third = len(data) // 3
    with running(services, clock) as watcher:
        target = drop / "clip.mp4"
        with target.open("wb") as handle:
            for start in (0, third):
                handle.write(data[start : start + third])
                handle.flush()
                # each chunk arrives within the window: never taken while it grows
                assert watcher.wait_rounds(2)
                clock.advance(STABLE - 2)
                assert watcher.wait_rounds(2)
                assert target.exists() and services.jobs.list() == []
            handle.write(data[2 * third :])
        settle_round(watcher, clock)
        assert not target.exists()
    moved = drop / "done" / "clip.mp4"
    assert moved.read_bytes() == data
    [job] = services.jobs.list()
    assert job.caption == f"clip on {clock.now():%Y-%m-%d} #drop"
    # the media library points at the moved file, so the engine can upload it
    assert services.media.get(job.media_id).path == str(moved)
    assert origins.handled(services.db, SOURCE, f"1:{services.media.get(job.media_id).sha256}")
    assert job.scheduled_at is not None
    clock.set(job.scheduled_at)
    make_engine(services, clock).run_once()
    assert services.jobs.get(job.id).status == "published"
    [last] = [wf.status(services.settings, f) for f in wf.watched(services.settings)]
    assert last.last_taken is not None and last.last_taken.startswith("clip.mp4 at ")


def test_a_partial_download_name_waits_until_renamed(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    drop = setup(services, tmp_path)
    for name in (
        "a.mp4.part",
        "a.crdownload",
        "x.tmp",
        "y.download",
        "~z.mp4",
        ".hidden.mp4",
        "b.mp4~",
    ):
        assert partial_name(Path(name)), name
    assert not partial_name(Path("clip.mp4"))
    with running(services, clock) as watcher:
        part = make_video(drop, "movie.mp4.crdownload")
        settle_round(watcher, clock)
        assert part.exists() and services.jobs.list() == []
        part.rename(drop / "movie.mp4")
        settle_round(watcher, clock)
    assert (drop / "done" / "movie.mp4").exists()
    assert len(services.jobs.list()) == 1


def test_sidecars_txt_and_json_and_a_bad_json_fails_naming_the_field(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    drop = setup(services, tmp_path)
    (drop / "one.txt").write_text("sunset at the beach\n", encoding="utf-8")
    make_video(drop, "one.mp4")
    (drop / "two.json").write_text(
        json.dumps({"caption": "city lights", "hashtags": ["night", "#city"], "at": "now"}),
        encoding="utf-8",
    )
    make_video(drop, "two.mp4")
    (drop / "three.json").write_text(json.dumps({"caption": 5}), encoding="utf-8")
    make_video(drop, "three.mp4")
    with running(services, clock) as watcher:
        settle_round(watcher, clock)
    done, failed = drop / "done", drop / "failed"
    assert sorted(p.name for p in done.iterdir()) == ["one.mp4", "one.txt", "two.json", "two.mp4"]
    captions = {services.media.get(j.media_id).path: j for j in services.jobs.list()}
    assert captions[str(done / "one.mp4")].caption == "sunset at the beach"
    two = captions[str(done / "two.mp4")]
    assert two.caption == "city lights #night #city"
    assert two.scheduled_at is None or two.scheduled_at <= clock.now()
    assert sorted(p.name for p in failed.iterdir()) == [
        "three.json",
        "three.mp4",
        "three.mp4.reason.txt",
    ]
    assert stat.S_IMODE((failed / "three.mp4.reason.txt").stat().st_mode) == 0o600
    reason = (failed / "three.mp4.reason.txt").read_text(encoding="utf-8")
    assert reason.count("\n") == 1 and "caption" in reason and "must be text" in reason
    [folder] = wf.watched(services.settings)
    assert "three.mp4" in (wf.status(services.settings, folder).last_failed or "")


def test_a_refused_file_goes_to_failed_and_names_collide_safely(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    drop = setup(services, tmp_path)
    (drop / "failed").mkdir()
    (drop / "failed" / "bad.mp4").write_bytes(b"an older failure")
    (drop / "bad.mp4").write_bytes(b"not a video at all")
    (drop / "done").mkdir()
    (drop / "done" / "good.mp4").write_bytes(b"an older success")
    make_video(drop, "good.mp4")
    with running(services, clock) as watcher:
        settle_round(watcher, clock)
    assert (drop / "failed" / "bad.mp4").read_bytes() == b"an older failure"
    assert (drop / "failed" / "bad-2.mp4").read_bytes() == b"not a video at all"
    reason = (drop / "failed" / "bad-2.mp4.reason.txt").read_text(encoding="utf-8")
    assert reason.count("\n") == 1 and reason.startswith("path")
    assert (drop / "done" / "good.mp4").read_bytes() == b"an older success"
    [job] = services.jobs.list()
    assert services.media.get(job.media_id).path == str(drop / "done" / "good-2.mp4")


def test_a_group_target_queues_every_account(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    add_account(services, "dan", group="ClientB")
    add_account(services, "erin", group="ClientB")
    drop = setup(services, tmp_path, group="ClientB", route="upload_post")
    make_video(drop, "team.mp4")
    with running(services, clock) as watcher:
        settle_round(watcher, clock)
    jobs = services.jobs.list()
    assert len(jobs) == 2 and {j.route for j in jobs} == {"upload_post"}
    assert {services.accounts.get(j.account_id).username for j in jobs} == {"dan", "erin"}
    assert (drop / "done" / "team.mp4").exists()


@pytest.mark.parametrize("events", [True, False], ids=["watchdog-events", "scan-only"])
def test_files_present_at_start_and_arriving_later(
    services: Services, clock: ManualClock, tmp_path: Path, events: bool
) -> None:
    drop = setup(services, tmp_path)
    services.settings.set("watch.scan_seconds", 3600)  # only the first scan, or events
    make_video(drop, "early.mp4")
    with running(services, clock, watch_events=events) as watcher:
        assert watcher.events_on is events
        settle_round(watcher, clock, STABLE + 1)
        assert (drop / "done" / "early.mp4").exists()
        make_video(drop, "late.mp4")
        settle_round(watcher, clock, STABLE + 1)
        # no scan ran since start: only a watchdog event can have found it
        assert (drop / "done" / "late.mp4").exists() is events
        if not events:
            clock.advance(3600)  # the next scan finds it
            settle_round(watcher, clock)
            assert (drop / "done" / "late.mp4").exists()
    assert len(services.jobs.list()) == 2


def test_a_crash_after_queueing_before_the_move_moves_it_to_done_once(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    drop = setup(services, tmp_path)
    video = make_video(drop, "again.mp4")
    # what an earlier run left when killed after the settle, before the rename: the jobs,
    # their origin rows and the media item pointing into done/
    [folder] = wf.watched(services.settings)
    queued = queue_file(services, video, folder.target, now=clock.now())
    ref = f"{folder.id}:{queued.media.sha256}"
    origins.claim(services.db, SOURCE, ref)
    done = drop / "done" / "again.mp4"
    origins.settle(
        services.db,
        SOURCE,
        ref,
        [j.id for j in queued.jobs],
        also=lambda session: FolderWatcher._repoint(session, queued.media.id, done),
    )
    with running(services, clock) as watcher:
        settle_round(watcher, clock)
    assert done.exists() and not (drop / "failed").exists()
    assert len(services.jobs.list()) == 1
    assert services.media.get(queued.media.id).path == str(done)


def test_a_crash_after_the_claim_adopts_the_jobs_already_made(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    add_account(services, "dan", group="ClientB")
    add_account(services, "erin", group="ClientB")
    drop = setup(services, tmp_path, group="ClientB")
    video = make_video(drop, "half.mp4")
    [folder] = wf.watched(services.settings)
    media, _ = services.media.add(video)
    claim = origins.claim(services.db, SOURCE, f"{folder.id}:{media.sha256}")
    dan = services.accounts.find("dan")
    services.jobs.add(
        account_id=dan.id, media_id=media.id, route="upload_post", at="auto", now=clock.now()
    )
    assert not claim.resumed
    with running(services, clock) as watcher:
        settle_round(watcher, clock)
    jobs = services.jobs.list()
    assert sorted(services.accounts.get(j.account_id).username for j in jobs) == ["dan", "erin"]
    assert (drop / "done" / "half.mp4").exists()


def test_a_crash_before_the_media_was_repointed_still_moves_and_repoints(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    drop = setup(services, tmp_path)
    video = make_video(drop, "plain.mp4")
    [folder] = wf.watched(services.settings)
    queued = queue_file(services, video, folder.target, now=clock.now())
    ref = f"{folder.id}:{queued.media.sha256}"
    origins.claim(services.db, SOURCE, ref)
    origins.settle(services.db, SOURCE, ref, [j.id for j in queued.jobs])
    with running(services, clock) as watcher:
        settle_round(watcher, clock)
    assert len(services.jobs.list()) == 1
    assert services.media.get(queued.media.id).path == str(drop / "done" / "plain.mp4")


def test_a_sidecar_written_late_restarts_the_window(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    drop = setup(services, tmp_path)
    with running(services, clock) as watcher:
        make_video(drop, "late.mp4")
        assert watcher.wait_rounds(2)
        clock.advance(STABLE - 1)
        (drop / "late.txt").write_text("the caption came last", encoding="utf-8")
        assert watcher.wait_rounds(2)
        clock.advance(2)  # past the video's window, not the sidecar's
        assert watcher.wait_rounds(2)
        assert (drop / "late.mp4").exists()
        settle_round(watcher, clock)
    [job] = services.jobs.list()
    assert job.caption == "the caption came last"


def test_a_folder_added_while_running_is_watched_at_the_next_scan(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    setup(services, tmp_path)
    more = tmp_path / "more"
    more.mkdir()
    with running(services, clock) as watcher:
        wf.add(services, more, account="carol")
        make_video(more, "new.mp4")
        clock.advance(10)  # the next scan reads the folders again
        settle_round(watcher, clock)
        assert len(watcher.folders) == 2
    assert (more / "done" / "new.mp4").exists()
