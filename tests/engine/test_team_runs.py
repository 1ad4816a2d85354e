"""Two desktops, one team: two real `piper run` processes with data dirs of their own on
one PostgreSQL publish 50 jobs across 10 accounts, and the stand-in's records show each
posted exactly once. Then one of them is killed (-9) mid-upload: the other finishes its
jobs once their leases run out, again each exactly once."""

from __future__ import annotations

import itertools
import json
import queue
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from piper_desktop.domain.services import Services
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.postgres import ThrowawayPostgres
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.models import JobEvent, TeamDesktop
from piper_desktop.store.pg import PgDatabase
from tests.conftest import piper_cmd, piper_env
from tests.engine.helpers import add_account, add_media
from tests.engine.test_piper_run import LineReader

pytestmark = pytest.mark.slow
PASSPHRASE = "two desks one team"
UPLOAD = r"^/api/upload$"
_names = itertools.count(1)


def _env(data_dir: Path, sandbox: UploadPostSandbox) -> dict[str, str]:
    return piper_env(
        data_dir, PIPER_TEAM_PASSPHRASE=PASSPHRASE, PIPER_UPLOAD_POST_BASE=sandbox.api_base
    )


def _piper(data_dir: Path, sandbox: UploadPostSandbox, *args: str) -> str:
    done = subprocess.run(
        [*piper_cmd(), *args],
        env=_env(data_dir, sandbox),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def live_upload_post() -> Iterator[UploadPostSandbox]:
    with UploadPostSandbox(polls_to_complete=2, rate_limit=(100_000, 60.0)) as sandbox:
        yield sandbox  # type: ignore[misc]


@pytest.fixture
def team(
    postgres: ThrowawayPostgres, tmp_path: Path, live_upload_post: UploadPostSandbox
) -> Iterator[tuple[Services, Path, Path]]:
    """Desks A and B joined to a new team; the test's own view of the team's database."""
    name = f"runs_{next(_names)}"
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = postgres.url(name)
    desks = []
    for desk in ("a", "b"):
        directory = tmp_path / f"desk_{desk}"
        directory.mkdir()
        _piper(directory, live_upload_post, "init")
        verb = "create" if desk == "a" else "join"
        _piper(directory, live_upload_post, "team", verb, url, "--name", f"desk {desk}")
        desks.append(directory)
    shared = PgDatabase(url, tmp_path)
    shared.unlock(PASSPHRASE)
    services = Services(shared)  # type: ignore[arg-type]
    services.settings.set("upload_post.api_key", live_upload_post.api_key)
    services.settings.set("engine.check_seconds", 1)
    services.settings.set("engine.tick_seconds", 5)
    services.settings.set("engine.lease_seconds", 30)
    services.settings.set("campaigns.stagger_minutes", 0)
    services.settings.set("campaigns.jitter_minutes", 0)
    yield services, desks[0], desks[1]
    shared.close()


def _jobs(services: Services, tmp: Path, accounts: int, each: int) -> dict[int, str]:
    made = [add_account(services, f"desk_user{i}") for i in range(accounts)]
    now = datetime.now(UTC)
    jobs = {}
    for n in range(each):
        for account in made:
            media = add_media(services, tmp, f"{account.username}-{n}.mp4")
            job = services.jobs.add(
                account_id=account.id,
                media_id=media.id,
                route="upload_post",
                at=now,
                caption=f"{account.username} clip {n}",
                now=now,
            )
            jobs[job.id] = job.uuid
    return jobs


def _start(data_dir: Path, sandbox: UploadPostSandbox) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*piper_cmd(), "run", "--json"],
        env=_env(data_dir, sandbox),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _published_by(readers: dict[str, LineReader], wanted: int, timeout: float) -> Counter[str]:
    """Reads both desks' events until `wanted` jobs are published between them."""
    published: Counter[str] = Counter()
    while sum(published.values()) < wanted:
        got = False
        for desk, reader in readers.items():
            try:
                line = reader.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            got = True
            if line is None:
                raise AssertionError(f"desk {desk}'s piper run ended")
            if line.startswith("{") and json.loads(line)["kind"] == "published":
                published[desk] += 1
        if not got:
            timeout -= 0.4
            if timeout <= 0:
                raise AssertionError(f"only {dict(published)} published in time")
    return published


def _stop(proc: subprocess.Popen[str], *, kill: bool = False) -> None:
    proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    proc.stderr.close()


def _posted_once(sandbox: UploadPostSandbox, uuids: set[str]) -> None:
    sent = Counter(u["request_id"] for u in sandbox.uploads)
    assert set(sent) == uuids and set(sent.values()) == {1}
    posted = [
        r for r in sandbox.state.records.values() if r.results.get("tiktok", {}).get("success")
    ]
    assert len(posted) == len(uuids)


def test_two_desktops_publish_fifty_jobs_each_exactly_once(
    team: tuple[Services, Path, Path], live_upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    services, desk_a, desk_b = team
    jobs = _jobs(services, tmp_path, accounts=10, each=5)
    procs = {"a": _start(desk_a, live_upload_post), "b": _start(desk_b, live_upload_post)}
    readers = {desk: LineReader(p.stdout) for desk, p in procs.items()}  # type: ignore[arg-type]
    try:
        split = _published_by(readers, len(jobs), timeout=240)
    finally:
        for proc in procs.values():
            _stop(proc)
    assert {services.jobs.get(i).status for i in jobs} == {"published"}
    _posted_once(live_upload_post, set(jobs.values()))
    assert sum(split.values()) == len(jobs)
    # who did what: every publish is stamped with the desktop (and operator) that made it
    with services.db.session() as session:
        stamped = session.execute(
            select(JobEvent.desktop, func.count())
            .where(JobEvent.kind == "published")
            .group_by(JobEvent.desktop)
        ).all()
        names = dict(session.execute(select(TeamDesktop.id, TeamDesktop.name)).all())
    assert {names.get(desktop) for desktop, _ in stamped} <= {"desk a", "desk b"}
    assert sum(count for _, count in stamped) == len(jobs)
    print(f"published by desk a: {split['a']}, desk b: {split['b']}")


def test_kill_9_of_one_desktop_mid_upload_the_other_finishes_once(
    team: tuple[Services, Path, Path], live_upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    services, desk_a, desk_b = team
    jobs = _jobs(services, tmp_path, accounts=4, each=2)
    # the platform is slow at first: desk A is caught with uploads in flight
    live_upload_post.faults.add(Fault(UPLOAD, delay=2.0, pass_through=True, times=3))
    a = _start(desk_a, live_upload_post)
    reader_a = LineReader(a.stdout)  # type: ignore[arg-type]
    try:
        reader_a.until(lambda e, seen: any(x["kind"] == "progress" for x in seen), timeout=120)
    finally:
        _stop(a, kill=True)
    held = [services.jobs.get(i) for i in jobs]
    assert any(j.lease_owner is not None and j.status != "published" for j in held)
    b = _start(desk_b, live_upload_post)
    reader_b = LineReader(b.stdout)  # type: ignore[arg-type]
    try:
        left = sum(services.jobs.get(i).status != "published" for i in jobs)
        _published_by({"b": reader_b}, left, timeout=240)
    finally:
        _stop(b)
    assert {services.jobs.get(i).status for i in jobs} == {"published"}
    _posted_once(live_upload_post, set(jobs.values()))
