"""Browser profiles: the ordinary settings a real browser has (user agent, viewport,
locale, time zone, geolocation, colour scheme), made from templates, with the accounts
that use each."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QListWidget, QMenu, QVBoxLayout, QWidget

from ...domain import profiles as prof
from .. import formatting as fmt
from ..context import AppContext
from ..forms import FieldUI, FormDialog, ui_fields
from ..table_model import Column
from ..table_panel import FilterDef, TablePanel
from ..tasks import run_task

COLUMNS = [
    Column("name", "Name", 190),
    Column("template", "Template", 130),
    Column(
        "viewport_width",
        "Viewport",
        110,
        fmt=lambda r: f"{r['viewport_width']}×{r['viewport_height']}",
    ),
    Column("is_mobile", "Mobile", 70, sort=None),
    Column("locale", "Locale", 80),
    Column("timezone", "Time zone", 140, fmt=lambda r: r.get("timezone") or "account's"),
    Column("accounts_count", "Used by", 80, align="right"),
    Column("user_agent", "User agent", 380, sort=None, stretch=True),
]

FORM = [
    FieldUI("name", "Name"),
    FieldUI("user_agent", "User agent", "multiline"),
    FieldUI("viewport_width", "Viewport width", placeholder="1366"),
    FieldUI("viewport_height", "Viewport height", placeholder="768"),
    FieldUI("device_scale_factor", "Scale factor", placeholder="1.0"),
    FieldUI("is_mobile", "Mobile", "bool", hint="Mobile layout"),
    FieldUI("has_touch", "Touch", "bool", hint="Touch screen"),
    FieldUI("locale", "Locale", placeholder="en-US"),
    FieldUI("timezone", "Time zone", "zone", hint="Empty: the account's own time zone"),
    FieldUI("geolocation_lat", "Latitude", placeholder="e.g. 52.52"),
    FieldUI("geolocation_lon", "Longitude", placeholder="e.g. 13.40"),
    FieldUI(
        "color_scheme",
        "Colour scheme",
        "choice",
        choices=[("Light", "light"), ("Dark", "dark"), ("No preference", "no-preference")],
    ),
]


def _form() -> list[FieldUI]:
    return ui_fields(prof.FIELDS, [FieldUI(**f.__dict__) for f in FORM])


class ProfilesPanel(TablePanel):
    title = "Browser profiles"
    noun = "profile"
    table_name = "profiles"
    icon_name = "profiles"
    empty_hint = "No browser profiles yet. Create one from a template."

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(
            ctx,
            COLUMNS,
            [
                FilterDef(
                    "template",
                    "All templates",
                    [(t["name"], t["template"]) for t in prof.templates()],
                )
            ],
        )

    def depends_on(self) -> tuple[str, ...]:
        return ("accounts",)

    def build_details(self) -> QWidget:
        box = QWidget()
        box.setObjectName("Card")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(14, 12, 14, 12)
        title = QLabel("Used by")
        title.setObjectName("CardTitle")
        layout.addWidget(title)
        self.users_hint = QLabel("Select a profile to see the accounts that use it.")
        self.users_hint.setObjectName("Muted")
        self.users_hint.setWordWrap(True)
        layout.addWidget(self.users_hint)
        self.users = QListWidget()
        self.users.setObjectName("profile_users")
        layout.addWidget(self.users, 1)
        box.setMinimumWidth(240)
        return box

    def build_actions(self) -> None:
        templates = QMenu(self)
        for item in prof.templates():
            templates.addAction(item["name"], partial(self.new_profile, item["template"]))
        templates.addSeparator()
        templates.addAction("Blank profile", lambda: self.new_profile(None))
        self.add_menu_button("From template", "add", templates)
        self.add_action(
            "New profile",
            lambda: self.new_profile("chrome-windows"),
            icon_name="add",
            shortcut=QKeySequence.StandardKey.New,
            header=True,
            primary=True,
            context=False,
        )
        self.add_action("Edit…", self.edit_selected, icon_name="edit", needs="one")
        self.add_action("Duplicate", self.duplicate, icon_name="copy", needs="one")
        self.add_separator()
        self.add_action(
            "Delete…",
            self.delete_selected,
            icon_name="delete",
            needs="any",
            shortcut=QKeySequence.StandardKey.Delete,
        )

    def activated(self, row: dict[str, Any]) -> None:
        self.edit(row)

    def selection_changed(self, rows: list[dict[str, Any]]) -> None:
        self.users.clear()
        if len(rows) != 1:
            self.users_hint.setText("Select a profile to see the accounts that use it.")
            return
        profile_id = rows[0]["id"]
        services = self.ctx.services

        def show(names: list[str]) -> None:
            current = self.current_row()
            if current is None or current["id"] != profile_id:
                return
            self.users.clear()
            self.users.addItems([f"@{n}" for n in names])
            self.users_hint.setText(
                f"{rows[0]['name']}: {fmt.count(len(names), 'account')}"
                if names
                else f"{rows[0]['name']} is not used by any account."
            )

        run_task(lambda: services.profiles.accounts_using(profile_id), show, owner=self)

    # --- create / edit ---------------------------------------------------------------------
    def new_profile(self, template: str | None) -> None:
        services = self.ctx.services
        base = prof.template(template) if template else {}
        chosen = template

        def submit(values: dict[str, Any]) -> Any:
            record = dict(values)
            if chosen:
                record["template"] = chosen
            return services.profiles.add(record)

        dialog = FormDialog(
            f"New profile from {base['name']}" if base else "New browser profile",
            _form(),
            submit,
            intro="Only the ordinary settings a real browser has.",
            submit_text="Create profile",
            parent=self,
        )
        defaults = {
            "viewport_width": 1366,
            "viewport_height": 768,
            "device_scale_factor": 1.0,
            "locale": "en-US",
            "color_scheme": "light",
            **base,
        }
        for key, value in defaults.items():
            if key in dialog.editors:
                dialog.editors[key].set_raw(value)
        if base:
            dialog.editors["name"].set_raw(f"{base['name']} {self.model.total + 1}")
        self.open_form(dialog, "profiles", "Created the profile")

    def duplicate(self) -> None:
        row = self.current_row()
        if row is None:
            return
        services = self.ctx.services
        record = {k: row.get(k) for k in prof.FIELDS if row.get(k) is not None}
        record["name"] = f"{row['name']} (copy)"
        self.run(
            lambda: services.profiles.add(record),
            success="Duplicated as {result.name}",
            changed=("profiles",),
        )

    def edit_selected(self) -> None:
        row = self.current_row()
        if row is not None:
            self.edit(row)

    def edit(self, row: dict[str, Any]) -> None:
        services = self.ctx.services
        profile_id = row["id"]
        dialog = FormDialog(
            f"Edit {row['name']}",
            _form(),
            lambda values: services.profiles.edit(profile_id, values),
            initial={k: row.get(k) for k in prof.FIELDS},
            parent=self,
        )
        self.open_form(dialog, "profiles", "Saved the profile")

    def delete_selected(self) -> None:
        self.confirm_delete(
            title="Delete profiles",
            question=lambda n: f"Delete {fmt.count(n, 'profile')}?",
            remove_one=self.ctx.services.profiles.remove,
            success="Deleted {result} profile(s)",
            changed=("profiles", "accounts"),
            detail="Accounts that use them fall back to the default browser settings.",
        )
