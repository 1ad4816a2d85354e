"""The calendar card (issue 17): Week / Month / List, lanes per account, "+N more", the
agenda list, chips that open their job, the chosen view remembered. Real widgets
offscreen over a real SQLCipher vault."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, Qt

from piper_desktop.domain.calendar_grid import account_colour, week_start
from piper_desktop.domain.services import Services
from piper_desktop.ui.calendar_view import STATE_KEY, CalendarView
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.main_window import MainWindow
from piper_desktop.ui.panels.dashboard import DashboardPanel
from piper_desktop.ui.panels.jobs import JobsPanel
from piper_desktop.ui.ui_state import UiState
from tests.conftest import make_video
from tests.ui.artifacts import save_screen

NAMES = ("echo", "alpha", "delta", "charlie", "bravo")


def _base() -> datetime:
    """10:00 UTC on a Wednesday two weeks ahead: a future week, away from its edges."""
    day = week_start((datetime.now(UTC) + timedelta(days=14)).date()) + timedelta(days=2)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def _same_hour(services: Services, tmp_path: Path, at: datetime) -> dict[str, int]:
    """Five accounts posting at the same hour; job id by username."""
    media, _ = services.media.add(make_video(tmp_path, "v.mp4"), {"title": "Clip"})
    jobs = {}
    for number, name in enumerate(NAMES):
        account = services.accounts.add(
            {"username": name, "timezone": "Asia/Tokyo" if name == "alpha" else "UTC",
             "group": "ClientB" if name in ("alpha", "bravo") else "ClientA"}
        )  # fmt: skip
        job = services.jobs.add(
            account_id=account.id,
            media_id=media.id,
            route="upload_post",
            at=at + timedelta(minutes=number * 5),
            caption=f"post of {name}",
            allow_duplicate=True,
        )
        jobs[name] = job.id
    return jobs


@pytest.fixture
def view(ctx: AppContext, qtbot) -> CalendarView:
    calendar = CalendarView(ctx)
    qtbot.addWidget(calendar)
    calendar.set_zone(ZoneInfo("UTC"))
    calendar.resize(1200, 760)
    return calendar


def test_five_accounts_at_the_same_hour_get_five_lanes_side_by_side(
    view: CalendarView, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    at = _base()
    jobs = _same_hour(ctx.services, tmp_path, at)
    # an account that posts only another week has no lane in this one
    other = ctx.services.accounts.add({"username": "aaron", "timezone": "UTC"})
    ctx.services.jobs.add(account_id=other.id, media_id=ctx.services.jobs.get(jobs["echo"]).media_id,
                          route="upload_post", at=at + timedelta(days=7), caption="later",
                          allow_duplicate=True)  # fmt: skip
    view.week.first_day = week_start(at.date())
    view.show()
    view.reload()
    qtbot.waitUntil(lambda: len(view.week.chips) == 5)
    week = view.week
    assert [lane.username for lane in week.lanes] == sorted(NAMES)
    rects = {chip.post["account_username"]: chip.rect for chip in week.chips}
    for name, rect in rects.items():
        for other, other_rect in rects.items():
            if name != other:
                assert not rect.intersects(other_rect), (name, other)
    # the lanes read left to right by name, each in its account's colour, all that day
    xs = [rects[name].x() for name in sorted(NAMES)]
    assert xs == sorted(xs)
    column = week._x_of((at.date() - week.first_day).days)
    assert all(column <= x < column + week._day_width() for x in xs)
    assert all(rect.width() >= 20 for rect in rects.values())
    alpha = next(c for c in week.chips if c.post["id"] == jobs["alpha"])
    assert "Asia/Tokyo" in week.tooltip(alpha.post) and "Your time" in week.tooltip(alpha.post)
    assert "@alpha" in view.legend.text() and account_colour(alpha.post["account_id"]) in (
        view.legend.text()
    )
    # a later post of the same account stays in its lane on another day
    echo_account = next(c.post["account_id"] for c in week.chips if c.post["id"] == jobs["echo"])
    media_id = ctx.services.jobs.get(jobs["echo"]).media_id
    ctx.services.jobs.add(account_id=echo_account, media_id=media_id, route="upload_post",
                          at=at + timedelta(days=1, hours=3), caption="again",
                          allow_duplicate=True)  # fmt: skip
    view.load()
    qtbot.waitUntil(lambda: len(week.chips) == 6)
    echoes = sorted(
        (c for c in week.chips if c.post["account_username"] == "echo"), key=lambda c: c.rect.x()
    )
    day_width = week._day_width()
    assert round(echoes[1].rect.x() - echoes[0].rect.x()) in (int(day_width), int(day_width) + 1)
    save_screen(view, "calendar-week-lanes")

    # a group narrows the lanes to its accounts
    view.fill_groups(["ClientA", "ClientB"])
    view.group_filter.setCurrentIndex(view.group_filter.findData("ClientB"))
    qtbot.waitUntil(lambda: [lane.username for lane in week.lanes] == ["alpha", "bravo"])


def test_month_view_shows_chips_more_and_opens_the_day_in_the_list(
    view: CalendarView, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    services = ctx.services
    at = _base()
    _same_hour(services, tmp_path, at)
    media, _ = services.media.add(make_video(tmp_path, "w.mp4"), {"title": "Busy day"})
    busy = services.accounts.add({"username": "busy", "timezone": "UTC"})
    day = at.date() + timedelta(days=1)
    for hour in range(12):
        services.jobs.add(account_id=busy.id, media_id=media.id, route="upload_post",
                          at=datetime(day.year, day.month, day.day, hour + 6, tzinfo=UTC),
                          caption=f"busy {hour}", allow_duplicate=True)  # fmt: skip
    view.show()
    view.month.set_month(day)
    view.set_view("month")
    month = view.month
    qtbot.waitUntil(lambda: len(month.by_day.get(day, [])) == 12)
    more = month.more_chip(day)
    assert more is not None
    shown = month.shown_on(day)
    assert len(shown) + more.more == 12 and len(shown) >= 1
    assert [p["at"] for p in shown] == sorted(p["at"] for p in shown)  # earliest first
    assert month.more_chip(at.date()) is None  # five fit
    assert len(month.shown_on(at.date())) == 5
    # days outside the month are in the grid, dimmed; today is marked (painted)
    assert month.days[0].weekday() == 0 and len(month.days) == 42
    assert any(d.month != day.month for d in month.days)
    save_screen(view, "calendar-month")

    qtbot.mouseClick(month, Qt.MouseButton.LeftButton, pos=more.rect.center())
    assert view.view == "list" and view.view_buttons["list"].isChecked()
    agenda = view.agenda.agenda
    qtbot.waitUntil(lambda: agenda.rowCount() == 12)
    assert {agenda.row(n)["account_username"] for n in range(12)} == {"busy"}
    assert agenda.index(0, 0).data() == f"{day:%a %d %b %Y}"
    assert agenda.index(1, 0).data() == ""  # one label per day
    assert agenda.index(0, 1).data() == "06:00"
    assert agenda.index(0, 5).data() == "busy 0"
    assert day.strftime("%d %b %Y") in view.label.text()
    # Previous / Next in the list's unit (that one day)
    view.step(1)
    qtbot.waitUntil(lambda: agenda.loaded_once and agenda.rowCount() == 0)
    view.step(-2)
    qtbot.waitUntil(lambda: agenda.rowCount() == 5)


def test_list_view_rows_sort_by_time_and_account(
    view: CalendarView, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    at = _base()
    _same_hour(ctx.services, tmp_path, at)
    view.show()
    view.list_first = week_start(at.date())
    view.set_view("list")
    agenda = view.agenda.agenda
    qtbot.waitUntil(lambda: agenda.rowCount() == 5)
    # by time: the order they were planned in, five minutes apart
    assert [agenda.row(n)["account_username"] for n in range(5)] == list(NAMES)
    assert [agenda.index(n, 1).data() for n in range(5)] == [
        f"{at + timedelta(minutes=5 * n):%H:%M}" for n in range(5)
    ]
    assert [agenda.index(n, 3).data() for n in range(5)] == ["Upload-Post"] * 5 or all(
        agenda.index(n, 3).data() for n in range(5)
    )
    save_screen(view, "calendar-list")
    account_column = agenda.column_index("account_username")
    view.agenda.sortByColumn(account_column, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: agenda.row(0)["account_username"] == "alpha")
    assert [agenda.row(n)["account_username"] for n in range(5)] == sorted(NAMES)
    view.agenda.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: agenda.row(0)["account_username"] == NAMES[-1])
    tip = agenda.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert "Account's time" in tip
    # a week with nothing: Next
    view.step(1)
    qtbot.waitUntil(lambda: agenda.rowCount() == 0)


def test_month_days_follow_the_operators_clock_over_dst(
    view: CalendarView, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    """00:30 in Berlin on the day clocks change is 23:30 UTC the day before: the chip is
    on the local day."""
    services = ctx.services
    account = services.accounts.add({"username": "night", "timezone": "Europe/Berlin"})
    media, _ = services.media.add(make_video(tmp_path, "n.mp4"), {"title": "Night"})
    moment = datetime(2027, 3, 27, 23, 30, tzinfo=UTC)
    services.jobs.add(account_id=account.id, media_id=media.id, route="upload_post", at=moment,
                      caption="night")  # fmt: skip
    view.set_zone(ZoneInfo("Europe/Berlin"))
    view.month.set_month(date(2027, 3, 1))
    view.set_view("month")
    qtbot.waitUntil(lambda: bool(view.month.by_day))
    assert list(view.month.by_day) == [date(2027, 3, 28)]
    assert view.month.shown_on(date(2027, 3, 28))[0]["account_username"] == "night"
    view.step(1)
    assert view.month.month == date(2027, 4, 1)
    qtbot.waitUntil(lambda: not view.month.by_day)
    view.step(-1)
    view.go_today()
    assert view.month.month == datetime.now(ZoneInfo("Europe/Berlin")).date().replace(day=1)


def test_the_chosen_view_is_remembered(ctx: AppContext, qtbot, data_dir: Path) -> None:
    first = CalendarView(ctx)
    qtbot.addWidget(first)
    assert first.view == "week"
    first.view_buttons["month"].click()
    assert first.view == "month" and first.stack.currentWidget() is first.month
    assert UiState(data_dir).get(STATE_KEY) == "month"  # on disk, for the next run
    again = CalendarView(ctx)
    qtbot.addWidget(again)
    assert again.view == "month" and again.view_buttons["month"].isChecked()
    assert again.stack.currentWidget() is again.month


@pytest.mark.parametrize("where", ["week", "month", "list"])
def test_a_chip_opens_its_job_in_the_jobs_panel(
    ctx: AppContext, qtbot, tmp_path: Path, where: str
) -> None:
    at = _base()
    jobs = _same_hour(ctx.services, tmp_path, at)
    ctx.ui_state.set("panel", "dashboard")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.resize(1400, 1000)
    window.show()
    dashboard = window.panel_as("dashboard", DashboardPanel)
    calendar = dashboard.calendar_view
    calendar.set_zone(ZoneInfo("UTC"))
    calendar.week.first_day = week_start(at.date())
    calendar.month.set_month(at.date())
    calendar.list_first = week_start(at.date())
    calendar.set_view(where)
    wanted = jobs["charlie"]
    if where == "week":
        qtbot.waitUntil(lambda: calendar.week.chip_of(wanted) is not None)
        chip = calendar.week.chip_of(wanted)
        assert chip is not None
        calendar.week_scroll.ensureVisible(chip.rect.center().x(), chip.rect.center().y())
        qtbot.mouseClick(calendar.week, Qt.MouseButton.LeftButton, pos=chip.rect.center())
    elif where == "month":
        qtbot.waitUntil(lambda: len(calendar.month.by_day.get(at.date(), [])) == 5)
        # as many as fit in the dashboard's card: the last one shown
        chip = [c for c in calendar.month.chips if c.post and c.day == at.date()][-1]
        assert chip.post is not None
        wanted = chip.post["id"]
        qtbot.mouseClick(calendar.month, Qt.MouseButton.LeftButton, pos=chip.rect.center())
    else:
        agenda = calendar.agenda
        qtbot.waitUntil(lambda: agenda.agenda.position_of(wanted) is not None)
        row = agenda.agenda.position_of(wanted)
        assert row is not None
        rect = agenda.visualRect(agenda.agenda.index(row, 2))
        qtbot.mouseClick(agenda.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    jobs_panel = window.panel_as("jobs", JobsPanel)
    qtbot.waitUntil(lambda: window.current_key() == "jobs")
    qtbot.waitUntil(lambda: jobs_panel.details.job_id == wanted)
    qtbot.waitUntil(lambda: jobs_panel.details.heading.text() == f"Job #{wanted}")
    name = next(n for n, job_id in jobs.items() if job_id == wanted)
    assert jobs_panel.details.fields["account"].text().startswith(f"@{name}")
    assert [r["id"] for r in jobs_panel.selected_rows()] == [wanted]


def test_keyboard_walks_the_week_chips_and_enter_opens_one(
    view: CalendarView, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    at = _base()
    jobs = _same_hour(ctx.services, tmp_path, at)
    view.week.first_day = week_start(at.date())
    view.show()
    view.load()
    qtbot.waitUntil(lambda: len(view.week.chips) == 5)
    opened: list[int] = []
    view.week.job_activated.connect(opened.append)
    view.week.setFocus()
    qtbot.keyClick(view.week, Qt.Key.Key_Right)
    qtbot.keyClick(view.week, Qt.Key.Key_Return)
    assert opened == [jobs["echo"]]  # the earliest post first
    qtbot.keyClick(view.week, Qt.Key.Key_Right)
    qtbot.keyClick(view.week, Qt.Key.Key_Enter)
    assert opened[-1] == jobs["alpha"]


def test_week_day_headers_stay_put_in_the_calendar_card(
    ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    """Issue 17 item 10: the day headers are outside the scrolling hours."""
    panel = DashboardPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1300, 1000)
    panel.show()
    header = panel.day_header
    scroll = panel.calendar_scroll
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    before = header.mapTo(panel, QPoint(0, 0))
    bar.setValue(bar.maximum())
    assert header.mapTo(panel, QPoint(0, 0)) == before
    assert header.parent() is not scroll.viewport() and not scroll.isAncestorOf(header)


def test_the_list_keeps_its_selection_when_the_same_span_loads_again(
    view: CalendarView, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    """The dashboard reloads every minute: the list does not jump back to the top."""
    at = _base()
    jobs = _same_hour(ctx.services, tmp_path, at)
    view.list_first = week_start(at.date())
    view.set_view("list")
    agenda = view.agenda
    qtbot.waitUntil(lambda: agenda.agenda.rowCount() == 5)
    agenda.selectRow(3)
    chosen = agenda.agenda.row(3)["id"]
    view.load()
    qtbot.waitUntil(lambda: not agenda.agenda.loading)
    assert [agenda.agenda.row(i.row())["id"] for i in agenda.selectionModel().selectedRows()] == [
        chosen
    ]
    assert chosen in jobs.values()


def test_a_click_with_a_little_jitter_opens_the_job_and_moves_nothing(
    view: CalendarView, ctx: AppContext, qtbot, tmp_path: Path
) -> None:
    """alpha's post is at 10:05, off the 15-minute snap: a shaky click must not move it."""
    at = _base()
    jobs = _same_hour(ctx.services, tmp_path, at)
    view.week.first_day = week_start(at.date())
    view.resize(1200, 1600)
    view.show()
    view.load()
    qtbot.waitUntil(lambda: view.week.chip_of(jobs["alpha"]) is not None)
    chip = view.week.chip_of(jobs["alpha"])
    assert chip is not None and chip.post["movable"]
    opened: list[int] = []
    moved: list[int] = []
    view.week.job_activated.connect(opened.append)
    view.week.move_requested.connect(lambda job_id, _at: moved.append(job_id))
    start = chip.rect.center()
    qtbot.mousePress(view.week, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.week, pos=QPoint(start.x(), start.y() + 1))
    qtbot.mouseRelease(view.week, Qt.MouseButton.LeftButton, pos=QPoint(start.x(), start.y() + 1))
    assert opened == [jobs["alpha"]] and moved == []
    assert ctx.services.jobs.get(jobs["alpha"]).scheduled_at == at + timedelta(minutes=5)
