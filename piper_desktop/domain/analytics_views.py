"""What the Performance panel, the dashboard and the campaign wizard draw from the
analytics readings (domain/analytics.py stores them): plain aggregations, no Qt.

- `hour_grid`: mean views per post by the account's own local weekday × hour (each
  account in its time zone; "overall" is every account's posts in their own zones, so
  19:00 means evening wherever the account lives);
- `best_hours`: the top weekday/hour slots that hold at least `min_posts` posts;
- `first_hours_curve`: a post's readings as hours since it was created, the first 48;
- `top_posts`, `compare_by_campaign`, `compare_by_template`: the tables and the bars;
- `account_series`: an account's followers and views over time;
- `yesterday_numbers`: the dashboard's "yesterday" (the operator's local day);
- `next_slot_times`: concrete moments for best slots (the wizard's suggestion).

Inputs are duck-typed by the `Protocol`s below (`analytics.PostRow`, `PostReading`,
`AccountReading` fit them), so this module is tested without a database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CURVE_HOURS = 48
BEST_MIN_POSTS = 3
# a curve never needs more points than a chart is wide; more only costs paint time
CURVE_MAX_POINTS = 400
SERIES_MAX_POINTS = 1000


class PostLike(Protocol):
    @property
    def key(self) -> int: ...
    @property
    def account_id(self) -> int: ...
    @property
    def account(self) -> str: ...
    @property
    def post_id(self) -> str: ...
    @property
    def campaign_id(self) -> int | None: ...
    @property
    def caption_template(self) -> str | None: ...
    @property
    def match(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def caption(self) -> str: ...
    @property
    def views(self) -> int: ...
    @property
    def likes(self) -> int: ...
    @property
    def comments(self) -> int: ...
    @property
    def shares(self) -> int: ...


class PostReadingLike(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def views(self) -> int: ...
    @property
    def likes(self) -> int: ...


class AccountReadingLike(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def followers(self) -> int: ...
    @property
    def likes(self) -> int: ...
    @property
    def views(self) -> int: ...


def _utc(moment: datetime) -> datetime:
    """Stored moments are UTC; a naive one (SQLite drops the zone) is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):  # an unknown zone name: UTC rather than no chart
        return ZoneInfo("UTC")


# --- best posting hours ------------------------------------------------------------------


@dataclass(frozen=True)
class HourGrid:
    """7 × 24 cells, Monday first: posts made in that local slot and their views."""

    posts: tuple[tuple[int, ...], ...]
    views: tuple[tuple[int, ...], ...]

    def mean(self, weekday: int, hour: int) -> float:
        count = self.posts[weekday][hour]
        return self.views[weekday][hour] / count if count else 0.0

    def means(self) -> list[list[float]]:
        return [[self.mean(d, h) for h in range(24)] for d in range(7)]

    @property
    def total_posts(self) -> int:
        return sum(map(sum, self.posts))


def hour_grid(
    posts: Iterable[PostLike], zones: Mapping[int, str], account_id: int | None = None
) -> HourGrid:
    """Views by the local weekday and hour a post was made, in its account's zone."""
    counts = [[0] * 24 for _ in range(7)]
    views = [[0] * 24 for _ in range(7)]
    cache: dict[int, ZoneInfo] = {}
    for post in posts:
        if account_id is not None and post.account_id != account_id:
            continue
        zone = cache.get(post.account_id)
        if zone is None:
            zone = cache[post.account_id] = _zone(zones.get(post.account_id))
        local = _utc(post.created_at).astimezone(zone)
        counts[local.weekday()][local.hour] += 1
        views[local.weekday()][local.hour] += post.views
    return HourGrid(tuple(map(tuple, counts)), tuple(map(tuple, views)))


@dataclass(frozen=True)
class BestSlot:
    weekday: int  # 0 = Monday
    hour: int
    posts: int
    mean_views: float

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:00"


def best_hours(grid: HourGrid, *, top: int = 5, min_posts: int = BEST_MIN_POSTS) -> list[BestSlot]:
    """The `top` slots by mean views per post among those with `min_posts` posts or
    more (one lucky post says little); ties go to the slot with more posts, then the
    earlier one in the week."""
    slots = [
        BestSlot(day, hour, grid.posts[day][hour], grid.mean(day, hour))
        for day in range(7)
        for hour in range(24)
        if grid.posts[day][hour] >= max(min_posts, 1)
    ]
    slots.sort(key=lambda s: (-s.mean_views, -s.posts, s.weekday, s.hour))
    return slots[: max(top, 0)]


