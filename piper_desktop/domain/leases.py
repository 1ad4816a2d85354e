"""Who holds a job: lease owners, and telling a live holder from a dead one.

A lease owner is "host:pid:token". A lease whose time ran out is free; so is one held
by a process on this host that no longer exists (after a kill -9 there is no need to
wait out the lease). Either way the job is then *reconciled*, never blindly re-run.

On a team server "host" is the desktop's id in the team (random per data dir) with a
tag of the machine it runs on: two desktops cloned from one image share a host name,
and a data dir copied to another machine shares its desktop id; either way a pid
looked up on the wrong machine would take a live desktop's lease. A desktop only ever
judges its own processes by pid; everyone else's lease runs out first.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LeaseOwner:
    host: str
    pid: int
    token: str

    @classmethod
    def new(cls, desktop: str | None = None) -> LeaseOwner:
        """This process's owner; `desktop`: the team desktop's id on a team server."""
        host = f"{desktop[:24]}-{machine_tag()}" if desktop else socket.gethostname()[:40]
        return cls(host, os.getpid(), secrets.token_hex(4))

    @classmethod
    def parse(cls, text: str | None) -> LeaseOwner | None:
        if not text:
            return None
        host, _, rest = text.rpartition(":")
        host, _, pid = host.rpartition(":")
        if not host or not pid.isdigit():
            return None
        return cls(host, int(pid), rest)

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def owner_is_dead(owner_text: str | None, me: LeaseOwner) -> bool:
    """True only when we can be sure: same host, another pid, and that pid is gone."""
    owner = LeaseOwner.parse(owner_text)
    if owner is None or owner.host != me.host or owner.pid == me.pid:
        return False
    return not pid_alive(owner.pid)


def holder_is_live(
    holder: str | None, expires: datetime | None, me: LeaseOwner, now: datetime
) -> bool:
    """Whether another process still holds a job: its lease runs and, on this host, its
    pid is alive. (Reconciliation takes a job whose holder is not live; `run --once`
    reports one that is.)"""
    if holder is None or holder == str(me) or expires is None or expires < now:
        return False
    return not owner_is_dead(holder, me)


def machine_tag() -> str:
    """A short tag of this machine: its host name and, where the OS keeps one, its
    machine id (a cloned VM keeps the host name; a copied data dir keeps neither)."""
    parts = [socket.gethostname()]
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path, encoding="ascii") as handle:
                parts.append(handle.read().strip())
            break
        except OSError:
            continue
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:8]
