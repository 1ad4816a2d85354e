"""Proxies: the list, create/edit, import (CSV/JSON/one per line), and health checks
whose latency and status fill in row by row as each proxy answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from ...domain import proxies as prx
from ...domain.importers import export_proxies
from ...owner_only import write_private_text
from ...store.enums import ProxyKind, ProxyScheme, ProxyStatus
from .. import formatting as fmt
from ..context import AppContext
from ..forms import FieldUI, FormDialog, ui_fields
from ..import_dialog import PROXIES as PROXY_IMPORT
from ..import_dialog import ImportDialog
from ..proxy_checks import check
from ..table_model import Column
from ..table_panel import FilterDef, TablePanel
from ..tasks import Progress


def _address(row: dict[str, Any]) -> str:
    user = f"{row['username']}@" if row.get("username") else ""
    return f"{row['scheme']}://{user}{row['host']}:{row['port']}"


COLUMNS = [
    Column("id", "#", 56, align="right"),
    Column("status", "Status", 120, kind="badge", tooltip=lambda r: r.get("last_error")),
    Column("name", "Name", 140),
    Column("host", "Address", 260, fmt=_address),
    Column(
        "last_error",
        "Last error",
        280,
        fmt=lambda r: " ".join(str(r.get("last_error") or "").split()) or None,
        tooltip=lambda r: r.get("last_error") or None,
        sort=None,
        stretch=True,
    ),
    Column("kind", "Kind", 110, fmt=lambda r: fmt.status_text(r.get("kind"))),
    Column(
        "latency_ms", "Latency", 90, fmt=lambda r: fmt.latency(r.get("latency_ms")), align="right"
    ),
    Column("exit_ip", "Exit IP", 130, sort=None),
    Column("country", "Country", 70),
    Column("last_check_at", "Checked", 130, fmt=lambda r: fmt.when(r.get("last_check_at"))),
    Column("accounts_count", "Used by", 80, align="right"),
]

FORM = [
    FieldUI("name", "Name", placeholder="e.g. Berlin residential 1"),
    FieldUI("scheme", "Scheme", "choice", choices=[(s.value, s.value) for s in ProxyScheme]),
    FieldUI("host", "Host", placeholder="proxy.example.net or 10.0.0.5"),
    FieldUI("port", "Port", placeholder="8080"),
    FieldUI("username", "User name"),
    FieldUI("password", "Password", "password", hint="Kept encrypted in the vault"),
    FieldUI(
        "kind",
        "Kind",
        "choice",
        choices=[(fmt.status_text(k.value), k.value) for k in ProxyKind],
    ),
    FieldUI("notes", "Notes", "multiline"),
]


class ProxiesPanel(TablePanel):
    title = "Proxies"
    noun = "proxy"
    noun_plural = "proxies"
    table_name = "proxies"
    icon_name = "proxies"
    empty_hint = "No proxies yet. Add one, or import a list (host:port:user:pass per line)."

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(
            ctx,
            COLUMNS,
            [
                FilterDef(
                    "status",
                    "All statuses",
                    [(fmt.status_text(s.value), s.value) for s in ProxyStatus],
                ),
                FilterDef(
                    "kind", "All kinds", [(fmt.status_text(k.value), k.value) for k in ProxyKind]
                ),
                FilterDef("scheme", "All schemes", [(s.value, s.value) for s in ProxyScheme]),
            ],
        )
        self.checking: set[int] = set()

    def depends_on(self) -> tuple[str, ...]:
        return ("accounts",)

    def build_actions(self) -> None:
        self.add_action("Import…", self.import_file, icon_name="import", header=True, context=False)
        self.add_action(
            "Add proxy",
            self.new_proxy,
            icon_name="add",
            shortcut=QKeySequence.StandardKey.New,
            header=True,
            primary=True,
            context=False,
        )
        self.add_action("Edit…", self.edit_selected, icon_name="edit", needs="one")
        self.add_action(
            "Check selected",
            self.check_selected,
            icon_name="check",
            needs="any",
            toolbar=True,
            shortcut="Ctrl+K",
        )
        self.add_action(
            "Check all", self.check_all, icon_name="refresh", toolbar=True, context=False
        )
        self.add_separator()
        self.add_action(
            "Delete…",
            self.delete_selected,
            icon_name="delete",
            needs="any",
            shortcut=QKeySequence.StandardKey.Delete,
        )
        more = QMenu(self)
        more.addAction("Export proxies (CSV)…", lambda: self.export("csv"))
        more.addAction("Export proxies (JSON)…", lambda: self.export("json"))
        self.add_menu_button("More", "export", more)

    def activated(self, row: dict[str, Any]) -> None:
        self.edit(row)

    # --- create / edit / delete --------------------------------------------------------------
    def new_proxy(self) -> None:
        services = self.ctx.services
        dialog = FormDialog(
            "Add proxy",
            ui_fields(prx.FIELDS, [FieldUI(**f.__dict__) for f in FORM]),
            lambda values: services.proxies.add(values),
            submit_text="Add proxy",
            parent=self,
        )
        dialog.editors["scheme"].set_raw("http")
        dialog.editors["kind"].set_raw("datacenter")
        self.open_form(dialog, "proxies", "Added the proxy")

    def edit_selected(self) -> None:
        row = self.current_row()
        if row is not None:
            self.edit(row)

    def edit(self, row: dict[str, Any]) -> None:
        services = self.ctx.services
        proxy_id = row["id"]
        dialog = FormDialog(
            f"Edit proxy {row.get('name') or _address(row)}",
            ui_fields(prx.FIELDS, [FieldUI(**f.__dict__) for f in FORM]),
            lambda values: services.proxies.edit(proxy_id, values),
            initial={k: row.get(k) for k in prx.FIELDS if k != "password"},
            parent=self,
        )
        self.open_form(dialog, "proxies", "Saved the proxy")

    def delete_selected(self) -> None:
        self.confirm_delete(
            title="Delete proxies",
            question=lambda n: f"Delete {fmt.count(n, 'proxy', 'proxies')}?",
            remove_one=self.ctx.services.proxies.remove,
            success="Deleted {result} proxies",
            changed=("proxies", "accounts"),
            detail="Accounts that use them go without a proxy.",
        )

    def check_selected(self) -> None:
        self.check_ids([int(i) for i in self.selected_ids()])

    def check_all(self) -> None:
        services = self.ctx.services
        self.run(lambda: [p.id for p in services.proxies.list()], self.check_ids)

    def check_ids(self, ids: list[int]) -> None:
        ids = [i for i in ids if i not in self.checking]
        if not ids:
            return
        self.checking.update(ids)
        for proxy_id in ids:
            self.model.patch(proxy_id, {"status": "checking"})
        progress = Progress(self._checked_one, owner=self)
        self.ctx.info(f"Checking {fmt.count(len(ids), 'proxy', 'proxies')}…")
        services = self.ctx.services

        def done(results: list[Any]) -> None:
            self.checking.difference_update(ids)
            good = sum(1 for r in results if r.ok)
            self.ctx.success(f"Proxy check: {good} of {len(results)} working")
            self.ctx.changed("proxies")
            progress.deleteLater()

        def failed(exc: BaseException) -> None:
            self.checking.difference_update(ids)
            self.ctx.error(f"Proxy check failed: {exc}")
            self.model.reload_ids(ids)

        from ..tasks import run_task

        run_task(lambda: check(services, ids, progress.report), done, failed, owner=self)

    def _checked_one(self, result: Any) -> None:
        self.model.patch(
            int(result.id),
            {
                "status": "ok" if result.ok else "error",
                "latency_ms": result.latency_ms,
                "exit_ip": result.exit_ip if result.ok else None,
                **({"country": result.country} if result.ok and result.country else {}),
                "last_error": None if result.ok else result.error,
            },
        )

    # --- import / export -----------------------------------------------------------------------
    def import_file(self, path: str | None = None) -> ImportDialog:
        dialog = ImportDialog(PROXY_IMPORT, self.ctx.services.db, path, parent=self)
        dialog.imported.connect(lambda _report: self.ctx.changed("proxies"))
        self.dialog = dialog
        dialog.open()
        return dialog

    def export(self, kind: str, path: str | None = None) -> None:
        db = self.ctx.services.db

        def write(target: str) -> None:
            self.run(
                lambda: write_private_text(Path(target), export_proxies(db, kind)),
                success=f"Exported proxies to {target}",
            )

        if path:
            write(path)
            return
        dialog = QFileDialog(self, "Export proxies")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(f"proxies.{kind}")
        dialog.fileSelected.connect(write)
        dialog.open()
