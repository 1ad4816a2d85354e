"""Accounts: the list with status badges, create/edit, import, bulk assignment, and the
browser and API actions an account needs (open its browser, check its session, connect
the TikTok API, move its cookies in and out)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from ...domain import accounts as acc
from ...domain.errors import ValidationError
from ...domain.importers import export_accounts
from ...domain.policy import posting_window_fields
from ...domain.proxy_spread import Spread
from ...domain.textfiles import read_text_file
from ...owner_only import write_private_text
from ...store.enums import AccountStatus, JobRoute
from .. import formatting as fmt
from ..browser_actions import BrowserActions
from ..context import AppContext
from ..dialogs import ProxyChoice, ask_text, choose, pick_proxies
from ..forms import FieldUI, FormDialog, ui_fields
from ..import_dialog import ACCOUNTS as ACCOUNT_IMPORT
from ..import_dialog import ImportDialog
from ..table_model import Column
from ..table_panel import FilterDef, TablePanel
from ..tasks import run_task


def _connections(row: dict[str, Any]) -> str:
    parts = []
    if row.get("has_session"):
        parts.append("Browser session")
    routes = (row.get("connected_routes") or "").split(",")
    if JobRoute.TIKTOK_API.value in routes:
        parts.append("TikTok API")
    if JobRoute.UPLOAD_POST.value in routes:
        parts.append("Upload-Post")
    return " · ".join(parts) or "—"


def _window(row: dict[str, Any]) -> str:
    if not row.get("window_enabled"):
        return "any time"
    return f"{fmt.clock(row.get('window_start'))}–{fmt.clock(row.get('window_end'))}"


def _proxy_health(row: dict[str, Any]) -> str | None:
    """The proxy's last check in words: the full error of a dead one."""
    if not row.get("proxy_id"):
        return None
    status = row.get("proxy_status")
    when = fmt.when(row.get("proxy_checked_at")) if row.get("proxy_checked_at") else ""
    country = f"; exits in {row['proxy_country']}" if row.get("proxy_country") else ""
    if status == "error":
        text = f"Last check failed {when}: {row.get('proxy_error') or 'no answer'}".strip()
        return text + country
    if status == "ok":
        latency = row.get("proxy_latency_ms")
        answered = f"Answered {when}" + (f" in {latency:.0f} ms" if latency is not None else "")
        return answered + country
    return "Not checked yet (Proxies → Check)"


def _proxy_text(row: dict[str, Any]) -> str | None:
    """The proxy's name, with its exit country once a check told it."""
    label = row.get("proxy_label")
    country = row.get("proxy_country")
    return f"{label} · {country}" if label and country else label


# the choices of the assignment drop-downs, by field: (label, value) pairs
Choices = dict[str, list[tuple[str, Any]]]

COLUMNS = [
    Column("id", "#", 56, align="right", hidden=True),
    Column(
        "status",
        "Status",
        130,
        kind="badge",
        tooltip=lambda r: r.get("status_reason") or fmt.status_text(r.get("status")),
    ),
    Column("username", "Account", 170, fmt=lambda r: f"@{r['username']}"),
    Column("platform", "Platform", 90, fmt=lambda r: fmt.platform(r.get("platform")), hidden=True),
    Column("display_name", "Name", 150, hidden=True),
    Column("group", "Group", 90),
    Column("tags", "Tags", 120, fmt=lambda r: fmt.tags(r.get("tags")), sort=None),
    Column("proxy_label", "Proxy", 160, fmt=_proxy_text),
    Column(
        "proxy_status",
        "Proxy health",
        120,
        kind="badge",
        fmt=lambda r: r.get("proxy_status") if r.get("proxy_id") else None,
        tooltip=_proxy_health,
    ),
    Column("profile_name", "Browser profile", 130),
    Column("timezone", "Time zone", 120),
    Column("country", "Country", 70, hidden=True),
    Column("window", "Posting window", 110, fmt=_window, sort=None, hidden=True),
    Column("connections", "Connected", 150, fmt=_connections, sort=None, stretch=True),
    Column(
        "last_post_at",
        "Last post",
        110,
        fmt=lambda r: fmt.when(r.get("last_post_at")),
    ),
]

