from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path

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
        assert (times[1] - times[0]).total_seconds() == 120 * 60
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
    assert all(p["scheduled_at"].startswith("2026-05-04T18:00") for p in plan)
    jobs = services.campaigns.start(campaign_id, now=START)
    assert services.jobs.get(jobs[0]).scheduled_at.astimezone(UTC).time() == time(18, 0)


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
