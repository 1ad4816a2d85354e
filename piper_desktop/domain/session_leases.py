"""One machine at a time holds an account's browser session (team mode, issue 19).

A browser session's storage state (cookies, local storage) cannot be shared: two
windows on one session log each other out, and whichever closes last overwrites the
other's cookies. So whoever opens a browser context with an account's session — the web
publisher, a login check, `piper browser open`, the GUI's window — first takes the
account's session lease, keeps it renewed while the context is open, saves the state
back and releases it. The same rule keeps `piper browser open` and the engine of one
data dir apart on a single desktop.

- The holder is this process's lease owner for the database (`process_owner`): one
  process's publisher, login checks and windows share it (the account policy already
  keeps one job per account in flight), so taking again what this process holds is
  allowed.
- A lease is free when there is none, when it ran out, or when its holder is a process
  of this host that is gone (domain/leases.py: pid liveness only on its own host; other
  hosts' leases run out first). Held leases are renewed by a thread of this process
  until released, so a long upload or an open window keeps its session.
- Saving a session back (`AccountService.save_storage_state` calls `check_save`) is
  refused while another live holder has it: a holder whose lease was taken over must
  not overwrite the newer state.
"""

from __future__ import annotations

import getpass
import socket
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..logs import get_logger
from ..store.models import Account, SessionLease, TeamDesktop
from .errors import DomainError
from .leases import LeaseOwner, owner_is_dead

log = get_logger("sessions")

TTL = timedelta(minutes=5)
RENEW_EVERY = 60.0  # seconds; well inside the TTL
# a job whose account session another desktop holds is tried again this much later
SESSION_WAIT = 60.0


@dataclass(frozen=True)
class Holder:
    desktop: str
    operator: str
    purpose: str
    taken_at: datetime

    def line(self, account: str) -> str:
        since = self.taken_at.astimezone(UTC).strftime("%H:%M UTC")
        return (
            f"session of {account} is in use at {self.desktop} (operator {self.operator}) "
            f"since {since}: {self.purpose}"
        )


class SessionBusy(DomainError):
    """Another live process holds the account's browser session."""

    def __init__(self, account: str, holder: Holder) -> None:
        super().__init__(holder.line(account))
        self.account = account
        self.holder = holder


_owners: weakref.WeakKeyDictionary[Any, LeaseOwner] = weakref.WeakKeyDictionary()
_owners_lock = threading.Lock()


def process_owner(db: Any) -> LeaseOwner:
    """This process's session-lease owner for `db` (a team desktop's id goes in it)."""
    with _owners_lock:
        owner = _owners.get(db)
        if owner is None:
            owner = _owners[db] = LeaseOwner.new(getattr(db, "desktop_id", None))
        return owner


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _who(session: Session, db: Any) -> tuple[str, str]:
    """(desktop name, operator) for people reading a busy line."""
    desktop_id = getattr(db, "desktop_id", None)
    if desktop_id:
        row = session.get(TeamDesktop, desktop_id)
        if row is not None:
            return row.name[:120], row.operator[:120]
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):
        operator = "?"
    return socket.gethostname()[:120], operator[:120]


def _live_other(row: SessionLease | None, me: LeaseOwner, now: datetime) -> bool:
    if row is None or row.holder == str(me) or row.expires_at < now:
        return False
    return not owner_is_dead(row.holder, me)


def _holder(row: SessionLease) -> Holder:
    return Holder(row.desktop, row.operator, row.purpose, row.taken_at)


def _account_name(session: Session, account_id: int) -> str:
    account = session.get(Account, account_id)
    return f"{account.platform}:{account.username}" if account is not None else f"#{account_id}"


def check_save(session: Session, db: Any, account_id: int, now: datetime | None = None) -> None:
    """Inside a write: refuse to save a session another live process holds."""
    row = session.get(SessionLease, account_id, populate_existing=True)
    me = process_owner(db)
    if _live_other(row, me, now or _utcnow()):
        assert row is not None
        raise SessionBusy(_account_name(session, account_id), _holder(row))


class _Renewer:
    """Keeps this process's held leases alive while any is held."""

    def __init__(self, leases: SessionLeases) -> None:
        self.leases = leases
        self.held: set[int] = set()
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None

    def add(self, account_id: int) -> None:
        with self.lock:
            self.held.add(account_id)
            self.wake.clear()  # a drop just before must not end the thread now
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="piper-session-leases", daemon=True
                )
                self.thread.start()

    def drop(self, account_id: int) -> None:
        with self.lock:
            self.held.discard(account_id)
            if not self.held:
                self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait(RENEW_EVERY)
            with self.lock:
                held = sorted(self.held)
                if not held:  # decided under the lock that add() takes too
                    self.thread = None
                    return
                self.wake.clear()
            try:
                self.leases.renew(held)
            except Exception as exc:  # the server away: the next round tries again
                log.warning("session leases not renewed: %s", exc)


