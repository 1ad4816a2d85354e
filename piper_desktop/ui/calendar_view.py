"""The calendar card: Week / Month / List over the same posts, Previous / Today / Next in
the chosen view's unit, an account and a group filter, and the chosen view kept in
ui_state. Times are the operator's; each chip's tooltip gives the account's own. A chip
(or a list row) opens its job in the Jobs panel's details. Data loads through
ui/tasks.run_task like every other read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..domain.calendar_grid import add_months, local_range, month_start, week_start
from . import formatting as fmt
from .agenda_list import AgendaList
from .context import AppContext
from .month_calendar import MonthCalendar
from .tasks import run_task
from .week_calendar import HOUR_HEIGHT, WeekCalendar

VIEWS = ("week", "month", "list")
STATE_KEY = "calendar.view"
LEGEND_LANES = 12  # lanes named in the legend; beyond, the filters narrow them


class CalendarView(QWidget):
    view_changed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("calendar_view")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        bar = QHBoxLayout()
        self.view_buttons: dict[str, QPushButton] = {}
        self.view_group = QButtonGroup(self)
        self.view_group.setExclusive(True)
        segment = QHBoxLayout()
        segment.setSpacing(0)
        for key in VIEWS:
            button = QPushButton(key.capitalize())
            button.setObjectName(f"calendar_{key}")
            button.setCheckable(True)
            button.setProperty("segment", True)  # theme.py: joined, the chosen one filled
            button.clicked.connect(lambda _c=False, key=key: self.set_view(key))
            self.view_group.addButton(button)
            self.view_buttons[key] = button
            segment.addWidget(button)
        bar.addLayout(segment)
        bar.addSpacing(12)
        self.previous_button = QPushButton("‹")
        self.previous_button.setObjectName("week_previous")
        self.previous_button.setFixedWidth(34)
        self.previous_button.setToolTip("Previous")
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.today_button = QPushButton("Today")
        self.today_button.setObjectName("calendar_today")
        self.today_button.clicked.connect(self.go_today)
        self.next_button = QPushButton("›")
        self.next_button.setObjectName("week_next")
        self.next_button.setFixedWidth(34)
        self.next_button.setToolTip("Next")
        self.next_button.clicked.connect(lambda: self.step(1))
        for widget in (self.previous_button, self.today_button, self.next_button):
            bar.addWidget(widget)
        self.label = QLabel()
        self.label.setObjectName("Muted")
        self.label.setWordWrap(True)
        bar.addWidget(self.label, 1)
        self.group_filter = QComboBox()
        self.group_filter.setObjectName("calendar_group")
        self.group_filter.addItem("All groups", None)
        self.group_filter.currentIndexChanged.connect(lambda _i: self.load())
        bar.addWidget(self.group_filter)
        self.account_filter = QComboBox()
        self.account_filter.setObjectName("calendar_account")
        self.account_filter.setMinimumWidth(220)
        # thousands of accounts: type to find one
        self.account_filter.setEditable(True)
        self.account_filter.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = self.account_filter.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.account_filter.addItem("All accounts", None)
        self.account_filter.currentIndexChanged.connect(lambda _i: self.load())
        bar.addWidget(self.account_filter)
        layout.addLayout(bar)
        self.legend = QLabel()
        self.legend.setObjectName("calendar_legend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setVisible(False)  # the week's lanes, once there are two or more
        layout.addWidget(self.legend)

        self.stack = QStackedWidget()
        # week: the hours scroll under day headers that stay put
        self.week = WeekCalendar()
        self.week.move_requested.connect(self.move_post)
        self.week.job_activated.connect(self.open_job)
        self.week_scroll = QScrollArea()
        self.week_scroll.setObjectName("calendar_scroll")
        self.week_scroll.setWidgetResizable(True)
        self.week_scroll.setWidget(self.week)
        self.week_scroll.setMinimumHeight(440)
        self.week_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.day_header = self.week.frozen_header()
        week_page = QWidget()
        frozen = QVBoxLayout(week_page)
        frozen.setContentsMargins(0, 0, 0, 0)
        frozen.setSpacing(0)
        frozen.addWidget(self.day_header)
        frozen.addWidget(self.week_scroll)
        self.stack.addWidget(week_page)
        self.month = MonthCalendar()
        self.month.setMinimumHeight(460)
        self.month.job_activated.connect(self.open_job)
        self.month.day_requested.connect(self.show_day)
        self.stack.addWidget(self.month)
        self.agenda = AgendaList(ctx.tables, self.week.zone)
        self.agenda.setMinimumHeight(460)
        self.agenda.job_activated.connect(self.open_job)
        self.stack.addWidget(self.agenda)
        layout.addWidget(self.stack, 1)

        # the list's span: a week from Today, or the one day "+N more" opened
        self.list_first: date = self.week.first_day
        self.list_days = 7
        self.loads = 0
        self._scrolled_week: object = None
        self._scroll_to: int | None = None
        # the scroll range is known only once the calendar is laid out: apply then
        self.week_scroll.verticalScrollBar().rangeChanged.connect(
            lambda _low, _high: self._apply_scroll()
        )
        saved = ctx.ui_state.get(STATE_KEY, "week")
        self.view = saved if saved in VIEWS else "week"
        self.view_buttons[self.view].setChecked(True)
        self.stack.setCurrentIndex(VIEWS.index(self.view))

    # --- the chosen view -----------------------------------------------------------------
    def set_view(self, view: str) -> None:
        if view not in VIEWS:
            return
        changed = view != self.view
        self.view = view
        self.view_buttons[view].setChecked(True)
        self.stack.setCurrentIndex(VIEWS.index(view))
        self.ctx.ui_state.set(STATE_KEY, view)
        if changed:
            self.view_changed.emit(view)
        self.load()

    def set_zone(self, zone: Any) -> None:
        self.week.set_zone(zone)
        self.month.set_zone(zone)
        self.agenda.set_zone(zone)

    @property
    def zone(self) -> Any:
        return self.week.zone

    def _today(self) -> date:
        return datetime.now(self.zone).date()

    def step(self, direction: int) -> None:
        """Previous / Next in the chosen view's unit: a week, a month, the list's span."""
        if self.view == "week":
            self.week.first_day += timedelta(days=7 * direction)
        elif self.view == "month":
            self.month.set_month(add_months(self.month.month, direction))
        else:
            self.list_first += timedelta(days=self.list_days * direction)
        self.load()

    def go_today(self) -> None:
        today = self._today()
        if self.view == "week":
            self.week.first_day = week_start(today)
        elif self.view == "month":
            self.month.set_month(month_start(today))
        else:
            self.list_first, self.list_days = week_start(today), 7
        self.load()

    def show_day(self, day: date) -> None:
        """One day in the list view (the month's "+N more")."""
        self.list_first, self.list_days = day, 1
        self.set_view("list")

    def open_job(self, job_id: int) -> None:
        self.ctx.navigate.emit("jobs", {"job_id": job_id})

    # --- filters ---------------------------------------------------------------------------
    def _choice(self) -> tuple[int | None, str | None, str | None]:
        choice = self.account_filter.currentData()
        account_id, account_zone = choice if choice else (None, None)
        return account_id, account_zone, self.group_filter.currentData()

    def fill_accounts(self, accounts: list[tuple[int, str, str]]) -> None:
        current = self.account_filter.currentData()
        self.account_filter.blockSignals(True)
        self.account_filter.clear()
        self.account_filter.addItem("All accounts", None)
        for account_id, username, zone in accounts:
            self.account_filter.addItem(f"@{username} ({zone})", (account_id, zone))
        if current is not None:
            index = self.account_filter.findData(current)
            self.account_filter.setCurrentIndex(max(0, index))
        self.account_filter.blockSignals(False)

    def fill_groups(self, groups: list[str]) -> None:
        current = self.group_filter.currentData()
        self.group_filter.blockSignals(True)
        self.group_filter.clear()
        self.group_filter.addItem("All groups", None)
        for group in groups:
            self.group_filter.addItem(group, group)
        if current is not None:
            self.group_filter.setCurrentIndex(max(0, self.group_filter.findData(current)))
        self.group_filter.blockSignals(False)

    def _filters_loaded(self, result: tuple[list[tuple[int, str, str]], list[str]]) -> None:
        self.fill_accounts(result[0])
        self.fill_groups(result[1])

    # --- loading -----------------------------------------------------------------------------
    def reload(self) -> None:
        """The shown view's posts and the filters' choices."""
        tables = self.ctx.tables
        run_task(
            lambda: (tables.account_labels(), tables.distinct("accounts", "group")),
            self._filters_loaded,
            lambda exc: self.ctx.error(f"Calendar: {exc}"),
            owner=self,
        )
        self.load()

    def load(self) -> None:
        if self.view == "week":
            self.load_week()
        elif self.view == "month":
            self.load_month()
        else:
            self.load_list()

    def _zone_name(self) -> str:
        return getattr(self.zone, "key", None) or str(self.zone)

    def label_week(self, account_zone: str | None, *, crowded: bool = False) -> None:
        first = self.week.first_day
        label = (
            f"{first:%d %b} – {first + timedelta(days=6):%d %b %Y} · "
            f"your time ({self._zone_name()})"
        )
        if account_zone:
            label += f" · the account's time ({account_zone}) in the second column"
        if crowded:
            label += " · posts waiting per hour: pick an account or a group to see its posts"
        self.label.setText(label)

    def load_week(self) -> None:
        start, _end = self.week.range()
        account_id, account_zone, group = self._choice()
        self.label_week(account_zone)
        planner = self.ctx.planner

        def load() -> tuple[list[dict[str, Any]], Any]:
            narrowed = account_id is not None or bool(group)
            density = None if narrowed else planner.week_density(start)
            posts = planner.week(start, 7, account_id, group) if density is None else []
            return posts, density

        run_task(
            load,
            lambda result: self.week_loaded(result[0], account_zone, result[1]),
            lambda exc: self.ctx.error(f"Calendar: {exc}"),
            owner=self,
        )

    def week_loaded(
        self,
        posts: list[dict[str, Any]],
        account_zone: str | None,
        density: dict[Any, int] | None = None,
    ) -> None:
        self.loads += 1
        if density:
            self.week.set_density(density)
            self.label_week(None, crowded=True)
        else:
            self.week.set_posts(posts, account_zone)
        self._legend()
        week = self.week.first_day
        if self._scrolled_week != week:
            # open the week on its first post (or the current hour), not at midnight
            self._scrolled_week = week
            moments = [fmt.to_datetime(p.get("at")) for p in posts] + list(density or {})
            found = [m for m in moments if m is not None]
            now = datetime.now(self.zone)
            first = min(found).astimezone(self.zone) if found else now
            hour = max(0, min(first.hour, now.hour if first.date() == now.date() else 24) - 1)
            self._scroll_to = hour * HOUR_HEIGHT
            self._apply_scroll()

    def _legend(self) -> None:
        lanes = self.week.lanes
        if self.view != "week" or len(lanes) < 2:
            self.legend.setText("")
            self.legend.setVisible(False)
            return
        shown = " ".join(
            f'<span style="color:{lane.colour}">■</span> @{lane.username}'
            for lane in lanes[:LEGEND_LANES]
        )
        more = len(lanes) - LEGEND_LANES
        if more > 0:
            shown += f" · and {more} more: filter by account or group to narrow the lanes"
        self.legend.setText(f"Lanes: {shown}")
        self.legend.setVisible(True)

    def _apply_scroll(self) -> None:
        bar = self.week_scroll.verticalScrollBar()
        if self._scroll_to is None or bar.maximum() <= 0:
            return
        bar.setValue(min(self._scroll_to, bar.maximum()))
        if bar.maximum() >= self._scroll_to:
            self._scroll_to = None

    def load_month(self) -> None:
        start, _end = self.month.range()
        account_id, _account_zone, group = self._choice()
        month = self.month.month
        self.label.setText(f"{month:%B %Y} · your time ({self._zone_name()})")
        self.legend.setVisible(False)
        planner = self.ctx.planner
        days = (self.month.days[-1] - self.month.days[0]).days + 1
        run_task(
            lambda: planner.week(start, days, account_id, group),
            self.month_loaded,
            lambda exc: self.ctx.error(f"Calendar: {exc}"),
            owner=self,
        )

    def month_loaded(self, posts: list[dict[str, Any]]) -> None:
        self.loads += 1
        self.month.set_posts(posts)

    def load_list(self) -> None:
        account_id, _account_zone, group = self._choice()
        start, end = local_range(self.list_first, self.list_days, self.zone)
        last = self.list_first + timedelta(days=self.list_days - 1)
        span = f"{self.list_first:%a %d %b %Y}"
        if self.list_days > 1:
            span = f"{self.list_first:%d %b} – {last:%d %b %Y}"
        self.label.setText(f"{span} · your time ({self._zone_name()})")
        self.legend.setVisible(False)
        self.loads += 1
        self.agenda.show_span(
            start.astimezone(UTC), end.astimezone(UTC), account_id=account_id, group=group
        )

    def move_post(self, job_id: int, moment: Any) -> None:
        planner = self.ctx.planner

        def moved(_result: Any) -> None:
            self.ctx.success(f"Moved job #{job_id} to {fmt.when(moment)}")
            self.ctx.changed("jobs")

        def refused(exc: BaseException) -> None:
            reason = getattr(exc, "reason", None) or str(exc)
            self.ctx.error(f"Job #{job_id} stays where it was: {reason}")
            self.load_week()

        run_task(lambda: planner.reschedule(job_id, moment), moved, refused, owner=self)
