"""Small test doubles shared by the client, sandbox and publishing tests."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

from piper_desktop.domain import token_claims
from piper_desktop.sandbox.media import write_video

MB = 1024 * 1024


class FakeClock:
    """A wall clock tests move by hand; `sleep` moves it instead of waiting."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += max(seconds, 0.0)


class DictCredentialStore:
    """An in-memory CredentialStore (the interface the domain layer implements)."""

    def __init__(self) -> None:
        self.data: dict[tuple[int, str], dict[str, Any]] = {}
        self.saves: list[tuple[int, str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def load(self, account_id: int, route: str) -> dict[str, Any]:
        return dict(self.data.get((account_id, route), {}))

    def save(self, account_id: int, route: str, data: dict[str, Any]) -> None:
        with self._lock:
            self.data[(account_id, route)] = dict(data)
            self.saves.append((account_id, route, dict(data)))

    # the refresh claim (domain/token_claims.py) under a lock, as the vault does it in a
    # write transaction
    def claim_refresh(
        self,
        account_id: int,
        route: str,
        refresh_token: str,
        holder: str,
        now: float,
        hold_for: float = token_claims.CLAIM_SECONDS,
    ) -> token_claims.RefreshClaim:
        with self._lock:
            data = self.data.get((account_id, route), {})
            verdict, written = token_claims.claim(data, refresh_token, holder, now, hold_for)
            if written is not None:
                self.data[(account_id, route)] = written
            return verdict

    def finish_refresh(
        self,
        account_id: int,
        route: str,
        refresh_token: str,
        holder: str,
        new: dict[str, Any] | None,
    ) -> bool:
        with self._lock:
            data = self.data.get((account_id, route), {})
            written = token_claims.finish(data, refresh_token, holder, new)
            if written is None:
                return False
            self.data[(account_id, route)] = written
            if new is not None:
                self.saves.append((account_id, route, dict(written)))
            return True


def sparse_file(path: Path, size: int) -> Path:
    """A real video of `size` bytes that takes almost no disk: a 1 s clip, then a
    sparse MP4 `free` box (FFmpeg skips it) up to the size."""
    write_video(path, size=size)
    assert path.stat().st_size == size
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(MB):
            digest.update(block)
    return digest.hexdigest()
