"""domain/session_leases.py: one machine at a time holds an account's browser session
(both stores: the local vault and a team's PostgreSQL)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from piper_desktop.domain.leases import LeaseOwner
from piper_desktop.domain.services import Services
from piper_desktop.domain.session_leases import SessionBusy, SessionLeases, process_owner

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _account(services: Services) -> int:
    return services.accounts.add({"username": "alice", "routes": ["browser"]}).id


def _elsewhere(services: Services, name: str, now: datetime = T0) -> SessionLeases:
    """Another desktop's process (another host: its pid means nothing here)."""
    return SessionLeases(services.db, owner=LeaseOwner(name, 4242, "t"), now=lambda: now)


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_one_holder_at_a_time_and_the_other_hears_who(services: Services) -> None:
    account = _account(services)
    a, b = _elsewhere(services, "desk-a"), _elsewhere(services, "desk-b")
    a.take(account, "publishing")
    with pytest.raises(SessionBusy) as busy:
        b.take(account, "browser window")
    line = str(busy.value)
    assert line.startswith("session of tiktok:alice is in use at ")
    assert "since 12:00 UTC: publishing" in line and "operator " in line
    assert b.holder(account) is not None and a.holder(account) is None
    a.take(account, "publishing again")  # the holder may take it again (counted)
    a.release(account)
    a.release(account)
    b.take(account, "browser window")
    assert a.holder(account) is not None and a.holder(account).purpose == "browser window"
    b.release(account)


def test_a_lease_of_another_host_runs_out_then_is_taken(services: Services) -> None:
    account = _account(services)
    _elsewhere(services, "desk-a").take(account, "publishing")
    with pytest.raises(SessionBusy):
        _elsewhere(services, "desk-b", T0 + timedelta(minutes=4)).take(account, "x")
    # renewed by its holder: still its own
    _elsewhere(services, "desk-a", T0 + timedelta(minutes=4)).renew()
    with pytest.raises(SessionBusy):
        _elsewhere(services, "desk-b", T0 + timedelta(minutes=8)).take(account, "x")
    later = _elsewhere(services, "desk-b", T0 + timedelta(minutes=10))
    later.take(account, "after the lease ran out")
    later.release(account)


def test_a_dead_process_of_this_host_is_taken_over_at_once(services: Services) -> None:
    account = _account(services)
    me = process_owner(services.db)
    dead = SessionLeases(services.db, owner=LeaseOwner(me.host, _dead_pid(), "gone"))
    dead.take(account, "publishing")
    # its lease has minutes to run, but its pid is gone on this host: free at once
    assert SessionLeases(services.db).holder(account) is None
    SessionLeases(services.db).take(account, "browser window")
    SessionLeases(services.db).release(account)


def test_a_taken_over_holder_cannot_overwrite_the_newer_session(services: Services) -> None:
    account = _account(services)
    services.accounts.save_storage_state(account, {"cookies": [{"name": "old"}]})
    now = datetime.now(UTC)
    mine = SessionLeases(services.db, now=lambda: now - timedelta(hours=1))
    mine.take(account, "publishing")  # long ago: it ran out
    other = _elsewhere(services, "desk-b", now)
    other.take(account, "browser window")
    # this process's late save-back is refused: the session is the other desktop's now
    with pytest.raises(SessionBusy, match="in use at"):
        services.accounts.save_storage_state(account, {"cookies": [{"name": "stale"}]})
    assert services.accounts.storage_state(account) == {"cookies": [{"name": "old"}]}
    other.release(account)
    newer = {"cookies": [{"name": "newer"}]}
    services.accounts.save_storage_state(account, newer)
    assert services.accounts.storage_state(account) == newer
    mine.release(account)


def test_this_process_may_refuse_to_share_with_itself(services: Services) -> None:
    account = _account(services)
    leases = SessionLeases(services.db)
    with leases.hold(account, "publishing"):
        leases.take(account, "another job of this process")  # shared: allowed
        with pytest.raises(SessionBusy):
            leases.take(account, "login check", shared=False)
        leases.release(account)  # the second hold; the block's own goes at its end
        assert leases.held_by_me() == [account]
    assert leases.held_by_me() == []
    leases.take(account, "login check", shared=False)  # free again
    leases.release(account)


def test_leases_go_with_their_account(services: Services) -> None:
    account = _account(services)
    SessionLeases(services.db).take(account, "publishing")
    services.accounts.remove(account)
    assert SessionLeases(services.db).held_by_me() == []


def test_holds_are_counted_and_an_exclusive_window_keeps_this_process_out(
    services: Services,
) -> None:
    account = _account(services)
    leases = SessionLeases(services.db)
    other = _elsewhere(services, "desk-b", datetime.now(UTC))
    leases.take(account, "publishing")
    leases.take(account, "publishing, a second page")
    leases.release(account)  # one hold left: still this process's
    with pytest.raises(SessionBusy):
        other.take(account, "browser window")
    leases.release(account)
    other.take(account, "browser window")  # the last hold gave it back
    other.release(account)
    # a window of this process shares the session with nobody, its own engine included
    with leases.hold(account, "browser window", shared=False):
        assert leases.holder(account) is not None  # the runner parks the job
        with pytest.raises(SessionBusy):
            leases.take(account, "publishing")
    assert leases.holder(account) is None
