from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piper_desktop.domain.policy import AccountRules, Caps
from piper_desktop.domain.slots import AccountCalendar, CampaignSlots, SlotRules

BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_inside_window_now_is_free() -> None:
    cal = AccountCalendar(SlotRules("Europe/Berlin", True, time(9), time(21), 60, 3))
    now = local(BERLIN, 2026, 3, 10, 12, 0)
    assert cal.next_free(now) == now.astimezone(UTC)


def test_before_window_waits_for_it_and_after_goes_to_next_day() -> None:
    cal = AccountCalendar(SlotRules("Europe/Berlin", True, time(9), time(21), 60, 3))
    assert cal.next_free(local(BERLIN, 2026, 3, 10, 6, 0)) == local(BERLIN, 2026, 3, 10, 9, 0)
    assert cal.next_free(local(BERLIN, 2026, 3, 10, 22, 0)) == local(BERLIN, 2026, 3, 11, 9, 0)


def test_spacing_and_daily_cap() -> None:
    cal = AccountCalendar(SlotRules("Europe/Berlin", True, time(9), time(21), 90, 3))
    start = local(BERLIN, 2026, 3, 10, 9, 0)
    slots = []
    for _ in range(5):
        slot = cal.next_free(start)
        cal.take(slot)
        slots.append(slot.astimezone(BERLIN))
    assert [s.strftime("%d %H:%M") for s in slots] == [
        "10 09:00",
        "10 10:30",
        "10 12:00",
        "11 09:00",
        "11 10:30",
    ]


def test_existing_jobs_are_respected_on_both_sides() -> None:
    taken = [local(BERLIN, 2026, 3, 10, 10, 0)]
    cal = AccountCalendar(SlotRules("Europe/Berlin", False, None, None, 60, 10), taken)
    # 09:30 is within 60 min before the 10:00 post: pushed to 11:00
    assert cal.next_free(local(BERLIN, 2026, 3, 10, 9, 30)) == local(BERLIN, 2026, 3, 10, 11, 0)
    assert cal.next_free(local(BERLIN, 2026, 3, 10, 8, 0)) == local(BERLIN, 2026, 3, 10, 8, 0)


def test_window_across_midnight() -> None:
    cal = AccountCalendar(SlotRules("America/New_York", True, time(22), time(2), 60, 10))
    assert cal.next_free(local(NY, 2026, 6, 1, 23, 30)) == local(NY, 2026, 6, 1, 23, 30)
    assert cal.next_free(local(NY, 2026, 6, 2, 1, 0)) == local(NY, 2026, 6, 2, 1, 0)
    assert cal.next_free(local(NY, 2026, 6, 2, 3, 0)) == local(NY, 2026, 6, 2, 22, 0)


def test_daily_cap_counts_local_days_not_utc_days() -> None:
    # 23:30 New York is already the next day in UTC; the cap must count New York's day
    cal = AccountCalendar(SlotRules("America/New_York", False, None, None, 0, 1))
    cal.take(local(NY, 2026, 6, 1, 23, 30))
    assert cal.next_free(local(NY, 2026, 6, 1, 23, 45)) == local(NY, 2026, 6, 2, 0, 0)
    cal2 = AccountCalendar(SlotRules("America/New_York", False, None, None, 0, 1))
    cal2.take(local(NY, 2026, 6, 1, 0, 30))
    assert cal2.next_free(local(NY, 2026, 6, 1, 20, 0)) == local(NY, 2026, 6, 2, 0, 0)


@pytest.mark.parametrize(
    ("day", "expected_utc_hour"),
    [
        (28, 8),  # 29 March 2026 CET→CEST: the day before, 09:00 CET = 08:00 UTC
        (29, 7),  # the DST day itself: 09:00 CEST = 07:00 UTC
        (30, 7),
    ],
)
def test_window_follows_wall_clock_across_spring_dst(day: int, expected_utc_hour: int) -> None:
    cal = AccountCalendar(SlotRules("Europe/Berlin", True, time(9), time(21), 60, 3))
    slot = cal.next_free(local(BERLIN, 2026, 3, day, 5, 0))
    assert slot.astimezone(BERLIN).hour == 9
    assert slot.astimezone(UTC).hour == expected_utc_hour


