"""Automatic slots: the next time an account may post.

Rules, all in the account's own time zone: inside its posting window (which may cross
midnight), at least `min_spacing_minutes` from any other slotted post, at most
`max_posts_per_day` per local calendar day, and not before a cooldown ends. Computed on
aware datetimes through zoneinfo, so DST changes and midnight need no special cases:
each local day's window is built from that day's wall-clock times.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .errors import DomainError

MAX_DAYS_AHEAD = 400


class NoSlot(DomainError):
    pass


@dataclass
class SlotRules:
    timezone: str = "UTC"
    window_enabled: bool = False
    window_start: time | None = None
    window_end: time | None = None
    min_spacing_minutes: int = 0
    max_posts_per_day: int = 1000
    cooldown_until: datetime | None = None


@dataclass
class AccountCalendar:
    """An account's slotted posts (UTC), kept sorted, with per-local-day counts."""

    rules: SlotRules
    taken: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.zone = ZoneInfo(self.rules.timezone or "UTC")
        self.taken = sorted(t.astimezone(UTC) for t in self.taken)
        self.per_day: Counter[date] = Counter(self.local_day(t) for t in self.taken)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def local_midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def windows_touching(self, day: date) -> list[tuple[datetime, datetime]]:
        """Windows (UTC start, end) that open on `day - 1` or `day`."""
        result = []
        for offset in (-1, 0):
            d = day + timedelta(days=offset)
            result.append(self._window(d))
        return result

    def _window(self, day: date) -> tuple[datetime, datetime]:
        start_t, end_t = self.rules.window_start, self.rules.window_end
        assert start_t is not None and end_t is not None
        start = datetime.combine(day, start_t, tzinfo=self.zone)
        end_day = day if end_t > start_t else day + timedelta(days=1)
        end = datetime.combine(end_day, end_t, tzinfo=self.zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def conflict(self, candidate: datetime) -> datetime | None:
        """The latest slotted post closer than the spacing to `candidate`, if any."""
        spacing = timedelta(minutes=self.rules.min_spacing_minutes)
        if not spacing:
            return None
        low = bisect.bisect_right(self.taken, candidate - spacing)
        high = bisect.bisect_left(self.taken, candidate + spacing)
        return self.taken[high - 1] if high > low else None

    def next_free(self, after: datetime) -> datetime:
        rules = self.rules
        candidate = after.astimezone(UTC)
        if rules.cooldown_until and rules.cooldown_until > candidate:
            candidate = rules.cooldown_until.astimezone(UTC)
        limit = candidate + timedelta(days=MAX_DAYS_AHEAD)
        while candidate < limit:
            day = self.local_day(candidate)
            if rules.window_enabled and rules.window_start and rules.window_end:
                inside = [w for w in self.windows_touching(day) if w[0] <= candidate < w[1]]
                if not inside:
                    later = [w[0] for w in self.windows_touching(day + timedelta(days=1))]
                    later += [w[0] for w in self.windows_touching(day)]
                    candidate = min(s for s in later if s > candidate)
                    continue
            if self.per_day[day] >= rules.max_posts_per_day:
                candidate = self.local_midnight(day + timedelta(days=1))
                continue
            clash = self.conflict(candidate)
            if clash is not None:
                candidate = clash + timedelta(minutes=rules.min_spacing_minutes)
                continue
            return candidate
        raise NoSlot(f"no free slot within {MAX_DAYS_AHEAD} days")

    def take(self, moment: datetime) -> None:
        moment = moment.astimezone(UTC)
        bisect.insort(self.taken, moment)
        self.per_day[self.local_day(moment)] += 1
