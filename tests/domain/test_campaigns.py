from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from piper_desktop.domain.errors import DomainError, ValidationError
from piper_desktop.domain.services import Services
from tests.conftest import make_video

START = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def setup(services: Services, tmp_path: Path) -> tuple[Services, list[int]]:
    for i in range(3):
        services.accounts.add(
            {
                "username": f"acct{i}",
                "group": "team",
                "tags": ["fitness"] if i < 2 else ["food"],
                "min_spacing_minutes": 120,
                "max_posts_per_day": 2,
            }
        )
    media = [
        services.media.add(
            make_video(tmp_path, f"v{i}.mp4"), {"hashtags": "fyp", "default_caption": f"clip {i}"}
        )[0].id
        for i in range(6)
    ]
    return services, media


def _create(services: Services, media: list[int], **extra: object) -> int:
    record = {
        "name": extra.pop("name", "launch"),
        "route": "upload_post",
        "media_ids": media,
        "account_selection": {"group": "team"},
        "start_at": START.isoformat(),
        **extra,
    }
    return services.campaigns.create(record).id


def test_round_robin_places_jobs_in_free_slots(setup: tuple[Services, list[int]]) -> None:
    services, media = setup
    campaign_id = _create(
        services,
        media,
        caption_template="{caption} by {account} on {date} {hashtags}",
        hashtags="launch",
    )
    ids = services.campaigns.start(campaign_id, now=START)
    jobs = [services.jobs.get(i) for i in ids]
    owners = [services.accounts.get(j.account_id).username for j in jobs]
    assert owners == ["acct0", "acct1", "acct2"] * 2
    # each account: two posts, 120 minutes apart (daily cap 2)
    per_account: dict[int, list[datetime]] = {}
    for job in jobs:
        per_account.setdefault(job.account_id, []).append(job.scheduled_at)
    for times in per_account.values():
        # the spacing, plus the jitter and the stagger from the other accounts' posts
        assert 120 * 60 <= (times[1] - times[0]).total_seconds() < 180 * 60
    assert jobs[0].caption == "clip 0 by acct0 on 2026-05-04 #launch #fyp"
    assert services.campaigns.get(campaign_id).status == "running"
    with pytest.raises(DomainError):
        services.campaigns.start(campaign_id, now=START)


def test_least_used_balances_against_existing_jobs(setup: tuple[Services, list[int]]) -> None:
    services, media = setup
    acct0 = services.accounts.find("acct0")
    for _ in range(2):
        services.jobs.add(
            account_id=acct0.id,
            media_id=media[0],
            route="browser",
            at="auto",
            now=START,
            allow_duplicate=True,
        )
    campaign_id = _create(services, media[:4], strategy="least_used")
    jobs = [services.jobs.get(i) for i in services.campaigns.start(campaign_id, now=START)]
    counts = Counter(services.accounts.get(j.account_id).username for j in jobs)
    assert counts == {"acct1": 2, "acct2": 2}


def test_random_strategy_is_repeatable_with_a_seed(setup: tuple[Services, list[int]]) -> None:
    services, media = setup
    a = _create(services, media, name="a", strategy="random", seed=7)
    b = _create(services, media, name="b", strategy="random", seed=7)
    plan_a = [p["account"] for p in services.campaigns.preview(a, now=START)]
    plan_b = [p["account"] for p in services.campaigns.preview(b, now=START)]
    assert plan_a == plan_b
    assert set(plan_a) <= {"tiktok:acct0", "tiktok:acct1", "tiktok:acct2"}


def test_tag_selection_and_windows(setup: tuple[Services, list[int]]) -> None:
    services, media = setup
    for name in ("acct0", "acct1"):
        account = services.accounts.find(name)
        services.accounts.edit(
            account.id, {"window_enabled": True, "window_start": "18:00", "window_end": "20:00"}
        )
    campaign_id = services.campaigns.create(
        {
            "name": "fit",
            "route": "browser",
            "media_ids": media[:2],
            "account_selection": {"tags": ["fitness"]},
            "start_at": START.isoformat(),
        }
    ).id
    plan = services.campaigns.preview(campaign_id, now=START)
    assert [p["account"] for p in plan] == ["tiktok:acct0", "tiktok:acct1"]
    slots = [datetime.fromisoformat(p["scheduled_at"]) for p in plan]
    # inside the window, the second account 7 minutes (the stagger) or more after the first
    assert all(time(18) <= s.time() < time(20) and s.date() == START.date() for s in slots)
    assert (slots[1] - slots[0]).total_seconds() >= 7 * 60
    jobs = services.campaigns.start(campaign_id, now=START)
    # the start gives the slots the preview showed (the jitter is seeded by the campaign)
    assert [services.jobs.get(j).scheduled_at.astimezone(UTC) for j in jobs] == slots


