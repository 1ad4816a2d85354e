"""The team store on a real PostgreSQL server (a throwaway cluster, tests/conftest.py):
the migrations make the models' schema, every statement of the write path prepares and
runs, and a guarded write has one winner. (The jobs' text search on both stores:
tests/domain/test_job_search.py.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from piper_desktop.domain.services import Services
from piper_desktop.store import migrate, statements
from piper_desktop.store.db import Tx
from piper_desktop.store.pg import PgDatabase
from piper_desktop.store.statements import Statement
from tests.conftest import TEAM_PASSPHRASE, make_video

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
ALL = list(statements.all_statements())


class Rollback(Exception):
    pass


def test_models_match_migrations_on_postgresql(pg_db: PgDatabase) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from piper_desktop.store.models import Base

    assert migrate.current_revision(pg_db) == migrate.head_revision()
    with pg_db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_name": migrate.include_name, "compare_type": migrate.compare_type}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


@pytest.mark.parametrize("statement", ALL, ids=lambda s: s.name)
def test_statement_prepares_and_runs_on_postgresql(pg_db: PgDatabase, statement: Statement) -> None:
    compiled = statement.compiled(pg_db.engine.dialect)
    given = {
        name: NOW
        if name in {"now", "since", "until", "lease_end", "next_at"}
        else 5
        if name == "limit"
        else None
        for name in compiled.required
    }
    with pg_db.raw_read() as conn:
        # EXPLAIN has the server plan it: an unknown table, column or operator fails here
        conn.execute("EXPLAIN " + compiled.sql, compiled.parameters(given)).fetchall()
    if getattr(statement.construct, "is_insert", False):
        return
    with pytest.raises(Rollback), pg_db.transaction() as tx:
        result = Tx.run(tx, statement, **given)
        assert result.rowcount in (-1, 0, 1)
        raise Rollback


def test_a_guarded_move_has_one_winner_across_connections(
    pg_db: PgDatabase, tmp_path: Path
) -> None:
    """Two desktops claim one job at once: PostgreSQL re-checks the guard on the locked
    row, so exactly one update lands."""
    services = Services(pg_db)  # type: ignore[arg-type]
    account = services.accounts.add({"username": "raced"})
    media, _ = services.media.add(make_video(tmp_path, "r.mp4"))
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="upload_post", at=NOW, caption="x", now=NOW
    )
    barrier = threading.Barrier(2)
    won: list[int] = []

    def claim(owner: str) -> None:
        with pg_db.raw_write() as conn:
            barrier.wait()
            cursor = conn.execute(
                "UPDATE jobs SET status = 'claimed', lease_owner = %s"
                " WHERE id = %s AND status = 'queued' AND lease_owner IS NULL",
                (owner, job.id),
            )
            won.append(cursor.rowcount)

    threads = [threading.Thread(target=claim, args=(f"desk-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(won) == [0, 1]


def test_a_second_desktop_s_claim_pass_skips_what_the_first_one_reads(
    pg_db: PgDatabase, tmp_path: Path
) -> None:
    """DUE_JOBS locks each job it returns and the job's account (FOR UPDATE ... SKIP
    LOCKED): while one desktop's pass is open, another's sees neither that job nor any
    other job of that account, so one desktop at a time decides an account's posts."""
    services = Services(pg_db)  # type: ignore[arg-type]
    media, _ = services.media.add(make_video(tmp_path, "d.mp4"))
    first = services.accounts.add({"username": "first"})
    second = services.accounts.add({"username": "second"})
    due = [
        services.jobs.add(
            account_id=account.id,
            media_id=media.id,
            route="upload_post",
            at=NOW,
            caption=f"{account.username} {n}",
            now=NOW,
            allow_duplicate=True,
        ).id
        for account in (first, first, second)
        for n in range(1)
    ]
    later = datetime(2026, 5, 5, tzinfo=UTC)

    def due_ids(tx: Tx, limit: int) -> list[int]:
        rows = tx.run(statements.DUE_JOBS, now=later, limit=limit, status="queued")
        return [row.id for row in rows]

    with pg_db.transaction() as one:
        assert due_ids(one, 1) == [due[0]]  # the first account's first job, locked
        with pg_db.transaction() as other:
            # the first account's other job is skipped with its locked account
            assert due_ids(other, 10) == [due[2]]
    with pg_db.transaction() as after:
        assert due_ids(after, 10) == due  # the locks went with the first transaction


