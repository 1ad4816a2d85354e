"""Analytics' collection duty against the TikTok stand-in's Display API (both stores)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.store.enums import JobStatus
from piper_desktop.store.models import Account, Job
from tests.engine.helpers import EventLog, add_account, add_media, make_engine, use_tiktok

ALL_SCOPES = ("user.info.basic", "user.info.stats", "video.list", "video.publish", "video.upload")


def connect(
    services: Services,
    tiktok: TikTokApiSandbox,
    account: Account,
    now: float,
    scopes: tuple[str, ...] = ALL_SCOPES,
) -> None:
    answer = tiktok.issue_tokens(account.username, scopes)
    services.accounts.save(
        account.id,
        "tiktok_api",
        {
            "access_token": answer["access_token"],
            "refresh_token": answer["refresh_token"],
            "access_expires_at": now + answer["expires_in"],
            "refresh_expires_at": now + answer["refresh_expires_in"],
            "open_id": answer["open_id"],
            "scope": answer["scope"],
        },
    )


def published(
    services: Services,
    tmp_path: Path,
    account: Account,
    caption: str,
    at: Any,
    post_id: str | None = None,
) -> int:
    media = add_media(services, tmp_path, f"{caption[:6]}.mp4")
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="tiktok_api", at=at, caption=caption,
        now=at,
    )  # fmt: skip
    with services.db.write() as session:
        row = session.get(Job, job.id)
        assert row is not None
        row.status, row.post_id = JobStatus.PUBLISHED.value, post_id
        row.submitted_at, row.published_at = at, at + timedelta(minutes=1)
    return job.id


def test_collection_reads_every_page_and_the_account_counts(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect(services, tiktok, account, clock.time())
    start = clock.time() - 86400
    for n in range(45):  # three pages of 20, made in the app
        tiktok.add_video(title=f"clip {n}", create_time=start + n * 60, views=n)
    engine = make_engine(services, clock)
    assert engine.run_duty("analytics_collect") == 1
    lists = [r for r in tiktok.requests if r.path.startswith("/v2/video/list/")]
    assert len(lists) == 3
    # each next page starts before the oldest video served so far, in milliseconds
    oldest = [int(start) + 25 * 60, int(start) + 5 * 60]
    assert [r.json().get("cursor") for r in lists] == [None] + [t * 1000 for t in oldest]
    rows = services.analytics.posts(account.id)
    assert len(rows) == 45 and {r.match for r in rows} == {"outside"}
    assert rows[0].caption == "clip 44" and rows[0].views == 44 + 100  # grown once, newest first
    [reading] = services.analytics.account_readings(account.id)[account.id]
    assert reading.videos == 45 and reading.followers == 105
    assert reading.views == sum(r.views for r in rows)
    # due again only after analytics.collect_every_minutes
    assert engine.run_duty("analytics_collect") == 0
    clock.advance(3600)
    assert engine.run_duty("analytics_collect") == 1


def test_readings_over_several_passes_draw_growth(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    services.settings.set("analytics.collect_every_minutes", 30)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect(services, tiktok, account, clock.time())
    tiktok.add_video(title="grows", create_time=clock.time() - 600)
    engine = make_engine(services, clock)
    for _ in range(4):
        assert engine.run_duty("analytics_collect") == 1
        clock.advance(1800)
    [row] = services.analytics.posts()
    series = services.analytics.post_readings([row.key])[row.key]
    assert [r.views for r in series] == [100, 200, 300, 400]
    assert [r.likes for r in series] == [10, 20, 30, 40]
    assert series[1].at - series[0].at == timedelta(minutes=30)
    followers = [a.followers for a in services.analytics.account_readings()[account.id]]
    assert followers == [105, 110, 115, 120]


def test_private_posts_are_found_by_the_jobs_post_ids_and_matched(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox, tmp_path: Path
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect(services, tiktok, account, clock.time())
    now = clock.now()
    private = tiktok.add_video(title="only me", create_time=clock.time() - 300, private=True)
    public = tiktok.add_video(title="for all", create_time=clock.time() - 200)
    guessed = tiktok.add_video(title="Web post #fyp", create_time=clock.time() - 100)
    tiktok.add_video(title="made in the app", create_time=clock.time() - 50)
    by_private = published(services, tmp_path, account, "only me", now, post_id=private.id)
    by_public = published(services, tmp_path, account, "for all", now, post_id=public.id)
    by_caption = published(services, tmp_path, account, "web post  #FYP", now)
    make_engine(services, clock).run_duty("analytics_collect")
    queries = [r for r in tiktok.requests if r.path.startswith("/v2/video/query/")]
    assert [q.json()["filters"]["video_ids"] for q in queries] == [[private.id]]
    rows = {r.post_id: r for r in services.analytics.posts(account.id)}
    assert (rows[private.id].job_id, rows[private.id].match) == (by_private, "id")
    assert (rows[public.id].job_id, rows[public.id].match) == (by_public, "id")
    assert (rows[guessed.id].job_id, rows[guessed.id].match) == (by_caption, "guess")
    assert sorted(r.match for r in rows.values()) == ["guess", "id", "id", "outside"]


def test_a_rate_limited_listing_waits_and_finishes(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    tiktok.state.rate_limits["video_list"] = (2, 60.0)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect(services, tiktok, account, clock.time())
    for n in range(70):  # four pages: the third waits for the window
        tiktok.add_video(title=f"v{n}", create_time=clock.time() - 10_000 + n)
    before = clock.time()
    make_engine(services, clock).run_duty("analytics_collect")
    statuses = [r.status for r in tiktok.requests if r.path.startswith("/v2/video/list/")]
    assert 429 in statuses and statuses.count(200) == 4
    assert clock.time() - before >= 60  # the stand-in's Retry-After was honoured
    assert len(services.analytics.posts(account.id)) == 70


def test_missing_scopes_are_named_and_warned_once_a_day(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect(services, tiktok, account, clock.time(), ("user.info.basic", "video.publish"))
    tiktok.add_video(title="cannot be read")
    events = EventLog()
    engine = make_engine(services, clock)
    engine.events.subscribe(events)
    engine.run_duty("analytics_collect")
    [warning] = [e for e in events.events if e.data.get("code") == "analytics_scopes"]
    assert warning.message.startswith(
        "@sandbox_creator has not granted Piper video.list, user.info.stats"
    )
    assert "piper accounts connect sandbox_creator --route tiktok_api" in warning.message
    creds = services.accounts.load(account.id, "tiktok_api")
    assert creds["analytics_missing_scopes"] == ["video.list", "user.info.stats"]
    assert services.accounts.get(account.id).status == "active"  # it may still post
    assert not [r for r in tiktok.requests if r.path.startswith("/v2/video/")]
    clock.advance(3600)
    engine.run_duty("analytics_collect")
    assert len([e for e in events.events if e.data.get("code") == "analytics_scopes"]) == 1


def test_a_scope_refused_by_tiktok_though_recorded_as_granted(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect(services, tiktok, account, clock.time(), ("user.info.basic", "video.list"))
    # the stored scope says nothing (an older connect): the API's refusal tells
    services.accounts.note_credentials(account.id, "tiktok_api", {"scope": ""})
    tiktok.add_video(title="readable")
    make_engine(services, clock).run_duty("analytics_collect")
    creds = services.accounts.load(account.id, "tiktok_api")
    assert creds["analytics_missing_scopes"] == ["user.info.stats"]
    assert len(services.analytics.posts()) == 1
    assert services.analytics.account_readings() == {}


def test_a_429_without_retry_after_backs_off_and_an_expired_token_is_refreshed(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect(services, tiktok, account, clock.time())
    old = services.accounts.load(account.id, "tiktok_api")
    tiktok.expire_access_tokens()  # TikTok refuses it: the token path refreshes once
    tiktok.add_video(title="after the wait")
    error = {"error": {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "x"}}
    tiktok.faults.add(Fault(r"^/v2/video/list/", status=429, body=error, times=2))
    before = clock.time()
    make_engine(services, clock).run_duty("analytics_collect")
    assert len(services.analytics.posts(account.id)) == 1
    assert 6 <= clock.time() - before < 10  # 2 s, then 4 s (+ jitter)
    new = services.accounts.load(account.id, "tiktok_api")
    assert new["refresh_token"] != old["refresh_token"]  # rotated and stored
    assert new["analytics_missing_scopes"] == []
