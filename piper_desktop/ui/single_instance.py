"""One Piper per data dir: a second launch asks the running one to come forward.

The running instance listens on a local socket named after the data dir (and the user);
a new one first tries to connect, says "show" and exits if someone answers.

On Unix the socket lives in a directory only its owner can enter (the user's runtime
dir, else the data dir, else a per-user folder under the temp dir — each used only when
it is ours, not a link, and 0700), and a socket counts as a running Piper only when it
and the process behind it belong to this user. A plain name would sit in /tmp, where
any local user can bind it first and keep Piper from starting. Windows names a pipe
(QLocalServer.UserAccessOption limits it to this user).
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket as pysocket
import stat
import struct
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from ..logs import get_logger

MESSAGE = b"show\n"
_PATH_MAX = 100  # sun_path holds 104 (macOS) or 108 (Linux) bytes
log = get_logger("ui")


def server_name(data_dir: Path) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "user"
    key = f"{user}|{data_dir.expanduser().resolve()}"
    return "piper-desktop-" + hashlib.sha256(key.encode()).hexdigest()[:20]


def private_dir(path: Path) -> bool:
    """Make `path` a directory only this user can enter, if it can be: True when it is
    ours, a real directory (not a link) and 0700 (a group or world bit of our own is
    closed); False when it belongs to someone else or cannot be made."""
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False
    if info.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError:
            return False
    return True


def _candidates(data_dir: Path) -> Iterator[Path]:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        yield Path(runtime) / "piper-desktop"
    run_user = Path(f"/run/user/{os.getuid()}")
    if run_user.is_dir():
        yield run_user / "piper-desktop"
    if data_dir.is_dir():
        yield data_dir / "run"
    yield Path(tempfile.gettempdir()) / f"piper-desktop-{os.getuid()}"


def socket_path(data_dir: Path) -> Path | None:
    """Where this data dir's instance socket lives, or None when no private place was
    found (then there is no single-instance check, rather than a spoofable one)."""
    data_dir = data_dir.expanduser().resolve()
    name = server_name(data_dir).removeprefix("piper-desktop-")[:16] + ".sock"
    for folder in _candidates(data_dir):
        path = folder / name
        if len(os.fsencode(path)) < _PATH_MAX and private_dir(folder):
            return path
    return None


def _peer_uid(socket: QLocalSocket) -> int | None:
    """The uid of the process at the other end (Linux SO_PEERCRED), None elsewhere."""
    option = getattr(pysocket, "SO_PEERCRED", None)
    descriptor = int(socket.socketDescriptor())
    if option is None or descriptor < 0:
        return None
    probe = pysocket.socket(fileno=os.dup(descriptor))
    try:
        _pid, uid, _gid = struct.unpack("3i", probe.getsockopt(pysocket.SOL_SOCKET, option, 12))
    except OSError:
        return None
    finally:
        probe.close()
    return uid


class SingleInstance(QObject):
    activated = Signal()

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.server: QLocalServer | None = None
        if sys.platform == "win32":
            self.path: Path | None = None
            self.name: str | None = server_name(data_dir)
        else:
            self.path = socket_path(data_dir)
            self.name = str(self.path) if self.path is not None else None
            if self.name is None:
                log.warning("no private folder for the single-instance socket; not checking")

    def _ours(self) -> bool:
        """The socket file is a socket of this user's (in a folder only we can enter)."""
        if self.path is None:
            return sys.platform == "win32"
        try:
            info = os.lstat(self.path)
        except OSError:
            return False
        return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()

    def notify_running(self, timeout_ms: int = 800) -> bool:
        """True if another instance of ours answered (and was asked to show itself)."""
        if self.name is None or not self._ours():
            return False
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(timeout_ms):
            return False
        peer = _peer_uid(socket)
        if peer is not None and peer != os.getuid():
            log.warning("the instance socket is held by another user (uid %s); ignored", peer)
            socket.abort()
            return False
        socket.write(MESSAGE)
        socket.flush()
        socket.waitForBytesWritten(timeout_ms)
        socket.disconnectFromServer()
        if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            socket.waitForDisconnected(timeout_ms)
        return True

    def listen(self) -> bool:
        if self.name is None:
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # a socket file left by a crashed instance: nobody answered, so remove it
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return False
        server.newConnection.connect(self._connection)
        self.server = server
        return True

    def _connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            if socket is None:
                break
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        if MESSAGE.strip() in data:
            self.activated.emit()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server.deleteLater()
            self.server = None
