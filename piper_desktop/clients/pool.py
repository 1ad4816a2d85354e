"""API clients kept per proxy and reused.

A publisher used to build a client (and so an httpx connection pool) for every submit
and every status check: each call paid a new TCP connection and TLS handshake, through
the account's proxy. Kept per proxy, a client's idle connections serve the next call
(httpx replaces those idle past its keep-alive expiry on that call; `close()` ends the
rest). Clients are shared by worker threads, as httpx allows, and by the accounts
behind one proxy, so they keep no cookies (clients/http.py). One evicted or closed
while a call is using it is closed when that call ends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)

# distinct proxies whose clients stay open; an agency's accounts rarely share fewer
DEFAULT_SIZE = 64


@dataclass
class _Entry(Generic[C]):
    client: C
    users: int = 0
    retired: bool = False


class ClientPool(Generic[C]):
    def __init__(self, build: Callable[[str | None], C], *, size: int = DEFAULT_SIZE) -> None:
        if size < 1:
            raise ValueError("a client pool holds at least one client")
        self._build = build
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str | None, _Entry[C]] = OrderedDict()
        self._closed = False

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    @contextmanager
    def lease(self, proxy_url: str | None) -> Iterator[C]:
        """The client for `proxy_url` (None: direct), for the length of one call."""
        retired: list[_Entry[C]] = []
        with self._lock:
            entry = self._entries.pop(proxy_url, None)
            if entry is None:
                entry = _Entry(self._build(proxy_url))
            entry.users += 1
            if self._closed:
                entry.retired = True  # after close(): used once, then closed
            else:
                self._entries[proxy_url] = entry  # most recently used last
                while len(self._entries) > self._size:
                    _key, old = self._entries.popitem(last=False)
                    old.retired = True
                    if old.users == 0:
                        retired.append(old)
        for old in retired:
            old.client.close()
        try:
            yield entry.client
        finally:
            with self._lock:
                entry.users -= 1
                done = entry.retired and entry.users == 0
            if done:
                entry.client.close()

    def close(self) -> None:
        """Close every idle client; one in use closes when its call ends."""
        with self._lock:
            self._closed = True
            entries = list(self._entries.values())
            self._entries.clear()
            idle = []
            for entry in entries:
                entry.retired = True
                if entry.users == 0:
                    idle.append(entry)
        for entry in idle:
            entry.client.close()
