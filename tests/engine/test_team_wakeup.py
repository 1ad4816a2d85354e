"""On a team server, a job added at another desktop wakes this desktop's engine at once
(LISTEN/NOTIFY), not at its next tick: the tick here is an hour away."""

from __future__ import annotations

from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.pg import PgDatabase
from tests.conftest import TEAM_PASSPHRASE
from tests.engine.helpers import EventLog, add_account, add_media, make_engine, use_upload_post


@pytest.fixture
def clock() -> ManualClock:
    # time stands still: only a wake-up can start the job (an idle wait would otherwise
    # jump the clock to the next tick)
    return ManualClock(auto_advance=False)


def test_a_job_added_at_another_desktop_wakes_the_engine(
    pg_db: PgDatabase, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    here = Services(pg_db)  # type: ignore[arg-type]
    use_upload_post(here, upload_post)
    account = add_account(here, "teamed")
    media = add_media(here, tmp_path, "t.mp4")
    engine = make_engine(here, clock, tick_seconds=3600)
    log = EventLog()
    engine.events.subscribe(log)
    there_db = PgDatabase(pg_db.url, tmp_path)
    there_db.unlock(TEAM_PASSPHRASE)
    engine.start()
    try:
        assert engine._listener is not None and engine._listener.listening.wait(10)
        there = Services(there_db)  # type: ignore[arg-type]
        job = there.jobs.add(
            account_id=account.id,
            media_id=media.id,
            route="upload_post",
            at=clock.now(),
            caption="from the other desk",
            now=clock.now(),
        )
        # the platform has it (its status is checked later: this clock does not move)
        ok = log.wait_for(lambda events: any(e.kind.value == "receipt" for e in events))
        assert ok, [(e.kind.value, e.message) for e in log.events]
        assert any("another desktop" in e.message for e in log.of("wake"))
        assert here.jobs.get(job.id).receipt is not None
        assert [u["title"] for u in upload_post.uploads] == ["from the other desk"]
    finally:
        engine.stop()
        there_db.close()
