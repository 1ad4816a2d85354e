"""Issue 16, item 13: another local user cannot keep Piper from starting by binding its
single-instance socket first; only a socket of ours, in a folder of ours, counts."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import shiboken6

from piper_desktop.ui.single_instance import SingleInstance, server_name

pytestmark = pytest.mark.skipif(os.name != "posix", reason="Unix sockets")


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # short, like /run/user/UID: a socket path must fit in 104 bytes
    folder = Path(tempfile.mkdtemp(prefix="xdg"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _squat(path: Path) -> Iterator[socket.socket]:
    """A listening Unix socket at `path`, as any local process could make."""
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    squatter.bind(str(path))
    squatter.listen(8)
    try:
        yield squatter
    finally:
        squatter.close()
        path.unlink(missing_ok=True)


def test_a_socket_someone_bound_under_tmp_does_not_stop_piper(
    tmp_path: Path, runtime: Path, qtbot
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # where the socket used to be: /tmp/<name>, which every local user can create
    with _squat(Path(tempfile.gettempdir()) / server_name(data)):
        piper = SingleInstance(data)
        assert not piper.notify_running(timeout_ms=300)
        assert piper.listen()
        server = piper.server
        try:
            assert piper.path is not None and piper.path.parent == runtime / "piper-desktop"
            mode = os.lstat(piper.path.parent).st_mode
            assert stat.S_IMODE(mode) == 0o700
            second = SingleInstance(data)
            with qtbot.waitSignal(piper.activated, timeout=10_000):
                assert second.notify_running()
        finally:
            piper.close()
        qtbot.waitUntil(lambda: not shiboken6.isValid(server))


@pytest.mark.skipif(os.geteuid() != 0, reason="making a folder of another user needs root")
def test_a_runtime_folder_of_another_user_is_not_used(tmp_path: Path, runtime: Path, qapp) -> None:
    data = tmp_path / "data"
    data.mkdir()
    theirs = runtime / "piper-desktop"
    theirs.mkdir(mode=0o777)
    os.chmod(theirs, 0o777)
    os.chown(theirs, 65534, 65534)
    from piper_desktop.ui.single_instance import socket_path

    with _squat(theirs / (server_name(data.resolve())[14:30] + ".sock")):
        chosen = socket_path(data)
        assert chosen is not None and chosen.parent != theirs
        piper = SingleInstance(data)
        assert not piper.notify_running(timeout_ms=300)


def test_an_open_folder_of_ours_is_closed_and_a_foreign_file_is_no_instance(
    tmp_path: Path, runtime: Path, qapp
) -> None:
    from piper_desktop.ui.single_instance import socket_path

    data = tmp_path / "data"
    data.mkdir()
    ours = runtime / "piper-desktop"
    ours.mkdir()
    os.chmod(ours, 0o777)
    path = socket_path(data)
    assert path is not None and path.parent == ours
    assert stat.S_IMODE(os.lstat(ours).st_mode) == 0o700
    path.write_text("not a socket")
    assert not SingleInstance(data).notify_running(timeout_ms=300)
