"""A small threaded HTTP server every sandbox stand-in builds on.

Each stand-in subclasses `SandboxHandler`, registers routes, and is served on loopback
by `SandboxServer`. Everything a server receives is recorded (method, path, headers,
body size, JSON/form body when small) so tests can prove what reached "the platform".
Faults are injected per route from Python (`server.faults.add(...)`) or over HTTP
(`POST /__sandbox__/faults`), so a test driving the `piper` subprocess can use them too.
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float
    status: int | None = None
    # the client's "host:port": which requests shared one keep-alive connection
    peer: str = ""

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Fault:
    """Answer the next `times` requests whose path matches `path_regex` with `status`
    and `body` (after `delay` seconds). `then_process=True` handles the request normally
    first and only replaces the answer: the request reached the server, the answer was
    lost — the case idempotency must survive."""

    path_regex: str
    status: int = 500
    body: Any = None
    times: int = 1
    delay: float = 0.0
    then_process: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False
    # With then_process: wait this long after handling, before the (lost) answer — the
    # request took effect but the client gave up waiting (a timeout on its side).
    delay_after: float = 0.0
    # Only slow the request down: after `delay`, handle it normally (a slow platform).
    pass_through: bool = False


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and re.search(fault.path_regex, path):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None


class SandboxHandler(BaseHTTPRequestHandler):
    """Subclasses fill `routes` with (method, path regex, handler); a handler is a method
    of the subclass, taking the path's match."""

    routes: list[tuple[str, str, Callable[[Self, re.Match[str]], None]]] = []
    server: SandboxHTTPServer
    # the request's body once read (forgotten between the requests of one connection)
    _body: bytes
    # BaseHTTPRequestHandler's buffer of header lines not sent yet (not in its stubs)
    _headers_buffer: list[bytes]
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body of an answer
    # on a kept-alive connection waits for the client's delayed ACK (~40 ms). Real API
    # servers send at once, and so do the stand-ins.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    # --- helpers for route handlers -------------------------------------------------
    def read_body(self) -> bytes:
        if hasattr(self, "_body"):
            return self._body
        length = int(self.headers.get("Content-Length") or 0)
        self._body = self.rfile.read(length) if length else b""
        return self._body

    def stream_body(self, block: int = 1 << 20) -> Iterator[bytes]:
        """Yield the body in blocks without keeping it; it is then recorded as empty.
        Yields nothing if the body was already read or streamed."""
        if hasattr(self, "_body"):
            return
        remaining = int(self.headers.get("Content-Length") or 0)
        self._body = b""
        while remaining > 0:
            data = self.rfile.read(min(block, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data

    def discard_body(self) -> None:
        for _ in self.stream_body():
            pass

    def json_body(self) -> Any:
        try:
            return json.loads(self.read_body() or b"{}")
        except ValueError:
            return None

    def form_body(self) -> dict[str, list[str]]:
        return parse_qs(self.read_body().decode("utf-8", "replace"), keep_blank_values=True)

    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_bytes(status, data, "application/json", headers)

    def send_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str = "text/plain",
        headers: dict[str, str] | None = None,
    ) -> None:
        self._status = status
        if self.__dict__.get("_record_mode") == "auto":
            # record before the answer leaves: a client holding the answer sees the record
            self._record_mode = "done"
            self._record(self._route_path, status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    # --- dispatch ------------------------------------------------------------------
    def _dispatch(self: Self) -> None:
        # One handler instance serves every request of a keep-alive connection: forget
        # the previous request's body and status before handling this one.
        self.__dict__.pop("_body", None)
        self.__dict__.pop("_status", None)
        self._record_mode = "off"
        path = urlsplit(self.path).path
        self._route_path = path
        if path.startswith("/__sandbox__/"):
            self._control(path)
            return
        fault = self.server.faults.take(path)
        if fault and fault.delay:
            time.sleep(fault.delay)  # simulates a slow platform, not test synchronisation
        if fault and fault.pass_through:
            fault = None
        if fault and fault.drop_connection and not fault.then_process:
            self.read_body()
            self._record(path, None)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if fault and not fault.then_process:
            self.read_body()
            self._record(path, fault.status)
            self.send_json(fault.status, fault.body, fault.headers)
            return
        for method, pattern, handler in self.routes:
            if method != self.command:
                continue
            match = re.fullmatch(pattern, path)
            if match:
                if fault and fault.then_process:
                    self._run_then_lose(handler, match, fault, path)
                    return
                self._record_mode = "auto"
                handler(self, match)
                if self._record_mode == "auto":  # the handler never answered
                    self._record_mode = "done"
                    self.read_body()
                    self._record(path, getattr(self, "_status", None))
                return
        self.read_body()
        self._record(path, 404)
        self.send_json(404, {"error": "not_found", "path": path})

    def _run_then_lose(
        self: Self,
        handler: Callable[[Self, re.Match[str]], None],
        match: re.Match[str],
        fault: Fault,
        path: str,
    ) -> None:
        # Run the real handler against a throwaway output, then answer with the fault.
        real_wfile = self.wfile
        sink = _Sink()
        self.wfile = sink
        saved = self._headers_buffer if hasattr(self, "_headers_buffer") else None
        try:
            handler(self, match)
        finally:
            self.wfile = real_wfile
            self._headers_buffer = saved or []
        self.read_body()
        self._record(path, fault.status)
        if fault.delay_after:
            time.sleep(fault.delay_after)  # the answer is late, not test synchronisation
        if fault.drop_connection:
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.send_json(fault.status, fault.body, fault.headers)

    def _record(self, path: str, status: int | None) -> None:
        self.server.record(
            Recorded(
                method=self.command,
                path=path,
                query=self.query(),
                headers={k: v for k, v in self.headers.items()},
                body=self.read_body(),
                at=time.time(),
                status=status,
                peer="{}:{}".format(*self.client_address[:2]),
            )
        )

    def _control(self, path: str) -> None:
        if path == "/__sandbox__/faults" and self.command == "POST":
            data = self.json_body() or {}
            self.server.faults.add(Fault(**data))
            self.send_json(200, {"ok": True})
        elif path == "/__sandbox__/faults" and self.command == "DELETE":
            self.server.faults.clear()
            self.send_json(200, {"ok": True})
        elif path == "/__sandbox__/requests" and self.command == "GET":
            self.send_json(
                200,
                [r.__dict__ | {"body": None, "size": len(r.body)} for r in self.server.requests],
            )
        elif path == "/__sandbox__/state" and self.command == "GET":
            self.send_json(200, self.server.state_snapshot())
        elif not self.server.handle_control(self, path):
            self.send_json(404, {"error": "unknown control"})

    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_PATCH = _dispatch
    do_DELETE = _dispatch
    do_HEAD = _dispatch


class _Sink(io.BufferedIOBase):
    """An output that forgets what is written: the answer that never reaches the client."""

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer, /) -> int:
        return memoryview(data).nbytes


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[SandboxHandler]) -> None:
        super().__init__(address, handler)
        self.faults = FaultBook()
        self.requests: list[Recorded] = []
        self.lock = threading.RLock()
        # Bodies above this are recorded by size only, to keep memory flat.
        self.max_recorded_body = 64 * 1024

    @property
    def bound_address(self) -> tuple[str, int]:
        """The loopback (host, port) it listens on; bound from text, the host reads as text."""
        host, port = self.server_address[:2]
        return (host if isinstance(host, str) else bytes(host).decode()), port

    @property
    def base_url(self) -> str:
        host, port = self.bound_address
        return f"http://{host}:{port}"

    def record(self, entry: Recorded) -> None:
        if len(entry.body) > self.max_recorded_body:
            entry.body = b""
        with self.lock:
            self.requests.append(entry)

    def state_snapshot(self) -> Any:
        return {}

    def handle_control(self, handler: SandboxHandler, path: str) -> bool:
        """Stand-ins add their own `/__sandbox__/...` controls here; True if answered."""
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, dropped connection) is expected here, not news.
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """Runs a `SandboxHTTPServer` subclass on a loopback port in a daemon thread."""

    server_class: type[SandboxHTTPServer] = SandboxHTTPServer
    handler_class: type[SandboxHandler] = SandboxHandler
    name = "sandbox"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if not host.startswith("127.") and host not in ("localhost", "::1"):
            raise ValueError("sandbox servers listen on loopback only")
        self.httpd = self.server_class((host, port), self.handler_class)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self.httpd.base_url

    @property
    def requests(self) -> list[Recorded]:
        with self.httpd.lock:
            return list(self.httpd.requests)

    @property
    def faults(self) -> FaultBook:
        return self.httpd.faults

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever,
            # a short poll keeps stop() quick; tests start and stop many servers
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