FORM = [
    FieldUI(
        "platform",
        "Platform",
        "choice",
        choices=[(fmt.platform(p), p) for p in acc.PLATFORMS],
    ),
    FieldUI("username", "Username", placeholder="@name", hint="Letters, digits, . _ -"),
    FieldUI("display_name", "Display name"),
    FieldUI("email", "E-mail"),
    FieldUI("password", "Password", "password", hint="Kept encrypted in the vault"),
    FieldUI(
        "status",
        "Status",
        "choice",
        choices=[(fmt.status_text(s.value), s.value) for s in AccountStatus],
    ),
    FieldUI("group", "Group", "choice", editable_choice=True),
    FieldUI("tags", "Tags", placeholder="comma-separated, e.g. fitness, eu"),
    FieldUI("proxy_id", "Proxy", "choice"),
    FieldUI("profile_id", "Browser profile", "choice"),
    FieldUI("timezone", "Time zone", "zone", hint="Posting windows and daily caps use it"),
    FieldUI("window_enabled", "Posting window", "bool", hint="Only post inside a daily window"),
    FieldUI("window_start", "Window opens", placeholder="HH:MM"),
    FieldUI("window_end", "Window closes", placeholder="HH:MM"),
    FieldUI("min_spacing_minutes", "Minutes between posts", placeholder="60"),
    FieldUI("max_posts_per_day", "Posts per day at most", placeholder="3"),
    FieldUI(
        "routes",
        "Routes",
        placeholder="tiktok_api, upload_post, browser",
        hint="In order of preference",
    ),
    FieldUI("notes", "Notes", "multiline"),
]


def _window_check(values: dict[str, Any]) -> ValidationError | None:
    if values.get("window_enabled") and (
        not str(values.get("window_start") or "").strip()
        or not str(values.get("window_end") or "").strip()
    ):
        return ValidationError("window_start", "a posting window needs a start and an end")
    return None


