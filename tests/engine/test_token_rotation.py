"""TikTok's current token rules held by the refresh duty and the publisher, on the real
vault: access tokens 2 h, refresh tokens 180 days, a new refresh token at every refresh
(the old one refused), one refresher per account over threads and processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.routes.base import PublishError
from piper_desktop.routes.requests import account_ref
from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher, TikTokApiSettings
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.store.enums import AccountStatus
from piper_desktop.store.models import Account
from tests.conftest import MASTER_PASSWORD
from tests.engine.helpers import EventLog, add_account, connect_tiktok, make_engine, use_tiktok

HOUR = 3600.0
DAY = 86400.0


def _publisher(sandbox: TikTokApiSandbox, services: Services, **kw: Any) -> TikTokApiPublisher:
    settings = TikTokApiSettings(
        client_key=sandbox.client_key,
        client_secret=sandbox.client_secret,
        api_base=sandbox.base_url,
        auth_url=sandbox.auth_url,
        timeout=10.0,
    )
    return TikTokApiPublisher(services.accounts, settings, **kw)


def _ref(services: Services, account: Account) -> Any:
    with services.db.session() as session:
        row = session.get(Account, account.id)
        assert row is not None
        return account_ref(row)


def _wait_for(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        threading.Event().wait(0.01)


def test_the_sandbox_follows_the_current_lifetimes(tiktok: TikTokApiSandbox) -> None:
    answer = tiktok.issue_tokens()
    assert answer["expires_in"] == 7200  # 2 hours
    assert answer["refresh_expires_in"] == 180 * 86400  # 180 days


def test_the_duty_keeps_a_2h_token_valid_and_rotates_the_pair_each_time(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    connect_tiktok(services, tiktok, account, clock.time())
    engine = make_engine(services, clock)
    spent: list[str] = []
    # the duty every 30 minutes for 12 hours: the access token never lapses
    for _ in range(24):
        clock.advance(1800)
        before = services.accounts.load(account.id, "tiktok_api")
        if engine.run_duty("token_refresh"):
            spent.append(before["refresh_token"])
        creds = services.accounts.load(account.id, "tiktok_api")
        grant = tiktok.state.access_tokens[creds["access_token"]]
        assert grant.expires_at > clock.time() + 25 * 60, "refreshed too late"
        assert creds["access_expires_at"] == pytest.approx(grant.expires_at)
    assert len(spent) >= 6  # a 2 h token is renewed at least every 2 h
    assert tiktok.state.token_refreshes == len(spent)  # never a refresh twice
    # every spent refresh token is refused from then on
    assert not set(spent) & set(tiktok.state.refresh_tokens)


def test_two_publishers_in_one_process_refresh_once(
    services: Services, tiktok: TikTokApiSandbox
) -> None:
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    now = time.time()
    old = connect_tiktok(services, tiktok, account, now, access_expires_at=now + 60)
    ref = _ref(services, account)
    waiting = threading.Event()

    def waits(seconds: float) -> None:
        waiting.set()  # the second refresher found the claim taken and waits
        time.sleep(seconds)

    first = _publisher(tiktok, services)
    second = _publisher(tiktok, services, sleeper=waits)
    results: dict[str, str] = {}
    tiktok.state.token_gate.clear()  # the first refresh stays in flight

    def run(name: str, publisher: TikTokApiPublisher) -> None:
        results[name] = publisher.creator_info(ref).username

    try:
        one = threading.Thread(target=run, args=("first", first))
        one.start()
        _wait_for(lambda: tiktok.state.token_refreshes == 1, "the first refresh")
        two = threading.Thread(target=run, args=("second", second))
        two.start()
        assert waiting.wait(10)
        tiktok.state.token_gate.set()
        one.join(10)
        two.join(10)
    finally:
        tiktok.state.token_gate.set()
        first.close()
        second.close()
    assert results == {"first": "sandbox_creator", "second": "sandbox_creator"}
    assert tiktok.state.token_refreshes == 1  # only one called the platform
    stored = services.accounts.load(account.id, "tiktok_api")
    assert stored["refresh_token"] != old["refresh_token"]
    assert "refresh_claim" not in stored  # the claim went with the commit


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from piper_desktop.domain.services import Services
    from piper_desktop.routes.requests import account_ref
    from piper_desktop.routes.tiktok_api.publisher import TikTokApiPublisher, TikTokApiSettings
    from piper_desktop.store.models import Account
    from piper_desktop.store.vault import unlock_vault

    data_dir, password, base, key, secret, account_id = sys.argv[1:7]
    services = Services(unlock_vault(Path(data_dir), password))
    told = []

    def waits(seconds):
        if not told:
            told.append(1)
            print("waiting", flush=True)
        time.sleep(seconds)

    settings = TikTokApiSettings(client_key=key, client_secret=secret, api_base=base,
                                 timeout=10.0)
    publisher = TikTokApiPublisher(services.accounts, settings, sleeper=waits)
    with services.db.session() as session:
        ref = account_ref(session.get(Account, int(account_id)))
    print("user", publisher.creator_info(ref).username, flush=True)
    publisher.close()
    """
)


