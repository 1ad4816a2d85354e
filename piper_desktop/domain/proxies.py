"""Proxies: CRUD, the one-line forms operators paste, and URLs for clients/browsers."""

from __future__ import annotations

import builtins
import ipaddress
from typing import Any, Protocol
from urllib.parse import quote, unquote

from sqlalchemy import func, select

from ..store.db import Database
from ..store.enums import ProxyKind, ProxyScheme, ProxyStatus
from ..store.models import Account, Proxy, utcnow
from . import fields as f
from .errors import NotFound, ValidationError
from .records import row_dict

_HOST_TEXT = f.text(255, required=True, pattern=r"[A-Za-z0-9.\-_:\[\]]+")


def _host(field: str, value: Any) -> str | None:
    """A host name or address; an IPv6 address is kept without its brackets (URLs add
    them: `host_in_url`)."""
    host = _HOST_TEXT(field, value)
    if host and host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host and ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValidationError(field, "has ':' but is not an IPv6 address") from None
    return host


FIELDS: dict[str, f.Field] = {
    field.name: field
    for field in [
        f.Field("name", f.text(120, single_line=True)),
        f.Field("scheme", f.choice(ProxyScheme)),
        f.Field("host", _host, required=True),
        f.Field("port", f.integer(1, 65535), required=True),
        f.Field("username", f.text(255, single_line=True)),
        f.Field("password", f.secret(255), secret=True),
        f.Field("kind", f.choice(ProxyKind)),
        f.Field("notes", f.text(2000)),
    ]
}
SECRETS = frozenset({"password"})
# Status columns are written by the health check, not by imports.
EXPORT_OMIT = frozenset({"created_at", "updated_at"})


FORMS = "host:port, host:port:user:pass, user:pass@host:port or scheme://user:pass@host:port"


def parse_proxy_line(line: str, *, user_without_password: bool = False) -> dict[str, Any]:
    """One proxy in the forms operators paste: `host:port`, `host:port:user:pass`,
    `user:pass:host:port`, `user:pass@host:port`, `scheme://user:pass@host:port`; an
    IPv6 host in brackets (`[::1]:8080`). Passwords may hold ':' (and '@' before the
    host). A user without a password is accepted only when `user_without_password` (the
    CLI then asks for it).

    Errors name the piece that is wrong, never the line: it may hold the password.
    """
    text = line.strip()
    record: dict[str, Any] = {}
    url = "://" in text
    if url:
        scheme, text = text.split("://", 1)
        record["scheme"] = scheme
        text = text.rstrip("/")
    userinfo = None
    if "@" in text:
        userinfo, _, text = text.rpartition("@")
    host, port, rest = _host_port(text)
    if rest is not None and (url or userinfo is not None):
        raise ValidationError("line", f"unexpected text after the port; expected {FORMS}")
    user: str | None = None
    password: str | None = None
    if userinfo is not None:
        user, sep, password = userinfo.partition(":")
        if url:
            user, password = unquote(user), unquote(password)
        if not sep:
            password = None
    elif rest is not None:
        if not port.isdigit() and rest.rpartition(":")[2].isdigit() and rest.count(":") == 1:
            # user:pass:host:port, the order some providers export
            user, password = host, port
            host, port = rest.split(":")
        else:
            user, sep, password = rest.partition(":")
            if not sep:
                password = None
    if not host:
        raise ValidationError("host", f"is missing; expected {FORMS}")
    if not port.isdigit():
        raise ValidationError("port", "must be a number from 1 to 65535")
    if not 1 <= int(port) <= 65535:
        raise ValidationError("port", "must be from 1 to 65535")
    if user is not None and password is None and not user_without_password:
        raise ValidationError(
            "password", "is missing: a proxy user needs one (host:port:user:pass)"
        )
    record.update(host=host, port=int(port))
    if user:
        record["username"] = user
    if password:
        record["password"] = password
    return record


def _host_port(text: str) -> tuple[str, str, str | None]:
    """host, port, and what follows the port after a ':' (None when nothing does)."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValidationError("host", "an IPv6 address needs its closing ']': [::1]:8080")
        host, after = text[1:end], text[end + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValidationError("host", "is not an IPv6 address inside [ ]") from None
        if not after.startswith(":"):
            raise ValidationError("port", "is required: [::1]:8080")
        after = after[1:]
    else:
        host, sep, after = text.partition(":")
        if not sep:
            raise ValidationError("line", f"no port; expected {FORMS}")
    port, sep, rest = after.partition(":")
    return host, port, rest if sep else None


def host_in_url(host: str) -> str:
    """An IPv6 address goes in brackets in a URL."""
    return f"[{host}]" if ":" in host else host


class ProxyLike(Protocol):
    """A proxy model or the engine's ProxyRecord."""

    @property
    def scheme(self) -> str: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def username(self) -> str | None: ...
    @property
    def password(self) -> str | None: ...


