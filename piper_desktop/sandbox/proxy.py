"""A real HTTP proxy on loopback, so tests can prove whose traffic went where.

It speaks CONNECT (tunnels) and plain absolute-URI forwarding, checks Basic
`Proxy-Authorization` against its users (407 with `Proxy-Authenticate` otherwise), and
only ever forwards to loopback destinations (403 for anything else: this sandbox must
never become a way off the machine). Every request is recorded with the client's
username (never its password), whether it was authorised, and the destination.

`exit_address` binds the proxy's outgoing sockets to another loopback address (e.g.
127.0.0.2 on Linux), so a check endpoint that echoes the peer address sees where the
traffic left from, like a real proxy's exit IP.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from piper_desktop.sandbox.httpbase import SandboxHandler, SandboxHTTPServer, SandboxServer

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
}
_BLOCK = 65536


@dataclass(frozen=True)
class ProxyRecord:
    username: str | None
    authorized: bool
    method: str
    destination: str  # host:port
    path: str
    status: int
    at: float


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class TunnelServer(SandboxHTTPServer):
    """A sandbox server whose handlers open tunnels (CONNECT, SOCKS): it knows their
    upstream sockets, so that stopping it ends them."""

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        super().__init__(address, handler)
        self._live: set[socket.socket] = set()

    def track(self, sock: socket.socket) -> None:
        with self.lock:
            self._live.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self.lock:
            self._live.discard(sock)

    def server_close(self) -> None:
        # Open tunnels would keep their threads (and sockets) alive after stop.
        with self.lock:
            live = list(self._live)
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        super().server_close()


def pipe(rfile: Any, connection: socket.socket, upstream: socket.socket, name: str) -> None:
    """Copy bytes both ways between a handler's client and `upstream` until both ends
    are done (each direction half-closes the other when its side ends)."""

    def client_to_upstream() -> None:
        try:
            while data := rfile.read1(_BLOCK):
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

    pump = threading.Thread(target=client_to_upstream, name=name, daemon=True)
    pump.start()
    try:
        while data := upstream.recv(_BLOCK):
            connection.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_WR)
    pump.join(timeout=30)


class ProxyHTTPServer(TunnelServer):
    def __init__(self, address: tuple[str, int], handler: type[SandboxHandler]) -> None:
        super().__init__(address, handler)
        self.users: dict[str, str] = {}
        self.exit_address: str | None = None
        self.records: list[ProxyRecord] = []

    def add_record(self, record: ProxyRecord) -> None:
        with self.lock:
            self.records.append(record)

    def state_snapshot(self) -> Any:
        with self.lock:
            return {"records": [asdict(r) for r in self.records], "users": sorted(self.users)}


class ProxyHandler(SandboxHandler):
    server: ProxyHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        self.server.untrack(self.connection)
        super().finish()

    # --- checks --------------------------------------------------------------------
    def _credentials(self) -> tuple[str | None, bool]:
        """(username presented, authorised?). With no users configured, anyone may pass."""
        header = self.headers.get("Proxy-Authorization") or ""
        username: str | None = None
        password = ""
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            if ":" in decoded:
                username, password = decoded.split(":", 1)
        if not self.server.users:
            return username, True
        expected = self.server.users.get(username or "")
        ok = expected is not None and hmac.compare_digest(expected.encode(), password.encode())
        return username, ok

    def _record(self, path: str, status: int | None) -> None:
        return  # proxy traffic is recorded as ProxyRecord instead

    def _note(
        self, username: str | None, ok: bool, destination: str, path: str, status: int
    ) -> None:
        self.server.add_record(
            ProxyRecord(username, ok, self.command, destination, path, status, time.time())
        )

    def _refuse(self, status: int, reason: str) -> None:
        body = reason.encode()
        self.send_response(status)
        if status == 407:
            self.send_header("Proxy-Authenticate", 'Basic realm="piper-sandbox-proxy"')
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _connect_upstream(self, host: str, port: int) -> socket.socket:
        source = (self.server.exit_address, 0) if self.server.exit_address else None
        upstream = socket.create_connection((host, port), timeout=15, source_address=source)
        upstream.settimeout(None)
        self.server.track(upstream)
        return upstream

    def _close_upstream(self, upstream: socket.socket) -> None:
        self.server.untrack(upstream)
        upstream.close()

    # --- CONNECT tunnels --------------------------------------------------------------
    def do_CONNECT(self) -> None:
        host, _, port_text = self.path.rpartition(":")
        host = host.strip("[]")
        username, ok = self._credentials()
        if not ok:
            self._note(username, False, self.path, "", 407)
            self._refuse(407, "proxy authentication required")
            return
        if not host or not port_text.isdigit() or not is_loopback_host(host):
            self._note(username, True, self.path, "", 403)
            self._refuse(403, "destination not allowed: this proxy forwards to loopback only")
            self.close_connection = True
            return
        try:
            upstream = self._connect_upstream(host, int(port_text))
        except OSError:
            self._note(username, True, self.path, "", 502)
            self._refuse(502, "upstream unreachable")
            self.close_connection = True
            return
        self._note(username, True, self.path, "", 200)
        self.send_response(200, "Connection Established")
        self.end_headers()
        try:
            self._pipe(upstream)
        finally:
            self._close_upstream(upstream)
        self.close_connection = True

    def _pipe(self, upstream: socket.socket) -> None:
        pipe(self.rfile, self.connection, upstream, "proxy-pump")

    # --- plain HTTP forwarding ----------------------------------------------------------
    def _dispatch(self) -> None:
        if not self.path.lower().startswith("http://"):
            super()._dispatch()  # our own control endpoints (/__sandbox__/state)
            return
        url = urlsplit(self.path)
        host = url.hostname or ""
        port = url.port or 80
        destination = f"{host}:{port}"
        target = (url.path or "/") + (f"?{url.query}" if url.query else "")
        username, ok = self._credentials()
        if not ok:
            self.discard_body()
            self._note(username, False, destination, target, 407)
            self._refuse(407, "proxy authentication required")
            return
        if not is_loopback_host(host):
            self.discard_body()
            self._note(username, True, destination, target, 403)
            self._refuse(403, "destination not allowed: this proxy forwards to loopback only")
            return
        try:
            upstream = self._connect_upstream(host, port)
        except OSError:
            self.discard_body()
            self._note(username, True, destination, target, 502)
            self._refuse(502, "upstream unreachable")
            return
        try:
            self._forward(
                upstream,
                target,
                lambda status: self._note(username, True, destination, target, status),
            )
        finally:
            self._close_upstream(upstream)
        self.close_connection = True

    # The base class bound its own _dispatch to the verbs; bind ours.
    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_PATCH = _dispatch
    do_DELETE = _dispatch
    do_HEAD = _dispatch
    do_OPTIONS = _dispatch

    def _forward(self, upstream: socket.socket, target: str, note: Callable[[int], None]) -> int:
        """Relay one request; `note` records it before the answer reaches the client, so
        whoever reads the records right after its answer sees this request too."""
        head = [f"{self.command} {target} HTTP/1.1"]
        for key, value in self.headers.items():
            if key.lower() not in _HOP_BY_HOP:
                head.append(f"{key}: {value}")
        head.append("Connection: close")
        upstream.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._copy_chunked(upstream)
        else:
            for block in self.stream_body(_BLOCK):
                upstream.sendall(block)
        reader = upstream.makefile("rb")
        try:
            status_line = reader.readline(65537)
            parts = status_line.split(None, 2)
            status = int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 502
            note(status)
            out = [status_line.rstrip(b"\r\n")]
            while True:
                line = reader.readline(65537)
                if line in (b"\r\n", b"\n", b""):
                    break
                name = line.split(b":", 1)[0].strip().lower().decode("latin-1")
                if name not in _HOP_BY_HOP:
                    out.append(line.rstrip(b"\r\n"))
            out.append(b"Connection: close")
            self.wfile.write(b"\r\n".join(out) + b"\r\n\r\n")
            while True:
                data = reader.read1(_BLOCK)
                if not data:
                    break
                self.wfile.write(data)
        finally:
            reader.close()
        return status

    def _copy_chunked(self, upstream: socket.socket) -> None:
        # Pass the chunked framing through unchanged, reading exactly to its end.
        self._body = b""
        while True:
            size_line = self.rfile.readline(65537)
            upstream.sendall(size_line)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    trailer = self.rfile.readline(65537)
                    upstream.sendall(trailer)
                    if trailer in (b"\r\n", b"\n", b""):
                        return
            remaining = size + 2  # data + CRLF
            while remaining:
                data = self.rfile.read(min(_BLOCK, remaining))
                if not data:
                    return
                upstream.sendall(data)
                remaining -= len(data)


class LocalProxy(SandboxServer):
    """A loopback HTTP proxy with Basic auth; `records` show who went where."""

    server_class = ProxyHTTPServer
    handler_class = ProxyHandler
    name = "proxy"
    httpd: ProxyHTTPServer

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        users: dict[str, str] | None = None,
        exit_address: str | None = None,
    ) -> None:
        super().__init__(host, port)
        if exit_address is not None and not is_loopback_host(exit_address):
            raise ValueError("exit_address must be a loopback address")
        self.httpd.users = dict(users or {})
        self.httpd.exit_address = exit_address

    def add_user(self, username: str, password: str) -> None:
        with self.httpd.lock:
            self.httpd.users[username] = password

    def url_for(self, username: str | None = None, password: str | None = None) -> str:
        """The proxy URL a client is configured with (credentials percent-encoded)."""
        host, port = self.httpd.bound_address
        if username is None:
            return f"http://{host}:{port}"
        creds = quote(username, safe="") + ":" + quote(password or "", safe="")
        return f"http://{creds}@{host}:{port}"

    @property
    def records(self) -> list[ProxyRecord]:
        with self.httpd.lock:
            return list(self.httpd.records)

    def destinations_for(self, username: str | None, *, authorized: bool = True) -> set[str]:
        return {
            r.destination
            for r in self.records
            if r.username == username and r.authorized == authorized and r.status != 407
        }