def test_unknown_placeholder_is_named(setup: tuple[Services, list[int]]) -> None:
    services, media = setup
    with pytest.raises(ValidationError) as info:
        _create(services, media, caption_template="hello {acount}")
    assert info.value.field == "caption_template" and "{acount}" in info.value.reason


def test_cancel_cancels_queued_jobs_only(setup: tuple[Services, list[int]]) -> None:
    services, media = setup
    campaign_id = _create(services, media)
    ids = services.campaigns.start(campaign_id, now=START)
    assert services.campaigns.cancel(campaign_id) == len(ids)
    assert {services.jobs.get(i).status for i in ids} == {"cancelled"}
    progress = services.campaigns.progress(campaign_id)
    assert progress["by_status"] == {"cancelled": 6} and progress["percent"] == 100.0


def test_accounts_do_not_post_in_the_same_minute(setup: tuple[Services, list[int]]) -> None:
    # issue 17: five accounts got the same minute; now each is `stagger` minutes apart
    services, media = setup
    campaign_id = _create(services, media[:3])
    plan = services.campaigns.preview(campaign_id, now=START)
    slots = sorted(datetime.fromisoformat(p["scheduled_at"]) for p in plan)
    assert len({p["account"] for p in plan}) == 3
    gaps = [(b - a).total_seconds() for a, b in pairwise(slots)]
    assert all(gap >= 7 * 60 for gap in gaps), gaps
    # and a jitter: not all on whole stagger steps from the start
    offsets = {(s - START).total_seconds() % (7 * 60) for s in slots}
    assert offsets != {0.0}


def test_stagger_and_jitter_settings_turn_off(setup: tuple[Services, list[int]]) -> None:
    services, media = setup
    services.settings.set("campaigns.stagger_minutes", 0)
    services.settings.set("campaigns.jitter_minutes", 0)
    campaign_id = _create(services, media[:3])
    plan = services.campaigns.preview(campaign_id, now=START)
    assert {p["scheduled_at"] for p in plan} == {START.isoformat()}


def test_a_tokyo_accounts_slots_fall_in_its_window(services: Services, tmp_path: Path) -> None:
    services.accounts.add(
        {
            "username": "tokyo",
            "group": "jp",
            "timezone": "Asia/Tokyo",
            "window_enabled": True,
            "window_start": "09:00",
            "window_end": "21:00",
            "min_spacing_minutes": 90,
            "max_posts_per_day": 3,
        }
    )
    media = [services.media.add(make_video(tmp_path, f"t{i}.mp4"))[0].id for i in range(7)]
    # 19:53 UTC is 04:53 in Tokyo: the time issue 17 saw a post go out
    now = datetime(2026, 12, 7, 19, 53, tzinfo=UTC)
    campaign_id = _create(
        services,
        media,
        account_selection={"group": "jp"},
        start_at=now.isoformat(),
        caption_template="{title}",
    )
    plan = services.campaigns.preview(campaign_id, now=now)
    tokyo = ZoneInfo("Asia/Tokyo")
    for row in plan:
        local = datetime.fromisoformat(row["scheduled_at"]).astimezone(tokyo)
        assert time(9) <= local.time() < time(21), local


def test_privacy_defaults_to_the_setting_not_only_me(setup: tuple[Services, list[int]]) -> None:
    services, media = setup
    public = _create(services, media[:1], name="public")
    ids = services.campaigns.start(public, now=START)
    assert services.jobs.get(ids[0]).options["privacy_level"] == "PUBLIC_TO_EVERYONE"
    services.settings.set("campaigns.default_privacy", "FOLLOWER_OF_CREATOR")
    followers = _create(services, media[1:2], name="followers")
    ids = services.campaigns.start(followers, now=START)
    assert services.jobs.get(ids[0]).options["privacy_level"] == "FOLLOWER_OF_CREATOR"
    # the campaign's own choice wins
    private = _create(services, media[2:3], name="mine", options={"privacy_level": "SELF_ONLY"})
    ids = services.campaigns.start(private, now=START)
    assert services.jobs.get(ids[0]).options["privacy_level"] == "SELF_ONLY"
    with pytest.raises(ValidationError):
        services.settings.set("campaigns.default_privacy", "EVERYBODY")
