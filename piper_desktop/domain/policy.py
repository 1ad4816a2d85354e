"""The account policy: may this account post at this moment, or until when is it held?

One set of rules, asked by everyone who decides when a post goes out: the planner (the
campaign wizard's slots, `jobs add --at auto`, moving a post in the week calendar),
re-slotting of missed jobs, and the engine's claim pass. The answer is `None` (ok) or a
`Held` (held until T because R). The decision is pure: the callers load the facts (the
account's rules, the global caps, the account's posts planned and posted) and pass them
in, so the claim pass can ask it for every due job without touching the database.

The rules, in the order they are asked, all in the account's own time zone:

1. cooldown: not before the account's cooldown ends;
2. posting window (planning only): inside the account's daily window, which may cross
   midnight; each local day's window is built from that day's wall-clock times, so DST
   changes need no special case;
3. daily cap: fewer posts on the local calendar day than the lower of the account's
   `max_posts_per_day` and the global `engine.daily_post_cap`; held until the next local
   midnight. A route with a cap of its own (`ROUTE_DAILY_CAP_KEYS`: TikTok's API, about
   15 posts a creator a day) also counts that route's posts alone; held to the next
   day's window;
4. spacing: no other post closer than `min_spacing_minutes` (real elapsed time, on both
   sides: planned posts may lie ahead); held until the spacing after the latest one.
   Pinned jobs (the operator chose the time) are not held for spacing when claimed;
5. stagger (planning a campaign only): no slot closer than `campaigns.stagger_minutes` to
   another account's slot of the same campaign, so accounts do not post in bursts; held
   until the stagger after the latest one. Only the campaign planner passes the other
   accounts' slots (`others`); every other question has none, so this rule never holds.

What a claim checks is a subset of what planning checks, so a slot the planner gave is
never held back by the engine for the same facts (both count a post at its submission,
whatever became of it, or at its slot while it waits).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from ..store.enums import JobRoute
from .errors import ValidationError

# an account that sets no cap of its own
NO_CAP = 1000
ONE_DAY = timedelta(days=1)


class Rule(StrEnum):
    COOLDOWN = "cooldown"
    WINDOW = "window"
    DAILY_CAP = "daily_cap"
    SPACING = "spacing"
    STAGGER = "stagger"


@dataclass(frozen=True, slots=True)
class Held:
    """Not now: the earliest moment this rule allows, and why (one line for people)."""

    until: datetime
    rule: Rule
    reason: str


@dataclass(frozen=True, slots=True)
class AccountRules:
    """One account's own settings (the fields of `Account` the policy reads)."""

    timezone: str = "UTC"
    window_enabled: bool = False
    window_start: time | None = None
    window_end: time | None = None
    min_spacing_minutes: int = 0
    max_posts_per_day: int = NO_CAP
    cooldown_until: datetime | None = None
    # for the reasons ("@name is cooling down"); empty: "the account"
    username: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.timezone)

    @property
    def who(self) -> str:
        return f"@{self.username}" if self.username else "the account"

    @property
    def has_window(self) -> bool:
        return self.window_enabled and self.window_start is not None and self.window_end is not None


@dataclass(frozen=True, slots=True)
class Caps:
    """Limits over all accounts (the `engine.*` and `campaigns.*` settings); None or 0:
    no such limit."""

    daily_post_cap: int | None = None
    # minutes between two accounts' slots of one campaign (`campaigns.stagger_minutes`)
    stagger_minutes: int = 0
    # (route, cap): posts per account per local day on that route, counted on it alone
    # (`ROUTE_DAILY_CAP_KEYS`: TikTok's API lets a creator post about 15 times a day)
    route_daily_caps: tuple[tuple[str, int], ...] = ()

    def route_cap(self, route: str | None) -> int | None:
        for name, cap in self.route_daily_caps:
            if name == route and cap > 0:
                return cap
        return None


NO_CAPS = Caps()

# route -> the setting holding its per-account daily cap (read by the planner's and the
# engine's loaders alike, so both hold the same posts back)
ROUTE_DAILY_CAP_KEYS: dict[str, str] = {JobRoute.TIKTOK_API.value: "tiktok.daily_posts_per_creator"}


