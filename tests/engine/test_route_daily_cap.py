"""`tiktok.daily_posts_per_creator`: TikTok API posts per creator per local day, held by
the account policy (domain/policy.py) in the claim pass and in planning alike."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
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

PUBLIC = {"privacy_level": "PUBLIC_TO_EVERYONE"}


def test_beyond_the_creator_cap_a_job_is_held_to_the_next_day_window(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    upload_post: UploadPostSandbox,
    tmp_path: Path,
) -> None:
    use_tiktok(services, tiktok)
    use_upload_post(services, upload_post)
    services.settings.set("tiktok.daily_posts_per_creator", 2)
    # 09:00 UTC on 2030-01-07 is 18:00 in Tokyo, inside the account's window
    account = add_account(
        services,
        "sandbox_creator",
        routes=["tiktok_api", "upload_post"],
        timezone="Asia/Tokyo",
        window_enabled=True,
        window_start=time(9, 0),
        window_end=time(23, 0),
    )
    connect_tiktok(services, tiktok, account, clock.time())

    def job(i: int, route: str = "tiktok_api") -> int:
        return services.jobs.add(
            account_id=account.id,
            media_id=add_media(services, tmp_path, f"c{i}.mp4").id,
            route=route,
            at=clock.now(),
            caption=f"post {i}",
            options=PUBLIC,
            now=clock.now(),
        ).id

    api_jobs = [job(i) for i in range(3)]
    other = job(9, "upload_post")  # another route: not counted in TikTok's cap
    engine = make_engine(services, clock)
    log = EventLog()
    engine.events.subscribe(log)
    engine.run_once()

    states = [services.jobs.get(i) for i in api_jobs]
    assert [s.status for s in states] == ["published", "published", "queued"]
    assert services.jobs.get(other).status == "published"
    held = states[2]
    # held, not failed: to the next local day's window, 09:00 Tokyo = 00:00 UTC
    assert held.next_attempt_at == datetime(2030, 1, 8, 0, 0, tzinfo=UTC)
    assert held.attempts == 0 and held.last_error is None
    [event] = [e for e in log.of("held") if e.job_id == held.id]
    assert "has had 2 tiktok_api posts today" in event.message
    assert "tiktok.daily_posts_per_creator" in event.message
    assert len(tiktok.posts) == 2

    # across the day boundary in the account's zone: Tokyo's midnight (15:00 UTC) is a
    # new day, and the next day's window opens at 09:00 there
    clock.set(datetime(2030, 1, 7, 23, 59, tzinfo=UTC))
    engine.run_once()
    assert services.jobs.get(held.id).status == "queued"
    clock.set(held.next_attempt_at)
    engine.run_once()
    assert services.jobs.get(held.id).status == "published"
    assert len(tiktok.posts) == 3


def test_the_planner_gives_the_next_day_to_a_post_beyond_the_cap(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    services.settings.set("tiktok.daily_posts_per_creator", 2)
    account = add_account(services, "planned", routes=["tiktok_api"], timezone="Asia/Tokyo")

    def auto(i: int) -> datetime:
        made = services.jobs.add(
            account_id=account.id,
            media_id=add_media(services, tmp_path, f"p{i}.mp4").id,
            route="tiktok_api",
            at="auto",
            caption=f"planned {i}",
            options=PUBLIC,
            now=clock.now(),
        )
        assert made.scheduled_at is not None
        return made.scheduled_at

    slots = [auto(i) for i in range(3)]
    assert slots[0] == slots[1] == clock.now()
    # Tokyo's next local day starts at 15:00 UTC
    assert slots[2] == datetime(2030, 1, 7, 15, 0, tzinfo=UTC)
