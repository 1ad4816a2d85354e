"""The dashboard: today's results, what posts next, what needs the operator (with the
action that resolves it), and a week calendar where a waiting post can be dragged to
another free slot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...domain.planner import AttentionItem
from ...routes.registry import default_routes
from ...store.enums import JobStatus
from .. import formatting as fmt
from ..browser_actions import BrowserActions
from ..context import AppContext
from ..delegates import CellDelegate
from ..engine_bridge import JobEvent
from ..icons import icon
from ..resolve import JobResolver
from ..table_model import Column, ListSource, PagedTableModel
from ..tasks import run_task
from ..week_calendar import WeekCalendar

ATTENTION_LABELS = {
    "captcha": "Captcha",
    "login": "Login needed",
    "unknown_outcome": "Outcome unknown",
    "readiness": "Readiness check",
    "not_connected": "Not connected",
    "wrong_route": "Route unavailable",
    "attention": "Needs attention",
    "account": "Account",
}
ACTION_LABELS = {
    "resolve": "Resolve",
    "connect": "Connect",
    "change_route": "Change route",
    "check": "Check",
    "retry": "Retry",
    "open": "Open",
}


def card(title: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName("Card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(16, 12, 16, 14)
    layout.setSpacing(8)
    heading = QLabel(title)
    heading.setObjectName("CardTitle")
    layout.addWidget(heading)
    return frame, layout


def small_table(model: PagedTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setItemDelegate(CellDelegate(view))
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(34)
    view.setShowGrid(False)
    view.setFrameShape(QFrame.Shape.NoFrame)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    for number, column in enumerate(model.columns):
        view.setColumnWidth(number, column.width)
        if column.stretch:
            view.horizontalHeader().setSectionResizeMode(number, QHeaderView.ResizeMode.Stretch)
    return view


class Metric(QFrame):
    def __init__(self, label: str, icon_name: str) -> None:
        super().__init__()
        self.setObjectName("Card")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        badge = QLabel()
        badge.setPixmap(icon(icon_name).pixmap(26, 26))
        layout.addWidget(badge)
        texts = QVBoxLayout()
        texts.setSpacing(0)
        self.value = QLabel("–")
        self.value.setObjectName("Metric")
        caption = QLabel(label)
        caption.setObjectName("MetricLabel")
        texts.addWidget(self.value)
        texts.addWidget(caption)
        layout.addLayout(texts, 1)

    def set(self, value: int) -> None:
        self.value.setText(f"{value:,}")


class DashboardPanel(QWidget):
    status_changed = Signal(str)
    title = "Dashboard"
    table_name = "dashboard"
    icon_name = "dashboard"

    def __init__(self, ctx: AppContext, browser: BrowserActions | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.browser = browser or BrowserActions(ctx.services)
        self.resolver = JobResolver(ctx, self, self.browser)
        self.attention_items: list[AttentionItem] = []
        self.today: dict[str, int] = {}
        self.loads = 0
        self.status = ""
        self._stale = True
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)

        header = QHBoxLayout()
        titles = QVBoxLayout()
        heading = QLabel("Dashboard")
        heading.setObjectName("PanelTitle")
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("PanelSubtitle")
        titles.addWidget(heading)
        titles.addWidget(self.subtitle)
        header.addLayout(titles)
        header.addStretch(1)
        refresh = QPushButton(icon("refresh"), "Refresh")
        refresh.clicked.connect(self.reload)
        header.addWidget(refresh)
        layout.addLayout(header)

        if ctx.sandbox:
            banner = QLabel(
                "Try-out mode: accounts, videos and platforms here are local stand-ins on this "
                "computer. Posts go out to them within the first minute; nothing reaches a "
                "real platform, and everything is thrown away when Piper quits."
            )
            banner.setObjectName("Banner")
            banner.setWordWrap(True)
            layout.addWidget(banner)

        metrics = QGridLayout()
        metrics.setSpacing(12)
        self.metrics = {
            "published": Metric("Published today", "check"),
            "failed": Metric("Failed today", "warning"),
            "needs_attention": Metric("Need attention", "bell"),
            "still_due_today": Metric("Still due today", "clock"),
            "in_flight": Metric("Publishing now", "play"),
        }
        for column, metric in enumerate(self.metrics.values()):
            metrics.addWidget(metric, 0, column)
        layout.addLayout(metrics)

        middle = QHBoxLayout()
        middle.setSpacing(12)
        up_card, up_layout = card("Up next")
        self.upcoming_source = ListSource([])
        self.upcoming = PagedTableModel(
            self.upcoming_source,
            [
                Column("at", "When", 130, fmt=lambda r: fmt.when(r.get("next_attempt_at"))),
                Column(
                    "account_username", "Account", 140, fmt=lambda r: f"@{r['account_username']}"
                ),
                Column("media_title", "Video", 160, stretch=True),
                Column("status", "Status", 110, kind="badge"),
            ],
            page_size=50,
            parent=self,
        )
        self.upcoming_view = small_table(self.upcoming, "upcoming")
        self.upcoming_view.setMinimumHeight(230)
        self.upcoming_view.doubleClicked.connect(
            lambda index: self.ctx.navigate.emit(
                "jobs", {"job_id": self.upcoming.row(index.row())["id"]}
            )
        )
        up_layout.addWidget(self.upcoming_view)
        self.upcoming_empty = QLabel("Nothing scheduled. Start a campaign to fill the calendar.")
        self.upcoming_empty.setObjectName("Muted")
        up_layout.addWidget(self.upcoming_empty)
        middle.addWidget(up_card, 1)

        attention_card, attention_layout = card("Needs attention")
        self.attention_source = ListSource([])
        self.attention = PagedTableModel(
            self.attention_source,
            [
                Column(
                    "kind", "What", 130, fmt=lambda r: ATTENTION_LABELS.get(r["kind"], r["kind"])
                ),
                Column("title", "Where", 150),
                Column("reason", "Why", 200, stretch=True),
                Column("action", "", 96, fmt=lambda r: ""),
            ],
            page_size=500,
            parent=self,
        )
        self.attention.loaded.connect(self._action_buttons)
        self.attention_view = small_table(self.attention, "attention")
        self.attention_view.setMinimumHeight(230)
        attention_layout.addWidget(self.attention_view)
        self.attention_empty = QLabel("All clear: nothing needs you right now.")
        self.attention_empty.setObjectName("Muted")
        attention_layout.addWidget(self.attention_empty)
        middle.addWidget(attention_card, 1)
        layout.addLayout(middle)

        week_card, week_layout = card("This week")
        bar = QHBoxLayout()
        previous = QPushButton("‹")
        previous.setObjectName("week_previous")
        previous.setFixedWidth(34)
        previous.clicked.connect(lambda: self.shift_week(-7))
        this_week = QPushButton("This week")
        this_week.clicked.connect(self.this_week)
        following = QPushButton("›")
        following.setObjectName("week_next")
        following.setFixedWidth(34)
        following.clicked.connect(lambda: self.shift_week(7))
        self.week_label = QLabel()
        self.week_label.setObjectName("Muted")
        self.account_filter = QComboBox()
        self.account_filter.setObjectName("calendar_account")
        self.account_filter.setMinimumWidth(240)
        # thousands of accounts: type to find one
        self.account_filter.setEditable(True)
        self.account_filter.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = self.account_filter.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.account_filter.addItem("All accounts", None)
        self.account_filter.currentIndexChanged.connect(lambda _i: self.load_week())
        for widget in (previous, this_week, following):
            bar.addWidget(widget)
        bar.addWidget(self.week_label, 1)
        bar.addWidget(self.account_filter)
        week_layout.addLayout(bar)
        self.calendar = WeekCalendar()
        self.calendar.move_requested.connect(self.move_post)
        self.calendar_scroll = QScrollArea()
        self.calendar_scroll.setObjectName("calendar_scroll")
        self.calendar_scroll.setWidgetResizable(True)
        self.calendar_scroll.setWidget(self.calendar)
        self.calendar_scroll.setMinimumHeight(440)
        self.calendar_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # the day headers stay put above the hours that scroll
        self.day_header = self.calendar.frozen_header()
        frozen = QVBoxLayout()
        frozen.setSpacing(0)
        frozen.addWidget(self.day_header)
        frozen.addWidget(self.calendar_scroll)
        week_layout.addLayout(frozen)
        self._scrolled_week: object = None
        self._scroll_to: int | None = None
        # the scroll range is known only once the calendar is laid out: apply then
        self.calendar_scroll.verticalScrollBar().rangeChanged.connect(
            lambda _low, _high: self._apply_scroll()
        )
        layout.addWidget(week_card)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self._live_reload)
        self._clock = QTimer(self)
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self._live_reload)
        self._clock.start()
        ctx.data_changed.connect(lambda _table: self._changed())
        ctx.bridge.job_event.connect(self.on_job_event)

    # --- loading ----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self._timer.start()

    def on_job_event(self, event: JobEvent) -> None:
        self._changed()

    def _live_reload(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def reload(self) -> None:
        self._stale = False
        planner = self.ctx.planner
        zone = getattr(self.calendar.zone, "key", None)
        start, _end = self.calendar.range()
        choice = self.account_filter.currentData()
        account_id, account_zone = choice if choice else (None, None)
        self._label_week(account_zone)

        def load() -> dict[str, Any]:
            # one task, one database connection: the whole dashboard at once
            density = None if account_id else planner.week_density(start)
            return {
                "week": planner.week(start, 7, account_id) if density is None else [],
                "density": density,
                "today": planner.today_waiting(zone=zone),
                "upcoming": planner.upcoming(limit=8),
                "attention": planner.attention(),
                "accounts": self.ctx.tables.account_labels(),
            }

        run_task(
            load,
            lambda data: self._loaded(data, account_zone),
            lambda exc: self.ctx.error(f"Dashboard: {exc}"),
            owner=self,
        )

    def _attention_count(self, counts: dict[str, int]) -> dict[str, int]:
        """"Need attention" counts what the list below shows (jobs and accounts alike),
        so the number and the list never disagree."""
        if "needs_attention" in counts:
            counts = {**counts, "needs_attention": len(self.attention_items)}
        return counts

    def _results(self, counts: dict[str, int]) -> None:
        counts = self._attention_count(counts)
        self.today.update(counts)
        for key, value in counts.items():
            self.metrics[key].set(value)
        self._say()

    def _say(self) -> None:
        today = self.today
        text = (
            f"{today.get('published', '…')} published today · "
            f"{today.get('still_due_today', 0)} still due · "
            f"{today.get('needs_attention', 0)} need attention"
        )
        self.subtitle.setText(text)
        self.status = text
        self.status_changed.emit(text)

    def _loaded(self, data: dict[str, Any], account_zone: str | None = None) -> None:
        self._week_loaded(data["week"], account_zone, data.get("density"))
        self.loads += 1
        self.attention_items = data["attention"]
        data = {**data, "today": self._attention_count(dict(data["today"]))}
        for key, metric in self.metrics.items():
            if key in data["today"]:
                metric.set(data["today"][key])
        self.today = dict(data["today"])
        planner = self.ctx.planner
        zone = getattr(self.calendar.zone, "key", None)
        run_task(
            lambda: planner.today_results(zone=zone),
            self._results,
            lambda exc: self.ctx.error(f"Dashboard: {exc}"),
            owner=self,
        )
        upcoming = [{**row} for row in data["upcoming"]]
        self.upcoming_source.rows = upcoming
        self.upcoming.refresh(keep=False)
        self.upcoming_view.setVisible(bool(upcoming))
        self.upcoming_empty.setVisible(not upcoming)
        self.attention_items = data["attention"]
        rows = [{"id": n, **item.as_dict()} for n, item in enumerate(self.attention_items)]
        self.attention_source.rows = rows
        self.attention.refresh(keep=False)
        self.attention_view.setVisible(bool(rows))
        self.attention_empty.setVisible(not rows)
        self._fill_accounts(data["accounts"])
        self._say()

    def _action_buttons(self) -> None:
        column = self.attention.column_index("action")
        for row_number in range(self.attention.rowCount()):
            item = self.attention_items[row_number]
            button = QPushButton(ACTION_LABELS.get(item.action, "Open"))
            button.setObjectName(f"attention_{item.action}_{row_number}")
            if item.action == "resolve":
                button.setProperty("primary", True)
            button.clicked.connect(lambda _c=False, it=item: self.act(it))
            self.attention_view.setIndexWidget(self.attention.index(row_number, column), button)

    def _fill_accounts(self, accounts: list[tuple[int, str, str]]) -> None:
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

    # --- week ---------------------------------------------------------------------------------
    def shift_week(self, days: int) -> None:
        self.calendar.first_day += timedelta(days=days)
        self.load_week()

    def this_week(self) -> None:
        from datetime import datetime

        from ..week_calendar import week_start

        self.calendar.first_day = week_start(datetime.now(self.calendar.zone).date())
        self.load_week()

    def _label_week(self, account_zone: str | None, *, crowded: bool = False) -> None:
        first = self.calendar.first_day
        zone_name = getattr(self.calendar.zone, "key", None) or str(self.calendar.zone)
        label = f"{first:%d %b} – {first + timedelta(days=6):%d %b %Y} · your time ({zone_name})"
        if account_zone:
            label += f" · the account's time ({account_zone}) in the second column"
        if crowded:
            label += " · posts waiting per hour: pick an account to see and move its posts"
        self.week_label.setText(label)

    def load_week(self) -> None:
        start, _end = self.calendar.range()
        choice = self.account_filter.currentData()
        account_id, account_zone = choice if choice else (None, None)
        self._label_week(account_zone)
        planner = self.ctx.planner

        def load() -> tuple[list[dict[str, Any]], Any]:
            density = None if account_id else planner.week_density(start)
            return (planner.week(start, 7, account_id) if density is None else []), density

        run_task(
            load,
            lambda result: self._week_loaded(result[0], account_zone, result[1]),
            lambda exc: self.ctx.error(f"Calendar: {exc}"),
            owner=self,
        )

    def _week_loaded(
        self,
        posts: list[dict[str, Any]],
        account_zone: str | None,
        density: dict[Any, int] | None = None,
    ) -> None:
        if density:
            self.calendar.set_density(density)
            self._label_week(None, crowded=True)
        else:
            self.calendar.set_posts(posts, account_zone)
        week = self.calendar.first_day
        if self._scrolled_week != week:
            # open the week on its first post (or the current hour), not at midnight
            self._scrolled_week = week
            from datetime import datetime

            from ..formatting import to_datetime

            moments = [to_datetime(p.get("at")) for p in posts] + list((density or {}).keys())
            moments = [m for m in moments if m is not None]
            now = datetime.now(self.calendar.zone)
            first = min(moments).astimezone(self.calendar.zone) if moments else now
            hour = max(0, min(first.hour, now.hour if first.date() == now.date() else 24) - 1)
            self._scroll_to = hour * 30
            self._apply_scroll()

    def _apply_scroll(self) -> None:
        bar = self.calendar_scroll.verticalScrollBar()
        if self._scroll_to is None or bar.maximum() <= 0:
            return
        bar.setValue(min(self._scroll_to, bar.maximum()))
        if bar.maximum() >= self._scroll_to:
            self._scroll_to = None

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

    # --- attention actions ------------------------------------------------------------------------
    def act(self, item: AttentionItem) -> None:
        if self.resolver.handles(item):
            self.resolver.resolve(item)  # by the reason: connect, another route, mark
        elif item.action == "resolve" and item.account_id is not None:
            self.resolve(item)
        elif item.job_id is not None:
            self.ctx.navigate.emit("jobs", {"job_id": item.job_id})
        elif item.account_id is not None:
            self.ctx.navigate.emit("accounts", {"account_id": item.account_id})

    def resolve(self, item: AttentionItem) -> None:
        """Open the account's browser for the operator; once they close it, a browser job
        that waited on them goes on from there (engine/handoff.py), any other is queued
        again (a session refresh needs no retry)."""
        account_id = item.account_id
        assert account_id is not None
        services = self.ctx.services
        self.ctx.info(
            f"{item.title}: solve it in the browser window, then close the window. "
            "Piper continues from there."
        )

        def work() -> str:
            if item.job_id is not None and item.kind != "account":
                job = services.jobs.get(item.job_id)
                spec = default_routes().find(job.route)
                offers = spec is not None and spec.handoff is not None
                if offers and job.status == JobStatus.NEEDS_ATTENTION:
                    # the window opens where the job stopped; closing it lets it go on
                    return self.browser.resolve_job(item.job_id)
            self.browser.open_window(account_id)
            if item.kind == "account":
                from ...store.enums import AccountStatus

                services.accounts.set_status(account_id, AccountStatus.ACTIVE)
                return "account active again"
            if item.job_id is not None:
                services.jobs.retry(item.job_id)
                return f"job #{item.job_id} queued again"
            return "done"

        def done(text: str) -> None:
            self.ctx.success(f"{item.title}: {text}")
            self.ctx.changed("jobs")
            self.ctx.changed("accounts")

        run_task(work, done, lambda exc: self.ctx.error(f"{item.title}: {exc}"), owner=self)
