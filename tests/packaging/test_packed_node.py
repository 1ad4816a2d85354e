"""The xz-packed Node.js the frozen app unpacks on first use, on a small fake "node".

No frozen build needed: a few MiB of bytes stand in for Node, packed with the same
function the build uses.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright._impl import _driver

from piper_desktop import frozen
from piper_desktop.packed_node import (
    CHUNK,
    STALE_TEMP_SECONDS,
    PackedFile,
    TargetNotWritable,
    Unpacked,
    UnpackError,
    ensure_unpacked,
    manifest_path,
    pack_file,
    read_packed,
)

NODE = "node.exe" if sys.platform == "win32" else "node"
BARRIER_TIMEOUT = 60


def fake_node_bytes(size: int = 3 * CHUNK + 12345) -> bytes:
    # Half random (so the archive is not trivially small), half text; several chunks long.
    half = size // 2
    return os.urandom(half) + (b"#!/fake/node\n" * size)[: size - half]


@pytest.fixture(scope="module")
def packed_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[PackedFile, bytes]:
    """Packed once for the module (lzma takes a moment); tests work on copies."""
    folder = tmp_path_factory.mktemp("packed")
    data = fake_node_bytes()
    source = folder / NODE
    source.write_bytes(data)
    return pack_file(source, folder / f"{NODE}.xz", preset=1), data


def copy_packed(original: PackedFile, folder: Path) -> PackedFile:
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / original.archive.name
    shutil.copyfile(original.archive, archive)
    shutil.copyfile(original.manifest, manifest_path(archive))
    return read_packed(archive)


@pytest.fixture
def content(packed_once: tuple[PackedFile, bytes]) -> bytes:
    return packed_once[1]


@pytest.fixture
def packed(tmp_path: Path, packed_once: tuple[PackedFile, bytes]) -> PackedFile:
    return copy_packed(packed_once[0], tmp_path / "app")


def temps_in(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name != NODE] if folder.exists() else []


def test_pack_writes_archive_and_manifest_then_unpacks_an_executable(
    tmp_path: Path, packed: PackedFile, content: bytes
) -> None:
    assert packed.archive.stat().st_size < len(content)
    assert read_packed(packed.archive) == packed
    assert (packed.name, packed.size) == (NODE, len(content))

    result = ensure_unpacked(packed, tmp_path / "cache" / "v1")

    assert result == Unpacked(tmp_path / "cache" / "v1" / NODE, unpacked_now=True)
    assert result.path.read_bytes() == content
    if sys.platform != "win32":
        assert result.path.stat().st_mode & stat.S_IXUSR
    assert temps_in(result.path.parent) == []


def test_an_intact_unpacked_file_is_reused_untouched(tmp_path: Path, packed: PackedFile) -> None:
    first = ensure_unpacked(packed, tmp_path / "cache")
    before = first.path.stat()
    writes: list[int] = []

    again = ensure_unpacked(packed, tmp_path / "cache", progress=writes.append)

    assert again == Unpacked(first.path, unpacked_now=False)
    assert writes == []
    after = again.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data + b"\0", id="longer"),
        pytest.param(
            lambda data: data[:100] + bytes([data[100] ^ 0xFF]) + data[101:], id="same-size"
        ),
        pytest.param(lambda data: b"", id="empty"),
    ],
)
def test_a_damaged_unpacked_file_is_unpacked_again(
    tmp_path: Path, packed: PackedFile, content: bytes, damage: Callable[[bytes], bytes]
) -> None:
    target = ensure_unpacked(packed, tmp_path / "cache").path
    target.write_bytes(damage(content))

    result = ensure_unpacked(packed, tmp_path / "cache")

    assert result.unpacked_now
    assert result.path.read_bytes() == content


def test_the_partial_file_is_never_at_the_target_path(
    tmp_path: Path, packed: PackedFile, content: bytes
) -> None:
    """While it writes, the target is absent (first run) or still the old file (re-unpack)."""
    cache = tmp_path / "cache"
    target = cache / NODE
    seen: list[bool] = []

    def absent(written: int) -> None:
        seen.append(target.exists())
        # The bytes go to a temp file beside the target (same folder: the rename is atomic).
        assert len(temps_in(cache)) == 1

    ensure_unpacked(packed, cache, progress=absent)
    assert len(seen) >= 3 and not any(seen)

    old = b"old node, wrong size"
    target.write_bytes(old)
    held: list[bytes] = []
    ensure_unpacked(packed, cache, progress=lambda written: held.append(target.read_bytes()))
    assert len(held) >= 3 and set(held) == {old}
    assert target.read_bytes() == content


def test_two_threads_unpacking_at_once_both_succeed(
    tmp_path: Path, packed: PackedFile, content: bytes
) -> None:
    cache = tmp_path / "cache"
    both_writing = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    results: dict[int, Unpacked] = {}
    errors: list[BaseException] = []
    seen_at_target: list[bytes] = []

    waited = threading.local()

    def progress(written: int) -> None:
        if not getattr(waited, "done", False):
            waited.done = True
            both_writing.wait()  # both are mid-write: a real overlap, not one after the other
        if (cache / NODE).exists():  # whatever another unpacker put there is whole
            seen_at_target.append((cache / NODE).read_bytes())

    def unpack(n: int) -> None:
        try:
            results[n] = ensure_unpacked(packed, cache, progress=progress)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=unpack, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [results[n].unpacked_now for n in range(2)] == [True, True]
    assert (cache / NODE).read_bytes() == content
    assert all(seen == content for seen in seen_at_target)
    assert temps_in(cache) == []


def _unpack_in_process(archive: str, cache: str, barrier: Any, results: Any, n: int) -> None:
    """One of two processes (spawned: this runs in a fresh interpreter)."""
    packed = read_packed(Path(archive))
    target = Path(cache) / packed.name
    calls: list[int] = []

    def progress(written: int) -> None:
        calls.append(written)
        if len(calls) == 1:
            barrier.wait()
        if target.exists() and target.stat().st_size != packed.size:
            raise AssertionError(f"partial file visible: {target.stat().st_size} bytes")

    result = ensure_unpacked(packed, Path(cache), progress=progress)
    results[n] = f"{result.unpacked_now}:{result.path}"


def test_two_processes_unpacking_at_once_both_succeed(
    tmp_path: Path, packed: PackedFile, content: bytes
) -> None:
    context = multiprocessing.get_context("spawn")
    cache = tmp_path / "cache"
    with context.Manager() as manager:
        barrier = manager.Barrier(2, timeout=BARRIER_TIMEOUT)
        results = manager.dict()
        processes = [
            context.Process(
                target=_unpack_in_process,
                args=(str(packed.archive), str(cache), barrier, results, n),
            )
            for n in range(2)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=120)
        codes = [process.exitcode for process in processes]
        found = dict(results)
    for process in processes:
        process.close()

    assert codes == [0, 0]
    assert found == {0: f"True:{cache / NODE}", 1: f"True:{cache / NODE}"}
    assert (cache / NODE).read_bytes() == content
    assert temps_in(cache) == []


def test_a_damaged_archive_fails_clearly_and_leaves_nothing(
    tmp_path: Path, packed: PackedFile
) -> None:
    data = bytearray(packed.archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    packed.archive.write_bytes(bytes(data))
    cache = tmp_path / "cache"

    with pytest.raises(UnpackError, match="damaged archive") as raised:
        ensure_unpacked(packed, cache)

    assert not isinstance(raised.value, TargetNotWritable)
    assert not (cache / NODE).exists()
    assert temps_in(cache) == []


def test_an_archive_that_unpacks_to_other_bytes_is_refused(
    tmp_path: Path, packed: PackedFile
) -> None:
    wrong = PackedFile(packed.archive, packed.name, packed.size, "0" * 64)

    with pytest.raises(UnpackError, match="do not match its manifest"):
        ensure_unpacked(wrong, tmp_path / "cache")

    assert not (tmp_path / "cache" / NODE).exists()


def test_an_unwritable_cache_dir_says_so(tmp_path: Path, packed: PackedFile) -> None:
    # A regular file where a folder should be: unwritable even for root.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")

    with pytest.raises(TargetNotWritable, match="not writable") as raised:
        ensure_unpacked(packed, blocker / "cache")

    assert str(blocker / "cache") in str(raised.value)


def test_stale_temp_files_are_removed_and_fresh_ones_kept(
    tmp_path: Path, packed: PackedFile
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    stale = cache / ".unpacking-killed.part"
    fresh = cache / ".unpacking-running.part"
    for temp in (stale, fresh):
        temp.write_bytes(b"half a node")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))

    ensure_unpacked(packed, cache)

    assert not stale.exists()
    assert fresh.exists()


def test_pack_keeps_an_archive_that_matches_and_repacks_a_changed_source(
    tmp_path: Path, packed: PackedFile, content: bytes
) -> None:
    source = tmp_path / "build" / NODE
    source.parent.mkdir()
    source.write_bytes(content)
    before = packed.archive.stat().st_mtime_ns

    assert pack_file(source, packed.archive, preset=1) == packed
    assert packed.archive.stat().st_mtime_ns == before

    source.write_bytes(b"a newer node")
    repacked = pack_file(source, packed.archive, preset=1)
    assert (repacked.size, repacked.sha256) != (packed.size, packed.sha256)
    assert ensure_unpacked(repacked, tmp_path / "cache").path.read_bytes() == b"a newer node"


@pytest.fixture
def packed_driver(
    tmp_path: Path, packed_once: tuple[PackedFile, bytes], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A driver folder as the frozen app has it (node.xz beside package/), with
    Playwright's driver lookup restored after the test."""
    driver = tmp_path / "app" / "playwright" / "driver"
    (driver / "package").mkdir(parents=True)
    (driver / "package" / "cli.js").write_text("// cli", encoding="utf-8")
    copy_packed(packed_once[0], driver)
    monkeypatch.setattr(_driver, "compute_driver_executable", _driver.compute_driver_executable)
    transport = sys.modules.get("playwright._impl.transport")
    if transport is not None:
        monkeypatch.setattr(
            transport, "compute_driver_executable", _driver.compute_driver_executable
        )
    monkeypatch.setattr(frozen, "_packed_node", None)
    monkeypatch.delenv("PLAYWRIGHT_NODEJS_PATH", raising=False)
    monkeypatch.setenv("PIPER_CACHE_DIR", str(tmp_path / "user-cache"))
    return driver


