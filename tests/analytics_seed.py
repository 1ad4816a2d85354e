"""Seeding analytics through its write side (`AnalyticsService.record`, what the collection
duty calls): the GUI tests and bench/performance_panel.py."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from piper_desktop.domain.analytics import AccountCounts, SeenPost
from piper_desktop.domain.services import Services

# post id -> (created at, views, likes)
Seen = Mapping[str, tuple[datetime, int, int]]


def reading(
    services: Services,
    account_id: int,
    at: datetime,
    posts: Seen,
    *,
    followers: int | None = None,
    likes: int = 0,
    videos: int = 0,
) -> None:
    """One collection pass: these posts' counts at `at` and, with `followers`, the
    account's (its views are the sum of the posts', as the duty stores them)."""
    counts = None if followers is None else AccountCounts(followers, likes, videos)
    seen = [
        SeenPost(post_id, created, caption=f"post {post_id}", views=views, likes=post_likes)
        for post_id, (created, views, post_likes) in posts.items()
    ]
    services.analytics.record(account_id, at, seen, counts)


def post_readings(
    services: Services,
    account_id: int,
    post_id: str,
    created_at: datetime,
    readings: Iterable[tuple[float, int, int]],
) -> None:
    """One post read at (hours after it was made, views, likes), oldest first."""
    for hours, views, likes in readings:
        reading(
            services,
            account_id,
            created_at + timedelta(hours=hours),
            {post_id: (created_at, views, likes)},
        )


def seed_posts(services: Services, accounts: int, posts: int, readings: int) -> None:
    """`posts` posts over `accounts` accounts, each read `readings` times over its first
    days (one pass per reading time and account, every post of that account in it), plus
    the accounts' followers at each pass. For the bench: realistic shape, fixed seed."""
    rng = random.Random(21)
    zones = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]
    ids = [
        services.accounts.add({"username": f"creator{n:03d}", "timezone": zones[n % len(zones)]}).id
        for n in range(accounts)
    ]
    end = datetime(2026, 3, 1, tzinfo=UTC)
    span = timedelta(days=120)
    per_account: dict[int, list[tuple[str, datetime, float]]] = {key: [] for key in ids}
    for n in range(posts):
        account = ids[n % len(ids)]
        created = end - span + timedelta(seconds=rng.randrange(int(span.total_seconds())))
        per_account[account].append((f"v{n:06d}", created, rng.lognormvariate(7, 1.3)))
    # the readings of every post at the same moments of its account: one pass each
    # (readings every 4 hours), so 30 readings cover a post's first 5 days
    step = timedelta(hours=4)
    for account, mine in per_account.items():
        mine.sort(key=lambda item: item[1])
        first = mine[0][1]
        moments = [first + step * k for k in range(int((end - first) / step) + readings + 1)]
        followers = rng.randrange(100, 5000)
        for at in moments:
            seen: dict[str, tuple[datetime, int, int]] = {}
            for post_id, created, scale in mine:
                age = (at - created) / step
                if 0 <= age < readings:
                    grown = scale * (1 - 0.85 ** (age + 1))
                    seen[post_id] = (created, int(grown), int(grown * 0.08))
            if seen:
                followers += rng.randrange(0, 40)
                reading(services, account, at, seen, followers=followers, likes=followers * 9)
