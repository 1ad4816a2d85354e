"""The campaign wizard: media → accounts → caption template → schedule and limits →
review. The review page shows the slots the campaign will get, computed by the same
planner `CampaignService.start` uses (without saving anything); Finish creates the
campaign and, if asked, starts it."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QDateTime, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ..domain import analytics_views as av
from ..domain import campaigns as camp
from ..domain import tiktok_compliance as tc
from ..domain.errors import DomainError, ValidationError
from ..domain.services import Services
from ..domain.tables import TableQuery
from ..logs import mask
from ..routes.connected import NotConnected, describe, not_connected, require_connected
from ..store.enums import CampaignStrategy, JobRoute, MissedPolicy
from . import formatting as fmt
from .caption_suggestions import CaptionSuggestions
from .connect_flow import ConnectFlow
from .context import AppContext
from .delegates import CellDelegate
from .forms import set_invalid
from .icons import pixmap
from .post_preview import PostPreview
from .table_model import Column, ListSource, PagedTableModel, TableSource
from .tasks import run_task
from .tiktok_campaign_options import TikTokCampaignOptions
from .tiktok_post_options import escape_html

PRIVACY = [
    ("Everyone", "PUBLIC_TO_EVERYONE"),
    ("Followers", "FOLLOWER_OF_CREATOR"),
    ("Friends", "MUTUAL_FOLLOW_FRIENDS"),
    ("Only me (private)", "SELF_ONLY"),
]
PRIVACY_KEY = "campaigns.default_privacy"
ROUTES = [
    ("TikTok Content Posting API", JobRoute.TIKTOK_API.value),
    ("Upload-Post", JobRoute.UPLOAD_POST.value),
    ("Browser (TikTok Studio)", JobRoute.BROWSER.value),
]
STRATEGIES = [
    ("Round robin: each video to the next account", CampaignStrategy.ROUND_ROBIN.value),
    ("Random account for each video", CampaignStrategy.RANDOM.value),
    ("Least used account first", CampaignStrategy.LEAST_USED.value),
]


def _table(model: PagedTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setItemDelegate(CellDelegate(view))
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(30)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
    for number, column in enumerate(model.columns):
        view.setColumnWidth(number, column.width)
        if column.stretch:
            view.horizontalHeader().setSectionResizeMode(number, QHeaderView.ResizeMode.Stretch)
    return view


def _selected_rows(view: QTableView, model: PagedTableModel) -> list[dict[str, Any]]:
    rows = sorted({i.row() for i in view.selectionModel().selectedRows()})
    return [model.row(r) for r in rows]


def _select_all_loaded(view: QTableView) -> None:
    view.selectAll()


class MediaPage(QWizardPage):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.setTitle("Videos")
        self.setSubTitle("Name the campaign, pick the route, and choose the videos to post.")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setObjectName("campaign_name")
        self.name.setPlaceholderText("e.g. Spring launch")
        self.name.textChanged.connect(self.completeChanged)
        self.name_error = QLabel()
        self.name_error.setObjectName("FieldError")
        form.addRow("Campaign name *", self.name)
        form.addRow("", self.name_error)
        self.route = QComboBox()
        self.route.setObjectName("campaign_route")
        for label, value in ROUTES:
            self.route.addItem(label, value)
        form.addRow("Publish through", self.route)
        layout.addLayout(form)
        self.model = PagedTableModel(
            TableSource(ctx.tables, "media"),
            [
                Column("title", "Video", 260, stretch=True),
                Column("duration_sec", "Length", 70, fmt=lambda r: fmt.duration(r["duration_sec"])),
                Column("hashtags", "Hashtags", 200, fmt=lambda r: fmt.hashtags(r["hashtags"])),
            ],
            page_size=5000,
            parent=self,
        )
        self.view = _table(self.model, "wizard_media")
        self.view.selectionModel().selectionChanged.connect(lambda *_: self.completeChanged.emit())
        bar = QHBoxLayout()
        self.count = QLabel("No video chosen")
        self.count.setObjectName("Muted")
        bar.addWidget(self.count, 1)
        everything = QPushButton("Select all")
        everything.clicked.connect(lambda: _select_all_loaded(self.view))
        bar.addWidget(everything)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.model.refresh(keep=False)

    def media_ids(self) -> list[int]:
        return [r["id"] for r in _selected_rows(self.view, self.model)]

    def isComplete(self) -> bool:
        ids = self.media_ids()
        self.count.setText(f"{fmt.count(len(ids), 'video')} chosen" if ids else "No video chosen")
        try:
            camp.FIELDS["name"].parse("name", self.name.text())
            problem = "" if self.name.text().strip() else "Campaign name: is required"
        except ValidationError as exc:
            problem = f"Campaign name: {exc.reason}"
        self.name_error.setText(problem if self.name.text() else "")
        set_invalid(self.name, bool(problem and self.name.text()))
        return bool(ids) and not problem


class AccountsPage(QWizardPage):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("Accounts")
        self.setSubTitle("Post as these accounts: pick them, or take a whole group or tag.")
        layout = QVBoxLayout(self)
        self.mode = QButtonGroup(self)
        row = QHBoxLayout()
        self.by_list = QRadioButton("Chosen accounts")
        self.by_group = QRadioButton("Group")
        self.by_tag = QRadioButton("Tag")
        for number, button in enumerate((self.by_list, self.by_group, self.by_tag)):
            self.mode.addButton(button, number)
            row.addWidget(button)
        self.by_list.setChecked(True)
        self.group = QComboBox()
        self.group.setObjectName("wizard_group")
        self.tag = QComboBox()
        self.tag.setObjectName("wizard_tag")
        row.addWidget(self.group)
        row.addWidget(self.tag)
        row.addStretch(1)
        layout.addLayout(row)
        self.model = PagedTableModel(
            TableSource(ctx.tables, "accounts"),
            [
                Column("username", "Account", 180, fmt=lambda r: f"@{r['username']}"),
                Column("status", "Status", 140, kind="badge"),
                Column("group", "Group", 120),
                Column("tags", "Tags", 140, fmt=lambda r: fmt.tags(r["tags"])),
                Column("timezone", "Time zone", 150, stretch=True),
            ],
            page_size=5000,
            query=TableQuery(filters={}),
            parent=self,
        )
        self.view = _table(self.model, "wizard_accounts")
        layout.addWidget(self.view, 1)
        self.note = QLabel("Disabled accounts are never used.")
        self.note.setObjectName("Hint")
        layout.addWidget(self.note)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self.completeChanged.emit())
        self.mode.idToggled.connect(lambda *_: self._mode_changed())
        self.group.currentIndexChanged.connect(lambda *_: self.completeChanged.emit())
        self.tag.currentIndexChanged.connect(lambda *_: self.completeChanged.emit())
        self.model.refresh(keep=False)
        run_task(
            lambda: (ctx.services.accounts.groups(), ctx.tables.distinct("accounts", "tags")),
            self._fill,
            owner=self,
        )
        self._mode_changed()

    def _fill(self, values: tuple[list[str], list[str]]) -> None:
        groups, tags = values
        self.group.clear()
        self.group.addItems(groups)
        self.tag.clear()
        self.tag.addItems(tags)
        self.by_group.setEnabled(bool(groups))
        self.by_tag.setEnabled(bool(tags))

    def _mode_changed(self) -> None:
        mode = self.mode.checkedId()
        self.view.setEnabled(mode == 0)
        self.group.setEnabled(mode == 1)
        self.tag.setEnabled(mode == 2)
        self.completeChanged.emit()

    def selection(self) -> dict[str, Any]:
        mode = self.mode.checkedId()
        if mode == 1:
            return {"group": self.group.currentText()} if self.group.currentText() else {}
        if mode == 2:
            return {"tags": [self.tag.currentText()]} if self.tag.currentText() else {}
        rows = _selected_rows(self.view, self.model)
        return {"accounts": [f"{r['platform']}:{r['username']}" for r in rows]} if rows else {}

    def sample_account(self) -> dict[str, Any] | None:
        rows = _selected_rows(self.view, self.model)
        if rows:
            return rows[0]
        return self.model.row(0) if self.model.rowCount() else None

    def isComplete(self) -> bool:
        return bool(self.selection())


class CaptionPage(QWizardPage):
    def __init__(
        self,
        media_page: MediaPage,
        accounts_page: AccountsPage,
        services: Services | None = None,
    ) -> None:
        super().__init__()
        self.media_page = media_page
        self.accounts_page = accounts_page
        self.setTitle("Caption")
        self.setSubTitle("A template for every post's caption. Placeholders fill in per post.")
        layout = QVBoxLayout(self)
        self.template = QPlainTextEdit("{caption} {hashtags}")
        self.template.setObjectName("caption_template")
        self.template.setFixedHeight(96)
        self.template.textChanged.connect(self._changed)
        layout.addWidget(self.template)
        chips = QHBoxLayout()
        for name in sorted(camp.PLACEHOLDERS):
            chip = QPushButton("{" + name + "}")
            chip.setFlat(True)
            chip.clicked.connect(
                lambda _c=False, n=name: self.template.insertPlainText("{" + n + "}")
            )
            chips.addWidget(chip)
        chips.addStretch(1)
        layout.addLayout(chips)
        self.error = QLabel()
        self.error.setObjectName("FieldError")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        form = QFormLayout()
        self.hashtags = QLineEdit()
        self.hashtags.setObjectName("campaign_hashtags")
        self.hashtags.setPlaceholderText("#spring #launch — added to every post")
        self.hashtags.textChanged.connect(self._changed)
        form.addRow("Campaign hashtags", self.hashtags)
        layout.addLayout(form)
        sample_title = QLabel("Example")
        sample_title.setObjectName("CardTitle")
        layout.addWidget(sample_title)
        self.sample = QLabel()
        self.sample.setObjectName("Banner")
        self.sample.setWordWrap(True)
        layout.addWidget(self.sample)
        # the first post as it will look, and AI suggestions that replace the template
        self.preview = PostPreview()
        layout.addWidget(self.preview)
        self.suggest: CaptionSuggestions | None = None
        if services is not None:
            self.suggest = CaptionSuggestions(services, self.template.setPlainText)
            layout.addWidget(self.suggest)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self._changed()

    def problem(self) -> str | None:
        try:
            camp.FIELDS["caption_template"].parse("caption_template", self.template.toPlainText())
            camp.FIELDS["hashtags"].parse("hashtags", self.hashtags.text())
        except ValidationError as exc:
            return f"{exc.field.replace('_', ' ').capitalize()}: {exc.reason}"
        return None

    def _changed(self) -> None:
        problem = self.problem()
        self.error.setText(problem or "")
        set_invalid(self.template, problem is not None)
        if problem is None:
            media = _selected_rows(self.media_page.view, self.media_page.model)
            account = self.accounts_page.sample_account() or {}
            item = media[0] if media else {}
            tags = [t for t in self.hashtags.text().replace(",", " ").split() if t]
            try:
                text = camp.render_caption(
                    self.template.toPlainText(),
                    {
                        "account": account.get("username", "account"),
                        "display_name": account.get("display_name")
                        or account.get("username", "account"),
                        "platform": account.get("platform", "tiktok"),
                        "date": datetime.now().date().isoformat(),
                        "hashtags": camp._hashtags(tags, item.get("hashtags") or []),
                        "caption": item.get("default_caption") or "",
                        "title": item.get("title") or "",
                    },
                )
            except (KeyError, ValueError, IndexError) as exc:
                text = f"(cannot render: {exc})"
            self.sample.setText(text or "(empty caption)")
            self.preview.set_media(item or None)
            self.preview.set_route(str(self.media_page.route.currentData()))
            self.preview.set_caption(text)
            if self.suggest is not None:
                self.suggest.set_target(item.get("id"), account.get("id"))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.problem() is None


class SchedulePage(QWizardPage):
    def __init__(
        self,
        default_privacy: str = "PUBLIC_TO_EVERYONE",
        ctx: AppContext | None = None,
        compliance: bool = True,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        # TikTok's audit rules on the tiktok_api route (tiktok.compliance_mode): the
        # TikTok post options below, no default privacy; off: the plain boxes
        self.compliance = compliance
        self.tiktok_mode = False
        self.setTitle("Schedule and limits")
        self.setSubTitle(
            "Posts take the next free slots of each account from the start time, inside the "
            "account's posting window, spacing and daily cap (the lower of the account's and "
            "the engine's cap for every account)."
        )
        form = QFormLayout(self)
        self.start = QDateTimeEdit(QDateTime.currentDateTime())
        self.start.setObjectName("campaign_start")
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        form.addRow("Start from (your time)", self.start)
        # a start at the accounts' best hours (the analytics readings), offered, and used
        # only when the operator says so
        self.suggest_button = QPushButton("Suggest times from best hours")
        self.suggest_button.setObjectName("suggest_best_hours")
        self.suggest_button.clicked.connect(self.suggest_times)
        self.suggestion_text = QLabel("")
        self.suggestion_text.setObjectName("best_hours_suggestion")
        self.suggestion_text.setWordWrap(True)
        self.accept_suggestion_button = QPushButton("Use this start")
        self.accept_suggestion_button.setObjectName("accept_best_hours")
        self.accept_suggestion_button.clicked.connect(self.accept_suggestion)
        self.decline_suggestion_button = QPushButton("Keep mine")
        self.decline_suggestion_button.setObjectName("decline_best_hours")
        self.decline_suggestion_button.clicked.connect(self.decline_suggestion)
        suggest_row = QHBoxLayout()
        suggest_row.addWidget(self.suggest_button)
        suggest_row.addStretch(1)
        form.addRow("", suggest_row)
        suggestion_row = QHBoxLayout()
        suggestion_row.addWidget(self.suggestion_text, 1)
        suggestion_row.addWidget(self.accept_suggestion_button)
        suggestion_row.addWidget(self.decline_suggestion_button)
        form.addRow("", suggestion_row)
        self.suggested: datetime | None = None
        self._show_suggestion(None, "")
        self.strategy = QComboBox()
        self.strategy.setObjectName("campaign_strategy")
        for label, value in STRATEGIES:
            self.strategy.addItem(label, value)
        form.addRow("Accounts take turns by", self.strategy)
        self.attempts = QComboBox()
        for number in range(1, 11):
            self.attempts.addItem(str(number), number)
        self.attempts.setCurrentIndex(2)
        form.addRow("Attempts per post", self.attempts)
        self.missed = QComboBox()
        self.missed.addItem("Move it to the next free slot", MissedPolicy.RESLOT.value)
        self.missed.addItem("Mark it missed", MissedPolicy.MISSED.value)
        form.addRow("A post missed while Piper was off", self.missed)
        self.privacy = QComboBox()
        self.privacy.setObjectName("campaign_privacy")
        for label, value in PRIVACY:
            self.privacy.addItem(label, value)
        # the setting's choice, shown (never "Only me" unless the operator made it so)
        self.privacy.setCurrentIndex(max(self.privacy.findData(default_privacy), 0))
        self.privacy.setToolTip(
            f"Default from the setting {PRIVACY_KEY}. TikTok refuses a level the creator "
            "does not offer, before anything is sent."
        )
        form.addRow("Who can watch", self.privacy)
        self.no_comments = QCheckBox("Turn off comments")
        self.no_duet = QCheckBox("Turn off Duet")
        self.no_stitch = QCheckBox("Turn off Stitch")
        self.aigc = QCheckBox("Label as AI-generated content")
        for box in (self.no_comments, self.no_duet, self.no_stitch, self.aigc):
            form.addRow("", box)
        self.form = form
        self.tiktok: TikTokCampaignOptions | None = None
        if ctx is not None:
            self.tiktok = TikTokCampaignOptions(ctx, self)
            self.tiktok.changed.connect(self.completeChanged)
            form.addRow(self.tiktok)
            form.setRowVisible(self.tiktok, False)
        self.start_now = QCheckBox("Start the campaign when it is created")
        self.start_now.setObjectName("start_now")
        self.start_now.setChecked(True)
        form.addRow("", self.start_now)

    def initializePage(self) -> None:
        wizard = self.wizard()
        route = (
            wizard.media_page.route.currentData() if isinstance(wizard, CampaignWizard) else None
        )
        self.tiktok_mode = (
            self.tiktok is not None and self.compliance and route == JobRoute.TIKTOK_API.value
        )
        for widget in (self.privacy, self.no_comments, self.no_duet, self.no_stitch):
            self.form.setRowVisible(widget, not self.tiktok_mode)
        if self.tiktok is None:
            return
        self.form.setRowVisible(self.tiktok, self.tiktok_mode)
        if self.tiktok_mode and isinstance(wizard, CampaignWizard):
            services = wizard.ctx.services
            selection = wizard.accounts_page.selection()
            media_ids = wizard.media_page.media_ids()
            tiktok = self.tiktok

            def chosen() -> tuple[list[int], list[dict[str, Any]]]:
                ids = services.campaigns.selected_account_ids(selection)
                items = [services.media.get(m) for m in media_ids]
                return ids, [
                    {"title": i.title or i.path, "duration_sec": i.duration_sec} for i in items
                ]

            run_task(chosen, lambda found: tiktok.set_campaign(*found), owner=self)
        self.completeChanged.emit()

    # --- best hours ---------------------------------------------------------------------
    def suggest_times(self) -> None:
        wizard = self.wizard()
        if not isinstance(wizard, CampaignWizard):
            return
        services = wizard.ctx.services
        selection = wizard.accounts_page.selection()
        after = max(self.start_at(), datetime.now(UTC))
        self.suggestion_text.setText("Reading the accounts' best hours…")

        def suggest() -> av.Suggestion:
            ids = services.campaigns.selected_account_ids(selection)
            zones = {a.id: a.timezone or "UTC" for a in services.accounts.list() if a.id in ids}
            posts = [p for key in ids for p in services.analytics.posts(key)]
            return av.suggest_start(posts, zones, ids, after)

        run_task(
            suggest,
            self._suggested,
            lambda exc: self._show_suggestion(None, f"No suggestion: {mask(str(exc))}"),
            owner=self,
        )

    def _suggested(self, found: av.Suggestion) -> None:
        if found.start is None:
            self._show_suggestion(
                None,
                "Not enough readings yet to tell these accounts' best hours "
                f"({av.BEST_MIN_POSTS} posts in one hour at least).",
            )
            return
        hours = ", ".join(s.label for s in found.best)
        self._show_suggestion(
            found.start,
            f"Best hours (the accounts' own time): {hours}. Start at "
            f"{found.start.astimezone().strftime('%a %d %b %Y %H:%M')} (your time)?",
        )

    def _show_suggestion(self, start: datetime | None, text: str) -> None:
        self.suggested = start
        self.suggestion_text.setText(text)
        self.suggestion_text.setVisible(bool(text))
        self.accept_suggestion_button.setVisible(start is not None)
        self.decline_suggestion_button.setVisible(start is not None)

    def accept_suggestion(self) -> None:
        if self.suggested is not None:
            self.start.setDateTime(QDateTime.fromSecsSinceEpoch(int(self.suggested.timestamp())))
        self._show_suggestion(None, "")

    def decline_suggestion(self) -> None:
        self._show_suggestion(None, "")

    def isComplete(self) -> bool:
        if self.tiktok_mode and self.tiktok is not None:
            return self.tiktok.ready()
        return True

    def start_at(self) -> datetime:
        moment = self.start.dateTime().toSecsSinceEpoch()
        return datetime.fromtimestamp(moment, UTC)

    def options(self) -> dict[str, Any]:
        if self.tiktok_mode and self.tiktok is not None:
            # the consent's moment is the Create button's (CampaignWizard.accept)
            options = self.tiktok.options(datetime.now(UTC))
            options["is_aigc"] = self.aigc.isChecked()
            return options
        return {
            "privacy_level": self.privacy.currentData(),
            "disable_comment": self.no_comments.isChecked(),
            "disable_duet": self.no_duet.isChecked(),
            "disable_stitch": self.no_stitch.isChecked(),
            "is_aigc": self.aigc.isChecked(),
            "brand_content_toggle": False,
        }


class ReviewPage(QWizardPage):
    def __init__(self, wizard: CampaignWizard) -> None:
        super().__init__()
        self.wizard_ = wizard
        self.setTitle("Review")
        self.setSubTitle("The slots below are what the campaign will get.")
        layout = QVBoxLayout(self)
        self.summary = QLabel("Computing slots…")
        self.summary.setObjectName("Banner")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.source = ListSource([])
        self.model = PagedTableModel(
            self.source,
            [
                Column(
                    "account",
                    "Account",
                    150,
                    fmt=lambda r: "@" + r["account"].split(":", 1)[-1],
                    sort=None,
                ),
                Column("media_title", "Video", 170, sort=None),
                Column(
                    "local",
                    "Account's time",
                    170,
                    fmt=self.account_when,
                    tooltip=lambda r: (
                        f"{fmt.full_time(r['scheduled_at'], r['account_timezone'])} "
                        f"({r['account_timezone']})"
                    ),
                    sort=None,
                ),
                Column("yours", "Your time", 140, fmt=self.your_when, sort=None),
                Column("caption", "Caption", 280, sort=None, stretch=True),
            ],
            page_size=100_000,
            parent=self,
        )
        self.view = _table(self.model, "wizard_review")
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        layout.addWidget(self.view, 1)
        # accounts not connected to the chosen route: refused (or a warning, per
        # jobs.require_connected), with the route's connect flow one click away
        connect_row = QHBoxLayout()
        self.connection = QLabel("")
        self.connection.setObjectName("wizard_not_connected")
        self.connection.setWordWrap(True)
        self.connection.hide()
        self.connect_button = QPushButton("Connect them…")
        self.connect_button.setObjectName("wizard_connect")
        self.connect_button.hide()
        self.connect_button.clicked.connect(self.connect_missing)
        connect_row.addWidget(self.connection, 1)
        connect_row.addWidget(self.connect_button)
        layout.addLayout(connect_row)
        # tiktok_api with compliance on: what goes out per account, and the declaration
        # right above the Create button (TikTok's Content Sharing Guidelines, point 4)
        self.tiktok_review = QLabel("")
        self.tiktok_review.setObjectName("wizard_tiktok_review")
        self.tiktok_review.setWordWrap(True)
        self.tiktok_review.setTextFormat(Qt.TextFormat.RichText)
        self.tiktok_review.linkActivated.connect(wizard.ctx.open_url)
        self.tiktok_review.hide()
        layout.addWidget(self.tiktok_review)
        self.planned: list[dict[str, Any]] = []
        self.problem: str | None = None
        self.missing: list[NotConnected] = []
        self.flow: ConnectFlow | None = None
        # the moment to plan from (None: now); a test sets it
        self.now: datetime | None = None
        self.planned_at = datetime.now(UTC)

    def _show_tiktok(self) -> None:
        schedule = self.wizard_.schedule_page
        tiktok = schedule.tiktok
        shown = schedule.tiktok_mode and tiktok is not None
        self.tiktok_review.setVisible(shown)
        if not shown or tiktok is None:
            return
        lines = "".join(f"<li>{escape_html(line)}</li>" for line in tiktok.review_lines())
        self.tiktok_review.setText(
            f"<b>Posted to TikTok as:</b><ul>{lines}</ul>{tc.consent_html(tiktok.choice())}"
        )

    def account_when(self, row: dict[str, Any]) -> str:
        """ "Today"/"Tomorrow" as the account sees it: its own date, not this machine's."""
        return fmt.when(row["scheduled_at"], row["account_timezone"], now=self.planned_at)

    def your_when(self, row: dict[str, Any]) -> str:
        return fmt.when(row["scheduled_at"], now=self.planned_at)

    def initializePage(self) -> None:
        self.planned = []
        self.problem = None
        self.missing = []
        self.summary.setText("Computing slots…")
        self._show_tiktok()
        record = self.wizard_.record()
        planner = self.wizard_.ctx.planner
        # the labels are judged at the moment the plan was made from
        now = self.planned_at = self.now or datetime.now(UTC)
        run_task(
            lambda: planner.preview_campaign(record, now), self._planned, self._failed, owner=self
        )
        services = self.wizard_.ctx.services

        def check() -> tuple[list[NotConnected], bool]:
            ids = services.campaigns.selected_account_ids(record["account_selection"])
            required = bool(services.settings.get("jobs.require_connected"))
            return not_connected(services, record["route"], ids), required

        # a selection that names no account is the plan's problem, said above
        run_task(check, self._checked, lambda _exc: None, owner=self)

    def _checked(self, result: tuple[list[NotConnected], bool]) -> None:
        self.missing, required = result
        self.connection.setVisible(bool(self.missing))
        self.connect_button.setVisible(bool(self.missing))
        if self.missing:
            line = describe(self.wizard_.record()["route"], self.missing)
            if required:
                self.connection.setText(f"{line}. Connect them to create the campaign.")
            else:
                self.connection.setText(f"Warning: {line}; their posts will wait for you.")
        self.completeChanged.emit()

    def blocked(self) -> bool:
        """Accounts are not connected and the setting says refuse."""
        return bool(self.missing) and bool(
            self.wizard_.ctx.services.settings.get("jobs.require_connected")
        )

    def connect_missing(self) -> None:
        route = self.wizard_.record()["route"]
        self.flow = ConnectFlow(
            self.wizard_.ctx,
            self,
            route,
            [(m.account_id, m.username) for m in self.missing],
            self.initializePage,  # ask again: the button goes once all are connected
        )
        self.flow.start()

    def _planned(self, planned: list[dict[str, Any]]) -> None:
        self.planned = planned
        for number, row in enumerate(planned):
            row["id"] = number
        self.source.rows = planned
        self.model.refresh(keep=False)
        accounts = len({p["account"] for p in planned})
        if planned:
            times = sorted(p["scheduled_at"] for p in planned)
            first, last = times[0], times[-1]
            self.summary.setText(
                f"{fmt.count(len(planned), 'post')} across {fmt.count(accounts, 'account')}, "
                f"from {fmt.when(first, now=self.planned_at)} to "
                f"{fmt.when(last, now=self.planned_at)} (your time)."
            )
        self.completeChanged.emit()

    def _failed(self, exc: BaseException) -> None:
        self.problem = (
            f"{exc.field}: {exc.reason}" if isinstance(exc, ValidationError) else mask(str(exc))
        )
        self.summary.setText(f"This campaign cannot be planned: {self.problem}")
        self.source.rows = []
        self.model.refresh(keep=False)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return (
            bool(self.planned)
            and self.problem is None
            and not self.blocked()
            and not self.wizard_.saving
        )


