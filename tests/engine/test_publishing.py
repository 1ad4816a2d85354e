"""A job's way through the engine on the two API routes, against the real stand-ins."""

from __future__ import annotations

from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.telegram import TelegramSandbox
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import (
    EventLog,
    add_account,
    add_media,
    connect_tiktok,
    make_engine,
    use_tiktok,
    use_upload_post,
)


def test_upload_post_job_is_published_with_its_receipt_first(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "alice")
    media = add_media(services, tmp_path, "a.mp4")
    job = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="upload_post",
        at=clock.now(),
        caption="first #piper",
        now=clock.now(),
    )
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)

    counts = engine.run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published"
    assert done.receipt == job.uuid and done.receipt_kind == "request_id"
    assert done.post_url and done.post_url.startswith(upload_post.base_url)
    assert done.attempts == 1 and done.lease_owner is None
    assert counts["published"] == 1
    # the receipt is in the job's history before the status checks and the result
    kinds = [e.kind for e in services.jobs.events(job.id)]
    assert kinds[:5] == ["created", "claimed", "submitting", "receipt", "verifying"]
    assert kinds[-1] == "published"
    assert [u["request_id"] for u in upload_post.uploads] == [job.uuid]
    # the sandbox took three polls; the engine waited on its own (manual) clock
    assert (done.published_at - done.submitted_at).total_seconds() >= 15
    assert log.kinds(job.id)[-1] == "published"


def test_receipt_is_kept_when_the_status_check_then_fails(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    account = add_account(services, "bob")
    media = add_media(services, tmp_path, "b.mp4")
    job = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="upload_post",
        at=clock.now(),
        caption="checked later",
        now=clock.now(),
    )
    # the upload goes through; every status answer then is a 503 for a while
    upload_post.faults.add(Fault(r"^/api/uploadposts/status$", status=503, times=3))

    make_engine(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.receipt == job.uuid
    assert done.status == "published"
    events = services.jobs.events(job.id)
    retried_checks = [e for e in events if e.kind == "verifying"]
    assert retried_checks, "the failed checks were planned again"
    assert len(upload_post.uploads) == 1


def test_tiktok_api_job_is_published_with_publish_id(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, account, clock.time())
    media = add_media(services, tmp_path, "t.mp4")
    job = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="tiktok_api",
        at=clock.now(),
        caption="api post",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        now=clock.now(),
    )

    make_engine(services, clock).run_once()

    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert done.receipt_kind == "publish_id"
    posts = tiktok.posts
    assert [p["publish_id"] for p in posts] == [done.receipt]
    assert posts[0]["title"] == "api post"
    assert done.post_id == posts[0]["post_id"]
    assert done.post_url and done.post_url.endswith(f"/video/{posts[0]['post_id']}")


def test_too_many_posts_cools_the_account_down_and_retries_after_it(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, account, clock.time())
    media = add_media(services, tmp_path, "s.mp4")
    job = services.jobs.add(
        account_id=account.id,
        media_id=media.id,
        route="tiktok_api",
        options={"privacy_level": "PUBLIC_TO_EVERYONE"},
        at=clock.now(),
        now=clock.now(),
    )
    tiktok.fail_next("spam_risk_too_many_posts")

    make_engine(services, clock).run_once()

    done = services.jobs.get(job.id)
    # TikTok's cap lifts by itself: the job waits (retrying), the account cools down,
    # and the account policy holds the job until the cooldown ends
    assert done.status == "retrying"
    assert "spam_risk_too_many_posts" in (done.last_error or "")
    assert "TikTok limits how often @sandbox_creator may post" in (done.last_error or "")
    assert done.attempts == 1
    cooled = services.accounts.get(account.id)
    assert cooled.status == "cooldown"
    assert cooled.cooldown_until is not None and cooled.cooldown_until > clock.now()


def test_every_final_state_is_an_event_and_a_telegram_message(
    services: Services,
    clock: ManualClock,
    upload_post: UploadPostSandbox,
    telegram: TelegramSandbox,
    tmp_path: Path,
) -> None:
    from piper_desktop.engine.notify import TelegramNotifier

    use_upload_post(services, upload_post)
    services.settings.set("telegram.bot_token", telegram.token)
    services.settings.set("telegram.chat_id", "4242")
    services.settings.set("telegram.base", telegram.base_url)
    account = add_account(services, "carol")
    good = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "g.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="good one",
        now=clock.now(),
    )
    missing = add_media(services, tmp_path, "gone.mp4")
    Path(missing.path).unlink()
    lost = services.jobs.add(
        account_id=account.id,
        media_id=missing.id,
        route="upload_post",
        at=clock.now(),
        caption="lost one",
        now=clock.now(),
    )
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)
    notifier = TelegramNotifier.from_settings(services)
    assert notifier is not None
    notifier.attach(engine.events)

    engine.run_once()
    notifier.close()

    assert services.jobs.get(good.id).status == "published"
    assert services.jobs.get(lost.id).status == "needs_attention"
    assert [e.job_id for e in log.of("published")] == [good.id]
    assert [e.job_id for e in log.of("needs_attention")] == [lost.id]
    texts = [m["text"] for m in telegram.messages]
    assert any(f"Published: job {good.id} (@carol)" in t for t in texts)
    assert any(f"Needs your attention: job {lost.id}" in t and "missing" in t for t in texts)
    assert {str(m["chat"]["id"]) for m in telegram.messages} == {"4242"}
    assert telegram.token not in "".join(texts)
