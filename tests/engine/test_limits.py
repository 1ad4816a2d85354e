"""Per-account limits, missed schedules and campaigns in motion, on an injected clock."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import EventLog, add_account, add_media, make_engine, use_upload_post


def _run_until_quiet(
    services: Services, clock: ManualClock, engine: object, limit: int = 200
) -> None:
    """Run the engine at each next due moment until nothing is left to do."""
    from piper_desktop.engine.dispatch import next_due

    for _ in range(limit):
        engine.run_once()  # type: ignore[attr-defined]
        with services.db.session() as session:
            due = next_due(session, clock.now())
        if due is None:
            return
        clock.set(due)
    raise AssertionError("the engine never went quiet")


def test_campaign_of_30_over_5_accounts_keeps_spacing_and_daily_caps(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    names = [f"acct{i}" for i in range(5)]
    for name in names:
        add_account(services, name, min_spacing_minutes=60, max_posts_per_day=3)
    media = [add_media(services, tmp_path, f"clip{i}.mp4").id for i in range(30)]
    campaign = services.campaigns.create(
        {
            "name": "launch",
            "route": "upload_post",
            "media_ids": media,
            "account_selection": {"accounts": [f"tiktok:{n}" for n in names]},
            "caption_template": "clip for {account} on {date}",
        }
    )
    start = clock.now()
    ids = services.campaigns.start(campaign.id, now=start)
    assert len(ids) == 30
    engine = make_engine(services, clock)

    _run_until_quiet(services, clock, engine)

    jobs = [services.jobs.get(i) for i in ids]
    assert {j.status for j in jobs} == {"published"}
    assert services.campaigns.get(campaign.id).status == "completed"
    # the sandbox's own records (stamped with the same clock) prove spacing and caps
    uploads = upload_post.state.records.values()
    assert sorted(r.request_id for r in uploads) == sorted(j.uuid for j in jobs)
    per_user: dict[str, list[float]] = defaultdict(list)
    for record in uploads:
        per_user[record.user].append(record.created_at)
    assert sorted(per_user) == names
    for times in per_user.values():
        times.sort()
        assert len(times) == 6
        gaps = [b - a for a, b in pairwise(times)]
        assert min(gaps) >= 3600
        days = defaultdict(int)
        for t in times:
            days[datetime.fromtimestamp(t, UTC).date()] += 1
        assert max(days.values()) <= 3
    # nothing posted in a burst: never two posts of one account in the same minute
    assert all(r.created_at >= start.timestamp() for r in uploads)


def test_daily_cap_holds_jobs_to_the_next_local_day(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "capped", max_posts_per_day=2, timezone="Asia/Tokyo")
    # explicit times (--at) are kept even outside any window; the cap holds for them too
    jobs = [
        services.jobs.add(
            account_id=account.id,
            media_id=add_media(services, tmp_path, f"c{i}.mp4").id,
            route="upload_post",
            at=clock.now(),
            caption=f"cap {i}",
            now=clock.now(),
        )
        for i in range(3)
    ]
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)
    engine.run_once()

    states = [services.jobs.get(j.id) for j in jobs]
    assert [s.status for s in states] == ["published", "published", "queued"]
    held = states[2]
    # 09:00 UTC on 2030-01-07 is 18:00 in Tokyo: the next local day starts at 15:00 UTC
    assert held.next_attempt_at == datetime(2030, 1, 7, 15, 0, tzinfo=UTC)
    assert held.attempts == 0 and held.last_error is None
    assert any("daily cap of 2" in e.message for e in log.of("held"))
    clock.set(held.next_attempt_at)
    engine.run_once()
    assert services.jobs.get(held.id).status == "published"


def test_engine_daily_post_cap_applies_below_the_accounts_own(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    services.settings.set("engine.daily_post_cap", 1)
    account = add_account(services, "platform_cap", max_posts_per_day=10)
    for i in range(2):
        services.jobs.add(
            account_id=account.id,
            media_id=add_media(services, tmp_path, f"p{i}.mp4").id,
            route="upload_post",
            at=clock.now(),
            caption=f"p {i}",
            now=clock.now(),
        )
    make_engine(services, clock).run_once()
    assert len(upload_post.uploads) == 1


def test_spacing_holds_automatic_jobs_but_not_pinned_ones(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "spaced", min_spacing_minutes=30)
    first = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "s0.mp4").id,
        route="upload_post",
        at="auto",
        caption="s0",
        now=clock.now(),
    )
    # an automatic job whose slot was taken early (e.g. edited): spacing still holds
    auto = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "s1.mp4").id,
        route="upload_post",
        at="auto",
        caption="s1",
        now=clock.now(),
    )
    pinned = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "s2.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="s2",
        now=clock.now(),
    )
    with services.db.write() as session:
        from piper_desktop.store.models import Job

        session.get(Job, auto.id).next_attempt_at = clock.now()  # type: ignore[union-attr]
    engine = make_engine(services, clock)
    engine.run_once()

    assert services.jobs.get(first.id).status == "published"
    assert services.jobs.get(pinned.id).status == "published"
    waiting = services.jobs.get(auto.id)
    assert waiting.status == "queued"
    posted_at = services.jobs.get(first.id).submitted_at
    assert waiting.next_attempt_at == posted_at + timedelta(minutes=30)


def test_cooldown_holds_jobs_until_it_ends_then_the_account_is_active(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "resting")
    until = clock.now() + timedelta(hours=2)
    services.accounts.set_status(account.id, "cooldown", "spam risk", cooldown_until=until)
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "w.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="after rest",
        now=clock.now(),
    )
    engine = make_engine(services, clock)
    engine.run_once()
    assert services.jobs.get(job.id).next_attempt_at == until
    assert upload_post.uploads == []
    clock.set(until)
    engine.run_once()
    assert services.jobs.get(job.id).status == "published"
    assert services.accounts.get(account.id).status == "active"


def test_missed_schedules_follow_the_stated_policy(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    services.settings.set("engine.grace_minutes", 30)
    account = add_account(services, "late", min_spacing_minutes=60)
    asleep_since = clock.now() - timedelta(hours=5)
    # within grace: runs now
    recent = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "m0.mp4").id,
        route="upload_post",
        at=clock.now() - timedelta(minutes=10),
        caption="m0",
        now=asleep_since,
    )
    # automatic slot, long missed: re-slotted after the account's spacing
    auto = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "m1.mp4").id,
        route="upload_post",
        at="auto",
        caption="m1",
        now=asleep_since,
    )
    # explicit time, long missed: the operator decides
    pinned = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "m2.mp4").id,
        route="upload_post",
        at=asleep_since + timedelta(hours=3),
        caption="m2",
        now=asleep_since,
    )
    # a campaign whose policy is "missed"
    campaign = services.campaigns.create(
        {
            "name": "strict",
            "route": "upload_post",
            "media_ids": [add_media(services, tmp_path, "m3.mp4").id],
            "account_selection": {"accounts": ["tiktok:late"]},
            "missed_policy": "missed",
            "caption_template": "m3",
        }
    )
    (strict,) = services.campaigns.start(campaign.id, now=asleep_since - timedelta(hours=1))
    engine = make_engine(services, clock)
    engine.run_once()

    assert services.jobs.get(recent.id).status == "published"
    moved = services.jobs.get(auto.id)
    assert moved.status == "queued"
    assert moved.scheduled_at >= clock.now() + timedelta(minutes=30)
    assert "reslotted" in [e.kind for e in services.jobs.events(auto.id)]
    flagged = services.jobs.get(pinned.id)
    assert (
        flagged.status == "needs_attention" and "missed its chosen time" in flagged.attention_reason
    )
    missed = services.jobs.get(strict)
    assert missed.status == "failed" and missed.last_error == "missed"
    assert services.campaigns.get(campaign.id).status == "completed"  # its only job
    assert len(upload_post.uploads) == 1
    # later, the re-slotted job goes out, an hour after the first post
    _run_until_quiet(services, clock, engine)
    posted = [services.jobs.get(i).submitted_at for i in (recent.id, auto.id)]
    assert services.jobs.get(auto.id).status == "published"
    assert posted[1] - posted[0] >= timedelta(minutes=60)


def test_a_missed_job_moved_since_the_pass_is_not_moved_again(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    from piper_desktop.engine.dispatch import Missed, reslot_missed

    account = add_account(services, "late")
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "m.mp4").id,
        route="upload_post",
        at="auto",
        caption="m",
        now=clock.now() - timedelta(hours=5),
    )
    # what a claim pass saw; by the time it re-slots, another process (a second pass of
    # the same finding) has moved the job already
    missed = Missed(job.id, services.jobs.get(job.id).next_attempt_at, 300)
    ledger = make_engine(services, clock).ledger
    reslot_missed(ledger, [missed])
    moved = services.jobs.get(job.id).next_attempt_at
    assert moved != missed.due and moved >= clock.now()
    reslot_missed(ledger, [missed])
    assert services.jobs.get(job.id).next_attempt_at == moved
    assert [e.kind for e in services.jobs.events(job.id)].count("reslotted") == 1


def test_pause_stops_new_claims_resume_reslots_and_completion_is_recorded(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    add_account(services, "p0", min_spacing_minutes=60)
    campaign = services.campaigns.create(
        {
            "name": "paused",
            "route": "upload_post",
            "media_ids": [add_media(services, tmp_path, f"q{i}.mp4").id for i in range(2)],
            "account_selection": {"accounts": ["tiktok:p0"]},
            "caption_template": "{title}",
        }
    )
    first, second = services.campaigns.start(campaign.id, now=clock.now())
    engine = make_engine(services, clock)
    services.campaigns.pause(campaign.id)
    engine.run_once()
    assert upload_post.uploads == []
    # three hours later the second slot has passed too; resume puts both in new slots
    clock.advance(3 * 3600)
    services.campaigns.resume(campaign.id, now=clock.now())
    slots = [services.jobs.get(i).scheduled_at for i in (first, second)]
    assert slots[0] == clock.now() and slots[1] == clock.now() + timedelta(hours=1)
    _run_until_quiet(services, clock, engine)
    assert [services.jobs.get(i).status for i in (first, second)] == ["published", "published"]
    assert services.campaigns.get(campaign.id).status == "completed"
    assert services.campaigns.progress(campaign.id)["percent"] == 100.0