def test_playwright_finds_the_node_unpacked_into_the_user_cache(
    tmp_path: Path, packed_driver: Path, content: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert frozen.use_packed_playwright_node(packed_driver)

    node, cli = _driver.compute_driver_executable()

    cache = tmp_path / "user-cache" / frozen.NODE_CACHE_FOLDER
    assert Path(node).parent.parent == cache
    assert Path(node).parent.name.startswith(_playwright_version() + "-")
    assert Path(node).read_bytes() == content
    assert cli == str(packed_driver / "package" / "cli.js")
    # Later starts in the same process reuse it; the self-test reads the same.
    assert frozen.playwright_node() == Unpacked(Path(node), unpacked_now=False)
    # An operator's own Node.js still wins.
    monkeypatch.setenv("PLAYWRIGHT_NODEJS_PATH", "/opt/node/bin/node")
    assert _driver.compute_driver_executable()[0] == "/opt/node/bin/node"


def test_an_unwritable_user_cache_names_the_way_out(
    tmp_path: Path, packed_driver: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("PIPER_CACHE_DIR", str(blocker))
    assert frozen.use_packed_playwright_node(packed_driver)

    with pytest.raises(TargetNotWritable) as raised:
        _driver.compute_driver_executable()

    message = str(raised.value)
    assert "not writable" in message and str(blocker) in message
    assert "PIPER_CACHE_DIR" in message and "PLAYWRIGHT_NODEJS_PATH" in message


def test_without_node_xz_the_driver_is_left_alone(tmp_path: Path, packed_driver: Path) -> None:
    (packed_driver / frozen.PACKED_NODE_NAME).unlink()
    before = _driver.compute_driver_executable

    assert not frozen.use_packed_playwright_node(packed_driver)

    assert _driver.compute_driver_executable is before
    assert frozen.playwright_node() is None


def _playwright_version() -> str:
    from playwright._repo_version import version

    return version
