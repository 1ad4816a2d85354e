"""The calendar's arithmetic, without Qt: which dates a month grid shows, the UTC range a
span of local days covers (DST included), which local day a post falls on, and one lane
(and one colour) per account, the same in every day and every view.

The week, month and list views in ui/ draw what these functions answer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

GRID_WEEKS = 6  # a month grid is always 6 rows of 7 days: its height never jumps

# One colour per account, chosen by its id: the same account has the same colour in the
# week's lanes, the month's chips and the list, whichever accounts are shown beside it.
ACCOUNT_COLOURS = (
    "#3B82F6",
    "#E4572E",
    "#17A398",
    "#A05EB5",
    "#F2A541",
    "#2E4057",
    "#D1495B",
    "#66A182",
    "#8D6A9F",
    "#00798C",
    "#C2847A",
    "#5B8E7D",
)


def week_start(day: date) -> date:
    """The Monday of the week holding `day`."""
    return day - timedelta(days=day.weekday())


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_grid(month: date) -> list[date]:
    """The 42 dates a month grid shows: from the Monday on or before the 1st, six weeks."""
    first = week_start(month_start(month))
    return [first + timedelta(days=n) for n in range(GRID_WEEKS * 7)]


def local_range(first: date, days: int, zone: tzinfo) -> tuple[datetime, datetime]:
    """[local midnight of `first`, local midnight `days` later) as aware UTC datetimes.
    Built from each end's own wall-clock midnight, so a span over a DST change is an
    hour shorter or longer, as the operator's clock says."""
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=days), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def local_day(moment: datetime, zone: tzinfo) -> date:
    """The operator's calendar day a moment falls on."""
    return moment.astimezone(zone).date()


def account_colour(account_id: int) -> str:
    return ACCOUNT_COLOURS[account_id % len(ACCOUNT_COLOURS)]


@dataclass(frozen=True)
class Lane:
    account_id: int
    username: str
    colour: str


def lanes(posts: Iterable[tuple[int, str]], only: Iterable[int] | None = None) -> list[Lane]:
    """One lane per account that has a post in what is shown (pairs of account id and
    username), in the order of the usernames: an account keeps its lane on every day of
    the week, so posts of five accounts at the same hour sit side by side. `only`
    narrows the lanes to some accounts (the account or group filter)."""
    wanted = None if only is None else set(only)
    names: dict[int, str] = {}
    for account_id, username in posts:
        if wanted is None or account_id in wanted:
            names.setdefault(account_id, username)
    ordered = sorted(names.items(), key=lambda item: (item[1].lower(), item[0]))
    return [Lane(i, name, account_colour(i)) for i, name in ordered]


def lane_slices(count: int, left: float, width: float, gap: float = 2.0) -> list[tuple[int, int]]:
    """Pixel (x, width) of `count` lanes across a column: whole pixels, no overlap, at
    least one pixel each."""
    if count <= 0:
        return []
    edges = [int(left + width * n / count) for n in range(count + 1)]
    return [(edges[n], max(1, edges[n + 1] - edges[n] - int(gap))) for n in range(count)]


def day_fit(available: int, per_item: int, total: int) -> tuple[int, int]:
    """How many of a day's `total` chips fit in `available` pixels, and how many are left
    for "+N more" (which takes one chip's room itself when needed)."""
    room = max(0, available // per_item) if per_item > 0 else 0
    if total <= room:
        return total, 0
    shown = max(0, room - 1)
    return shown, total - shown
