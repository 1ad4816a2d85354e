"""Retries with backoff, route fallback, the duplicate guard — with the clock injected."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.engine.runner import next_route, retry_delay
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.models import Job
from tests.engine.helpers import (
    EventLog,
    add_account,
    add_media,
    connect_tiktok,
    make_engine,
    use_tiktok,
    use_upload_post,
)

UPLOAD = r"^/api/upload$"


def test_retry_delay_doubles_with_bounded_jitter() -> None:
    rng = random.Random(3)
    for attempt, low in [(1, 60), (2, 120), (3, 240)]:
        delay = retry_delay(attempt, 60, jitter=0.25, rng=rng)
        assert low <= delay < low * 1.25
    assert retry_delay(1, 60, rng=rng, retry_after=600) == 600


def test_next_route_follows_the_accounts_order() -> None:
    assert next_route(["tiktok_api", "upload_post", "browser"], "tiktok_api") == "upload_post"
    assert next_route(["tiktok_api", "upload_post"], "upload_post") is None
    assert next_route(["upload_post"], "browser") is None
    assert next_route(None, "browser") is None


def test_transient_failures_retry_with_growing_delays_then_publish(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    services.settings.set("engine.retry_base_seconds", 60)
    account = add_account(services, "retry")
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "r.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="again",
        now=clock.now(),
        max_attempts=3,
    )
    upload_post.faults.add(Fault(UPLOAD, status=502, times=2))
    engine = make_engine(services, clock)

    delays = []
    for expected in (60, 120):
        failed_at = clock.now()
        engine.run_once()  # fails, schedules the retry, returns: a retry is a waiting state
        waiting = services.jobs.get(job.id)
        assert waiting.status == "retrying"
        delay = (waiting.next_attempt_at - failed_at).total_seconds()
        assert expected <= delay < expected * 1.25
        delays.append(delay)
        assert waiting.receipt is None
        clock.set(waiting.next_attempt_at)
    engine.run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published" and done.attempts == 3
    assert len(upload_post.uploads) == 1
    retries = [e for e in services.jobs.events(job.id) if e.kind == "retrying"]
    assert [round(e.data["delay_seconds"], 3) for e in retries] == [round(d, 3) for d in delays]


def test_retries_stop_at_max_attempts(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "unlucky")
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "u.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="never",
        now=clock.now(),
        max_attempts=2,
    )
    upload_post.faults.add(Fault(UPLOAD, status=500, times=5))
    engine = make_engine(services, clock)
    engine.run_once()
    clock.set(services.jobs.get(job.id).next_attempt_at)
    engine.run_once()

    done = services.jobs.get(job.id)
    assert done.status == "failed" and done.attempts == 2
    assert done.last_error and done.last_error.startswith("gave up after 2 attempts")
    assert upload_post.uploads == []


def test_permanent_refusal_fails_at_once_with_the_platforms_reason(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "refused")
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "p.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="bad",
        now=clock.now(),
        options={"platforms": ["tiktok"]},
    )
    # a value Piper's own check now refuses at `jobs add`, written as a stored job of
    # an older version would have it: the platform's refusal is what is tested
    with services.db.write() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.options = {"platforms": ["tiktok"], "privacy_level": "NOBODY_AT_ALL"}
    make_engine(services, clock).run_once()
    done = services.jobs.get(job.id)
    assert done.status == "failed" and done.attempts == 1
    assert "privacy_level" in (done.last_error or "")


def test_certain_refusal_falls_back_to_the_next_route(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    upload_post: UploadPostSandbox,
    tmp_path: Path,
) -> None:
    use_tiktok(services, tiktok)
    use_upload_post(services, upload_post)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api", "upload_post"])
    connect_tiktok(services, tiktok, account, clock.time())
    # the creator only offers private posts: the API refuses before anything is sent
    tiktok.set_creator("sandbox_creator", privacy_level_options=["SELF_ONLY"])
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "f.mp4").id,
        route="tiktok_api",
        at=clock.now(),
        caption="fallback",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        now=clock.now(),
    )
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)
    engine.run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published", [e.message for e in services.jobs.events(job.id)]
    assert done.route == "upload_post"
    assert tiktok.posts == []
    assert [u["request_id"] for u in upload_post.uploads] == [job.uuid]
    fallback = log.of("fallback")
    assert len(fallback) == 1 and fallback[0].data == {"from": "tiktok_api", "to": "upload_post"}
    assert services.accounts.get(account.id).status == "active"


def test_no_fallback_when_the_outcome_is_unknown(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    upload_post: UploadPostSandbox,
    tmp_path: Path,
) -> None:
    use_tiktok(services, tiktok)
    use_upload_post(services, upload_post)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api", "upload_post"])
    connect_tiktok(services, tiktok, account, clock.time())
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "n.mp4").id,
        route="tiktok_api",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        at=clock.now(),
        caption="unknown",
        now=clock.now(),
    )
    # the bytes went up; every answer to the upload is lost on the way back
    tiktok.faults.add(Fault(r"^/upload/", then_process=True, drop_connection=True, times=20))
    make_engine(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.route == "tiktok_api"
    # not a new attempt on a guess: the status check found the bytes had all arrived
    assert done.status == "published", done.last_error
    assert len(tiktok.posts) == 1 and len(tiktok.state.publishes) == 1
    assert upload_post.uploads == []
    assert "fallback" not in [e.kind for e in services.jobs.events(job.id)]


def test_spam_refusal_after_upload_never_falls_back(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    upload_post: UploadPostSandbox,
    tmp_path: Path,
) -> None:
    use_tiktok(services, tiktok)
    use_upload_post(services, upload_post)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api", "upload_post"])
    connect_tiktok(services, tiktok, account, clock.time())
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "x.mp4").id,
        route="tiktok_api",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        at=clock.now(),
        caption="spam?",
        now=clock.now(),
    )
    tiktok.fail_next("spam_risk_text")
    make_engine(services, clock).run_once()
    assert services.jobs.get(job.id).status == "failed"
    assert upload_post.uploads == []


def test_duplicate_guard_at_creation(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    account = add_account(services, "dup")
    other = add_account(services, "other")
    media = add_media(services, tmp_path, "d.mp4")
    services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="upload_post",
        at=clock.now(),
        now=clock.now(),
    )
    with pytest.raises(ValidationError) as refused:
        services.jobs.add(
            account_id=account.id,
            media_id=media.id,
            route="upload_post",
            at=clock.now() + timedelta(days=3),
            now=clock.now(),
        )
    assert refused.value.field == "media" and "allow duplicates" in str(refused.value)
    # another account, a later window, or an explicit override are fine
    services.jobs.add(
        account_id=other.id,
        media_id=media.id,
        route="upload_post",
        at=clock.now(),
        now=clock.now(),
    )
    services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="upload_post",
        at=clock.now() + timedelta(days=31),
        now=clock.now(),
    )
    services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="upload_post",
        at=clock.now(),
        now=clock.now(),
        allow_duplicate=True,
    )


def test_duplicate_guard_at_claim_and_caption_warning(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    alice = add_account(services, "alice")
    bob = add_account(services, "bob")
    media = add_media(services, tmp_path, "same.mp4", default_caption="same words")
    # all three due in one claim pass: no stagger or jitter moving them apart
    services.settings.set("campaigns.stagger_minutes", 0)
    services.settings.set("campaigns.jitter_minutes", 0)
    # a campaign may plan the same video twice for one account; the engine refuses the
    # second when it comes up
    campaign = services.campaigns.create(
        {
            "name": "twice",
            "route": "upload_post",
            "media_ids": [media.id, media.id, media.id],
            "account_selection": {"accounts": ["tiktok:alice", "tiktok:bob"]},
            "caption_template": "{caption}",
        }
    )
    ids = services.campaigns.start(campaign.id, now=clock.now())
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)
    engine.run_once()

    jobs = [services.jobs.get(i) for i in ids]
    by_account = {
        alice.id: [j for j in jobs if j.account_id == alice.id],
        bob.id: [j for j in jobs if j.account_id == bob.id],
    }
    assert [j.status for j in by_account[alice.id]] == ["published", "failed"]
    assert by_account[alice.id][1].last_error.startswith("duplicate:")
    assert [j.status for j in by_account[bob.id]] == ["published"]
    assert len(upload_post.uploads) == 2
    # the same caption went to alice and bob within the day: a warning, not a refusal
    warnings = [e for e in log.of("warning") if e.data.get("code") == "caption_reused"]
    assert len(warnings) == 1
