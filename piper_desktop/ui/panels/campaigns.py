"""Campaigns: the list with live progress, the wizard for new ones, start / pause /
resume / cancel, and where each campaign stands per account."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...domain.campaigns import campaign_state
from ...store.enums import FINAL_JOB_STATUSES, IN_FLIGHT_JOB_STATUSES, CampaignStatus, JobRoute
from .. import formatting as fmt
from ..campaign_wizard import CampaignWizard
from ..context import AppContext
from ..delegates import CellDelegate
from ..dialogs import confirm
from ..engine_bridge import JobEvent
from ..table_model import Column, ListSource, PagedTableModel
from ..table_panel import FilterDef, TablePanel
from ..tasks import run_task


def _progress(row: dict[str, Any]) -> float:
    total = row.get("jobs_total") or 0
    return 100.0 * (row.get("jobs_done") or 0) / total if total else 0.0


def _audience(row: dict[str, Any]) -> str:
    selection = row.get("account_selection") or {}
    parts = []
    if selection.get("accounts"):
        parts.append(fmt.count(len(selection["accounts"]), "account"))
    if selection.get("group"):
        parts.append(f"group {selection['group']}")
    for tag in selection.get("tags") or []:
        parts.append(f"tag {tag}")
    return ", ".join(parts)


def _results(row: dict[str, Any]) -> str:
    total = row.get("jobs_total") or 0
    if not total:
        return "not started"
    parts = [f"{row.get('jobs_published') or 0} of {total} published"]
    if row.get("jobs_failed"):
        parts.append(f"{row['jobs_failed']} failed")
    if row.get("jobs_attention"):
        parts.append(f"{row['jobs_attention']} need attention")
    return " · ".join(parts)


def _state(row: dict[str, Any]) -> str:
    """The status as people read it: "needs attention" when every open job waits for
    the operator, "completed with problems" when some failed (campaign_state)."""
    total = row.get("jobs_total") or 0
    done = row.get("jobs_done") or 0
    failed = row.get("jobs_failed") or 0
    published = row.get("jobs_published") or 0
    attention = row.get("jobs_attention") or 0
    counts = {
        "published": published,
        "failed": failed,
        "cancelled": done - failed - published,
        "needs_attention": attention,
        "queued": total - done - attention,
    }
    return campaign_state(str(row.get("status") or ""), counts)


COLUMNS = [
    Column("name", "Campaign", 200),
    Column("status", "Status", 170, kind="badge", fmt=_state),
    Column("route", "Route", 110, fmt=lambda r: fmt.route(r.get("route"))),
    Column(
        "media", "Videos", 70, fmt=lambda r: len(r.get("media_ids") or []), sort=None, align="right"
    ),
    Column("audience", "Accounts", 160, fmt=_audience, sort=None),
    Column(
        "start_at",
        "Starts",
        130,
        fmt=lambda r: fmt.when(r.get("start_at")) if r.get("start_at") else "at once",
    ),
    Column("progress", "Progress", 170, fmt=_progress, kind="progress", sort=None),
    Column("jobs_total", "Results", 210, fmt=lambda r: _results(r), stretch=True),
]


class CampaignsPanel(TablePanel):
    title = "Campaigns"
    noun = "campaign"
    table_name = "campaigns"
    icon_name = "campaigns"
    details_position = Qt.Orientation.Vertical
    empty_hint = "No campaigns yet. A campaign spreads videos over accounts in free slots."

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(
            ctx,
            COLUMNS,
            [
                FilterDef(
                    "status",
                    "All statuses",
                    [(fmt.status_text(s.value), s.value) for s in CampaignStatus],
                ),
                FilterDef("route", "All routes", [(fmt.route(r.value), r.value) for r in JobRoute]),
            ],
        )
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(400)
        self._refresh_timer.timeout.connect(self._live_refresh)
        ctx.bridge.job_event.connect(self.on_job_event)

    def depends_on(self) -> tuple[str, ...]:
        return ("jobs",)

    def build_details(self) -> QWidget:
        box = QWidget()
        box.setObjectName("Card")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(14, 10, 14, 10)
        self.detail_title = QLabel("Select a campaign to see its progress per account.")
        self.detail_title.setObjectName("CardTitle")
        layout.addWidget(self.detail_title)
        self.per_account_source = ListSource([])
        self.per_account = PagedTableModel(
            self.per_account_source,
            [
                Column("account", "Account", 200, sort=None),
                Column("queued", "Waiting", 80, align="right", sort=None),
                Column("in_flight", "In flight", 80, align="right", sort=None),
                Column("published", "Published", 90, align="right", sort=None),
                Column("failed", "Failed", 70, align="right", sort=None),
                Column("needs_attention", "Attention", 90, align="right", sort=None),
                Column("progress", "Done", 160, kind="progress", sort=None, stretch=True),
            ],
            page_size=100_000,
            parent=self,
        )
        view = QTableView()
        view.setObjectName("campaign_progress")
        view.setModel(self.per_account)
        view.setItemDelegate(CellDelegate(view))
        view.verticalHeader().setVisible(False)
        view.setShowGrid(False)
        view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        for number, column in enumerate(self.per_account.columns):
            view.setColumnWidth(number, column.width)
        view.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(view, 1)
        box.setMinimumHeight(180)
        return box

    def build_actions(self) -> None:
        self.add_action(
            "New campaign",
            self.new_campaign,
            icon_name="add",
            shortcut=QKeySequence.StandardKey.New,
            header=True,
            primary=True,
            context=False,
        )
        self.start_action = self.add_action(
            "Start", self.start_selected, icon_name="play", needs="one", toolbar=True
        )
        self.pause_action = self.add_action(
            "Pause", self.pause_selected, icon_name="pause", needs="one", toolbar=True
        )
        self.resume_action = self.add_action(
            "Resume", self.resume_selected, icon_name="play", needs="one", toolbar=True
        )
        self.cancel_action = self.add_action(
            "Cancel campaign…", self.cancel_selected, icon_name="stop", needs="one", toolbar=True
        )
        self.add_separator()
        self.add_action("Show jobs", self.show_jobs, icon_name="jobs", needs="one")

    def selection_changed(self, rows: list[dict[str, Any]]) -> None:
        status = rows[0]["status"] if len(rows) == 1 else None
        self.start_action.setEnabled(status == CampaignStatus.DRAFT)
        self.pause_action.setEnabled(status == CampaignStatus.RUNNING)
        self.resume_action.setEnabled(status == CampaignStatus.PAUSED)
        self.cancel_action.setEnabled(
            status in (CampaignStatus.DRAFT, CampaignStatus.RUNNING, CampaignStatus.PAUSED)
        )
        self.load_progress(rows[0] if len(rows) == 1 else None)

    def activated(self, row: dict[str, Any]) -> None:
        self.show_jobs()

    # --- details --------------------------------------------------------------------------
    def load_progress(self, row: dict[str, Any] | None) -> None:
        if row is None:
            self.detail_title.setText("Select a campaign to see its progress per account.")
            self.per_account_source.rows = []
            self.per_account.refresh(keep=False)
            return
        campaign_id = row["id"]
        services = self.ctx.services

        def show(progress: dict[str, Any]) -> None:
            current = self.current_row()
            if current is None or current["id"] != campaign_id:
                return
            rows = []
            for number, (account, counts) in enumerate(sorted(progress["per_account"].items())):
                total = sum(counts.values())
                done = sum(counts.get(s, 0) for s in FINAL_JOB_STATUSES)
                rows.append(
                    {
                        "id": number,
                        "account": "@" + account.split(":", 1)[-1],
                        "queued": counts.get("queued", 0) + counts.get("retrying", 0),
                        "in_flight": sum(
                            counts.get(s, 0)
                            for s in IN_FLIGHT_JOB_STATUSES
                        ),
                        "published": counts.get("published", 0),
                        "failed": counts.get("failed", 0),
                        "needs_attention": counts.get("needs_attention", 0),
                        "progress": 100.0 * done / total if total else 0,
                    }
                )
            self.per_account_source.rows = rows
            self.per_account.refresh(keep=True)
            self.detail_title.setText(
                f"{row['name']}: {progress['done']} of {progress['total']} done "
                f"({progress['percent']:.0f}%)"
            )

        run_task(lambda: services.campaigns.progress(campaign_id), show, owner=self)

    def on_job_event(self, event: JobEvent) -> None:
        if event.campaign_id is not None or event.status:
            self._refresh_timer.start()

    def _live_refresh(self) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self.model.refresh(keep=True)
        row = self.current_row()
        if row is not None:
            self.load_progress(row)

    # --- actions --------------------------------------------------------------------------
    def new_campaign(self) -> CampaignWizard:
        wizard = CampaignWizard(self.ctx, self)
        wizard.campaign_created.connect(lambda campaign: self.select_after_reload([campaign.id]))
        self.wizard = wizard
        wizard.open()
        return wizard

    def _campaign_call(self, method: str, verb: str) -> None:
        row = self.current_row()
        if row is None:
            return
        service = self.ctx.services.campaigns
        self.run(
            lambda: getattr(service, method)(row["id"]),
            success=f"Campaign {row['name']!r} {verb}",
            changed=("campaigns", "jobs"),
            error_prefix=f"{row['name']}: ",
        )

    def start_selected(self) -> None:
        """Start a draft; accounts not connected to its route refuse it (or only warn,
        per jobs.require_connected), as in the wizard and the CLI."""
        from ...routes.connected import require_connected

        row = self.current_row()
        if row is None:
            return
        services = self.ctx.services
        warnings: list[str] = []

        def start() -> list[int]:
            ids = services.campaigns.selected_account_ids(row["account_selection"] or {})
            require_connected(services, row["route"], ids, warn=warnings.append)
            return services.campaigns.start(row["id"])

        def started(_jobs: list[int]) -> None:
            if warnings:
                self.ctx.warn(f"Campaign {row['name']!r} started; {warnings[0]}")

        self.run(
            start,
            started,
            success=f"Campaign {row['name']!r} started",
            changed=("campaigns", "jobs"),
            error_prefix=f"{row['name']}: ",
        )

    def pause_selected(self) -> None:
        self._campaign_call("pause", "paused")

    def resume_selected(self) -> None:
        self._campaign_call("resume", "resumed")

    def cancel_selected(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.last_dialog = confirm(
            self,
            "Cancel campaign",
            f"Cancel {row['name']!r}?",
            lambda: self._campaign_call("cancel", "cancelled"),
            yes_text="Cancel campaign",
            danger=True,
            detail="Posts not yet started are cancelled; posts in flight finish.",
        )

    def show_jobs(self) -> None:
        row = self.current_row()
        if row is not None:
            self.ctx.navigate.emit("jobs", {"campaign_id": row["id"]})