class CampaignWizard(QWizard):
    campaign_created = Signal(object)  # before the tables reload

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("New campaign")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setPixmap(QWizard.WizardPixmap.LogoPixmap, pixmap("piper", 40))
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(900, 640)
        self.seed = random.randrange(1, 2**31)  # preview and start pick the same accounts
        self.saving = False
        self.created: Any = None
        self.error_text = ""
        self.media_page = MediaPage(ctx)
        self.accounts_page = AccountsPage(ctx)
        self.caption_page = CaptionPage(self.media_page, self.accounts_page, ctx.services)
        self.schedule_page = SchedulePage(
            str(ctx.services.settings.get(PRIVACY_KEY)),
            ctx,
            tc.compliance_on(ctx.services.settings.get),
        )
        self.review_page = ReviewPage(self)
        for page in (
            self.media_page,
            self.accounts_page,
            self.caption_page,
            self.schedule_page,
            self.review_page,
        ):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Create campaign")
        for which in (QWizard.WizardButton.NextButton, QWizard.WizardButton.FinishButton):
            self.button(which).setProperty("primary", True)

    def record(self) -> dict[str, Any]:
        tags = [t for t in self.caption_page.hashtags.text().replace(",", " ").split() if t]
        return {
            "name": self.media_page.name.text().strip(),
            "route": self.media_page.route.currentData(),
            "media_ids": self.media_page.media_ids(),
            "account_selection": self.accounts_page.selection(),
            "caption_template": self.caption_page.template.toPlainText(),
            "hashtags": tags,
            "strategy": self.schedule_page.strategy.currentData(),
            "start_at": self.schedule_page.start_at(),
            "options": self.schedule_page.options(),
            "missed_policy": self.schedule_page.missed.currentData(),
            "max_attempts": self.schedule_page.attempts.currentData(),
            "seed": self.seed,
        }

    def accept(self) -> None:
        """Create (and start) in the background; close when that worked."""
        if self.saving:
            return
        self.saving = True
        self.review_page.completeChanged.emit()
        record = self.record()
        if self.schedule_page.tiktok_mode:
            # this button is the operator's consent (TikTok's guidelines, point 5)
            record["options"]["consent_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        start = self.schedule_page.start_now.isChecked()
        services = self.ctx.services

        def create() -> tuple[Any, int]:
            # asked again: an account may have lost its connection since the review
            ids = services.campaigns.selected_account_ids(record["account_selection"])
            require_connected(services, record["route"], ids, warn=lambda _line: None)
            campaign = services.campaigns.create(record)
            jobs = services.campaigns.start(campaign.id) if start else []
            return campaign, len(jobs)

        run_task(create, self._created, self._failed, owner=self)

    def _created(self, result: tuple[Any, int]) -> None:
        campaign, jobs = result
        self.saving = False
        self.created = campaign
        self.campaign_created.emit(campaign)
        self.ctx.success(
            f"Campaign {campaign.name!r} created"
            + (f" and started: {fmt.count(jobs, 'post')} scheduled" if jobs else " as a draft")
        )
        self.ctx.changed("campaigns")
        self.ctx.changed("jobs")
        super().accept()

    def _failed(self, exc: BaseException) -> None:
        self.saving = False
        if isinstance(exc, ValidationError):
            self.error_text = f"{exc.field}: {exc.reason}"
        elif isinstance(exc, DomainError):
            self.error_text = str(exc)
        else:
            self.error_text = mask(str(exc)) or type(exc).__name__
        self.review_page.summary.setText(f"Could not create the campaign: {self.error_text}")
        self.review_page.completeChanged.emit()