# this process's holds per database and owner: account -> [holds, one exclusive?];
# the row goes only when the last hold is released
_holds: weakref.WeakKeyDictionary[Any, dict[str, dict[int, list[Any]]]] = (
    weakref.WeakKeyDictionary()
)


_renewers: weakref.WeakKeyDictionary[Any, _Renewer] = weakref.WeakKeyDictionary()


class SessionLeases:
    def __init__(
        self,
        db: Any,
        *,
        owner: LeaseOwner | None = None,
        ttl: timedelta = TTL,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.owner = owner or process_owner(db)
        self.ttl = ttl
        self.now = now or _utcnow

    def _renewer(self) -> _Renewer:
        with _owners_lock:
            renewer = _renewers.get(self.db)
            if renewer is None:
                renewer = _renewers[self.db] = _Renewer(self)
            return renewer

    def _mine(self) -> dict[int, list[Any]]:
        with _owners_lock:
            return _holds.setdefault(self.db, {}).setdefault(str(self.owner), {})

    def holder(self, account_id: int) -> Holder | None:
        """Who else has the account's session now: another process, or a window of this
        one that shares it with nobody (None: free, or shared by this process)."""
        exclusive = bool(self._mine().get(account_id, [0, False])[1])
        with self.db.session() as session:
            row = session.get(SessionLease, account_id)
            if row is None:
                return None
            if exclusive or _live_other(row, self.owner, self.now()):
                return _holder(row)
            return None

    def take(self, account_id: int, purpose: str, *, shared: bool = True) -> None:
        """Take the account's session, or SessionBusy naming who has it. `shared`: this
        process may already hold it (its publisher, its windows); False for work that
        must not run beside them (a login check would release their lease)."""
        mine = self._mine()
        with _owners_lock:
            held = mine.get(account_id)
            if held is not None and held[0] > 0 and (held[1] or not shared):
                in_use = True
            else:
                in_use = False
        if in_use:
            current = self.holder(account_id)
            if current is not None:
                with self.db.session() as session:
                    raise SessionBusy(_account_name(session, account_id), current)
        try:
            self._take(account_id, purpose, shared)
        except IntegrityError:
            # another desktop inserted the first lease row at the same moment: read it
            self._take(account_id, purpose, shared)
        with _owners_lock:
            held = mine.setdefault(account_id, [0, False])
            held[0] += 1
            held[1] = held[1] or not shared
        self._renewer().add(account_id)

    def _take(self, account_id: int, purpose: str, shared: bool) -> None:
        now = self.now()
        me = str(self.owner)
        with self.db.write() as session:
            row = session.get(SessionLease, account_id, with_for_update=True)
            mine_in_use = not shared and row is not None and row.holder == me
            if mine_in_use or _live_other(row, self.owner, now):
                assert row is not None
                raise SessionBusy(_account_name(session, account_id), _holder(row))
            desktop, operator = _who(session, self.db)
            if row is None:
                session.add(
                    SessionLease(
                        account_id=account_id,
                        holder=me,
                        desktop=desktop,
                        operator=operator,
                        purpose=purpose[:40],
                        taken_at=now,
                        expires_at=now + self.ttl,
                    )
                )
            else:
                if row.holder != me:
                    row.taken_at = now
                row.holder, row.desktop, row.operator = me, desktop, operator
                row.purpose, row.expires_at = purpose[:40], now + self.ttl

    def renew(self, account_ids: list[int] | None = None) -> int:
        """Push out the expiry of the leases this process holds; returns how many."""
        statement = update(SessionLease).where(SessionLease.holder == str(self.owner))
        if account_ids is not None:
            statement = statement.where(SessionLease.account_id.in_(account_ids))
        with self.db.write() as session:
            result = session.execute(
                statement.values(expires_at=self.now() + self.ttl),
                execution_options={"synchronize_session": False},
            )
        return int(getattr(result, "rowcount", 0) or 0)

    def release(self, account_id: int) -> None:
        """Give one hold back; the last one gives the session back (if this process
        still holds it)."""
        mine = self._mine()
        with _owners_lock:
            held = mine.get(account_id)
            if held is not None:
                held[0] -= 1
                if held[0] > 0:
                    return
                del mine[account_id]
        self._renewer().drop(account_id)
        with self.db.write() as session:
            session.execute(
                delete(SessionLease).where(
                    SessionLease.account_id == account_id,
                    SessionLease.holder == str(self.owner),
                ),
                execution_options={"synchronize_session": False},
            )

    @contextmanager
    def hold(self, account_id: int, purpose: str, *, shared: bool = True) -> Iterator[None]:
        """Hold the session for the block (taken, renewed, released)."""
        self.take(account_id, purpose, shared=shared)
        try:
            yield
        finally:
            try:
                self.release(account_id)
            except Exception as exc:  # it runs out by itself
                log.warning("session of account %s not released: %s", account_id, exc)

    def held_by_me(self) -> list[int]:
        with self.db.session() as session:
            return list(
                session.scalars(
                    select(SessionLease.account_id).where(
                        SessionLease.holder == str(self.owner)
                    )
                )
            )
