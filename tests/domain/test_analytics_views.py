"""The Performance panel's aggregations (domain/analytics_views.py), without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from piper_desktop.domain import analytics_views as av


@dataclass(frozen=True)
class Post:
    key: int
    account_id: int
    created_at: datetime
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    account: str = "alice"
    post_id: str = "v1"
    campaign_id: int | None = None
    caption_template: str | None = None
    match: str = "id"
    caption: str = ""


@dataclass(frozen=True)
class Reading:
    at: datetime
    views: int = 0
    likes: int = 0
    followers: int = 0


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_hour_grid_counts_each_post_in_its_accounts_own_zone() -> None:
    # the same UTC moment: 19:00 in New York (Monday) is 01:00 Tuesday in Berlin
    moment = utc(2026, 3, 2, 0, 0)  # Monday 2 March 2026 00:00 UTC
    posts = [Post(1, 1, moment, views=100), Post(2, 2, moment, views=40)]
    grid = av.hour_grid(posts, {1: "America/New_York", 2: "Europe/Berlin"})
    assert grid.posts[6][19] == 1 and grid.mean(6, 19) == 100  # Sunday 19:00 in New York
    assert grid.posts[0][1] == 1 and grid.mean(0, 1) == 40  # Monday 01:00 in Berlin
    assert grid.total_posts == 2
    only_berlin = av.hour_grid(posts, {1: "America/New_York", 2: "Europe/Berlin"}, account_id=2)
    assert only_berlin.total_posts == 1 and only_berlin.posts[0][1] == 1


def test_an_unknown_zone_counts_as_utc_and_a_naive_moment_as_utc() -> None:
    grid = av.hour_grid([Post(1, 1, datetime(2026, 3, 2, 7, 30))], {1: "Nowhere/Land"})
    assert grid.posts[0][7] == 1


def test_best_hours_need_enough_posts_and_rank_by_mean_views() -> None:
    monday_9 = utc(2026, 3, 2, 9)
    tuesday_20 = utc(2026, 3, 3, 20)
    posts = [Post(n, 1, monday_9, views=100) for n in range(3)]
    posts += [Post(10 + n, 1, tuesday_20, views=300) for n in range(3)]
    posts += [Post(99, 1, utc(2026, 3, 4, 12), views=10_000)]  # one lucky post
    best = av.best_hours(av.hour_grid(posts, {1: "UTC"}), top=5, min_posts=3)
    assert [(s.weekday, s.hour, s.posts, s.mean_views) for s in best] == [
        (1, 20, 3, 300.0),
        (0, 9, 3, 100.0),
    ]
    assert best[0].label == "Tue 20:00"
    assert av.best_hours(av.hour_grid(posts, {1: "UTC"}), top=1, min_posts=1)[0].hour == 12


slots = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 23), st.integers(0, 10_000)), max_size=60
)


@settings(max_examples=60, deadline=None)
@given(slots, st.integers(1, 6), st.integers(0, 10))
def test_best_hours_property(cells: list[tuple[int, int, int]], min_posts: int, top: int) -> None:
    """Every slot returned has enough posts, none left out beats one returned, and the
    list is ordered by mean views."""
    start = utc(2026, 3, 2)  # a Monday
    posts = [
        Post(n, 1, start + timedelta(days=day, hours=hour), views=views)
        for n, (day, hour, views) in enumerate(cells)
    ]
    grid = av.hour_grid(posts, {1: "UTC"})
    best = av.best_hours(grid, top=top, min_posts=min_posts)
    assert len(best) <= top
    assert all(s.posts >= min_posts for s in best)
    means = [s.mean_views for s in best]
    assert means == sorted(means, reverse=True)
    if len(best) == top and best:
        chosen = {(s.weekday, s.hour) for s in best}
        for day in range(7):
            for hour in range(24):
                if grid.posts[day][hour] >= min_posts and (day, hour) not in chosen:
                    assert grid.mean(day, hour) <= best[-1].mean_views


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 23)), min_size=1, max_size=5),
    st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]),
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
    st.integers(1, 12),
)
def test_next_slot_times_fall_on_the_slots_in_the_accounts_zone(
    cells: list[tuple[int, int]], zone: str, after: datetime, count: int
) -> None:
    wanted = [av.BestSlot(d, h, 3, 1.0) for d, h in cells]
    after = after.replace(tzinfo=UTC)
    times = av.next_slot_times(wanted, zone, after, count)
    assert len(times) == count
    assert times == sorted(times) and len(set(times)) == len(times)
    assert all(t > after for t in times)
    for moment in times:
        local = moment.astimezone(ZoneInfo(zone))
        assert (local.weekday(), local.hour) in set(cells)
        assert local.minute == 0
    # nothing skipped: the first is the next one there is
    assert times[0] - after <= timedelta(days=7, hours=2)


def test_first_hours_curve_is_relative_to_creation_and_stops_at_48_hours() -> None:
    made = utc(2026, 3, 2, 12)
    readings = [
        Reading(made + timedelta(hours=50), views=900, likes=90),
        Reading(made + timedelta(hours=2), views=100, likes=10),
        Reading(made - timedelta(hours=1), views=0),  # before the post: a clock skew
        Reading(made + timedelta(minutes=30), views=20, likes=1),
        Reading(made + timedelta(hours=48), views=500, likes=50),
    ]
    curve = av.first_hours_curve(made, readings)
    assert curve.hours == (0.5, 2.0, 48.0)
    assert curve.views == (20, 100, 500)
    assert curve.likes == (1, 10, 50)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 48), min_size=0, max_size=800), st.integers(2, 300))
def test_curves_are_downsampled_keeping_first_and_last(hours: list[float], limit: int) -> None:
    made = utc(2026, 3, 2)
    readings = [Reading(made + timedelta(hours=h), views=n) for n, h in enumerate(hours)]
    curve = av.first_hours_curve(made, readings, max_points=limit)
    assert len(curve.hours) == min(len(hours), limit)
    assert list(curve.hours) == sorted(curve.hours)
    if hours:
        ordered = sorted((made + timedelta(hours=h) - made).total_seconds() / 3600 for h in hours)
        assert curve.hours[0] == ordered[0] and curve.hours[-1] == ordered[-1]


def test_top_posts_and_comparisons() -> None:
    at = utc(2026, 3, 2)
    posts = [
        Post(1, 1, at, views=10, likes=1, campaign_id=7, caption_template="{caption}"),
        Post(
            2,
            1,
            at + timedelta(hours=1),
            views=30,
            likes=3,
            campaign_id=7,
            caption_template="{caption}",
        ),
        Post(3, 2, at, views=100, likes=20, campaign_id=8, caption_template="{title} #x"),
        Post(4, 2, at, views=5, match="outside"),
    ]
    assert [p.key for p in av.top_posts(posts, 3)] == [3, 2, 1]
    assert [p.key for p in av.top_posts(posts, 2, by="likes")] == [3, 2]
    with pytest.raises(ValueError, match="views, likes"):
        av.top_posts(posts, by="saves")
    campaigns = av.compare_by_campaign(posts, {7: "Spring"})
    assert [(c.label, c.posts, c.mean_views, c.mean_likes) for c in campaigns] == [
        ("campaign #8", 1, 100.0, 20.0),
        ("Spring", 2, 20.0, 2.0),
    ]
    templates = av.compare_by_template(posts)
    assert [(c.label, c.posts) for c in templates] == [("{title} #x", 1), ("{caption}", 2)]


def test_account_series_is_ordered_and_downsampled() -> None:
    start = utc(2026, 3, 1)
    readings = [Reading(start + timedelta(hours=h), views=h * 10, followers=h) for h in range(50)]
    series = av.account_series(list(reversed(readings)), max_points=10)
    assert len(series.times) == 10
    assert series.followers[0] == 0 and series.followers[-1] == 49
    assert list(series.times) == sorted(series.times)


def test_yesterday_numbers_are_the_operators_local_day() -> None:
    zone = "Europe/Berlin"
    now = datetime(2026, 3, 3, 9, 0, tzinfo=ZoneInfo(zone))  # Tuesday morning in Berlin
    start, end = av.local_day_bounds(now, zone)
    assert start == utc(2026, 3, 1, 23) and end == utc(2026, 3, 2, 23)
    readings = {
        1: [
            Reading(start - timedelta(hours=5), views=1000, likes=100, followers=50),
            Reading(start + timedelta(hours=3), views=1500, likes=120, followers=55),
            Reading(end - timedelta(minutes=1), views=2200, likes=150, followers=58),
            Reading(end + timedelta(hours=1), views=9999, likes=999, followers=99),  # today
        ],
        # no reading before yesterday: the gain within the day
        2: [
            Reading(start + timedelta(hours=1), views=10, likes=1, followers=5),
            Reading(start + timedelta(hours=20), views=40, likes=4, followers=7),
        ],
        3: [Reading(start - timedelta(days=2), views=5, followers=1)],  # nothing yesterday
    }
    posts = [
        Post(1, 1, start + timedelta(hours=2)),
        Post(2, 2, end - timedelta(seconds=1)),
        Post(3, 1, end),  # today already
        Post(4, 1, start - timedelta(seconds=1)),
    ]
    numbers = av.yesterday_numbers(posts, readings, now, zone)
    assert numbers == av.Yesterday(views=1200 + 30, likes=50 + 3, new_followers=8 + 2, posts=2)


def test_build_performance_filters_by_account() -> None:
    at = utc(2026, 3, 2, 18)
    posts = [Post(n, 1 + n % 2, at + timedelta(days=n % 7), views=n) for n in range(20)]
    readings = {
        1: [Reading(at, followers=10), Reading(at + timedelta(days=1), followers=20)],
        2: [Reading(at, followers=5)],
    }
    accounts = {1: av.AccountInfo(1, "alice", "UTC"), 2: av.AccountInfo(2, "bob", "Asia/Tokyo")}
    everything = av.build_performance(posts, readings, accounts, {})
    assert everything.posts == 20 and everything.grid.total_posts == 20
    assert [info.username for info, _s in everything.growth] == ["alice", "bob"]
    bob = av.build_performance(posts, readings, accounts, {}, account_id=2)
    assert bob.posts == 10 and all(p.account_id == 2 for p in bob.top)
    assert [info.username for info, _s in bob.growth] == ["bob"]


def test_suggest_start_takes_the_accounts_best_hours_and_the_next_one_to_come() -> None:
    # alice (UTC) does best on Tuesdays at 20:00, bob's posts are not asked about
    tuesday_20 = utc(2026, 3, 3, 20)
    posts = [Post(n, 1, tuesday_20 - timedelta(weeks=n), views=500) for n in range(3)]
    posts += [Post(10 + n, 1, utc(2026, 3, 2, 9) - timedelta(weeks=n), views=50) for n in range(3)]
    posts += [
        Post(20 + n, 2, utc(2026, 3, 4, 6) - timedelta(weeks=n), views=9000) for n in range(3)
    ]
    after = utc(2026, 3, 5, 12)  # a Thursday
    found = av.suggest_start(posts, {1: "UTC", 2: "UTC"}, [1], after)
    assert [s.label for s in found.best] == ["Tue 20:00", "Mon 09:00"]
    assert found.start == utc(2026, 3, 9, 9)  # next Monday 09:00 comes before Tuesday
    none = av.suggest_start(posts, {1: "UTC"}, [3], after)
    assert none.best == [] and none.start is None
