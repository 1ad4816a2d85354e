from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from piper_desktop.domain.slots import AccountCalendar, SlotRules

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