@pytest.fixture
def two_processes(
    services: Services, tiktok: TikTokApiSandbox, data_dir: Path
) -> Iterator[list[subprocess.Popen[str]]]:
    made: list[subprocess.Popen[str]] = []
    yield made
    tiktok.state.token_gate.set()
    for proc in made:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.local_store  # the processes open the data dir's file
def test_two_processes_on_one_vault_refresh_once(
    services: Services,
    tiktok: TikTokApiSandbox,
    data_dir: Path,
    two_processes: list[subprocess.Popen[str]],
) -> None:
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    now = time.time()
    old = connect_tiktok(services, tiktok, account, now, access_expires_at=now + 60)
    args = [
        sys.executable, "-c", SCRIPT, str(data_dir), MASTER_PASSWORD, tiktok.base_url,
        tiktok.client_key, tiktok.client_secret, str(account.id),
    ]  # fmt: skip

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        two_processes.append(proc)
        return proc

    tiktok.state.token_gate.clear()
    first = start()

    def first_arrived() -> bool:
        if first.poll() is not None:
            raise AssertionError(first.communicate()[1])
        return tiktok.state.token_refreshes == 1

    _wait_for(first_arrived, "the first process's refresh", 30)
    second = start()
    assert second.stdout is not None
    assert second.stdout.readline().strip() == "waiting"  # it found the claim taken
    tiktok.state.token_gate.set()
    out_first, err_first = first.communicate(timeout=30)
    out_second, err_second = second.communicate(timeout=30)
    assert first.returncode == 0, err_first
    assert second.returncode == 0, err_second
    assert "user sandbox_creator" in out_first and "user sandbox_creator" in out_second
    assert tiktok.state.token_refreshes == 1  # the second read the stored pair
    stored = services.accounts.load(account.id, "tiktok_api")
    assert stored["refresh_token"] != old["refresh_token"]
    assert stored["refresh_token"] in tiktok.state.refresh_tokens


class Crash(BaseException):
    """Piper stopping between the platform's answer and the commit."""


def test_a_crash_before_the_commit_ends_in_needs_login_once(
    services: Services,
    clock: ManualClock,
    tiktok: TikTokApiSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    now = clock.time()
    connect_tiktok(services, tiktok, account, now, access_expires_at=now + 600)
    finish = services.accounts.finish_refresh

    def crash(*args: Any, **kwargs: Any) -> bool:
        if args[-1] is not None:  # the commit of a new pair
            raise Crash
        return finish(*args, **kwargs)

    monkeypatch.setattr(services.accounts, "finish_refresh", crash)
    with pytest.raises(Crash):
        make_engine(services, clock).run_duty("token_refresh")
    monkeypatch.setattr(services.accounts, "finish_refresh", finish)
    assert tiktok.state.token_refreshes == 1  # TikTok rotated; the vault kept the old one

    # after the restart: the stale claim runs out, the spent token is refused once
    clock.advance(600)
    events = EventLog()
    engine = make_engine(services, clock)
    engine.events.subscribe(events)
    assert engine.run_duty("token_refresh") == 0
    assert tiktok.state.token_refreshes == 2
    with services.db.session() as session:
        stored = session.get(Account, account.id)
        assert stored is not None and stored.status == AccountStatus.NEEDS_LOGIN.value
    # no endless retry: the next runs leave the account to its new login
    clock.advance(1800)
    engine.run_duty("token_refresh")
    assert tiktok.state.token_refreshes == 2
    publisher = _publisher(tiktok, services, clock=clock.time)
    try:
        with pytest.raises(PublishError) as caught:
            publisher.creator_info(_ref(services, account))
    finally:
        publisher.close()
    assert caught.value.code == "refresh_token_spent"
    assert caught.value.account_status == "needs_login"
    assert "connect the account again" in caught.value.reason


def test_reconnect_warning_before_the_refresh_token_ends(
    services: Services, clock: ManualClock, tiktok: TikTokApiSandbox
) -> None:
    use_tiktok(services, tiktok)
    account = add_account(services, "sandbox_creator", routes=["tiktok_api"])
    now = clock.time()
    connect_tiktok(services, tiktok, account, now)
    events = EventLog()
    engine = make_engine(services, clock)
    engine.events.subscribe(events)
    engine.run_duty("token_refresh")
    assert not [e for e in events.events if e.data.get("code") == "reconnect_soon"]
    clock.advance(170 * DAY)  # 10 days left of the 180; refreshes do not extend them
    assert engine.run_duty("token_refresh") == 1
    creds = services.accounts.load(account.id, "tiktok_api")
    assert creds["refresh_expires_at"] == pytest.approx(now + 180 * DAY, abs=2)
    engine.run_duty("token_refresh")  # once a day, not every run
    [warning] = [e for e in events.events if e.data.get("code") == "reconnect_soon"]
    assert "reconnect @sandbox_creator to the TikTok API within 10 days" in warning.message
