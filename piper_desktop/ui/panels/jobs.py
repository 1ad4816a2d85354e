"""Jobs: every upload with its live status; a details pane with the event log, the
receipt, the post's link, the error and the evidence kept (a failure screenshot shows as
an image); retry, cancel and bulk retry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...domain import lifecycle
from ...domain.errors import DomainError
from ...domain.planner import AttentionItem, classify_attention
from ...owner_only import write_private_bytes
from ...store.enums import IN_FLIGHT_JOB_STATUSES, WAITING_JOB_STATUSES, JobRoute, JobStatus
from .. import formatting as fmt
from .. import theme
from ..context import AppContext
from ..delegates import CellDelegate
from ..dialogs import ask_text, confirm
from ..engine_bridge import JobEvent
from ..post_editor import PostEditor
from ..resolve import JobResolver
from ..table_model import Column, ListSource, PagedTableModel
from ..table_panel import FilterDef, TablePanel
from ..tasks import run_task
from ..team_view import held_by, team_mode

STATUS_GROUPS = {
    "waiting": [s.value for s in WAITING_JOB_STATUSES],
    "in_flight": [s.value for s in IN_FLIGHT_JOB_STATUSES],
    "problems": [JobStatus.FAILED.value, JobStatus.NEEDS_ATTENTION.value],
}
# what the life cycle lets the operator do (domain/lifecycle.py)
RETRYABLE = {s.value for s in lifecycle.TABLE["operator_retry"].sources}
MARKABLE = {s.value for s in lifecycle.TABLE["mark_published"].sources}
CANCELLABLE = {s.value for s in WAITING_JOB_STATUSES}


def _account(row: dict[str, Any]) -> str:
    return f"@{row.get('account_username') or row.get('account_id')}"


def _attempts(row: dict[str, Any]) -> str:
    return f"{row.get('attempts', 0)}/{row.get('max_attempts', 0)}"


def _problem(row: dict[str, Any]) -> str:
    return row.get("attention_reason") or row.get("last_error") or ""


COLUMNS = [
    Column("id", "#", 64, align="right"),
    Column("status", "Status", 130, kind="badge", tooltip=_problem),
    # team mode shows it: the desktop whose engine holds the job (its lease)
    Column(
        "held_by",
        "Held by",
        130,
        fmt=lambda r: held_by(r.get("lease_owner")),
        sort=None,
        hidden=True,
    ),
    Column("account_username", "Account", 140, fmt=_account),
    Column("media_title", "Video", 170),
    Column("route", "Route", 100, fmt=lambda r: fmt.route(r.get("route"))),
    Column(
        "scheduled_at",
        "Scheduled",
        140,
        fmt=lambda r: fmt.when(r.get("scheduled_at")),
        tooltip=lambda r: (
            f"Your time: {fmt.full_time(r.get('scheduled_at'))}\n"
            f"@{r.get('account_username')}'s time: "
            f"{fmt.full_time(r.get('scheduled_at'), r.get('account_timezone'))}"
        ),
    ),
    Column("attempts", "Tries", 60, fmt=_attempts, align="right", hidden=True),
    Column("receipt", "Receipt", 150, hidden=True),
    Column("campaign_name", "Campaign", 140, hidden=True),
    Column("problem", "Problem / result", 260, fmt=_problem, sort=None, stretch=True),
]


class JobDetails(QWidget):
    """The selected job: facts, event log, evidence."""

    def __init__(self, panel: JobsPanel) -> None:
        super().__init__()
        self.panel = panel
        self.ctx = panel.ctx
        self.job_id: int | None = None
        self.row: dict[str, Any] = {}
        self.artifacts: list[dict[str, Any]] = []
        self.setObjectName("Card")
        self.setMinimumWidth(380)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 14, 16, 14)
        head = QHBoxLayout()
        self.heading = QLabel("No job selected")
        self.heading.setObjectName("CardTitle")
        head.addWidget(self.heading, 1)
        self.badge = QLabel()
        self.badge.setObjectName("status_badge")
        head.addWidget(self.badge)
        outer.addLayout(head)

        facts = QWidget()
        self.form = QFormLayout(facts)
        self.form.setContentsMargins(0, 4, 0, 4)
        self.form.setVerticalSpacing(4)
        self.fields: dict[str, QLabel] = {}
        for key, label in (
            ("account", "Account"),
            ("video", "Video"),
            ("route", "Route"),
            ("campaign", "Campaign"),
            ("scheduled", "Scheduled"),
            ("scheduled_account", "Account's time"),
            ("attempts", "Attempts"),
            ("receipt", "Receipt"),
            ("upload", "Upload"),
            ("post", "Post"),
            ("problem", "Problem"),
        ):
            value = QLabel()
            value.setObjectName(f"detail_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = value
            self.form.addRow(label, value)
        self.fields["post"].setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.fields["post"].linkActivated.connect(self.ctx.open_url)
        self.fields["problem"].setObjectName("FieldError")
        outer.addWidget(facts)

        buttons = QHBoxLayout()
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(lambda: panel.retry_ids([self.job_id or 0]))
        self.cancel_button = QPushButton("Cancel job")
        self.cancel_button.clicked.connect(lambda: panel.cancel_ids([self.job_id or 0]))
        self.open_button = QPushButton("Open post")
        self.open_button.setObjectName("open_post")
        self.open_button.clicked.connect(self.open_post)
        for button in (self.retry_button, self.cancel_button, self.open_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        outer.addLayout(buttons)

        self.tabs = QTabWidget()
        self.events_source = ListSource([])
        self.events_model = PagedTableModel(
            self.events_source,
            [
                Column("at", "Time", 110, fmt=lambda r: fmt.when(r.get("at")), sort=None),
                Column("kind", "Event", 90, sort=None),
                Column("status", "Status", 120, kind="badge", sort=None),
                Column("message", "Message", 300, sort=None, stretch=True),
            ],
            page_size=10_000,
            parent=self,
        )
        self.events = QTableView()
        self.events.setObjectName("job_events")
        self.events.setModel(self.events_model)
        self.events.setItemDelegate(CellDelegate(self.events))
        self.events.verticalHeader().setVisible(False)
        self.events.setShowGrid(False)
        self.events.setWordWrap(True)
        self.events.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for number, width in enumerate((110, 90, 120)):
            self.events.setColumnWidth(number, width)
        self.events.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.events_model.loaded.connect(self.events.resizeRowsToContents)
        self.tabs.addTab(self.events, "Event log")

        evidence = QWidget()
        evidence_layout = QVBoxLayout(evidence)
        split = QSplitter(Qt.Orientation.Vertical)
        self.artifact_list = QListWidget()
        self.artifact_list.setObjectName("artifacts")
        self.artifact_list.currentRowChanged.connect(self.show_artifact)
        split.addWidget(self.artifact_list)
        self.preview = QLabel("Select an item to see it.")
        self.preview.setObjectName("artifact_preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.preview)
        split.addWidget(scroll)
        split.setStretchFactor(1, 3)
        evidence_layout.addWidget(split)
        self.save_artifact_button = QPushButton("Save…")
        self.save_artifact_button.clicked.connect(self.save_artifact)
        evidence_layout.addWidget(self.save_artifact_button, 0, Qt.AlignmentFlag.AlignRight)
        self.tabs.addTab(evidence, "Evidence")
        outer.addWidget(self.tabs, 1)
        self.show_job(None)

    # --- loading ------------------------------------------------------------------------
    def show_job(self, job_id: int | None) -> None:
        self.job_id = job_id
        enabled = job_id is not None
        for button in (self.retry_button, self.cancel_button, self.open_button):
            button.setEnabled(False)
        self.tabs.setEnabled(enabled)
        if job_id is None:
            self.heading.setText("No job selected")
            self.badge.clear()
            for label in self.fields.values():
                label.clear()
            self.events_source.rows = []
            self.events_model.refresh(keep=False)
            self.artifact_list.clear()
            return
        self.reload()

    def reload(self) -> None:
        job_id = self.job_id
        if job_id is None:
            return
        ctx = self.ctx

        def load() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
            rows = ctx.tables.by_ids("jobs", [job_id])
            upload = ctx.services.jobs.upload(job_id)
            events = [ctx.services.jobs.event_dict(e) for e in ctx.services.jobs.events(job_id)]
            artifacts = [
                {
                    "name": a.name,
                    "content_type": a.content_type,
                    "content": a.content,
                    "created_at": a.created_at,
                }
                for a in ctx.services.jobs.artifacts(job_id)
            ]
            row = dict(rows[0]) if rows else {}
            if row and upload is not None:
                row["upload_summary"] = upload["summary"]
            return row, events, artifacts

        run_task(load, lambda result: self._loaded(job_id, *result), owner=self)

    def _loaded(
        self,
        job_id: int,
        row: dict[str, Any],
        events: list[dict[str, Any]],
        artifacts: list[dict[str, Any]],
    ) -> None:
        if job_id != self.job_id or not row:
            return
        self.row = row
        status = row.get("status") or ""
        self.heading.setText(f"Job #{job_id}")
        bg, fg = theme.status_colors(status)
        self.badge.setText(fmt.status_text(status))
        self.badge.setStyleSheet(
            f"background:{bg.name()}; color:{fg.name()}; border-radius:9px;"
            " padding:2px 10px; font-weight:600;"
        )
        zone = row.get("account_timezone")
        self.fields["account"].setText(
            f"@{row.get('account_username')} ({row.get('account_platform')})"
        )
        self.fields["video"].setText(row.get("media_title") or f"#{row.get('media_id')}")
        self.fields["route"].setText(fmt.route(row.get("route")))
        self.fields["campaign"].setText(row.get("campaign_name") or "—")
        self.fields["scheduled"].setText(fmt.full_time(row.get("scheduled_at")))
        self.fields["scheduled_account"].setText(
            f"{fmt.full_time(row.get('scheduled_at'), zone)} ({zone})"
        )
        next_at = row.get("next_attempt_at")
        attempts = _attempts(row)
        if status in ("queued", "retrying") and next_at:
            attempts += f" · next {fmt.when(next_at)} ({fmt.relative(next_at)})"
        self.fields["attempts"].setText(attempts)
        receipt = row.get("receipt")
        self.fields["receipt"].setText(
            f"{row.get('receipt_kind')}: {receipt}" if receipt else "none yet"
        )
        self.fields["upload"].setText(row.get("upload_summary") or "—")
        url = row.get("post_url")
        self.fields["post"].setText(f'<a href="{url}">{url}</a>' if url else "—")
        problem = _problem(row)
        self.fields["problem"].setText(problem or "none")
        self.fields["problem"].setObjectName("FieldError" if problem else "Muted")
        self.fields["problem"].style().unpolish(self.fields["problem"])
        self.fields["problem"].style().polish(self.fields["problem"])
        self.retry_button.setEnabled(status in RETRYABLE)
        self.cancel_button.setEnabled(status in CANCELLABLE)
        self.open_button.setEnabled(bool(url))
        self.events_source.rows = [{**e, "id": e.get("id")} for e in events]
        self.events_model.refresh(keep=False)
        self.artifacts = artifacts
        self.artifact_list.clear()
        for item in artifacts:
            QListWidgetItem(
                f"{item['name']}  ·  {fmt.size(len(item['content']))}", self.artifact_list
            )
        self.tabs.setTabText(1, f"Evidence ({len(artifacts)})" if artifacts else "Evidence")
        if artifacts:
            self.artifact_list.setCurrentRow(0)
        else:
            self.preview.setPixmap(QPixmap())
            self.preview.setText("No evidence kept for this job.")

    def show_artifact(self, index: int) -> None:
        self.save_artifact_button.setEnabled(0 <= index < len(self.artifacts))
        if not 0 <= index < len(self.artifacts):
            return
        item = self.artifacts[index]
        if str(item["content_type"]).startswith("image/"):
            image = QPixmap()
            if image.loadFromData(item["content"]):
                width = max(200, self.preview.width() - 20)
                self.preview.setPixmap(
                    image.scaledToWidth(
                        min(width, image.width()), Qt.TransformationMode.SmoothTransformation
                    )
                )
                return
        self.preview.setPixmap(QPixmap())
        text = item["content"][:4000].decode("utf-8", "replace")
        self.preview.setText(text if item["content_type"].startswith("text/") else item["name"])

    def save_artifact(self) -> None:
        index = self.artifact_list.currentRow()
        if not 0 <= index < len(self.artifacts):
            return
        item = self.artifacts[index]
        dialog = QFileDialog(self, "Save evidence")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(item["name"])
        content = item["content"]
        dialog.fileSelected.connect(
            lambda path: run_task(lambda: write_private_bytes(Path(path), content), owner=self)
        )
        dialog.open()

    def open_post(self) -> None:
        if self.row.get("post_url"):
            self.ctx.open_url(self.row["post_url"])


class JobsPanel(TablePanel):
    title = "Jobs"
    noun = "job"
    table_name = "jobs"
    icon_name = "jobs"
    empty_hint = "No jobs yet. Start a campaign to schedule posts."

    def __init__(self, ctx: AppContext) -> None:
        from ...domain.tables import TableQuery

        statuses = [(fmt.status_text(s.value), s.value) for s in JobStatus]
        super().__init__(
            ctx,
            COLUMNS,
            [
                FilterDef(
                    "status",
                    "All statuses",
                    [
                        ("Waiting (queued, retrying)", "waiting"),
                        ("In flight", "in_flight"),
                        ("Problems (failed, attention)", "problems"),
                        *statuses,
                    ],
                ),
                FilterDef("route", "All routes", [(fmt.route(r.value), r.value) for r in JobRoute]),
                FilterDef("campaign_id", "All campaigns", load=self._campaigns),
            ],
            query=TableQuery(sort="id", descending=True),
        )
        self.view.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
        if team_mode(ctx):
            self.view.setColumnHidden(self.model.column_index("held_by"), False)
        self._changed_ids: set[int] = set()
        self._new_rows = False
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(250)
        self._flush.timeout.connect(self._apply_events)
        ctx.bridge.job_event.connect(self.on_job_event)

    def _campaigns(self) -> list[Any]:
        return [(c.name, c.id) for c in self.ctx.services.campaigns.list()]

    def reload_filter_options(self) -> None:
        spec = next(f for f in self.filters if f.key == "campaign_id")
        box = self._filter_boxes["campaign_id"]
        run_task(self._campaigns, lambda pairs: self._fill_filter(box, spec, pairs), owner=self)

    def filter_value(self, key: str, value: Any) -> Any:
        if key == "status" and value in STATUS_GROUPS:
            return STATUS_GROUPS[value]
        return value

    def depends_on(self) -> tuple[str, ...]:
        return ("accounts", "media", "campaigns")

    def build_details(self) -> QWidget:
        self.details = JobDetails(self)
        return self.details

    def build_actions(self) -> None:
        self.add_action("New post…", self.new_post, icon_name="add", header=True, context=False)
        self.add_action(
            "Edit…", self.edit_selected, icon_name="edit", needs="one", shortcut="Ctrl+E"
        )
        self.add_action(
            "New TikTok post…",
            self.new_tiktok_post,
            icon_name="add",
            header=True,
            context=False,
        )
        self.add_action(
            "Retry all failed",
            self.retry_all_failed,
            icon_name="retry",
            header=True,
            context=False,
        )
        self.add_action(
            "Retry",
            self.retry_selected,
            icon_name="retry",
            needs="any",
            toolbar=True,
            shortcut="Ctrl+R",
        )
        self.add_action("Cancel", self.cancel_selected, icon_name="stop", needs="any", toolbar=True)
        self.add_action(
            "Open post", self.open_post, icon_name="link", needs="one", shortcut="Ctrl+O"
        )
        self.add_action("Copy receipt", self.copy_receipt, icon_name="copy", needs="one")
        self.add_separator()
        self.add_action(
            "Retry even if it may be posted…", self.force_retry, icon_name="warning", needs="one"
        )
        self.add_action("Mark published…", self.mark_published, icon_name="link", needs="one")
        self.add_action("Resolve…", self.resolve_selected, icon_name="warning", needs="one")
        self.add_action("Change route…", self.change_route, icon_name="link", needs="one")

    def new_tiktok_post(self) -> None:
        """One post through the TikTok API, on the screen TikTok's audit asks for."""
        from ..tiktok_post_dialog import TikTokPostDialog

        self.tiktok_dialog = TikTokPostDialog(self.ctx, self)
        self.tiktok_dialog.show()

    def _resolver(self) -> JobResolver:
        resolver: JobResolver | None = getattr(self, "resolver", None)
        if resolver is None:
            resolver = self.resolver = JobResolver(self.ctx, self)
        return resolver

    def _item(self, row: dict[str, Any], kind: str, action: str) -> AttentionItem:
        return AttentionItem(
            kind,
            f"Job #{row['id']} · @{row['account_username']}",
            _problem(row),
            row["id"],
            row["account_id"],
            action,
            row["route"],
        )

    def resolve_selected(self) -> None:
        """What the job's reason needs (ui/resolve.py); a login or a captcha is the
        Dashboard's (the account's browser window)."""
        rows = self.selected_rows()
        if len(rows) != 1 or rows[0]["status"] != JobStatus.NEEDS_ATTENTION:
            self.ctx.info("Resolve is for a job that needs attention")
            return
        row = rows[0]
        kind, action = classify_attention(
            _problem(row), submitted=bool(row.get("submitted_at")), has_receipt=bool(row["receipt"])
        )
        item = self._item(row, kind, action)
        if self._resolver().handles(item):
            self._resolver().resolve(item)
        else:
            self.ctx.navigate.emit("dashboard", {})
            self.ctx.info(f"Job #{row['id']}: resolve it from the Dashboard's attention list")

    def new_post(self) -> PostEditor:
        """One job, by hand (ui/post_editor.py)."""
        editor = PostEditor(self.ctx, parent=self)
        editor.open()
        return editor

    def edit_selected(self) -> PostEditor | None:
        """The selected job in the editor: editable until claimed, read-only after."""
        rows = self.selected_rows()
        if len(rows) != 1:
            return None
        editor = PostEditor(self.ctx, job_id=int(rows[0]["id"]), parent=self)
        editor.open()
        return editor

    def change_route(self) -> None:
        """Another route for the job, while nobody has claimed it (JobService.change_route)."""
        rows = self.selected_rows()
        if len(rows) == 1:
            self._resolver().change_route(self._item(rows[0], "wrong_route", "change_route"))

    def selection_changed(self, rows: list[dict[str, Any]]) -> None:
        self.details.show_job(rows[0]["id"] if len(rows) == 1 else None)
        self._offer_actions(rows)

    def _offer_actions(self, rows: list[dict[str, Any]]) -> None:
        # an action is offered only when the life cycle allows it for some chosen job:
        # a published job cannot be retried, cancelled or marked published again
        statuses = {r.get("status") for r in rows}
        for text, allowed in (
            ("Retry", RETRYABLE),
            ("Cancel", CANCELLABLE),
            ("Retry even if it may be posted…", RETRYABLE),
            ("Mark published…", MARKABLE),
        ):
            action = self.find_action(text)
            if action.isEnabled() and not statuses & allowed:
                action.setEnabled(False)

    def activated(self, row: dict[str, Any]) -> None:
        if row.get("post_url"):
            self.ctx.open_url(row["post_url"])

    def focus_job(self, job_id: int) -> None:
        """Show this job (from the dashboard or the tray)."""
        self.search.setText(f"#{job_id}")
        self.model.set_search(f"#{job_id}")
        self.select_after_reload([job_id])
        self.reload()

    # --- live updates ---------------------------------------------------------------------
    def on_job_event(self, event: JobEvent) -> None:
        if event.job_id is None:
            return
        if event.status and self.model.patch(event.job_id, {"status": event.status}):
            self._changed_ids.add(event.job_id)
        elif self.model.position_of(event.job_id) is None:
            self._new_rows = True
        else:
            self._changed_ids.add(event.job_id)
        self._flush.start()

    def _apply_events(self) -> None:
        ids, self._changed_ids = sorted(self._changed_ids), set()
        if ids:
            self.model.reload_ids(ids)
            selected = self.selected_rows()
            if any(r["id"] in ids for r in selected):
                self._selection_changed()  # a chosen job moved on: offer what it allows now
        if self._new_rows and self.isVisible():
            self.model.refresh(keep=True)
        self._new_rows = False
        if self.details.job_id in ids:
            self.details.reload()

    # --- actions ------------------------------------------------------------------------
    def retry_selected(self) -> None:
        self.retry_ids([r["id"] for r in self.selected_rows()])

    def retry_ids(self, ids: list[int], force: bool = False) -> None:
        services = self.ctx.services

        def retry() -> tuple[int, list[str]]:
            done, problems = 0, []
            for job_id in ids:
                try:
                    services.jobs.retry(job_id, force=force)
                    done += 1
                except DomainError as exc:
                    problems.append(str(exc))
            return done, problems

        def report(result: tuple[int, list[str]]) -> None:
            done, problems = result
            if problems:
                self.ctx.error(f"Re-queued {done}; " + "; ".join(problems[:2]))
            else:
                self.ctx.success(f"Re-queued {fmt.count(done, 'job')}")
            self.model.reload_ids(ids)
            self.details.reload()

        self.run(retry, report, changed=("jobs",))

    def force_retry(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.last_dialog = confirm(
            self,
            "Retry a job that may be posted",
            f"Job #{row['id']} may already be on the platform (receipt "
            f"{row.get('receipt') or 'unknown'}).",
            lambda: self.retry_ids([row["id"]], force=True),
            yes_text="Retry anyway",
            danger=True,
            detail="Check the account first: retrying may post the video twice.",
        )

    def mark_published(self) -> None:
        """The operator checked that a failed or needs-attention job went out after all."""
        row = self.current_row()
        if row is None:
            return
        if row.get("status") not in MARKABLE:
            self.ctx.info(f"Job #{row['id']} is {row.get('status')}: only a failed or "
                          "needs-attention job can be marked published")  # fmt: skip
            return
        self.url_dialog = ask_text(
            self,
            "Mark published",
            f"Job #{row['id']}: the post's URL (you checked it is on the account)",
            lambda url: self.mark_published_as(row["id"], url),
        )

    def mark_published_as(self, job_id: int, url: str) -> None:
        services = self.ctx.services

        def mark() -> str | None:
            try:
                services.jobs.mark_published(job_id, url)
            except DomainError as exc:
                return str(exc)
            return None

        def report(problem: str | None) -> None:
            if problem:
                self.ctx.error(problem)
            else:
                self.ctx.success(f"Job #{job_id} marked published")
            self.model.reload_ids([job_id])
            self.details.reload()

        self.run(mark, report, changed=("jobs",))

    def cancel_selected(self) -> None:
        self.cancel_ids([r["id"] for r in self.selected_rows()])

    def cancel_ids(self, ids: list[int]) -> None:
        services = self.ctx.services

        def cancel() -> tuple[int, list[str]]:
            done, problems = 0, []
            for job_id in ids:
                try:
                    services.jobs.cancel(job_id)
                    done += 1
                except DomainError as exc:
                    problems.append(str(exc))
            return done, problems

        def report(result: tuple[int, list[str]]) -> None:
            done, problems = result
            if problems:
                self.ctx.error(f"Cancelled {done}; " + "; ".join(problems[:2]))
            else:
                self.ctx.success(f"Cancelled {fmt.count(done, 'job')}")
            self.model.reload_ids(ids)
            self.details.reload()

        self.run(cancel, report, changed=("jobs",))

    def retry_all_failed(self) -> None:
        services = self.ctx.services
        filters = {
            k: v for k, v in self.model.query.filters.items() if k in ("route", "campaign_id")
        }
        self.run(
            lambda: services.jobs.bulk_retry(status=JobStatus.FAILED.value, **filters),
            lambda ids: self.ctx.success(f"Re-queued {fmt.count(len(ids), 'failed job')}"),
            changed=("jobs",),
        )

    def open_post(self) -> None:
        row = self.current_row()
        if row and row.get("post_url"):
            self.ctx.open_url(row["post_url"])
        elif row:
            self.ctx.info(f"Job #{row['id']} has no post link yet")

    def copy_receipt(self) -> None:
        row = self.current_row()
        if row and row.get("receipt"):
            QGuiApplication.clipboard().setText(str(row["receipt"]))
            self.ctx.info("Receipt copied")
