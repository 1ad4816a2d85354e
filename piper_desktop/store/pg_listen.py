"""Hearing other desktops' changes on a team server: LISTEN/NOTIFY.

Migration 0008's triggers NOTIFY `piper_changes` with "<table> <application_name>" when
a transaction changed what desktops show or schedule. A `ChangeListener` holds one
connection of its own (autocommit, outside the pool), LISTENs, and calls `on_change`
with the tables that other writers changed — its own database's writes carry its own
application_name and are left out. Notifications arriving close together are handed
over as one call (PostgreSQL already folds a transaction's duplicates into one).

A lost connection is opened again with a growing pause; since notifications sent while
it was away are gone, the first call after it is back names every table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from ..logs import get_logger

log = get_logger("store")

CHANNEL = "piper_changes"
TABLES = frozenset(
    {"jobs", "accounts", "campaigns", "proxies", "media_items", "browser_profiles", "settings"}
)
GATHER_S = 0.05  # notifications this close together become one call
POLL_S = 0.5  # how often the loop looks at its stop flag while nothing arrives
RETRY_S = (0.5, 1.0, 2.0, 5.0, 10.0)


def libpq_url(sqlalchemy_url: str) -> str:
    """The SQLAlchemy URL (postgresql+psycopg://...) as libpq takes it."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


class ChangeListener:
    def __init__(
        self, url: str, own_name: str, on_change: Callable[[frozenset[str]], None]
    ) -> None:
        self._url = libpq_url(url)
        self._own = own_name
        self._on_change = on_change
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while LISTEN is in place

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="piper-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=POLL_S * 4)
            self._thread = None

    def _run(self) -> None:
        failures = 0
        missed = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    failures = 0
                    if missed:
                        self._deliver(TABLES)  # what was said while away is gone
                    self._listen(conn)
            except psycopg.Error as exc:
                self.listening.clear()
                missed = True
                pause = RETRY_S[min(failures, len(RETRY_S) - 1)]
                failures += 1
                # the server's message names no secret; the URL is not in it
                log.warning(
                    "team server: listening stopped (%s); again in %.1fs", type(exc).__name__, pause
                )
                self._stop.wait(pause)
        self.listening.clear()

    def _listen(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        while not self._stop.is_set():
            changed: set[str] = set()
            for note in conn.notifies(timeout=POLL_S, stop_after=1):
                self._take(note.payload, changed)
            if not changed:
                continue
            # a burst (a campaign of many jobs, several desktops at once): one call
            for note in conn.notifies(timeout=GATHER_S):
                self._take(note.payload, changed)
            if changed:
                self._deliver(frozenset(changed))

    def _take(self, payload: str, changed: set[str]) -> None:
        table, _, writer = payload.partition(" ")
        if writer != self._own and table in TABLES:
            changed.add(table)

    def _deliver(self, tables: frozenset[str]) -> None:
        try:
            self._on_change(tables)
        except Exception:  # a listener's failure must not end the listening
            log.exception("a change listener failed")
