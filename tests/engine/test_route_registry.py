"""Adding a route = registering its spec: a tiny route made here runs through the real
engine against the real database, with its readiness check and its duty, and nothing in
engine/ names it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.services import Services
from piper_desktop.engine import Engine, ManualClock, PublisherFactory
from piper_desktop.engine.handoff import resolve_job
from piper_desktop.routes.base import (
    CheckResult,
    CheckState,
    ProgressCallback,
    Publisher,
    PublishError,
    PublishRequest,
    Receipt,
    ReceiptCallback,
)
from piper_desktop.routes.registry import RouteRegistry, default_routes
from piper_desktop.routes.spec import (
    Built,
    DutyContext,
    RouteContext,
    RouteDuty,
    RouteProblem,
    RouteSpec,
    SettingsValues,
)
from piper_desktop.store.models import Account, Job
from tests.engine.helpers import EventLog, add_account, add_media, make_engine

ECHO = "echo"


class EchoPublisher:
    """Posts nowhere: the receipt is the job's own key, and the post is there at once."""

    route = ECHO

    def __init__(self) -> None:
        self.submitted: list[str] = []
        self.closed = False

    def submit(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        self.submitted.append(request.caption)
        receipt = Receipt(kind="echo_id", value=request.idempotency_key)
        on_receipt(receipt)
        return receipt

    def check(self, request: PublishRequest, receipt: Receipt) -> CheckResult:
        return CheckResult(CheckState.PUBLISHED, post_url=f"echo://{receipt.value}")

    def reconcile(self, request: PublishRequest) -> Receipt | None:
        return None

    def close(self) -> None:
        self.closed = True


class CaptionReadiness:
    """Refuses a caption that says it is not ready (this job's problem, not the account's)."""

    def problem(self, publisher: Publisher, request: PublishRequest) -> RouteProblem | None:
        if "not ready" in request.caption:
            return RouteProblem("the echo route refuses this caption", "job")
        return None


def echo_route() -> tuple[RouteSpec, list[EchoPublisher]]:
    built: list[EchoPublisher] = []

    def build(ctx: RouteContext, values: SettingsValues) -> Built:
        publisher = EchoPublisher()
        built.append(publisher)
        return Built(publisher, publisher.close)

    def announce(ctx: DutyContext) -> int:
        ctx.warn("the echo route says hello", {"code": "echo_hello"})
        return len(built)

    spec = RouteSpec(
        name=ECHO,
        label="Echo (a test route)",
        settings=(),
        build=build,
        close_on_replace=True,
        readiness=lambda _ctx: CaptionReadiness(),
        duties=(RouteDuty("echo_hello", 60.0, announce),),
    )
    return spec, built


def _echo_job(services: Services, clock: ManualClock, tmp_path: Path, caption: str) -> int:
    account = add_account(services, f"echo_{len(caption)}")
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, f"{len(caption)}.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption=caption,
        now=clock.now(),
    )
    # the domain accepts JobRoute names (a new route brings its member); this test's
    # route has none, so its job row is pointed at it directly
    with services.db.write() as session:
        session.execute(update(Job).where(Job.id == job.id).values(route=ECHO))
    return job.id


def _engine(services: Services, clock: ManualClock, routes: RouteRegistry) -> Engine:
    return make_engine(services, clock, routes=routes)


