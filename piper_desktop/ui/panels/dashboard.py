"""The dashboard: today's results, yesterday's numbers (views, likes, new followers,
posts: from the analytics readings), what posts next, what needs the operator (with the
action that resolves it), and a week calendar where a waiting post can be dragged to
another free slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
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

from ...domain.analytics_views import Yesterday, yesterday_numbers
from ...domain.planner import AttentionItem
from ...routes.registry import default_routes
from ...store.enums import JobStatus
from .. import formatting as fmt
from ..browser_actions import BrowserActions
from ..calendar_view import CalendarView
from ..context import AppContext
from ..delegates import CellDelegate
from ..engine_bridge import JobEvent
from ..icons import icon
from ..resolve import JobResolver
from ..table_model import Column, ListSource, PagedTableModel
from ..tasks import run_task

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



def scrolled_page(panel: QWidget) -> QVBoxLayout:
    """A panel's page that scrolls when the window is short: the layout to fill."""
    outer = QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    outer.addWidget(scroll)
    body = QWidget()
    scroll.setWidget(body)
    layout = QVBoxLayout(body)
    layout.setContentsMargins(24, 20, 24, 20)
    layout.setSpacing(14)
    return layout


def page_header(title: str) -> tuple[QHBoxLayout, QLabel]:
    """A page's title with its subtitle; the row has room on the right for its controls."""
    header = QHBoxLayout()
    titles = QVBoxLayout()
    heading = QLabel(title)
    heading.setObjectName("PanelTitle")
    subtitle = QLabel("")
    subtitle.setObjectName("PanelSubtitle")
    titles.addWidget(heading)
    titles.addWidget(subtitle)
    header.addLayout(titles)
    header.addStretch(1)
    return header, subtitle

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
        layout = scrolled_page(self)
        header, self.subtitle = page_header("Dashboard")
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
        # yesterday's numbers from the analytics readings (domain/analytics_views.py)
        yesterday = QGridLayout()
        yesterday.setSpacing(12)
        self.yesterday_metrics = {
            "views": Metric("Views yesterday", "play"),
            "likes": Metric("Likes yesterday", "check"),
            "new_followers": Metric("New followers yesterday", "accounts"),
            "posts": Metric("Posts yesterday", "film"),
        }
        for column, metric in enumerate(self.yesterday_metrics.values()):
            yesterday.addWidget(metric, 0, column)
        layout.addLayout(yesterday)
        self.yesterday: Yesterday | None = None

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

        week_card, week_layout = card("Calendar")
        # Week / Month / List, its filters and its loading: ui/calendar_view.py
        self.calendar_view = CalendarView(ctx)
        week_layout.addWidget(self.calendar_view)
        self.calendar = self.calendar_view.week
        self.calendar_scroll = self.calendar_view.week_scroll
        self.day_header = self.calendar_view.day_header
        self.account_filter = self.calendar_view.account_filter
        self.week_label = self.calendar_view.label
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
        self.calendar_view.reload()

        def load() -> dict[str, Any]:
            # one task, one database connection: the dashboard's cards at once
            return {
                "today": planner.today_waiting(zone=zone),
                "upcoming": planner.upcoming(limit=8),
                "attention": planner.attention(),
            }

        run_task(
            load,
            self._loaded,
            lambda exc: self.ctx.error(f"Dashboard: {exc}"),
            owner=self,
        )

    def _attention_count(self, counts: dict[str, int]) -> dict[str, int]:
        """ "Need attention" counts what the list below shows (jobs and accounts alike),
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

    def _loaded(self, data: dict[str, Any]) -> None:
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
        analytics = self.ctx.services.analytics
        run_task(
            lambda: yesterday_numbers(
                analytics.posts(), analytics.account_readings(), datetime.now(UTC), zone
            ),
            self._yesterday,
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
        self._say()

    def _yesterday(self, numbers: Yesterday) -> None:
        self.yesterday = numbers
        for key, metric in self.yesterday_metrics.items():
            metric.set(getattr(numbers, key))

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

    # --- calendar (ui/calendar_view.py) ----------------------------------------------------
    def shift_week(self, days: int) -> None:
        self.calendar.first_day += timedelta(days=days)
        self.calendar_view.load_week()

    def load_week(self) -> None:
        self.calendar_view.load_week()

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
