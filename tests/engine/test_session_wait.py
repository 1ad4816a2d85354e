"""A job whose account's browser session another desktop has open waits for it: back in
the queue with no attempt spent, published once the session is free."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update

from piper_desktop.domain.leases import LeaseOwner
from piper_desktop.domain.services import Services
from piper_desktop.domain.session_leases import SESSION_WAIT, SessionLeases
from piper_desktop.engine import ManualClock
from piper_desktop.routes.registry import default_routes
from piper_desktop.store.models import Job
from tests.engine.helpers import add_account, add_media, make_engine
from tests.engine.test_route_registry import ECHO, echo_route


def test_a_job_waits_while_another_desktop_holds_the_session(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    spec, built = echo_route()
    routes = default_routes().with_route(replace(spec, browser_session=True))
    engine = make_engine(services, clock, routes=routes)
    account = add_account(services, "shared")
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "a.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="waits for the session",
        now=clock.now(),
    )
    with services.db.write() as session:
        session.execute(update(Job).where(Job.id == job.id).values(route=ECHO))
    other = SessionLeases(services.db, owner=LeaseOwner("desk-b", 4242, "t"))
    other.take(account.id, "browser window")

    engine.run_once()
    waiting = services.jobs.get(job.id)
    assert waiting.status == "queued" and waiting.attempts == 0
    assert waiting.next_attempt_at == clock.now() + timedelta(seconds=SESSION_WAIT)
    events = [e.message or "" for e in services.jobs.events(job.id)]
    assert any("in use at" in m and "browser window" in m for m in events), events
    assert [c for p in built for c in p.submitted] == []

    other.release(account.id)
    clock.advance(SESSION_WAIT + 1)
    engine.run_once()
    done = services.jobs.get(job.id)
    assert done.status == "published", done.last_error
    assert [c for p in built for c in p.submitted] == ["waits for the session"]  # once
    assert SessionLeases(services.db).held_by_me() == []
