"""The engine's writers go through the job life cycle: one event bus with the domain,
and the engine's moves refuse what the table does not allow."""

from __future__ import annotations

from pathlib import Path

import pytest

from piper_desktop.domain.events import EngineEvent, EventKind
from piper_desktop.domain.lifecycle import IllegalTransition
from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from tests.engine.helpers import add_account, add_media, make_engine


def test_the_engine_announces_on_the_services_bus(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    engine = make_engine(services, clock)
    assert engine.events is services.events
    heard: list[EngineEvent] = []
    engine.events.subscribe(heard.append)
    account = add_account(services, "bus")
    media = add_media(services, tmp_path, "bus.mp4")
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="upload_post", at=clock.now(),
        now=clock.now(),
    )  # fmt: skip

    services.jobs.cancel(job.id)  # the operator's move, heard where the engine's are

    assert [(e.kind, e.job_id) for e in heard] == [(EventKind.CANCELLED, job.id)]


def test_an_engine_move_the_table_does_not_allow_is_refused(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    engine = make_engine(services, clock)
    account = add_account(services, "strict")
    media = add_media(services, tmp_path, "strict.mp4")
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="upload_post", at=clock.now(),
        now=clock.now(),
    )  # fmt: skip
    services.jobs.cancel(job.id)
    with pytest.raises(IllegalTransition, match="cancelled"), engine.ledger.change() as change:
        # a cancelled job with no lease: nothing may claim it back
        change.move(job.id, "refuse", engine.ledger.actor, "no", reason="no")
    assert services.jobs.get(job.id).status == "cancelled"