@lru_cache(maxsize=256)
def zone_of(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def as_utc(moment: datetime) -> datetime:
    # stored times come back in UTC already; converting them again is the claim pass's cost
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


class PostBook:
    """An account's posts, planned and posted (aware times, kept sorted in UTC).

    `last_post_at` is the account's own record of its last post (it may predate the
    posts loaded); it counts for spacing only, since it is usually one of the posts too.
    """

    __slots__ = ("last_post_at", "times")

    def __init__(self, times: Iterable[datetime] = (), last_post_at: datetime | None = None):
        self.times = sorted(as_utc(t) for t in times)
        self.last_post_at = last_post_at

    def add(self, moment: datetime) -> None:
        bisect.insort(self.times, as_utc(moment))

    def remove(self, moment: datetime) -> None:
        """Take one post at `moment` out (a post that is about to move)."""
        moment = as_utc(moment)
        index = bisect.bisect_left(self.times, moment)
        if index < len(self.times) and self.times[index] == moment:
            del self.times[index]

    def count(self, start: datetime, end: datetime) -> int:
        """Posts in [start, end)."""
        return bisect.bisect_left(self.times, end) - bisect.bisect_left(self.times, start)

    def closest_before(self, moment: datetime, spacing: timedelta) -> datetime | None:
        """The latest post less than `spacing` away from `moment` (either side), if any."""
        low = bisect.bisect_right(self.times, moment - spacing)
        high = bisect.bisect_left(self.times, moment + spacing)
        clash = self.times[high - 1] if high > low else None
        last = self.last_post_at
        if last is None or not moment - spacing < last < moment + spacing:
            return clash
        return last if clash is None or last > clash else clash


# --- the account's calendar days --------------------------------------------------------


def local_day(rules: AccountRules, moment: datetime) -> date:
    return moment.astimezone(rules.zone).date()


@lru_cache(maxsize=4096)
def _midnight(zone: str, day: date) -> datetime:
    # the claim pass asks this for every due job: the same few days, over and over
    return datetime.combine(day, time(0), tzinfo=zone_of(zone)).astimezone(UTC)


def day_bounds(rules: AccountRules, moment: datetime) -> tuple[datetime, datetime]:
    """The local calendar day holding `moment`, as UTC [start, end)."""
    day = local_day(rules, moment)
    return _midnight(rules.timezone, day), _midnight(rules.timezone, day + ONE_DAY)


def window_of(rules: AccountRules, day: date) -> tuple[datetime, datetime]:
    """The window that opens on local `day` (UTC start, end); it may end the next day."""
    start_t, end_t = rules.window_start, rules.window_end
    assert start_t is not None and end_t is not None
    zone = rules.zone
    start = datetime.combine(day, start_t, tzinfo=zone)
    end_day = day if end_t > start_t else day + timedelta(days=1)
    end = datetime.combine(end_day, end_t, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


_WINDOW_TEXT = re.compile(r"\s*(\d{1,2}):(\d{2})\s*[-–]\s*(\d{1,2}):(\d{2})\s*")
WINDOW_OFF = frozenset({"off", "none", "no"})


def posting_window_fields(field: str, value: Any) -> dict[str, Any]:
    """A posting window written as "09:00-21:00" (account's local time; the end may be
    past midnight, "22:00-02:00"), or "off", as the account's window fields. Blank: {}."""
    text = "" if value is None else str(value).strip()
    if not text:
        return {}
    if text.lower() in WINDOW_OFF:
        return {"window_enabled": False}
    match = _WINDOW_TEXT.fullmatch(text)
    numbers = [int(part) for part in match.groups()] if match else [99] * 4
    if max(numbers[0], numbers[2]) > 23 or max(numbers[1], numbers[3]) > 59:
        raise ValidationError(field, f"must be HH:MM-HH:MM or off, got {text[:40]!r}")
    start, end = time(numbers[0], numbers[1]), time(numbers[2], numbers[3])
    if start == end:
        raise ValidationError(field, "the window must not start and end at the same time")
    return {"window_enabled": True, "window_start": start, "window_end": end}


# --- the rules ---------------------------------------------------------------------------


def cooldown_hold(rules: AccountRules, at: datetime) -> Held | None:
    until = rules.cooldown_until
    if until is None or until <= at:
        return None
    return Held(until.astimezone(UTC), Rule.COOLDOWN, f"{rules.who} is cooling down")


def window_hold(rules: AccountRules, at: datetime) -> Held | None:
    if not rules.has_window:
        return None
    day = local_day(rules, at)
    # a window crossing midnight may have opened the day before
    windows = [window_of(rules, day + timedelta(days=offset)) for offset in (-1, 0, 1)]
    if any(start <= at < end for start, end in windows):
        return None
    opens = min(start for start, _ in windows if start > at)
    return Held(opens, Rule.WINDOW, f"outside {rules.who}'s posting window")


def daily_cap(rules: AccountRules, caps: Caps) -> int:
    cap = rules.max_posts_per_day
    if caps.daily_post_cap is not None:
        cap = min(cap, caps.daily_post_cap)
    return cap


def cap_hold(rules: AccountRules, caps: Caps, book: PostBook, at: datetime) -> Held | None:
    cap = daily_cap(rules, caps)
    start, end = day_bounds(rules, at)
    if book.count(start, end) < cap:
        return None
    return Held(end, Rule.DAILY_CAP, f"daily cap of {cap} posts reached for {rules.who}")


def route_cap_hold(
    rules: AccountRules,
    caps: Caps,
    route: str | None,
    route_book: PostBook | None,
    at: datetime,
) -> Held | None:
    """The route's own daily cap (its posts only, on the account's local day): held to
    the next day's window when the account has one, else to the next local midnight."""
    cap = caps.route_cap(route)
    if cap is None or route_book is None:
        return None
    start, end = day_bounds(rules, at)
    if route_book.count(start, end) < cap:
        return None
    opens = window_hold(rules, end)
    until = opens.until if opens is not None else end
    return Held(
        until,
        Rule.DAILY_CAP,
        f"{rules.who} has had {cap} {route} posts today, the most "
        f"{ROUTE_DAILY_CAP_KEYS.get(str(route), 'its daily cap')} allows; "
        "the next goes out the next day",
    )


def spacing_hold(rules: AccountRules, book: PostBook, at: datetime) -> Held | None:
    minutes = rules.min_spacing_minutes
    if not minutes:
        return None
    spacing = timedelta(minutes=minutes)
    clash = book.closest_before(at, spacing)
    if clash is None:
        return None
    return Held(
        as_utc(clash + spacing),
        Rule.SPACING,
        f"keeps {minutes} min from {rules.who}'s last post",
    )


def stagger_hold(caps: Caps, others: PostBook | None, at: datetime) -> Held | None:
    """Not within the stagger of another account's slot of the same campaign."""
    minutes = caps.stagger_minutes
    if not minutes or others is None:
        return None
    stagger = timedelta(minutes=minutes)
    clash = others.closest_before(at, stagger)
    if clash is None:
        return None
    return Held(
        as_utc(clash + stagger),
        Rule.STAGGER,
        f"keeps {minutes} min from another account's post of the campaign",
    )


_PLANNING = (Rule.COOLDOWN, Rule.WINDOW, Rule.DAILY_CAP, Rule.SPACING, Rule.STAGGER)

# which rules a question asks, in order: (claim, pinned) -> rules
ASKED: dict[tuple[bool, bool], tuple[Rule, ...]] = {
    # planning an automatic slot, or the operator moving a post in the week calendar
    (False, False): _PLANNING,
    (False, True): _PLANNING,
    # the claim pass, about to start a due automatic job
    (True, False): (Rule.COOLDOWN, Rule.DAILY_CAP, Rule.SPACING),
    # the claim pass, a job at the operator's explicit time
    (True, True): (Rule.COOLDOWN, Rule.DAILY_CAP),
}


def _ask(
    rule: Rule,
    rules: AccountRules,
    caps: Caps,
    book: PostBook,
    at: datetime,
    others: PostBook | None,
    route: str | None = None,
    route_book: PostBook | None = None,
) -> Held | None:
    if rule is Rule.DAILY_CAP:
        return cap_hold(rules, caps, book, at) or route_cap_hold(rules, caps, route, route_book, at)
    if rule is Rule.SPACING:
        return spacing_hold(rules, book, at)
    if rule is Rule.COOLDOWN:
        return cooldown_hold(rules, at)
    if rule is Rule.STAGGER:
        return stagger_hold(caps, others, at)
    return window_hold(rules, at)


def decide(
    rules: AccountRules,
    caps: Caps,
    book: PostBook,
    at: datetime,
    *,
    claim: bool = False,
    pinned: bool = False,
    only: Rule | None = None,
    others: PostBook | None = None,
    route: str | None = None,
    route_book: PostBook | None = None,
) -> Held | None:
    """None if the account may post at `at`, else the first rule that holds it.

    Planning (`claim=False`: a new automatic slot, re-slotting, the operator moving a
    post): every rule. Claiming (`claim=True`: the engine about to start a due job):
    cooldown, daily cap, and spacing unless the job is pinned. The window is not asked
    at the claim: it was met when the slot was planned, and a slot that started inside
    it (its grace period, its retries) is not pushed to the next day. `book` holds the
    account's other posts (not the one asked about). `only` asks one rule of the set
    (the claim pass asks them one by one, with the duplicate guard in between).
    `others` holds the other accounts' slots of the campaign being planned (the stagger).
    `route` / `route_book`: the post's route and the account's posts on it, for the
    route's own daily cap (`Caps.route_daily_caps`), asked with the daily cap.
    """
    # in UTC: arithmetic on a local time would be wall-clock time (wrong across DST)
    at = as_utc(at)
    for rule in ASKED[claim, pinned]:
        if only is not None and rule is not only:
            continue
        held = _ask(rule, rules, caps, book, at, others, route, route_book)
        if held is not None:
            return held
    return None