def test_a_registered_route_publishes_through_the_real_engine(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    spec, built = echo_route()
    engine = _engine(services, clock, default_routes().with_route(spec))
    log = EventLog()
    engine.events.subscribe(log)
    ready = _echo_job(services, clock, tmp_path, "hello from the echo route")
    refused = _echo_job(services, clock, tmp_path, "not ready yet, echo")

    # the route's readiness check, asked by the engine's readiness pass
    problems = engine.check_readiness()
    assert [(p.job_id, p.scope) for p in problems] == [(refused, "job")]
    assert "refuses this caption" in (services.jobs.get(refused).attention_reason or "")

    engine.run_once()
    done = services.jobs.get(ready)
    assert done.status == "published", done.last_error
    assert done.route == ECHO
    assert done.receipt_kind == "echo_id" and done.post_url == f"echo://{done.uuid}"
    assert [p.submitted for p in built] == [["hello from the echo route"]]
    assert services.jobs.get(refused).status == "needs_attention"

    # the route's duty is among the engine's duties and runs with the engine's context
    assert "echo_hello" in {duty.name for duty in engine.duties()}
    assert engine.run_duty("echo_hello") == 1
    warnings = [e for e in log.events if e.data.get("code") == "echo_hello"]
    assert [e.message for e in warnings] == ["the echo route says hello"]

    engine.factory.close()
    assert built[0].closed


def test_a_route_without_a_handoff_is_refused_for_resolve(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    spec, _ = echo_route()
    factory = PublisherFactory(services, clock, routes=default_routes().with_route(spec))
    job_id = _echo_job(services, clock, tmp_path, "no hand-off here")
    try:
        with pytest.raises(ValidationError, match="offers no hand-off"):
            resolve_job(services, job_id, wait_for_operator=lambda _h: None, factory=factory)
    finally:
        factory.close()
    assert services.jobs.get(job_id).status == "queued"


def test_a_route_is_registered_once() -> None:
    spec, _ = echo_route()
    routes = default_routes().with_route(spec)
    assert routes.names() == ["tiktok_api", "upload_post", "browser", ECHO]
    with pytest.raises(ValueError, match="registered twice"):
        routes.with_route(spec)
    twin = replace(spec, name="echo_twin")
    with pytest.raises(ValueError, match="reuses the duty name"):
        routes.with_route(twin)


def test_a_routes_post_rate_holds_the_accounts_next_post(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    spec, built = echo_route()
    spec = replace(spec, post_rate=(2, 60.0), readiness=None)
    engine = _engine(services, clock, default_routes().with_route(spec))
    # the route's cap reaches the claim pass; TikTok's own (6 inits a minute) is there too
    assert engine.config.route_rate == {"tiktok_api": (6, 60.0), ECHO: (2, 60.0)}
    account = add_account(services, "echo_rate")
    ids = []
    for n in range(3):
        job = services.jobs.add(
            account_id=account.id,
            media_id=add_media(services, tmp_path, f"rate{n}.mp4").id,
            route="upload_post",
            at=clock.now(),
            caption=f"post {n}",
            now=clock.now(),
        )
        ids.append(job.id)
    with services.db.write() as session:
        session.execute(update(Job).where(Job.id.in_(ids)).values(route=ECHO))

    engine.run_once()
    statuses = [services.jobs.get(i).status for i in ids]
    assert statuses == ["published", "published", "queued"]
    held = services.jobs.get(ids[2])
    assert held.next_attempt_at == clock.now() + timedelta(seconds=60)
    messages = [e.message or "" for e in services.jobs.events(ids[2]) if e.kind == "held"]
    assert any(f"{ECHO} allows 2 posts per 60s" in m for m in messages), messages
    assert [p.submitted for p in built] == [["post 0", "post 1"]]


class ReceiptThenRefusal(EchoPublisher):
    """Gives a receipt, then says nothing was posted: the receipt wins."""

    def submit(
        self,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        on_receipt(Receipt(kind="echo_id", value=request.idempotency_key))
        raise PublishError("refused", certainly_not_posted=True)


def test_no_fallback_after_a_receipt_even_when_the_route_says_nothing_went_out(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    spec, _ = echo_route()
    spec = replace(spec, readiness=None, build=lambda _c, _v: Built(ReceiptThenRefusal()))
    engine = _engine(services, clock, default_routes().with_route(spec))
    job_id = _echo_job(services, clock, tmp_path, "receipt first")
    job = services.jobs.get(job_id)
    with services.db.write() as session:
        session.execute(
            update(Account)
            .where(Account.id == job.account_id)
            .values(routes=[ECHO, "upload_post"])
        )

    engine.run_once()
    done = services.jobs.get(job_id)
    assert (done.status, done.route, done.receipt) == ("needs_attention", ECHO, job.uuid)
    assert "after giving receipt" in (done.attention_reason or "")
    assert "fallback" not in [e.kind for e in services.jobs.events(job_id)]
