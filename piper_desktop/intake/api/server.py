"""The API as a hosted service of the engine (engine/hosted.py): uvicorn in a thread.

On when `piper run --api` asks (options {"api": True, "api_port": N}) or, without that
flag, when the setting `api.enabled` is on. GUI tray mode (option "api_live") hosts an
`ApiHost` instead, which follows the settings while the engine runs: the settings page
calls `apply_settings()` after a change, and the API starts, stops or moves port at
once. It binds 127.0.0.1 only; port 0 takes a free one, and `address` is the real one.
Requests run the domain services on uvicorn's thread pool, beside the engine's loop.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...domain.errors import DomainError
from ...domain.intake import intake_dir
from ...domain.services import Services
from ...engine.hosted import HostContext
from ...logs import get_logger
from ...owner_only import private_dir
from .token import ensure_token

log = get_logger("api")
HOST = "127.0.0.1"
# seconds a stop waits for requests in flight before closing them
STOP_GRACE = 3

_serving_lock = threading.Lock()
_serving: list[ApiServer] = []


_hosts: list[ApiHost] = []


def serving_address() -> str | None:
    """The address this process serves the API on, or None (the GUI's settings page)."""
    with _serving_lock:
        return _serving[-1].address if _serving else None


class ApiServer:
    name = "api"

    def __init__(
        self,
        services: Services,
        folder: Path,
        port: int,
        *,
        max_upload_bytes: int | None = None,
        wake: Callable[[str], None] | None = None,
    ) -> None:
        self.services = services
        self.folder = folder
        self.port = port
        self.max_upload_bytes = max_upload_bytes
        self.wake = wake
        self.address = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn

        from .app import MAX_UPLOAD_BYTES, build_app

        ensure_token(self.services.settings)  # there is always one to show and to check
        app = build_app(
            self.services,
            self.folder,
            max_upload_bytes=self.max_upload_bytes or MAX_UPLOAD_BYTES,
            wake=self.wake,
        )
        # bound here, not by uvicorn: a port in use fails start() (one line in the log),
        # and port 0's real number is known before the first request
        # IPPROTO_TCP named: asyncio turns Nagle off (TCP_NODELAY) only on sockets that
        # say so, and without it every answer waited ~40 ms for a delayed ACK
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        if os.name != "nt":  # back on the same port right after a stop (TIME_WAIT)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self.port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            ws="none",
            server_header=False,
            timeout_graceful_shutdown=STOP_GRACE,
        )
        self._server = uvicorn.Server(config)
        self.address = f"http://{HOST}:{sock.getsockname()[1]}"
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name="piper-api", daemon=True
        )
        self._thread.start()
        with _serving_lock:
            _serving.append(self)

    def _serve(self, sock: socket.socket) -> None:
        try:
            self._server.run(sockets=[sock])
        except Exception:
            log.exception("the API stopped serving")
        finally:
            sock.close()

    def stop(self) -> None:
        with _serving_lock:
            if self in _serving:
                _serving.remove(self)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_GRACE + 5)
            self._thread = None

    def status(self) -> str:
        alive = self._thread is not None and self._thread.is_alive()
        return f"listening on {self.address}" if alive else "stopped"


class ApiHost:
    """GUI tray mode's API: serves while `api.enabled` is on, on `api.port`, and follows
    changes of either at `apply()`. A failure to serve (a port in use) is its status, so
    the next `apply()` can try again."""

    name = "api"

    def __init__(self, context: HostContext) -> None:
        self.context = context
        self.server: ApiServer | None = None
        self.error = ""
        self._lock = threading.Lock()

    def start(self) -> None:
        with _serving_lock:
            _hosts.append(self)
        try:
            self.apply()
        except Exception as exc:  # kept hosted: the operator may pick another port
            log.error("the API did not start: %s", exc)

    def apply(self) -> str:
        settings = self.context.services.settings
        with self._lock:
            enabled, port = bool(settings.get("api.enabled")), int(settings.get("api.port"))
            if self.server is not None and (not enabled or self.server.port != port):
                self.server.stop()
                self.server = None
            self.error = ""
            if enabled and self.server is None:
                server = _server_for(self.context, port)
                try:
                    server.start()
                except OSError as exc:
                    self.error = f"not serving: port {port}: {exc.strerror or exc}"
                    raise DomainError(self.error) from None
                self.server = server
            return self.status()

    def stop(self) -> None:
        with _serving_lock:
            if self in _hosts:
                _hosts.remove(self)
        with self._lock:
            if self.server is not None:
                self.server.stop()
                self.server = None

    def status(self) -> str:
        if self.server is not None:
            return self.server.status()
        return self.error or "off (the setting api.enabled)"


def apply_settings() -> list[str]:
    """After the settings page changed api.enabled or api.port: every engine of this
    process that hosts the API follows them now. Their statuses (empty: none runs)."""
    with _serving_lock:
        hosts = list(_hosts)
    return [host.apply() for host in hosts]


def hosted_api(context: HostContext) -> ApiServer | ApiHost | None:
    """The engine's factory: GUI tray mode's ApiHost; else an ApiServer when asked for
    or enabled, or None."""
    if context.options.get("api_live"):
        return ApiHost(context)
    settings = context.services.settings
    wanted = context.options.get("api")
    if not (settings.get("api.enabled") if wanted is None else wanted):
        return None
    port = context.options.get("api_port")
    return _server_for(context, int(settings.get("api.port") if port is None else port))


def _server_for(context: HostContext, port: int) -> ApiServer:
    if context.data_dir is not None:
        folder = intake_dir(context.data_dir, "api")
    else:  # an engine without a data dir (tests): a private folder of its own
        folder = private_dir(Path(tempfile.mkdtemp(prefix="piper-api-")))
    return ApiServer(
        context.services,
        folder,
        port,
        max_upload_bytes=context.options.get("api_max_upload_bytes"),
        wake=context.engine.wake,
    )