def test_spacing_across_autumn_dst_uses_real_elapsed_time() -> None:
    # 25 Oct 2026 Berlin: 03:00 CEST → 02:00 CET; 02:30 happens twice
    cal = AccountCalendar(SlotRules("Europe/Berlin", False, None, None, 60, 10))
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST
    cal.take(first)
    slot = cal.next_free(first)
    assert slot - first == timedelta(minutes=60)
    assert slot.astimezone(BERLIN).strftime("%H:%M") == "02:30"  # the second 02:30, CET


def test_cooldown_holds_slots_back() -> None:
    until = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    cal = AccountCalendar(SlotRules("UTC", False, None, None, 0, 10, cooldown_until=until))
    assert cal.next_free(datetime(2026, 3, 10, 9, 0, tzinfo=UTC)) == until


# --- a campaign over several accounts: stagger and jitter -------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"]


@st.composite
def campaigns(draw: st.DrawFn) -> tuple[CampaignSlots, list[int], datetime, int]:
    """A few accounts with their own rules, a stagger, a jitter and a run of posts."""
    clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
    stagger = draw(st.integers(0, 30))
    caps = Caps(daily_post_cap=draw(st.none() | st.integers(1, 6)), stagger_minutes=stagger)
    calendars: dict[int, AccountCalendar] = {}
    for key in range(draw(st.integers(1, 5))):
        start, end = draw(clock), draw(clock)
        rules = AccountRules(
            draw(st.sampled_from(ZONES)),
            window_enabled=draw(st.booleans()) and start != end,
            window_start=start,
            window_end=end,
            min_spacing_minutes=draw(st.integers(0, 180)),
            max_posts_per_day=draw(st.integers(1, 8)),
        )
        calendars[key] = AccountCalendar(rules, caps=caps)
    slots = CampaignSlots(calendars, draw(st.integers(0, 30)), draw(st.integers(0, 2**31)))
    order = draw(st.lists(st.sampled_from(sorted(calendars)), min_size=1, max_size=25))
    begin = datetime(2026, 3, 27, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 4 * 1440)))
    return slots, order, begin, stagger


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campaigns())
def test_stagger_and_jitter_keep_accounts_apart_and_the_policy(
    case: tuple[CampaignSlots, list[int], datetime, int],
) -> None:
    slots, order, begin, stagger = case
    for key in order:
        slots.take_next(key, begin)
    placed = [(key, at) for key, moments in slots.slots.items() for at in moments]
    for key, at in placed:
        assert at >= begin
        calendar = slots.calendars[key]
        calendar.book.remove(at)  # asked as the engine and a re-plan would: without itself
        for claim in (False, True):
            others = None if claim else slots.others(key)
            assert calendar.decide(at, claim=claim, others=others) is None, (key, at)
        calendar.take(at)
    for key, at in placed:
        for other, moment in placed:
            if other != key:
                assert abs(at - moment) >= timedelta(minutes=stagger), (key, at, other, moment)


def test_the_same_seed_gives_the_same_jitter() -> None:
    def plan(seed: int) -> list[datetime]:
        rules = SlotRules("UTC", min_spacing_minutes=60)
        calendars = {key: AccountCalendar(rules, caps=Caps(stagger_minutes=7)) for key in range(3)}
        slots = CampaignSlots(calendars, 20, seed)
        start = datetime(2026, 3, 10, 9, tzinfo=UTC)
        return [slots.take_next(key % 3, start) for key in range(9)]

    assert plan(5) == plan(5)
    assert plan(5) != plan(6)