def test_other_writers_changes_are_heard_and_its_own_are_not(
    pg_db: PgDatabase, tmp_path: Path
) -> None:
    """A job added at one desktop wakes the others (LISTEN/NOTIFY); a desktop does not
    hear itself, and a lease renewal wakes nobody."""
    heard: list[frozenset[str]] = []
    arrived = threading.Event()

    def on_change(tables: frozenset[str]) -> None:
        heard.append(tables)
        arrived.set()

    listener = pg_db.listen(on_change)
    other = PgDatabase(pg_db.url, tmp_path)  # another desktop
    other.unlock(TEAM_PASSPHRASE)
    try:
        assert listener.listening.wait(10)
        mine = Services(pg_db)  # type: ignore[arg-type]
        account = mine.accounts.add({"username": "own"})  # this desktop: not heard
        theirs = Services(other)  # type: ignore[arg-type]
        media, _ = theirs.media.add(make_video(tmp_path, "n.mp4"))
        job = theirs.jobs.add(
            account_id=account.id, media_id=media.id, route="upload_post", caption="hi"
        )

        def hear(table: str) -> frozenset[str]:
            # notifications come in commit order: once `table` is heard, all before it are
            while not any(table in tables for tables in heard):
                assert arrived.wait(10), f"{table} not heard; heard {heard}"
                arrived.clear()
            everything = frozenset().union(*heard)
            heard.clear()
            return everything

        assert hear("jobs") >= {"jobs", "media_items"}
        assert "accounts" not in frozenset().union(*heard)  # its own change: not heard
        with other.transaction() as tx:
            tx.run(statements.RENEW_LEASE, job=job.id, owner="nobody", lease_end=NOW)
        theirs.settings.set("engine.max_attempts", 4)  # a fence after the renewal
        assert hear("settings") == {"settings"}  # the renewal said nothing
        with other.write() as session:
            session.execute(
                text("UPDATE jobs SET caption = 'changed' WHERE id = :id"), {"id": job.id}
            )
        assert hear("jobs") == {"jobs"}
    finally:
        listener.stop()
        other.close()


def test_every_job_event_records_the_desktop_and_operator_that_made_it(
    pg_db: PgDatabase, tmp_path: Path
) -> None:
    from piper_desktop.domain.reporting import export_jobs

    pg_db.identify("desk0001", "Ana O'Brien \\ the lead")  # quotes, spaces, a backslash
    services = Services(pg_db)  # type: ignore[arg-type]
    account = services.accounts.add({"username": "stamped"})
    media, _ = services.media.add(make_video(tmp_path, "s.mp4"))
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="upload_post", caption="who"
    )
    services.jobs.cancel(job.id)  # a life-cycle move: the statements' path
    other = PgDatabase(pg_db.url, tmp_path)  # a desktop that has not said who it is
    other.unlock(TEAM_PASSPHRASE)
    try:
        Services(other).jobs.retry(job.id)  # type: ignore[arg-type]
    finally:
        other.close()
    events = export_jobs(pg_db)[0]["events"]  # type: ignore[arg-type]
    stamped = [(e["kind"], e["desktop"], e["operator"]) for e in events]
    assert stamped[0] == ("created", "desk0001", "Ana O'Brien \\ the lead")
    assert ("cancelled", "desk0001", "Ana O'Brien \\ the lead") in stamped
    assert stamped[-1][1:] == (None, None)  # the unidentified desktop's retry


def test_desktops_claim_passes_take_turns(pg_db: PgDatabase) -> None:
    """The claim pass's advisory lock (statements.claim_turn): while one desktop's pass
    is open, another's cannot start, as with SQLite's BEGIN IMMEDIATE."""
    with pg_db.transaction() as one:
        one.run(statements.claim_turn())
        with pg_db.raw_read() as other:
            taken = other.execute(
                "SELECT pg_try_advisory_xact_lock(%s)", (statements.CLAIM_TURN_KEY,)
            ).fetchone()[0]
            assert taken is False
    with pg_db.raw_read() as after:
        taken = after.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", (statements.CLAIM_TURN_KEY,)
        ).fetchone()[0]
        assert taken is True  # released with the first pass's commit
