"""What makes the engine look again: ticks, clock jumps (resume), logind, the network;
and the plain-Python event hub the CLI and GUI share."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from piper_desktop.domain.events import EngineEvent, EngineEvents, EventKind
from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.engine.scheduler import Duty, build_scheduler
from piper_desktop.engine.wake import (
    LOGIND_INTERFACE,
    ClockJumpDetector,
    NetworkWatcher,
    is_resume_signal,
)
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import EventLog, add_account, add_media, make_engine, use_upload_post


def test_event_hub_delivers_to_subscribers_until_they_leave() -> None:
    hub = EngineEvents()
    seen: list[str] = []
    other: list[str] = []
    leave = hub.subscribe(lambda e: seen.append(e.message))
    hub.subscribe(lambda e: other.append(e.message))

    def broken(event: EngineEvent) -> None:
        raise RuntimeError("subscriber bug")

    hub.subscribe(broken)
    threads = [
        threading.Thread(target=hub.emit, args=(EngineEvent(EventKind.WAKE, f"m{i}"),))
        for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == sorted(f"m{i}" for i in range(20))
    leave()
    hub.emit(EngineEvent(EventKind.WAKE, "after"))
    assert "after" not in seen and "after" in other
    # secrets never leave the engine inside a message
    hub.emit(EngineEvent(EventKind.FAILED, "refused: access_token=abc.def.ghi"))
    assert "abc.def.ghi" not in other[-1]


def test_event_dict_and_line() -> None:
    event = EngineEvent(EventKind.PUBLISHED, "https://x/y", job_id=3, status="published")
    data = event.to_dict()
    assert data["kind"] == "published" and data["job_id"] == 3 and data["timestamp"].endswith("Z")
    assert event.line().endswith("job 3 published: https://x/y")
    assert event.final and event.notify


def test_clock_jump_detector_sees_suspend_and_clock_changes() -> None:
    detector = ClockJumpDetector(threshold=30)
    assert detector.observe(1000.0, 50.0) is None
    assert detector.observe(1060.0, 110.0) is None  # a normal minute
    assert detector.observe(4660.0, 170.0) == 3540.0  # an hour asleep, a minute awake
    assert detector.observe(4000.0, 230.0) == -720.0  # set back by twelve minutes


def test_logind_resume_signal_and_network_back() -> None:
    assert is_resume_signal("PrepareForSleep", LOGIND_INTERFACE, (False,))
    assert not is_resume_signal("PrepareForSleep", LOGIND_INTERFACE, (True,))  # going to sleep
    assert not is_resume_signal("SessionNew", LOGIND_INTERFACE, ("c1",))
    states = iter([("eth0",), (), (), ("wlan0",), ("wlan0",), ("wlan0", "eth0")])
    backs: list[int] = []
    watcher = NetworkWatcher(lambda: backs.append(1), signature=lambda: next(states))
    results = [watcher.poll() for _ in range(6)]
    assert results == [False, False, False, True, False, True]


def test_scheduler_is_built_with_explicit_misfire_policy(
    services: Services, clock: ManualClock
) -> None:
    engine = make_engine(services, clock)
    scheduler = build_scheduler(engine.duties())
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {
            "tick",
            "readiness",
            "token_refresh",
            "analytics_collect",
            "proxy_checks",
            "selector_probe",
            "network",
        }
        for job in jobs.values():
            assert job.coalesce is True
            assert job.max_instances == 1
            assert job.misfire_grace_time >= 1
        assert jobs["tick"].trigger.interval == timedelta(seconds=60)
    finally:
        scheduler.shutdown(wait=False)
    assert build_scheduler([Duty("x", 5, lambda: None, at_start=True)]).get_jobs()


def test_a_clock_jump_seen_by_the_tick_rechecks_what_is_due(
    services: Services, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    # a running engine, asleep until its next due job 20 minutes away; then the machine
    # is suspended for 25 minutes: the monotonic clock stood still, the wall clock moved
    clock = ManualClock(auto_advance=False)
    upload_post.state.clock = clock.time
    upload_post.state.polls_to_complete = 1
    use_upload_post(services, upload_post)
    account = add_account(services, "sleeper")
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "z.mp4").id,
        route="upload_post",
        at=clock.now() + timedelta(minutes=20),
        caption="wake me",
        now=clock.now(),
    )
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)
    engine.start()
    try:
        assert log.wait_for(lambda evs: any(e.kind == EventKind.ENGINE for e in evs))
        clock.jump(25 * 60)
        engine.tick()  # what the scheduler does every tick_seconds
        assert log.wait_for(
            lambda evs: any(e.kind == EventKind.PUBLISHED and e.job_id == job.id for e in evs)
        )
    finally:
        engine.stop(timeout=10)
    wakes = [e.message for e in log.of("wake")]
    assert any("wall clock moved 1500s ahead" in m for m in wakes)
    assert services.jobs.get(job.id).status == "published"
    assert engine.state == "stopped"