class AccountsPanel(TablePanel):
    title = "Accounts"
    noun = "account"
    table_name = "accounts"
    icon_name = "accounts"
    empty_hint = "No accounts yet. Add one, or import a CSV/JSON file."

    def __init__(self, ctx: AppContext, browser: BrowserActions | None = None) -> None:
        self.browser = browser or BrowserActions(ctx.services)
        super().__init__(
            ctx,
            COLUMNS,
            [
                FilterDef(
                    "status",
                    "All statuses",
                    [(fmt.status_text(s.value), s.value) for s in AccountStatus],
                ),
                FilterDef(
                    "platform", "All platforms", [(fmt.platform(p), p) for p in acc.PLATFORMS]
                ),
                FilterDef(
                    "group", "All groups", load=lambda: ctx.tables.distinct("accounts", "group")
                ),
                FilterDef("tag", "All tags", load=lambda: ctx.tables.distinct("accounts", "tags")),
            ],
        )

    def depends_on(self) -> tuple[str, ...]:
        return ("proxies", "profiles")

    # --- actions --------------------------------------------------------------------------
    def build_actions(self) -> None:
        self.add_action("Import…", self.import_file, icon_name="import", header=True, context=False)
        self.add_action(
            "Add account",
            self.new_account,
            icon_name="add",
            shortcut=QKeySequence.StandardKey.New,
            header=True,
            primary=True,
            context=False,
        )
        self.add_action("Edit…", self.edit_selected, icon_name="edit", needs="one")
        self.add_action(
            "Open browser",
            self.open_browser,
            icon_name="browser",
            needs="one",
            toolbar=True,
            shortcut="Ctrl+B",
        )
        self.add_action(
            "Check session", self.check_sessions, icon_name="check", needs="any", toolbar=True
        )
        self.add_action(
            "Connect TikTok API", self.connect_tiktok, icon_name="link", needs="one", toolbar=True
        )
        self.add_action("Connect Upload-Post…", self.ask_upload_post, icon_name="link", needs="one")
        # the selected accounts at once: the "Connect accounts" dialog (ui/bulk_connect.py)
        connect = QMenu(self)
        self.connect_actions = {
            route: connect.addAction(label, partial(self.bulk_connect, route))
            for route, label in (
                ("tiktok_api", "TikTok API: sign in one after another…"),
                ("upload_post", "Upload-Post: profiles by name…"),
                ("browser", "Browser sessions: cookies folder…"),
            )
        }
        self.connect_button = self.add_menu_button("Connect accounts", "link", connect)
        self.add_separator()
        assign = QMenu(self)
        self.assign_actions = {
            "proxy_id": assign.addAction("Proxy…", lambda: self.ask_assign("proxy_id")),
            "profile_id": assign.addAction(
                "Browser profile…", lambda: self.ask_assign("profile_id")
            ),
            "group": assign.addAction("Group…", lambda: self.ask_assign("group")),
            "tags": assign.addAction("Tags…", lambda: self.ask_assign("tags")),
            "posting_window": assign.addAction("Posting window…", self.ask_posting_window),
        }
        self.assign_button = self.add_menu_button("Assign", "accounts", assign)
        for key, label in (
            ("proxy_id", "Assign proxy…"),
            ("profile_id", "Assign browser profile…"),
            ("group", "Set group…"),
        ):
            self.add_action(label, partial(self.ask_assign, key), needs="any")
        self.add_separator()
        self.add_action("Import cookies…", self.import_cookies, icon_name="cookie", needs="one")
        self.add_action("Export cookies…", self.export_cookies, icon_name="cookie", needs="one")
        self.add_separator()
        self.add_action("Enable", lambda: self.set_status(AccountStatus.ACTIVE), needs="any")
        self.add_action("Disable", lambda: self.set_status(AccountStatus.DISABLED), needs="any")
        self.add_action(
            "Delete…",
            self.delete_selected,
            icon_name="delete",
            needs="any",
            shortcut=QKeySequence.StandardKey.Delete,
        )
        more = QMenu(self)
        more.addAction("Export accounts (CSV)…", lambda: self.export_accounts("csv"))
        more.addAction("Export accounts (JSON)…", lambda: self.export_accounts("json"))
        self.add_menu_button("More", "export", more)

    def selection_changed(self, rows: list[dict[str, Any]]) -> None:
        self.assign_button.setEnabled(bool(rows))
        self.connect_button.setEnabled(bool(rows))

    def bulk_connect(self, route: str) -> None:
        from ..bulk_connect import open_bulk_connect

        accounts = [(row["id"], row["username"]) for row in self.selected_rows()]
        if accounts:
            self.connect_dialog = open_bulk_connect(
                self.ctx, self, route, accounts, lambda: self.ctx.changed("accounts"),
                browser=self.browser,
            )  # fmt: skip

    def activated(self, row: dict[str, Any]) -> None:
        self.edit(row)

    # --- create / edit ----------------------------------------------------------------------
    def _with_choices(self, then: Callable[[Choices], None]) -> None:
        services = self.ctx.services

        def load() -> Choices:
            from ...domain.proxies import proxy_label

            return {
                "proxy_id": [("(no proxy)", None)]
                + [(p.name or proxy_label(p), p.id) for p in services.proxies.list()],
                "profile_id": [("(default browser)", None)]
                + [(p.name, p.id) for p in services.profiles.list()],
                "group": [("", None)] + [(g, g) for g in services.accounts.groups()],
            }

        run_task(load, then, lambda exc: self.ctx.error(str(exc)), owner=self)

    def _form(self, choices: dict[str, list[tuple[str, Any]]]) -> list[FieldUI]:
        fields = []
        for item in FORM:
            copy = FieldUI(**{**item.__dict__})
            if item.name in choices:
                copy.choices = choices[item.name]
            fields.append(copy)
        return ui_fields(acc.FIELDS, fields)

    def new_account(self) -> None:
        def show(choices: Choices) -> None:
            services = self.ctx.services
            dialog = FormDialog(
                "Add account",
                self._form(choices),
                lambda values: services.accounts.add(values),
                intro="Accounts you own or manage. Secrets stay encrypted in the vault.",
                submit_text="Add account",
                cross_check=_window_check,
                parent=self,
            )
            dialog.editors["platform"].set_raw("tiktok")
            dialog.editors["status"].set_raw("active")
            dialog.editors["timezone"].set_raw("UTC")
            self.open_form(dialog, "accounts", lambda account: f"Added @{account.username}")

        self._with_choices(show)

    def edit_selected(self) -> None:
        row = self.current_row()
        if row is not None:
            self.edit(row)

    def edit(self, row: dict[str, Any]) -> None:
        def show(choices: Choices) -> None:
            services = self.ctx.services
            account_id = row["id"]
            initial = {k: row.get(k) for k in acc.FIELDS if k != "password"}
            dialog = FormDialog(
                f"Edit @{row['username']}",
                self._form(choices),
                lambda values: services.accounts.edit(account_id, values),
                initial=initial,
                cross_check=_window_check,
                parent=self,
            )
            self.open_form(dialog, "accounts", f"Saved @{row['username']}")

        self._with_choices(show)

    def delete_selected(self) -> None:
        self.confirm_delete(
            title="Delete accounts",
            question=lambda n: f"Delete {fmt.count(n, 'account')}?",
            remove_one=self.ctx.services.accounts.remove,
            success="Deleted {result} account(s)",
            changed=("accounts", "jobs"),
            detail="Their jobs are deleted with them. This cannot be undone.",
        )

    def set_status(self, status: AccountStatus) -> None:
        ids = self.selected_ids()
        services = self.ctx.services
        self.run(
            lambda: services.accounts.bulk_assign(ids, {"status": status.value}),
            success=f"{{result}} account(s) now {fmt.status_text(status.value)}",
            changed=("accounts",),
        )

    # --- bulk assignment --------------------------------------------------------------------
    def ask_assign(self, key: str) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        if key == "proxy_id":
            self.ask_proxies(ids)
            return
        labels = {
            "proxy_id": "Proxy",
            "profile_id": "Browser profile",
            "group": "Group",
            "tags": "Tags (comma-separated)",
        }

        def show(choices: Choices) -> None:
            options = choices.get(key, [("", None)])
            self.dialog = choose(
                self,
                f"Assign to {fmt.count(len(ids), 'account')}",
                labels[key],
                options,
                lambda value: self.bulk_assign(key, value, ids),
                editable=key in ("group", "tags"),
            )

        self._with_choices(show)

    def ask_proxies(self, ids: list[int]) -> None:
        services = self.ctx.services

        def load() -> list[ProxyChoice]:
            from ...domain.proxies import proxy_label

            return [
                ProxyChoice(p.id, p.name or proxy_label(p), p.status, p.last_error, p.country)
                for p in services.proxies.list()
            ]

        def show(proxies: list[ProxyChoice]) -> None:
            self.dialog = pick_proxies(
                self,
                f"Assign proxies to {fmt.count(len(ids), 'account')}",
                proxies,
                lambda proxy_ids, spread: self.spread_proxies(ids, proxy_ids, spread),
                lambda: self.bulk_assign("proxy_id", None, ids),
            )

        run_task(load, show, lambda exc: self.ctx.error(str(exc)), owner=self)

    def spread_proxies(self, ids: list[int], proxy_ids: list[int], spread: str) -> None:
        services = self.ctx.services
        def said(result: Spread) -> None:
            assigned = result.assigned
            text = (
                f"{fmt.count(len(assigned), 'account')} now use "
                f"{fmt.count(len(set(assigned.values())), 'proxy', 'proxies')}"
            )
            if result.unmatched:
                text += (
                    f"; {fmt.count(len(result.unmatched), 'account')} had no live proxy of"
                    " their country and got another"
                )
            self.ctx.success(text)

        self.run(
            lambda: services.accounts.spread_proxies(ids, proxy_ids, spread),
            said,
            changed=("accounts",),
        )

    def bulk_assign(self, key: str, value: Any, ids: list[int] | None = None) -> None:
        ids = ids if ids is not None else self.selected_ids()
        services = self.ctx.services
        record = {key: value}
        self.run(
            lambda: services.accounts.bulk_assign(ids, record),
            success="Updated {result} account(s)",
            changed=("accounts",),
        )

    def ask_posting_window(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        self.dialog = ask_text(
            self,
            f"Posting window of {fmt.count(len(ids), 'account')}",
            "In each account's own time, e.g. 09:00-21:00 (or off)",
            lambda text: self.set_posting_window(text, ids),
        )

    def set_posting_window(self, text: str, ids: list[int] | None = None) -> None:
        ids = ids if ids is not None else self.selected_ids()
        services = self.ctx.services

        def apply() -> int:
            # parsed before any account changes: a bad window changes none
            fields = posting_window_fields("posting_window", text)
            if not fields:
                raise ValidationError("posting_window", "give a window such as 09:00-21:00")
            for account_id in ids:
                services.accounts.edit(account_id, fields)
            return len(ids)

        self.run(apply, success="Updated {result} account(s)", changed=("accounts",))

    # --- import / export ---------------------------------------------------------------------
    def import_file(self, path: str | None = None) -> ImportDialog:
        dialog = ImportDialog(ACCOUNT_IMPORT, self.ctx.services.db, path, parent=self)
        dialog.imported.connect(lambda _report: self.ctx.changed("accounts"))
        self.dialog = dialog
        dialog.open()
        return dialog

    def export_accounts(self, kind: str, path: str | None = None) -> None:
        db = self.ctx.services.db

        def write(target: str) -> None:
            self.run(
                lambda: write_private_text(Path(target), export_accounts(db, kind)),
                success=f"Exported accounts to {target}",
            )

        if path:
            write(path)
            return
        dialog = QFileDialog(self, "Export accounts")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(kind)
        dialog.selectFile(f"accounts.{kind}")
        dialog.fileSelected.connect(write)
        dialog.open()

    # --- browser and API -------------------------------------------------------------------------
    def open_browser(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.ctx.info(f"Opening a browser for @{row['username']}; close it when you are done")
        self.run(
            lambda: self.browser.open_window(row["id"]),
            success=f"@{row['username']}: {{result}}",
            changed=("accounts",),
            error_prefix=f"@{row['username']}: could not open the browser: ",
        )

    def check_sessions(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        self.ctx.info(f"Checking {fmt.count(len(rows), 'session')}…")

        def check() -> tuple[int, int]:
            good = 0
            for row in rows:
                good += bool(self.browser.check_session(row["id"]))
            return good, len(rows)

        self.run(
            check,
            lambda result: self.ctx.success(
                f"Sessions: {result[0]} of {result[1]} logged in"
                + ("" if result[0] == result[1] else " (the others now need login)")
            ),
            changed=("accounts",),
            error_prefix="Session check failed: ",
        )

    def connect_tiktok(self) -> None:
        """One account through the same dialog as many: its link to copy or open, the
        wait's limit shown, Cancel."""
        if self.current_row() is not None:
            self.bulk_connect("tiktok_api")

    def ask_upload_post(self) -> None:
        from ..dialogs import ask_text

        row = self.current_row()
        if row is None:
            return
        self.dialog = ask_text(
            self,
            "Connect Upload-Post",
            f"Upload-Post profile name for @{row['username']}:",
            lambda name: self.connect_upload_post(row["id"], name),
        )

    def connect_upload_post(self, account_id: int, profile: str) -> None:
        from ..route_connect import connect_upload_post

        services = self.ctx.services
        self.run(
            lambda: connect_upload_post(services, account_id, profile),
            success="Connected to Upload-Post profile {result[profile]}",
            changed=("accounts",),
            error_prefix="Upload-Post: ",
        )

    def import_cookies(self, path: str | None = None) -> None:
        row = self.current_row()
        if row is None:
            return

        def load(target: str) -> None:
            self.run(
                lambda: self.browser.import_cookies(row["id"], read_text_file(target)),
                lambda result: self.ctx.success(
                    f"@{row['username']}: imported {result.imported} cookies"
                    + (f", skipped {len(result.skipped)}" if result.skipped else "")
                ),
                changed=("accounts",),
                error_prefix="Cookie import failed: ",
            )

        if path:
            load(path)
            return
        dialog = QFileDialog(self, "Import cookies")
        dialog.setNameFilters(["Cookies (*.json *.txt)", "All files (*)"])
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(load)
        dialog.open()

    def export_cookies(self, path: str | None = None) -> None:
        row = self.current_row()
        if row is None:
            return

        def save(target: str) -> None:
            kind = "netscape" if target.endswith(".txt") else "json"
            self.run(
                lambda: write_private_text(
                    Path(target), self.browser.export_cookies(row["id"], kind)
                ),
                success=f"Exported @{row['username']}'s cookies (keep the file private)",
                error_prefix="Cookie export failed: ",
            )

        if path:
            save(path)
            return
        dialog = QFileDialog(self, "Export cookies — the file holds a live session")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilters(["JSON (*.json)", "cookies.txt (*.txt)"])
        dialog.selectFile(f"{row['username']}-cookies.json")
        dialog.fileSelected.connect(save)
        dialog.open()
