"""A real SOCKS5 proxy on loopback with username/password auth (RFC 1928 + RFC 1929).

Most residential proxies operators buy are SOCKS5 with a password; this stand-in lets
tests prove that each route's traffic went through one. It offers only the
username/password method when it has users (a client that offers no credentials is
refused with "no acceptable methods"), answers CONNECT only, and forwards to loopback
destinations only (rule 2 "not allowed" otherwise). Every attempt is recorded with the
username presented (never the password), whether it was authorised and the destination.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
import socketserver
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from piper_desktop.sandbox.httpbase import SandboxServer
from piper_desktop.sandbox.proxy import TunnelServer, is_loopback_host, pipe

_NO_AUTH, _USER_PASS, _NO_METHOD = 0x00, 0x02, 0xFF
# reply codes (RFC 1928 section 6)
_OK, _FAILURE, _NOT_ALLOWED, _REFUSED, _CMD_UNSUPPORTED, _ATYP_UNSUPPORTED = 0, 1, 2, 5, 7, 8


@dataclass(frozen=True)
class SocksRecord:
    username: str | None
    authorized: bool
    destination: str  # host:port, "" when auth failed before a request came
    reply: int  # the SOCKS reply code sent, or -1 when the client was refused at auth
    at: float


class SocksServer(TunnelServer):
    """A threading TCP server (the sandbox's base, for its lock, lifecycle and tunnels)."""

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        super().__init__(address, handler)
        self.users: dict[str, str] = {}
        self.records: list[SocksRecord] = []

    @property
    def base_url(self) -> str:
        host, port = self.bound_address
        return f"socks5://{host}:{port}"

    def add_record(self, record: SocksRecord) -> None:
        with self.lock:
            self.records.append(record)


class SocksHandler(socketserver.StreamRequestHandler):
    server: SocksServer

    def _read(self, count: int) -> bytes:
        data = self.rfile.read(count)
        if len(data) != count:
            raise ConnectionError("client closed mid-handshake")
        return data

    def _note(self, username: str | None, ok: bool, destination: str, reply: int) -> None:
        self.server.add_record(SocksRecord(username, ok, destination, reply, time.time()))

    def handle(self) -> None:
        self.server.track(self.connection)
        try:
            self._serve()
        except (ConnectionError, OSError):
            pass
        finally:
            self.server.untrack(self.connection)

    def _serve(self) -> None:
        version, count = self._read(2)
        if version != 5:
            return
        methods = set(self._read(count))
        wanted = _USER_PASS if self.server.users else _NO_AUTH
        if wanted not in methods:
            self.wfile.write(bytes([5, _NO_METHOD]))
            self._note(None, False, "", -1)
            return
        self.wfile.write(bytes([5, wanted]))
        username: str | None = None
        if wanted == _USER_PASS:
            username, ok = self._authenticate()
            if not ok:
                return
        self._request(username)

    def _authenticate(self) -> tuple[str, bool]:
        _version, ulen = self._read(2)
        username = self._read(ulen).decode("utf-8", "replace")
        (plen,) = self._read(1)
        password = self._read(plen)
        expected = self.server.users.get(username)
        ok = expected is not None and hmac.compare_digest(expected.encode(), password)
        self.wfile.write(bytes([1, 0 if ok else 1]))
        if not ok:
            self._note(username, False, "", -1)
        return username, ok

    def _reply(self, code: int) -> None:
        self.wfile.write(bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0]))

    def _request(self, username: str | None) -> None:
        _version, command, _reserved, atyp = self._read(4)
        if atyp == 1:
            host = str(ipaddress.IPv4Address(self._read(4)))
        elif atyp == 3:
            (length,) = self._read(1)
            host = self._read(length).decode("idna")
        elif atyp == 4:
            host = str(ipaddress.IPv6Address(self._read(16)))
        else:
            self._reply(_ATYP_UNSUPPORTED)
            return
        port = int.from_bytes(self._read(2), "big")
        destination = f"{host}:{port}"
        if command != 1:  # CONNECT only
            self._note(username, True, destination, _CMD_UNSUPPORTED)
            self._reply(_CMD_UNSUPPORTED)
            return
        if not is_loopback_host(host):
            self._note(username, True, destination, _NOT_ALLOWED)
            self._reply(_NOT_ALLOWED)
            return
        try:
            upstream = socket.create_connection((host, port), timeout=15)
        except OSError:
            self._note(username, True, destination, _REFUSED)
            self._reply(_REFUSED)
            return
        upstream.settimeout(None)
        self.server.track(upstream)
        # recorded before the reply, so whoever reads the records after an answer sees it
        self._note(username, True, destination, _OK)
        try:
            self._reply(_OK)
            self._pipe(upstream)
        finally:
            self.server.untrack(upstream)
            upstream.close()

    def _pipe(self, upstream: socket.socket) -> None:
        pipe(self.rfile, self.connection, upstream, "socks-pump")


class LocalSocksProxy(SandboxServer):
    """A loopback SOCKS5 proxy with username/password auth; `records` show who went where."""

    server_class = SocksServer
    handler_class = SocksHandler  # type: ignore[assignment]
    name = "socks5"
    httpd: SocksServer

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, users: dict[str, str] | None = None
    ) -> None:
        super().__init__(host, port)
        self.httpd.users = dict(users or {})

    def url_for(self, username: str | None = None, password: str | None = None) -> str:
        """The proxy URL a client is configured with (credentials percent-encoded)."""
        host, port = self.httpd.bound_address
        if username is None:
            return f"socks5://{host}:{port}"
        creds = quote(username, safe="") + ":" + quote(password or "", safe="")
        return f"socks5://{creds}@{host}:{port}"

    @property
    def records(self) -> list[SocksRecord]:
        with self.httpd.lock:
            return list(self.httpd.records)

    def destinations_for(self, username: str | None) -> set[str]:
        return {r.destination for r in self.records if r.username == username and r.reply == _OK}
