"""The calendar's arithmetic (domain/calendar_grid.py), without Qt: month grids over
month and year boundaries and DST, lanes per account, what fits in a day."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from piper_desktop.domain.calendar_grid import (
    account_colour,
    add_months,
    day_fit,
    lane_slices,
    lanes,
    local_day,
    local_range,
    month_grid,
    week_start,
)

BERLIN = ZoneInfo("Europe/Berlin")


def test_month_grid_is_six_weeks_from_the_monday_before_the_first() -> None:
    grid = month_grid(date(2026, 2, 14))  # 1 Feb 2026 is a Sunday
    assert len(grid) == 42
    assert grid[0] == date(2026, 1, 26) and grid[0].weekday() == 0
    assert grid[-1] == date(2026, 3, 8)
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(grid))
    assert {d for d in grid if d.month == 2} == {date(2026, 2, n) for n in range(1, 29)}
    # a month that starts on a Monday starts the grid
    assert month_grid(date(2026, 6, 30))[0] == date(2026, 6, 1)
    # over the year's end
    assert month_grid(date(2027, 1, 1))[0] == date(2026, 12, 28)


def test_add_months_crosses_years() -> None:
    assert add_months(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 3, 31), -13) == date(2025, 2, 1)
    assert week_start(date(2026, 3, 1)) == date(2026, 2, 23)


def test_a_grid_over_a_dst_change_is_an_hour_short_and_days_follow_the_local_clock() -> None:
    grid = month_grid(date(2027, 3, 1))  # Berlin moves to summer time on 28 Mar 2027
    assert grid[0] == date(2027, 3, 1)  # a Monday
    start, end = local_range(grid[0], len(grid), BERLIN)
    assert start == datetime(2027, 2, 28, 23, 0, tzinfo=UTC)  # local midnight in winter
    assert end == datetime(2027, 4, 11, 22, 0, tzinfo=UTC)  # local midnight in summer
    assert end - start == timedelta(days=42) - timedelta(hours=1)
    # 00:30 local on the change's day is 23:30 UTC the day before
    assert local_day(datetime(2027, 3, 27, 23, 30, tzinfo=UTC), BERLIN) == date(2027, 3, 28)
    assert local_day(datetime(2027, 3, 28, 22, 30, tzinfo=UTC), BERLIN) == date(2027, 3, 29)
    # and back in October: a day of 25 hours
    october = local_range(date(2027, 10, 31), 1, BERLIN)
    assert october[1] - october[0] == timedelta(hours=25)


def test_one_lane_per_account_in_name_order_with_a_colour_that_never_changes() -> None:
    posts = [(7, "echo"), (3, "alpha"), (9, "Delta"), (3, "alpha"), (5, "charlie"), (1, "bravo")]
    found = lanes(posts)
    assert [lane.username for lane in found] == ["alpha", "bravo", "charlie", "Delta", "echo"]
    assert [lane.colour for lane in found] == [account_colour(i) for i in (3, 1, 5, 9, 7)]
    # the same account keeps its colour whoever is beside it
    assert lanes([(9, "Delta")])[0].colour == found[3].colour
    assert [lane.account_id for lane in lanes(posts, only=[9, 1])] == [1, 9]
    assert lanes([]) == []


def test_lane_slices_share_the_column_without_overlap() -> None:
    slices = lane_slices(5, 100, 151)
    assert len(slices) == 5
    for (x, width), (next_x, _w) in itertools.pairwise(slices):
        assert width >= 1 and x + width <= next_x
    assert slices[0][0] == 100 and slices[-1][0] + slices[-1][1] <= 251
    assert all(width >= 1 for _x, width in lane_slices(400, 0, 100))
    assert lane_slices(0, 0, 100) == []


def test_day_fit_leaves_room_for_more() -> None:
    assert day_fit(100, 20, 3) == (3, 0)
    assert day_fit(100, 20, 5) == (5, 0)
    assert day_fit(100, 20, 6) == (4, 2)  # four chips and "+2 more" in five rows
    assert day_fit(10, 20, 4) == (0, 4)


def test_the_calendar_reads_by_group_and_by_scheduled_span(services, tmp_path) -> None:
    """planner.week(group=) and the jobs table's span filters, on a real vault."""
    from piper_desktop.domain.planner import PlannerService
    from piper_desktop.domain.tables import TableQuery, TableService
    from tests.conftest import make_video

    media, _ = services.media.add(make_video(tmp_path, "g.mp4"), {"title": "G"})
    start = datetime(2031, 5, 5, tzinfo=UTC)
    ids = {}
    for name, group, hours in (("ann", "ClientB", 1), ("bob", "ClientA", 2), ("cy", "ClientB", 30)):
        account = services.accounts.add({"username": name, "group": group})
        job = services.jobs.add(account_id=account.id, media_id=media.id, route="upload_post",
                                at=start + timedelta(hours=hours), caption=name,
                                allow_duplicate=True)  # fmt: skip
        ids[name] = job.id
    planner = PlannerService(services.db)
    assert {p["account_username"] for p in planner.week(start, 7, group="clientb")} == {"ann", "cy"}
    assert {p["account_username"] for p in planner.week(start, 1)} == {"ann", "bob"}
    tables = TableService(services.db)
    day = TableQuery(
        filters={"scheduled_from": start, "scheduled_until": start + timedelta(days=1)},
        sort="scheduled_at",
    )
    assert [r["id"] for r in tables.rows("jobs", day)] == [ids["ann"], ids["bob"]]
    assert tables.count("jobs", day) == 2
    day.filters["account_group"] = "CLIENTB"
    assert [r["id"] for r in tables.rows("jobs", day)] == [ids["ann"]]