def proxy_url(proxy: ProxyLike, *, with_credentials: bool = True) -> str:
    """The proxy as a URL for httpx/Playwright. Contains the password: never log it."""
    auth = ""
    if proxy.username and with_credentials:
        auth = quote(proxy.username, safe="")
        if proxy.password:
            auth += ":" + quote(proxy.password, safe="")
        auth += "@"
    return f"{proxy.scheme}://{auth}{host_in_url(proxy.host)}:{proxy.port}"


def proxy_label(proxy: Proxy) -> str:
    user = f"{proxy.username}@" if proxy.username else ""
    return f"{proxy.scheme}://{user}{host_in_url(proxy.host)}:{proxy.port}"


class ProxyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def natural_key(self, values: dict[str, Any]) -> tuple[str, str, int, str]:
        return (
            values.get("scheme") or ProxyScheme.HTTP.value,
            values["host"],
            int(values["port"]),
            values.get("username") or "",
        )

    def add(self, record: dict[str, Any]) -> Proxy:
        values = f.parse_record(FIELDS, record)
        with self.db.write() as session:
            proxy, _ = self._upsert(session, values)
            return proxy

    def _upsert(self, session: Any, values: dict[str, Any]) -> tuple[Proxy, bool]:
        scheme, host, port, username = self.natural_key(values)
        existing = session.scalar(
            select(Proxy).where(
                Proxy.scheme == scheme,
                Proxy.host == host,
                Proxy.port == port,
                Proxy.username == username,
            )
        )
        values = {**values, "scheme": scheme, "username": username}
        if existing is None:
            proxy = Proxy(**{k: v for k, v in values.items() if v is not None})
            session.add(proxy)
            session.flush()
            return proxy, True
        for key, value in values.items():
            if value is not None:
                setattr(existing, key, value)
        return existing, False

    def get(self, proxy_id: int) -> Proxy:
        with self.db.session() as session:
            proxy = session.get(Proxy, proxy_id)
            if proxy is None:
                raise NotFound("proxy", proxy_id)
            return proxy

    def find(self, ref: str) -> Proxy:
        """By id, or by the `host:port` / URL form."""
        if ref.isdigit():
            return self.get(int(ref))
        values = parse_proxy_line(ref, user_without_password=True)
        scheme, host, port, username = self.natural_key(
            {**values, "scheme": values.get("scheme"), "port": values["port"]}
        )
        with self.db.session() as session:
            query = select(Proxy).where(Proxy.host == host, Proxy.port == port)
            if values.get("scheme"):
                query = query.where(Proxy.scheme == scheme)
            if username:
                query = query.where(Proxy.username == username)
            proxy = session.scalar(query.limit(1))
        if proxy is None:
            raise NotFound("proxy", ref)
        return proxy

    def list(self, *, status: str | None = None) -> list[Proxy]:
        with self.db.session() as session:
            query = select(Proxy).order_by(Proxy.id)
            if status:
                query = query.where(Proxy.status == status)
            return list(session.scalars(query))

    def count(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count(Proxy.id))) or 0

    def edit(self, proxy_id: int, record: dict[str, Any]) -> Proxy:
        values = f.parse_record(FIELDS, record, partial=True)
        with self.db.write() as session:
            proxy = session.get(Proxy, proxy_id)
            if proxy is None:
                raise NotFound("proxy", proxy_id)
            for key, value in values.items():
                # username is part of the natural key: "" rather than NULL
                setattr(proxy, key, "" if key == "username" and value is None else value)
            return proxy

    def remove(self, proxy_id: int) -> None:
        with self.db.write() as session:
            proxy = session.get(Proxy, proxy_id)
            if proxy is None:
                raise NotFound("proxy", proxy_id)
            session.delete(proxy)

    def record_check(
        self,
        proxy_id: int,
        *,
        ok: bool,
        latency_ms: float | None,
        exit_ip: str | None,
        error: str | None,
        country: str | None = None,
    ) -> None:
        """Keep a check's outcome; a failed check keeps the last known exit IP and
        country (the proxy's location did not change because it did not answer)."""
        with self.db.write() as session:
            proxy = session.get(Proxy, proxy_id)
            if proxy is None:
                return
            proxy.status = ProxyStatus.OK.value if ok else ProxyStatus.ERROR.value
            proxy.latency_ms = latency_ms
            proxy.exit_ip = exit_ip if ok else proxy.exit_ip
            if ok and country:
                proxy.country = country
            proxy.last_error = None if ok else error
            proxy.last_check_at = utcnow()

    def accounts_using(self, proxy_id: int) -> builtins.list[str]:
        with self.db.session() as session:
            return list(
                session.scalars(select(Account.username).where(Account.proxy_id == proxy_id))
            )

    def to_dict(self, proxy: Proxy, *, include_secrets: bool = False) -> dict[str, Any]:
        return row_dict(proxy, secrets=frozenset() if include_secrets else SECRETS)