def next_slot_times(
    slots: Sequence[BestSlot], zone: str | None, after: datetime, count: int
) -> list[datetime]:
    """The next `count` moments (UTC) at the slots' local weekday and hour after
    `after`, earliest first. A local hour that a DST change skips is left out that week."""
    if not slots or count <= 0:
        return []
    tz = _zone(zone)
    after = _utc(after)
    wanted = {(s.weekday, s.hour) for s in slots}
    found: list[datetime] = []
    day = after.astimezone(tz).date()
    # every week holds each slot once (a DST gap skips one at most), so `count` + 2 weeks
    # always suffice
    for _day in range(7 * (count + 2)):
        for hour in range(24):
            if (day.weekday(), hour) not in wanted:
                continue
            local = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            moment = local.astimezone(UTC)
            if moment.astimezone(tz).hour != hour:  # the hour does not exist that day
                continue
            if moment > after:
                found.append(moment)
                if len(found) == count:
                    return found
        day += timedelta(days=1)
    return found


# --- curves ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    hours: tuple[float, ...]  # since the post was created
    views: tuple[int, ...]
    likes: tuple[int, ...]


def _downsample(indices: list[int], limit: int) -> list[int]:
    if len(indices) <= limit:
        return indices
    step = (len(indices) - 1) / (limit - 1)
    return [indices[round(n * step)] for n in range(limit)]


def first_hours_curve(
    created_at: datetime,
    readings: Sequence[PostReadingLike],
    *,
    hours: float = CURVE_HOURS,
    max_points: int = CURVE_MAX_POINTS,
) -> Curve:
    """The readings of a post's first `hours` as (hours since creation, views, likes),
    in time order; at most `max_points`, spread evenly, the first and last kept."""
    start = _utc(created_at)
    points = sorted(
        ((_utc(r.at) - start).total_seconds() / 3600, r.views, r.likes) for r in readings
    )
    points = [p for p in points if 0 <= p[0] <= hours]
    keep = _downsample(list(range(len(points))), max(max_points, 2))
    chosen = [points[i] for i in keep]
    return Curve(
        tuple(p[0] for p in chosen), tuple(p[1] for p in chosen), tuple(p[2] for p in chosen)
    )


@dataclass(frozen=True)
class Series:
    """An account over time: seconds since the epoch (UTC), followers, views."""

    times: tuple[float, ...]
    followers: tuple[int, ...]
    views: tuple[int, ...]
    likes: tuple[int, ...] = field(default=())


def account_series(
    readings: Sequence[AccountReadingLike], *, max_points: int = SERIES_MAX_POINTS
) -> Series:
    ordered = sorted(readings, key=lambda r: _utc(r.at))
    ordered = [ordered[i] for i in _downsample(list(range(len(ordered))), max(max_points, 2))]
    return Series(
        tuple(_utc(r.at).timestamp() for r in ordered),
        tuple(r.followers for r in ordered),
        tuple(r.views for r in ordered),
        tuple(r.likes for r in ordered),
    )


# --- tables and comparisons ----------------------------------------------------------------


def top_posts(posts: Iterable[PostLike], n: int = 50, *, by: str = "views") -> list[PostLike]:
    """The `n` posts with the most `by` (views, likes, comments, shares), newest first
    among equals."""
    if by not in ("views", "likes", "comments", "shares"):
        raise ValueError(f"top posts by {by!r}: use views, likes, comments or shares")
    ranked = sorted(posts, key=lambda p: (-getattr(p, by), -_utc(p.created_at).timestamp()))
    return ranked[: max(n, 0)]


@dataclass(frozen=True)
class Comparison:
    label: str
    posts: int
    mean_views: float
    mean_likes: float


def _compare(posts: Iterable[PostLike], key: Callable[[PostLike], str | None]) -> list[Comparison]:
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for post in posts:
        label = key(post)
        if label is None:
            continue
        group = groups[label]
        group[0] += 1
        group[1] += post.views
        group[2] += post.likes
    rows = [
        Comparison(label, n, views / n, likes / n) for label, (n, views, likes) in groups.items()
    ]
    rows.sort(key=lambda c: (-c.mean_views, c.label))
    return rows


def compare_by_campaign(posts: Iterable[PostLike], names: Mapping[int, str]) -> list[Comparison]:
    """Mean views and likes per post of each campaign (posts outside campaigns left out)."""
    return _compare(
        posts,
        lambda p: (
            None
            if p.campaign_id is None
            else names.get(p.campaign_id, f"campaign #{p.campaign_id}")
        ),
    )


def compare_by_template(posts: Iterable[PostLike]) -> list[Comparison]:
    """Mean views and likes per post of each caption template (the campaign's)."""
    return _compare(posts, lambda p: (p.caption_template or "").strip() or None)


# --- the dashboard's yesterday -----------------------------------------------------------


@dataclass(frozen=True)
class Yesterday:
    views: int
    likes: int
    new_followers: int
    posts: int


