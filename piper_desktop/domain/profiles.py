"""Browser profiles: the ordinary settings a real browser has, from built-in templates."""

from __future__ import annotations

import builtins
import json
from functools import cache
from typing import Any

from sqlalchemy import select

from ..paths import resource
from ..store.db import Database
from ..store.models import Account, BrowserProfile
from . import fields as f
from .errors import Conflict, NotFound, ValidationError
from .records import row_dict

FIELDS: dict[str, f.Field] = {
    field.name: field
    for field in [
        f.Field("name", f.text(120, required=True), required=True),
        f.Field("template", f.text(60)),
        f.Field("user_agent", f.text(1000, required=True), required=True),
        f.Field("viewport_width", f.integer(200, 7680)),
        f.Field("viewport_height", f.integer(200, 4320)),
        f.Field("device_scale_factor", f.number(0.5, 5)),
        f.Field("is_mobile", f.boolean()),
        f.Field("has_touch", f.boolean()),
        f.Field("locale", f.text(35, pattern=r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")),
        f.Field("timezone", f.timezone_name()),
        f.Field("geolocation_lat", f.number(-90, 90)),
        f.Field("geolocation_lon", f.number(-180, 180)),
        f.Field("color_scheme", f.text(20, pattern="light|dark|no-preference")),
    ]
}


@cache
def templates() -> list[dict[str, Any]]:
    data = json.loads(resource("profile_templates.json").read_text(encoding="utf-8"))
    return list(data["templates"])


def template(name: str) -> dict[str, Any]:
    for item in templates():
        if item["template"] == name:
            return dict(item)
    known = ", ".join(t["template"] for t in templates())
    raise ValidationError("template", f"unknown template {name!r} (known: {known})")


class ProfileService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, record: dict[str, Any]) -> BrowserProfile:
        record = dict(record)
        if record.get("template"):
            base = template(str(record["template"]))
            record = {**base, **{k: v for k, v in record.items() if v is not None}}
        values = f.parse_record(FIELDS, record)
        if (values.get("geolocation_lat") is None) != (values.get("geolocation_lon") is None):
            raise ValidationError("geolocation_lat", "give both latitude and longitude")
        with self.db.write() as session:
            if session.scalar(select(BrowserProfile).where(BrowserProfile.name == values["name"])):
                raise Conflict(f"name: a profile named {values['name']!r} already exists")
            profile = BrowserProfile(**{k: v for k, v in values.items() if v is not None})
            session.add(profile)
            session.flush()
            return profile

    def ensure_template(self, template_name: str) -> BrowserProfile:
        """The profile made from a template, created on first use."""
        base = template(template_name)
        with self.db.session() as session:
            existing = session.scalar(
                select(BrowserProfile).where(BrowserProfile.name == base["name"])
            )
        return existing or self.add(base)

    def edit(self, profile_id: int, record: dict[str, Any]) -> BrowserProfile:
        values = f.parse_record(FIELDS, record, partial=True)
        with self.db.write() as session:
            profile = session.get(BrowserProfile, profile_id)
            if profile is None:
                raise NotFound("profile", profile_id)
            for key, value in values.items():
                setattr(profile, key, value)
            return profile

    def get(self, profile_id: int) -> BrowserProfile:
        with self.db.session() as session:
            profile = session.get(BrowserProfile, profile_id)
        if profile is None:
            raise NotFound("profile", profile_id)
        return profile

    def find(self, ref: str) -> BrowserProfile:
        if ref.isdigit():
            return self.get(int(ref))
        with self.db.session() as session:
            profile = session.scalar(select(BrowserProfile).where(BrowserProfile.name == ref))
        if profile is None:
            raise NotFound("profile", ref)
        return profile

    def list(self) -> list[BrowserProfile]:
        with self.db.session() as session:
            return list(session.scalars(select(BrowserProfile).order_by(BrowserProfile.name)))

    def remove(self, profile_id: int) -> None:
        with self.db.write() as session:
            profile = session.get(BrowserProfile, profile_id)
            if profile is None:
                raise NotFound("profile", profile_id)
            session.delete(profile)

    def accounts_using(self, profile_id: int) -> builtins.list[str]:
        with self.db.session() as session:
            return list(
                session.scalars(select(Account.username).where(Account.profile_id == profile_id))
            )

    def to_dict(self, profile: BrowserProfile) -> dict[str, Any]:
        return row_dict(profile)
