"""Accounts: CRUD, status, browser sessions and per-route credentials."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from ..logs import register_secret
from ..store.db import Database
from ..store.enums import AccountStatus, JobRoute, ProxyStatus
from ..store.models import Account, BrowserProfile, Proxy, RouteCredential
from . import fields as f
from . import token_claims
from .errors import NotFound, ValidationError
from .geo import country_code, country_of_zone
from .proxy_spread import Spread, SpreadAccount, SpreadProxy, check_spread, spread_proxies
from .records import row_dict

PLATFORMS = ("tiktok", "instagram", "youtube", "facebook", "x", "linkedin", "threads", "pinterest")


def _platform(field: str, value: Any) -> str | None:
    parsed = f.text(30, single_line=True)(field, value)
    if parsed is None:
        return None
    parsed = parsed.lower()
    if parsed not in PLATFORMS:
        raise ValidationError(field, f"must be one of {', '.join(PLATFORMS)}, got {f.shown(value)}")
    return parsed


def _routes(field: str, value: Any) -> list[str] | None:
    routes = f.string_list()(field, value)
    if routes is None:
        return None
    allowed = [r.value for r in JobRoute]
    for route in routes:
        if route not in allowed:
            raise ValidationError(
                field, f"unknown route {f.shown(route)} (routes: {', '.join(allowed)})"
            )
    return routes


_COUNTRY_TEXT = f.text(10, single_line=True)


def _country(field: str, value: Any) -> str | None:
    parsed = _COUNTRY_TEXT(field, value)
    if parsed is None:
        return None
    code = country_code(parsed)
    if code is None:
        raise ValidationError(
            field, f"must be a two-letter country code such as US or JP, got {f.shown(value)}"
        )
    return code


def account_country(country: str | None, timezone: str | None) -> str | None:
    """The account's country: its own, else its time zone's."""
    return country or country_of_zone(timezone)


def spread_proxy(proxy: Proxy) -> SpreadProxy:
    return SpreadProxy(proxy.id, proxy.country, proxy.status == ProxyStatus.ERROR.value)


FIELDS: dict[str, f.Field] = {
    field.name: field
    for field in [
        f.Field("platform", _platform),
        f.Field(
            "username",
            f.text(120, required=True, pattern=r"@?[A-Za-z0-9._\-]+"),
            required=True,
        ),
        f.Field("display_name", f.text(200, single_line=True)),
        f.Field("email", f.text(255, pattern=r"[^@\s]+@[^@\s]+\.[^@\s]+")),
        f.Field("password", f.secret(), secret=True),
        f.Field("status", f.choice(AccountStatus)),
        f.Field("group", f.text(120, single_line=True)),
        f.Field("tags", f.string_list()),
        f.Field("proxy_id", f.integer(1)),
        f.Field("profile_id", f.integer(1)),
        f.Field("timezone", f.timezone_name()),
        f.Field("country", _country),
        f.Field("window_enabled", f.boolean()),
        f.Field("window_start", f.clock_time()),
        f.Field("window_end", f.clock_time()),
        f.Field("min_spacing_minutes", f.integer(0, 10080)),
        f.Field("max_posts_per_day", f.integer(1, 1000)),
        f.Field("routes", _routes),
        f.Field("notes", f.text(5000)),
    ]
}
SECRETS = frozenset({"password", "storage_state"})
EXPORT_FIELDS = [name for name in FIELDS] + ["id", "last_post_at", "status_reason"]


def has_tag(tag: str) -> ColumnElement[bool]:
    """SQL condition: the account's JSON tag list holds `tag` (matched as a quoted
    element; type_coerce stops the JSON column type from encoding the pattern)."""
    return type_coerce(Account.tags, Text).like(f'%"{tag}"%')


def normalise_username(username: str) -> str:
    return username.strip().lstrip("@")


def account_key(platform: str | None, username: str) -> str:
    return f"{platform or 'tiktok'}:{normalise_username(username)}"


class AccountService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- CRUD ---------------------------------------------------------------------
    def _check_refs(self, session: Any, values: dict[str, Any]) -> None:
        if values.get("proxy_id") is not None and session.get(Proxy, values["proxy_id"]) is None:
            raise ValidationError("proxy_id", f"no proxy with id {values['proxy_id']}")
        if (
            values.get("profile_id") is not None
            and session.get(BrowserProfile, values["profile_id"]) is None
        ):
            raise ValidationError(
                "profile_id", f"no browser profile with id {values['profile_id']}"
            )
        if values.get("window_enabled") and (
            values.get("window_start") is None or values.get("window_end") is None
        ):
            raise ValidationError("window_start", "a posting window needs a start and an end")

    def validate(self, record: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        values = f.parse_record(FIELDS, record, partial=partial)
        if values.get("username"):
            values["username"] = normalise_username(values["username"])
        if values.get("password"):
            register_secret(values["password"])
        return values

    def add(self, record: dict[str, Any]) -> Account:
        values = self.validate(record)
        with self.db.write() as session:
            account, created = self.upsert(session, values)
            if not created:
                raise ValidationError(
                    "username",
                    f"account {account_key(account.platform, account.username)} already exists",
                )
            return account

    def upsert(self, session: Any, values: dict[str, Any]) -> tuple[Account, bool]:
        """Create or update by platform + username (the import path)."""
        platform = values.get("platform") or "tiktok"
        existing = session.scalar(
            select(Account).where(
                Account.platform == platform, Account.username == values["username"]
            )
        )
        merged = {**values, "platform": platform}
        if existing is not None:
            merged.setdefault("window_start", existing.window_start)
            merged.setdefault("window_end", existing.window_end)
            merged.setdefault("window_enabled", existing.window_enabled)
        self._check_refs(session, merged)
        if existing is None:
            account = Account(**{k: v for k, v in merged.items() if v is not None})
            session.add(account)
            session.flush()
            return account, True
        for key, value in values.items():
            if value is not None:
                setattr(existing, key, value)
        return existing, False

    def edit(self, account_id: int, record: dict[str, Any]) -> Account:
        values = self.validate(record, partial=True)
        with self.db.write() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("account", account_id)
            merged = {
                "window_enabled": account.window_enabled,
                "window_start": account.window_start,
                "window_end": account.window_end,
                **values,
            }
            self._check_refs(session, merged)
            for key, value in values.items():
                if key in ("platform", "username") and value is None:
                    continue
                if key in ("tags", "routes") and value is None:
                    value = []
                setattr(account, key, value)
            if values.get("status") == AccountStatus.ACTIVE.value:
                account.status_reason = None
                account.cooldown_until = None
            return account

    def get(self, account_id: int) -> Account:
        with self.db.session() as session:
            account = session.get(Account, account_id)
        if account is None:
            raise NotFound("account", account_id)
        return account

    def find(self, ref: str, platform: str | None = None) -> Account:
        """By id, `platform:username`, or username (+ platform, default tiktok)."""
        ref = ref.strip()
        if ref.isdigit():
            return self.get(int(ref))
        if ":" in ref and platform is None:
            platform, ref = ref.split(":", 1)
        username = normalise_username(ref)
        with self.db.session() as session:
            query = select(Account).where(Account.username == username)
            if platform:
                query = query.where(Account.platform == platform.lower())
            matches = list(session.scalars(query.limit(2)))
            if not matches:
                # usernames are case-insensitive on the platforms: `Alice` finds `alice`
                query = select(Account).where(func.lower(Account.username) == username.lower())
                if platform:
                    query = query.where(Account.platform == platform.lower())
                matches = list(session.scalars(query.limit(2)))
        if not matches:
            raise NotFound("account", account_key(platform, username))
        if len(matches) > 1:
            raise ValidationError(
                "account", f"{username} exists on several platforms: give --platform"
            )
        return matches[0]

    def _query(self, query: Any, filters: dict[str, Any]) -> Any:
        if filters.get("status"):
            query = query.where(Account.status == filters["status"])
        if filters.get("group"):
            # `--group clientb` is the group "ClientB"
            query = query.where(func.lower(Account.group) == str(filters["group"]).lower())
        if filters.get("platform"):
            query = query.where(Account.platform == filters["platform"])
        if filters.get("tag"):
            query = query.where(has_tag(filters["tag"]))
        if filters.get("search"):
            pattern = f"%{filters['search']}%"
            query = query.where(
                or_(
                    Account.username.like(pattern),
                    Account.display_name.like(pattern),
                    Account.email.like(pattern),
                    Account.notes.like(pattern),
                )
            )
        if filters.get("offset"):
            query = query.offset(filters["offset"])
        if filters.get("limit") is not None:
            query = query.limit(filters["limit"])
        return query

    def list(self, **filters: Any) -> list[Account]:
        """Accounts as model objects. Filters: status, group, tag, search, platform,
        offset, limit."""
        with self.db.session() as session:
            query = self._query(select(Account).order_by(Account.id), filters)
            return list(session.scalars(query).unique())

    def rows(self, **filters: Any) -> builtins.list[dict[str, Any]]:
        """The same accounts as plain dicts without secrets (what listings and exports
        print): read as rows, several times faster than building model objects."""
        columns = [c for c in Account.__table__.columns if c.key not in SECRETS]
        keys = [c.key for c in columns]
        with self.db.session() as session:
            query = self._query(select(*columns).order_by(Account.id), filters)
            return [dict(zip(keys, row, strict=True)) for row in session.execute(query)]

    def count(self, *, status: str | None = None) -> int:
        with self.db.session() as session:
            query = select(func.count(Account.id))
            if status:
                query = query.where(Account.status == status)
            return session.scalar(query) or 0

    def groups(self) -> builtins.list[str]:
        with self.db.session() as session:
            return [
                g
                for g in session.scalars(select(Account.group).distinct().order_by(Account.group))
                if g
            ]

    def remove(self, account_id: int) -> None:
        with self.db.write() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("account", account_id)
            session.delete(account)

    def bulk_assign(self, account_ids: builtins.list[int], record: dict[str, Any]) -> int:
        """Assign proxy_id / profile_id / group / tags to many accounts at once."""
        allowed = {"proxy_id", "profile_id", "group", "tags", "status", "routes"}
        for key in record:
            if key not in allowed:
                raise ValidationError(key, "cannot be assigned in bulk")
        values = self.validate(record, partial=True)
        with self.db.write() as session:
            self._check_refs(session, values)
            count = 0
            for account in session.scalars(select(Account).where(Account.id.in_(account_ids))):
                for key, value in values.items():
                    setattr(account, key, value)
                count += 1
            return count

    def assign_proxies(
        self,
        account_ids: builtins.list[int],
        proxy_ids: builtins.list[int],
        spread: str = "round_robin",
    ) -> dict[int, int]:
        """Give the accounts proxies by `proxy_spread`'s rule (round_robin, country,
        same; dead proxies are skipped by the first two). Returns {account_id: proxy_id}."""
        return self.spread_proxies(account_ids, proxy_ids, spread).assigned

    def spread_proxies(
        self,
        account_ids: builtins.list[int],
        proxy_ids: builtins.list[int],
        spread: str = "round_robin",
    ) -> Spread:
        check_spread(spread)
        if not proxy_ids:
            raise ValidationError("proxy_ids", "choose at least one proxy")
        order = list(dict.fromkeys(proxy_ids))  # keep the operator's order, drop repeats
        with self.db.write() as session:
            rows = {
                p.id: p for p in session.scalars(select(Proxy).where(Proxy.id.in_(order)))
            }
            missing = [p for p in order if p not in rows]
            if missing:
                raise ValidationError("proxy_ids", f"no proxy with id {missing[0]}")
            accounts = builtins.list(
                session.scalars(select(Account).where(Account.id.in_(account_ids)))
            )
            result = spread_proxies(
                [SpreadAccount(a.id, account_country(a.country, a.timezone)) for a in accounts],
                [spread_proxy(rows[p]) for p in order],
                spread,
            )
            for account in accounts:
                account.proxy_id = result.assigned[account.id]
            return result

    def set_status(
        self,
        account_id: int,
        status: AccountStatus | str,
        reason: str | None = None,
        cooldown_until: datetime | None = None,
    ) -> None:
        with self.db.write() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("account", account_id)
            account.status = AccountStatus(status).value
            account.status_reason = reason
            account.cooldown_until = cooldown_until

    # --- browser session (secret) ---------------------------------------------------
    def storage_state(self, account_id: int) -> dict[str, Any] | None:
        with self.db.session() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("account", account_id)
            return account.storage_state

    def save_storage_state(self, account_id: int, state: dict[str, Any] | None) -> None:
        with self.db.write() as session:
            account = session.get(Account, account_id)
            if account is None:
                raise NotFound("account", account_id)
            account.storage_state = state

    # --- per-route credentials (CredentialStore) -------------------------------------
    def load(self, account_id: int, route: str) -> dict[str, Any]:
        with self.db.session() as session:
            row = session.scalar(
                select(RouteCredential).where(
                    RouteCredential.account_id == account_id, RouteCredential.route == route
                )
            )
            data = dict(row.data) if row is not None else {}
        for key in ("access_token", "refresh_token"):
            if data.get(key):
                register_secret(data[key])
        return data

    def save(self, account_id: int, route: str, data: dict[str, Any]) -> None:
        for key in ("access_token", "refresh_token"):
            if data.get(key):
                register_secret(data[key])
        with self.db.write() as session:
            row = session.scalar(
                select(RouteCredential).where(
                    RouteCredential.account_id == account_id, RouteCredential.route == route
                )
            )
            if row is None:
                session.add(RouteCredential(account_id=account_id, route=route, data=data))
            else:
                row.data = data

    def claim_refresh(
        self,
        account_id: int,
        route: str,
        refresh_token: str,
        holder: str,
        now: float,
        hold_for: float = token_claims.CLAIM_SECONDS,
    ) -> token_claims.RefreshClaim:
        """Take the right to spend `refresh_token` (domain/token_claims.py), read and
        written in one write transaction: two processes on this vault take turns here."""
        with self.db.write() as session:
            row = self._credential_row(session, account_id, route)
            data = dict(row.data) if row is not None else {}
            verdict, written = token_claims.claim(data, refresh_token, holder, now, hold_for)
            if written is not None and row is not None:
                row.data = written
        self._register(verdict.stored)
        return verdict

    def finish_refresh(
        self,
        account_id: int,
        route: str,
        refresh_token: str,
        holder: str,
        new: dict[str, Any] | None,
    ) -> bool:
        """Store the rotated pair and drop the claim, committed before the caller uses
        the new access token; False when the stored pair moved on meanwhile."""
        if new is not None:
            self._register(new)
        with self.db.write() as session:
            row = self._credential_row(session, account_id, route)
            if row is None:
                return False
            written = token_claims.finish(dict(row.data), refresh_token, holder, new)
            if written is None:
                return False
            row.data = written
        return True

    def note_credentials(self, account_id: int, route: str, notes: dict[str, Any]) -> None:
        """Set a few bookkeeping keys beside the tokens (never the tokens themselves)."""
        with self.db.write() as session:
            row = self._credential_row(session, account_id, route)
            if row is not None:
                row.data = dict(row.data) | notes

    @staticmethod
    def _credential_row(session: Session, account_id: int, route: str) -> RouteCredential | None:
        # read for a write: on a team's PostgreSQL the row stays locked until the write
        # commits, so two desktops' refreshers take turns on one pair (SQLite renders no
        # lock clause: its BEGIN IMMEDIATE already makes them take turns)
        row: RouteCredential | None = session.scalar(
            select(RouteCredential)
            .where(RouteCredential.account_id == account_id, RouteCredential.route == route)
            .with_for_update()
        )
        return row

    @staticmethod
    def _register(data: dict[str, Any]) -> None:
        for key in ("access_token", "refresh_token"):
            if data.get(key):
                register_secret(str(data[key]))

    def connected_routes(self, account_id: int) -> builtins.list[str]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(RouteCredential.route).where(RouteCredential.account_id == account_id)
                )
            )

    def names(self, ids: Iterable[int]) -> dict[int, str]:
        """Account id -> username (`platform:username` off TikTok), for lists people read."""
        wanted = sorted(set(ids))
        with self.db.session() as session:
            rows = session.execute(
                select(Account.id, Account.platform, Account.username).where(Account.id.in_(wanted))
            ).all()
        return {i: u if p == "tiktok" else f"{p}:{u}" for i, p, u in rows}

    def to_dict(self, account: Account, *, include_secrets: bool = False) -> dict[str, Any]:
        omit = frozenset() if include_secrets else SECRETS
        data = row_dict(account, secrets=omit)
        if include_secrets:
            data.pop("storage_state", None)  # sessions move through `browser cookies export`
        return data
