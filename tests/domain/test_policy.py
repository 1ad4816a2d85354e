"""The account policy's decision, rule by rule (a table), and the planner against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piper_desktop.domain.policy import (
    ASKED,
    NO_CAPS,
    AccountRules,
    Caps,
    Held,
    PostBook,
    Rule,
    decide,
)
from piper_desktop.domain.slots import AccountCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


def at(zone: ZoneInfo, *args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=zone, fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Case:
    name: str
    rules: AccountRules
    moment: datetime
    # None: ok; else the rule that holds and the moment it holds until
    expected: tuple[Rule, datetime] | None
    posts: list[datetime] = field(default_factory=list)
    caps: Caps = NO_CAPS
    claim: bool = False
    pinned: bool = False
    last_post_at: datetime | None = None

    def __str__(self) -> str:
        return self.name


WINDOW_9_21 = AccountRules("Europe/Berlin", True, time(9), time(21))
NIGHT_22_02 = AccountRules("America/New_York", True, time(22), time(2))
CAP_3 = AccountRules("Europe/Berlin", max_posts_per_day=3)
CAP_20 = AccountRules("Europe/Berlin", max_posts_per_day=20)
SPACED_60 = AccountRules("Europe/Berlin", min_spacing_minutes=60)
COOLING = AccountRules("UTC", cooldown_until=utc(2026, 3, 10, 15))

CASES = [
    # --- daily caps: the account's own, the global one, the lower wins ---------------
    Case("no posts yet: ok", CAP_3, at(BERLIN, 2026, 3, 10, 12), None),
    Case(
        "under the account's cap: ok",
        CAP_3,
        at(BERLIN, 2026, 3, 10, 12),
        None,
        posts=[at(BERLIN, 2026, 3, 10, 9), at(BERLIN, 2026, 3, 10, 10)],
    ),
    Case(
        "account cap reached: held to the next local midnight",
        CAP_3,
        at(BERLIN, 2026, 3, 10, 12),
        (Rule.DAILY_CAP, at(BERLIN, 2026, 3, 11, 0)),
        posts=[at(BERLIN, 2026, 3, 10, h) for h in (1, 9, 10)],
    ),
    Case(
        "yesterday's posts do not count",
        CAP_3,
        at(BERLIN, 2026, 3, 10, 12),
        None,
        posts=[at(BERLIN, 2026, 3, 9, h) for h in (9, 10, 23)],
    ),
    Case(
        "global cap below the account's: the global one holds",
        CAP_20,
        at(BERLIN, 2026, 3, 10, 20),
        (Rule.DAILY_CAP, at(BERLIN, 2026, 3, 11, 0)),
        posts=[at(BERLIN, 2026, 3, 10, 9, m) for m in range(15)],
        caps=Caps(daily_post_cap=15),
    ),
    Case(
        "global cap below the account's, not reached: ok",
        CAP_20,
        at(BERLIN, 2026, 3, 10, 20),
        None,
        posts=[at(BERLIN, 2026, 3, 10, 9, m) for m in range(14)],
        caps=Caps(daily_post_cap=15),
    ),
    Case(
        "global cap above the account's: the account's holds",
        CAP_3,
        at(BERLIN, 2026, 3, 10, 20),
        (Rule.DAILY_CAP, at(BERLIN, 2026, 3, 11, 0)),
        posts=[at(BERLIN, 2026, 3, 10, 9, m) for m in range(3)],
        caps=Caps(daily_post_cap=15),
    ),
    Case(
        "the cap holds pinned jobs at the claim too",
        CAP_3,
        at(BERLIN, 2026, 3, 10, 20),
        (Rule.DAILY_CAP, at(BERLIN, 2026, 3, 11, 0)),
        posts=[at(BERLIN, 2026, 3, 10, 9, m) for m in range(3)],
        claim=True,
        pinned=True,
    ),
    Case(
        "the cap counts the account's local day, not UTC's (23:30 New York)",
        AccountRules("America/New_York", max_posts_per_day=1),
        at(NY, 2026, 6, 1, 23, 45),
        (Rule.DAILY_CAP, at(NY, 2026, 6, 2, 0)),
        posts=[at(NY, 2026, 6, 1, 23, 30)],
    ),
    Case(
        "a Tokyo day starts at 15:00 UTC",
        AccountRules("Asia/Tokyo", max_posts_per_day=2),
        utc(2030, 1, 7, 9),
        (Rule.DAILY_CAP, utc(2030, 1, 7, 15)),
        posts=[utc(2030, 1, 7, 8), utc(2030, 1, 7, 8, 30)],
        claim=True,
    ),
    # --- spacing -------------------------------------------------------------------------
    Case(
        "spacing: an hour after the last post is ok",
        SPACED_60,
        at(BERLIN, 2026, 3, 10, 11),
        None,
        posts=[at(BERLIN, 2026, 3, 10, 10)],
    ),
    Case(
        "spacing: too close after a post holds until the spacing ends",
        SPACED_60,
        at(BERLIN, 2026, 3, 10, 10, 30),
        (Rule.SPACING, at(BERLIN, 2026, 3, 10, 11)),
        posts=[at(BERLIN, 2026, 3, 10, 10)],
    ),
    Case(
        "spacing: too close before a planned post holds until after it",
        SPACED_60,
        at(BERLIN, 2026, 3, 10, 9, 30),
        (Rule.SPACING, at(BERLIN, 2026, 3, 10, 11)),
        posts=[at(BERLIN, 2026, 3, 10, 10)],
    ),
    Case(
        "spacing: the latest of two close posts decides",
        SPACED_60,
        at(BERLIN, 2026, 3, 10, 10, 40),
        (Rule.SPACING, at(BERLIN, 2026, 3, 10, 11, 20)),
        posts=[at(BERLIN, 2026, 3, 10, 10), at(BERLIN, 2026, 3, 10, 10, 20)],
    ),
    Case(
        "spacing: the account's last post counts when no job shows it",
        SPACED_60,
        at(BERLIN, 2026, 3, 10, 10, 30),
        (Rule.SPACING, at(BERLIN, 2026, 3, 10, 11)),
        last_post_at=at(BERLIN, 2026, 3, 10, 10),
        claim=True,
    ),
    Case(
        "spacing holds automatic jobs at the claim",
        SPACED_60,
        at(BERLIN, 2026, 3, 10, 10, 30),
        (Rule.SPACING, at(BERLIN, 2026, 3, 10, 11)),
        posts=[at(BERLIN, 2026, 3, 10, 10)],
        claim=True,
    ),
    Case(
        "pinned jobs are not held for spacing at the claim (the operator chose)",
        SPACED_60,
        at(BERLIN, 2026, 3, 10, 10, 30),
        None,
        posts=[at(BERLIN, 2026, 3, 10, 10)],
        claim=True,
        pinned=True,
    ),
    Case(
        "moving a post to a time (planning, pinned) keeps the spacing",
        SPACED_60,
        at(BERLIN, 2026, 3, 10, 10, 30),
        (Rule.SPACING, at(BERLIN, 2026, 3, 10, 11)),
        posts=[at(BERLIN, 2026, 3, 10, 10)],
        pinned=True,
    ),
    # --- cooldown ------------------------------------------------------------------------
    Case(
        "cooling down: held until it ends",
        COOLING,
        utc(2026, 3, 10, 9),
        (Rule.COOLDOWN, utc(2026, 3, 10, 15)),
    ),
    Case(
        "cooling down holds pinned jobs at the claim too",
        COOLING,
        utc(2026, 3, 10, 9),
        (Rule.COOLDOWN, utc(2026, 3, 10, 15)),
        claim=True,
        pinned=True,
    ),
    Case("the moment the cooldown ends: ok", COOLING, utc(2026, 3, 10, 15), None),
    # --- posting window -------------------------------------------------------------------
    Case("inside the window: ok", WINDOW_9_21, at(BERLIN, 2026, 3, 10, 12), None),
    Case(
        "before the window: held until it opens",
        WINDOW_9_21,
        at(BERLIN, 2026, 3, 10, 6),
        (Rule.WINDOW, at(BERLIN, 2026, 3, 10, 9)),
    ),
    Case(
        "after the window: held until tomorrow's",
        WINDOW_9_21,
        at(BERLIN, 2026, 3, 10, 22),
        (Rule.WINDOW, at(BERLIN, 2026, 3, 11, 9)),
    ),
    Case(
        "the window's end is outside it",
        WINDOW_9_21,
        at(BERLIN, 2026, 3, 10, 21),
        (Rule.WINDOW, at(BERLIN, 2026, 3, 11, 9)),
    ),
    Case(
        "a window across midnight: before midnight is inside",
        NIGHT_22_02,
        at(NY, 2026, 6, 1, 23, 30),
        None,
    ),
    Case(
        "a window across midnight: after midnight is inside (yesterday's window)",
        NIGHT_22_02,
        at(NY, 2026, 6, 2, 1),
        None,
    ),
    Case(
        "a window across midnight: after it closes, held until tonight's",
        NIGHT_22_02,
        at(NY, 2026, 6, 2, 3),
        (Rule.WINDOW, at(NY, 2026, 6, 2, 22)),
    ),
    Case(
        "the window is not asked at the claim (met when the slot was planned)",
        WINDOW_9_21,
        at(BERLIN, 2026, 3, 10, 22),
        None,
        claim=True,
    ),
    Case(
        "a disabled window is no window",
        AccountRules("Europe/Berlin", False, time(9), time(21)),
        at(BERLIN, 2026, 3, 10, 3),
        None,
    ),
    # --- the account's time zone across DST -----------------------------------------------
    Case(
        "Berlin spring DST day: the window opens at 09:00 CEST = 07:00 UTC",
        WINDOW_9_21,
        at(BERLIN, 2026, 3, 29, 5),
        (Rule.WINDOW, utc(2026, 3, 29, 7)),
    ),
    Case(
        "Berlin the day before spring DST: 09:00 CET = 08:00 UTC",
        WINDOW_9_21,
        at(BERLIN, 2026, 3, 28, 5),
        (Rule.WINDOW, utc(2026, 3, 28, 8)),
    ),
    Case(
        "Berlin spring DST day has 23 hours: the cap holds to the next midnight (22:00 UTC)",
        AccountRules("Europe/Berlin", max_posts_per_day=1),
        utc(2026, 3, 29, 12),
        (Rule.DAILY_CAP, utc(2026, 3, 29, 22)),
        posts=[utc(2026, 3, 28, 23, 30)],  # 00:30 CET on the 29th: that local day
    ),
    Case(
        "Berlin autumn DST day has 25 hours: 00:30 local and 23:30 local are one day",
        AccountRules("Europe/Berlin", max_posts_per_day=1),
        utc(2026, 10, 25, 22, 30),  # 23:30 CET
        (Rule.DAILY_CAP, utc(2026, 10, 25, 23)),
        posts=[utc(2026, 10, 24, 22, 30)],  # 00:30 CEST on the 25th
    ),
    Case(
        "Berlin autumn DST: spacing is real elapsed time across the repeated hour",
        SPACED_60,
        at(BERLIN, 2026, 10, 25, 2, 30, fold=1),  # the second 02:30 (CET), 60 min later
        None,
        posts=[at(BERLIN, 2026, 10, 25, 2, 30)],  # the first 02:30 (CEST)
    ),
    Case(
        "Berlin autumn DST: the first 02:59 is not an hour after the first 02:30",
        SPACED_60,
        at(BERLIN, 2026, 10, 25, 2, 59),
        (Rule.SPACING, utc(2026, 10, 25, 1, 30)),
        posts=[at(BERLIN, 2026, 10, 25, 2, 30)],
    ),
    Case(
        "New York spring DST (8 March 2026): the window follows the wall clock",
        AccountRules("America/New_York", True, time(9), time(17)),
        at(NY, 2026, 3, 8, 1),
        (Rule.WINDOW, utc(2026, 3, 8, 13)),  # 09:00 EDT
    ),
    Case(
        "New York autumn DST (1 Nov 2026): 09:00 EST = 14:00 UTC",
        AccountRules("America/New_York", True, time(9), time(17)),
        at(NY, 2026, 11, 1, 1),
        (Rule.WINDOW, utc(2026, 11, 1, 14)),
    ),
    Case(
        "New York night window across the autumn change holds an hour longer in UTC",
        NIGHT_22_02,
        utc(2026, 11, 1, 6, 30),  # 01:30 EST, the second time round: still inside
        None,
    ),
    # --- order: the first rule that holds is the answer ----------------------------------
    Case(
        "cooldown is asked before the window",
        AccountRules("UTC", True, time(9), time(21), cooldown_until=utc(2026, 3, 10, 5)),
        utc(2026, 3, 10, 3),
        (Rule.COOLDOWN, utc(2026, 3, 10, 5)),
    ),
    Case(
        "the cap is asked before spacing",
        AccountRules("UTC", min_spacing_minutes=60, max_posts_per_day=1),
        utc(2026, 3, 10, 10, 30),
        (Rule.DAILY_CAP, utc(2026, 3, 11)),
        posts=[utc(2026, 3, 10, 10)],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_decision(case: Case) -> None:
    book = PostBook(case.posts, case.last_post_at)
    held = decide(case.rules, case.caps, book, case.moment, claim=case.claim, pinned=case.pinned)
    if case.expected is None:
        assert held is None
    else:
        assert held is not None
        assert (held.rule, held.until) == case.expected
        assert held.until > case.moment and held.reason


def test_reasons_name_the_account_as_the_engine_says_them() -> None:
    rules = AccountRules("UTC", min_spacing_minutes=30, max_posts_per_day=2, username="alice")
    book = PostBook([utc(2026, 3, 10, 9), utc(2026, 3, 10, 9, 10)])
    capped = decide(rules, NO_CAPS, book, utc(2026, 3, 10, 9, 20), claim=True)
    assert capped == Held(
        utc(2026, 3, 11), Rule.DAILY_CAP, "daily cap of 2 posts reached for @alice"
    )
    spaced = decide(rules, NO_CAPS, PostBook([utc(2026, 3, 10, 9)]), utc(2026, 3, 10, 9, 20))
    assert spaced is not None and spaced.reason == "keeps 30 min from @alice's last post"
    cooling = AccountRules("UTC", cooldown_until=utc(2026, 3, 11), username="alice")
    held = decide(cooling, NO_CAPS, PostBook(), utc(2026, 3, 10))
    assert held is not None and held.reason == "@alice is cooling down"


def test_a_claim_asks_a_subset_of_what_planning_asks() -> None:
    # so a slot the planner gave is never held by the engine for the same facts
    for pinned in (False, True):
        assert set(ASKED[True, pinned]) <= set(ASKED[False, pinned])
    assert Rule.SPACING not in ASKED[True, True]
    assert Rule.WINDOW not in ASKED[True, False]


def test_only_asks_one_rule() -> None:
    rules = AccountRules("UTC", min_spacing_minutes=60, max_posts_per_day=1)
    book = PostBook([utc(2026, 3, 10, 10)])
    moment = utc(2026, 3, 10, 10, 30)
    spaced = decide(rules, NO_CAPS, book, moment, claim=True, only=Rule.SPACING)
    assert spaced is not None and spaced.rule is Rule.SPACING
    assert decide(rules, NO_CAPS, book, moment, claim=True, only=Rule.COOLDOWN) is None


# --- the planner's slots are always accepted by the policy ---------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"]
# around both 2026 DST changes of Berlin and New York
STARTS = [utc(2026, 3, 6), utc(2026, 3, 27), utc(2026, 10, 23), utc(2026, 10, 30)]


@st.composite
def calendars(draw: st.DrawFn) -> tuple[AccountCalendar, datetime]:
    start = draw(st.sampled_from(STARTS)) + timedelta(minutes=draw(st.integers(0, 4 * 24 * 60)))
    window = draw(st.booleans())
    times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
    window_start, window_end = draw(times), draw(times)
    if window_start == window_end:
        window = False
    cooldown = draw(st.none() | st.integers(0, 3 * 24 * 60))
    rules = AccountRules(
        timezone=draw(st.sampled_from(ZONES)),
        window_enabled=window,
        window_start=window_start,
        window_end=window_end,
        min_spacing_minutes=draw(st.sampled_from([0, 0, 15, 60, 90, 240])),
        max_posts_per_day=draw(st.integers(1, 6)),
        cooldown_until=None if cooldown is None else start + timedelta(minutes=cooldown),
    )
    caps = Caps(daily_post_cap=draw(st.none() | st.integers(1, 6)))
    offsets = draw(st.lists(st.integers(-2 * 24 * 60, 5 * 24 * 60), max_size=12))
    taken = [start + timedelta(minutes=m) for m in offsets]
    return AccountCalendar(rules, taken, caps), start


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calendars(), st.integers(1, 8))
def test_every_planned_slot_is_accepted_by_the_policy(
    drawn: tuple[AccountCalendar, datetime], count: int
) -> None:
    calendar, start = drawn
    for _ in range(count):
        slot = calendar.next_free(start)
        assert slot >= start
        for claim in (False, True):
            held = decide(
                calendar.rules, calendar.caps, calendar.book, slot, claim=claim, pinned=False
            )
            assert held is None, (slot, held)
        calendar.take(slot)


def test_the_architecture_doc_shows_the_rules_each_question_asks() -> None:
    from tests.conftest import REPO

    text = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = text.split("## Account policy", 1)[1].split("\n## ", 1)[0]
    names = {"cooldown": Rule.COOLDOWN, "window": Rule.WINDOW}
    names |= {"daily cap": Rule.DAILY_CAP, "spacing": Rule.SPACING, "stagger": Rule.STAGGER}
    shown: dict[tuple[bool, bool], set[Rule]] = {(False, False): set(), (True, False): set()}
    shown[True, True] = set()
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] not in names:
            continue
        for key, cell in zip([(False, False), (True, False), (True, True)], cells[1:], strict=True):
            if cell == "yes":
                shown[key].add(names[cells[0]])
    assert {key: set(rules) for key, rules in ASKED.items() if key in shown} == shown
    assert ASKED[False, True] == ASKED[False, False]