def local_day_bounds(day_of: datetime, zone: str | None) -> tuple[datetime, datetime]:
    """The local calendar day before `day_of`'s, as UTC [start, end); `zone` None is this
    machine's zone (the operator's, as the dashboard's "today")."""
    tz: tzinfo | None = _zone(zone) if zone else datetime.now().astimezone().tzinfo
    today = _utc(day_of).astimezone(tz).date()
    first = today - timedelta(days=1)
    start = datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)
    end = datetime(today.year, today.month, today.day, tzinfo=tz).astimezone(UTC)
    return start, end


def _gain(
    readings: Sequence[AccountReadingLike], start: datetime, end: datetime
) -> tuple[int, int, int]:
    """What an account gained between `start` and `end`: its last reading before the end
    minus its last reading before the start (or, with none, its first in the span)."""
    ordered = sorted(readings, key=lambda r: _utc(r.at))
    before = [r for r in ordered if _utc(r.at) < start]
    inside = [r for r in ordered if start <= _utc(r.at) < end]
    if not inside:
        return 0, 0, 0
    base = before[-1] if before else inside[0]
    last = inside[-1]
    return last.views - base.views, last.likes - base.likes, last.followers - base.followers


def yesterday_numbers(
    posts: Iterable[PostLike],
    readings: Mapping[int, Sequence[AccountReadingLike]],
    now: datetime,
    zone: str | None,
) -> Yesterday:
    """Views, likes and followers gained yesterday (the operator's local day, from the
    accounts' readings) and the posts made that day."""
    start, end = local_day_bounds(now, zone)
    views = likes = followers = 0
    for series in readings.values():
        gained = _gain(series, start, end)
        views += gained[0]
        likes += gained[1]
        followers += gained[2]
    made = sum(1 for p in posts if start <= _utc(p.created_at) < end)
    return Yesterday(views, likes, followers, made)


# --- the Performance panel's whole picture -----------------------------------------------

TOP_POSTS = 100
SERIES_ACCOUNTS = 12  # lines on the growth chart; more are a tangle


@dataclass(frozen=True)
class AccountInfo:
    account_id: int
    username: str
    timezone: str


@dataclass(frozen=True)
class Performance:
    """Everything the panel draws for one account filter (None: all accounts)."""

    account_id: int | None
    posts: int
    grid: HourGrid
    best: list[BestSlot]
    top: list[PostLike]
    by_campaign: list[Comparison]
    by_template: list[Comparison]
    growth: list[tuple[AccountInfo, Series]]


def build_performance(
    posts: Sequence[PostLike],
    account_readings: Mapping[int, Sequence[AccountReadingLike]],
    accounts: Mapping[int, AccountInfo],
    campaign_names: Mapping[int, str],
    account_id: int | None = None,
    *,
    best_top: int = 5,
    min_posts: int = BEST_MIN_POSTS,
) -> Performance:
    mine = [p for p in posts if account_id is None or p.account_id == account_id]
    zones = {key: info.timezone for key, info in accounts.items()}
    grid = hour_grid(mine, zones)
    growth: list[tuple[AccountInfo, Series]] = []
    for key, readings in account_readings.items():
        if (account_id is not None and key != account_id) or not readings:
            continue
        info = accounts.get(key, AccountInfo(key, f"account #{key}", "UTC"))
        growth.append((info, account_series(readings)))
    # the biggest accounts when there are too many to draw
    growth.sort(key=lambda pair: -(pair[1].followers[-1] if pair[1].followers else 0))
    return Performance(
        account_id=account_id,
        posts=len(mine),
        grid=grid,
        best=best_hours(grid, top=best_top, min_posts=min_posts),
        top=top_posts(mine, TOP_POSTS),
        by_campaign=compare_by_campaign(mine, campaign_names),
        by_template=compare_by_template(mine),
        growth=growth[:SERIES_ACCOUNTS],
    )


# --- the campaign wizard's suggestion ----------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    best: list[BestSlot]  # the accounts' best local weekday/hour slots, best first
    start: datetime | None  # the first of them to come (UTC) for any of the accounts


def suggest_start(
    posts: Iterable[PostLike],
    zones: Mapping[int, str],
    account_ids: Sequence[int],
    after: datetime,
    *,
    top: int = 3,
    min_posts: int = BEST_MIN_POSTS,
) -> Suggestion:
    """The best hours of these accounts together (each post in its account's zone) and
    the earliest moment after `after` that is one of them for one of the accounts."""
    wanted = set(account_ids)
    grid = hour_grid([p for p in posts if p.account_id in wanted], zones)
    best = best_hours(grid, top=top, min_posts=min_posts)
    moments = [
        moment for key in wanted for moment in next_slot_times(best, zones.get(key), after, 1)
    ]
    return Suggestion(best, min(moments) if moments else None)
