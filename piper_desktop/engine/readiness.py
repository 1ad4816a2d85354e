"""Readiness: `engine.readiness_minutes` before each job, is everything in place?

For every queued job due within that horizon (once per job per horizon):
- the video file exists and still has the library's sha256;
- the account's proxy answers;
- the route can post: each route's own readiness check (`RouteSpec.readiness`: e.g. the
  API token refreshes and the creator allows the job's options; the key is accepted;
  the browser session is still logged in).

A failure flags the job needs_attention with the reason at once, and the account too
when the problem is the account's (login), with an event for the operator. A proxy that
does not answer is different: proxies (residential ones most of all) drop out and come
back by themselves, so the job stays queued and the operator is warned once per proxy
and pass — a dead proxy is found half an hour before the slot, and if it is still dead
at the slot the publisher's own "not sent" error retries the job like any outage. A
question that could not be asked right now (network trouble) flags nothing; it is asked
again next time.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select

from ..clients.proxycheck import ProxySpec, check_proxy
from ..domain.events import EngineEvent, EventKind
from ..domain.photo_sets import PhotoSetService
from ..domain.proxies import proxy_label, proxy_url
from ..domain.services import Services
from ..logs import get_logger
from ..routes.base import Publisher, PublishError, PublishRequest
from ..routes.spec import Readiness, RouteProblem
from ..store.enums import RUNNABLE_ACCOUNT_STATUSES, CampaignStatus
from ..store.models import Account, Campaign, Job, MediaItem
from .clock import Clock
from .config import EngineConfig
from .dispatch import CLAIMABLE
from .ledger import Ledger
from .publishers import PublisherFactory
from .runner import next_route

log = get_logger("engine")


@dataclass(frozen=True)
class Problem:
    job_id: int
    account_id: int
    reason: str
    # "job": only this job waits; "account": the account waits too; "proxy": nobody
    # waits, the operator is warned (the job retries at its slot if the proxy is still down)
    scope: str


class Sha256Cache:
    """sha256 of files by (path, size, mtime): a file is hashed again only if it changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[tuple[str, int, int], str] = {}

    def digest(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._known:
                return self._known[key]
        hasher = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
        digest = hasher.hexdigest()
        with self._lock:
            self._known[key] = digest
        return digest


class RouteReadiness:
    """The routes' readiness checks for one pass, each made when first needed (a check
    caches its answers for the pass: one creator_info or session check per account)."""

    def __init__(self, factory: PublisherFactory) -> None:
        self.factory = factory
        self._checks: dict[str, Readiness | None] = {}

    def problem(
        self, route: str, publisher: Publisher, request: PublishRequest
    ) -> RouteProblem | None:
        if route not in self._checks:
            spec = self.factory.routes.find(route)
            make = spec.readiness if spec is not None else None
            self._checks[route] = make(self.factory.context) if make is not None else None
        check = self._checks[route]
        return check.problem(publisher, request) if check is not None else None


class ReadinessChecker:
    def __init__(
        self,
        services: Services,
        factory: PublisherFactory,
        ledger: Ledger,
        clock: Clock,
        config: EngineConfig,
        *,
        proxy_timeout: float = 10.0,
    ) -> None:
        self.services = services
        self.factory = factory
        self.ledger = ledger
        self.clock = clock
        self.config = config
        self.proxy_timeout = proxy_timeout
        self.hashes = Sha256Cache()
        self._checked: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def due_jobs(self, now: datetime, horizon: timedelta) -> list[tuple[Job, Account, MediaItem]]:
        with self.services.db.session() as session:
            rows = session.execute(
                select(Job, Account, MediaItem)
                .join(Account, Account.id == Job.account_id)
                .join(MediaItem, MediaItem.id == Job.media_id)
                .outerjoin(Campaign, Campaign.id == Job.campaign_id)
                .where(Job.status.in_(CLAIMABLE))
                .where(Job.lease_owner.is_(None))
                .where(Job.next_attempt_at <= now + horizon)
                .where(Account.status.in_(sorted(RUNNABLE_ACCOUNT_STATUSES)))
                .where(
                    or_(Job.campaign_id.is_(None), Campaign.status != CampaignStatus.PAUSED.value)
                )
                .order_by(Job.next_attempt_at, Job.id)
            ).all()
        return [(job, account, media) for job, account, media in rows]

    def run(self) -> list[Problem]:
        """One pass; only one runs at a time (the scheduler and start-up may overlap)."""
        if not self._lock.acquire(blocking=False):
            return []
        try:
            return self._run()
        finally:
            self._lock.release()

    def _run(self) -> list[Problem]:
        now = self.clock.now()
        horizon = timedelta(minutes=self.config.readiness_minutes)
        if self.config.readiness_minutes <= 0:
            return []
        checks = RouteReadiness(self.factory)
        proxies: dict[int, str | None] = {}
        bad_accounts: set[int] = set()
        warned_proxies: set[int] = set()
        problems: list[Problem] = []
        for job, account, media in self.due_jobs(now, horizon):
            last = self._checked.get(job.id)
            if last is not None and now - last < horizon:
                continue
            if account.id in bad_accounts:
                continue
            try:
                problem = self._check(job, account, media, checks, proxies)
            except PublishError as exc:  # could not ask now: ask again next pass
                log.info("job %s: readiness not known yet: %s", job.id, exc.reason)
                continue
            except Exception:
                log.exception("job %s: readiness check failed", job.id)
                continue
            self._checked[job.id] = now
            if problem is None:
                continue
            problems.append(problem)
            if problem.scope == "proxy":
                if account.proxy_id is not None and account.proxy_id not in warned_proxies:
                    warned_proxies.add(account.proxy_id)
                    self._warn_proxy(problem)
                continue
            if problem.scope == "account":
                bad_accounts.add(account.id)
            self.ledger.flag_not_ready(
                job.id,
                f"not ready: {problem.reason}",
                account_reason=problem.reason if problem.scope == "account" else None,
            )
        return problems

    def _check(
        self,
        job: Job,
        account: Account,
        media: MediaItem,
        checks: RouteReadiness,
        proxies: dict[int, str | None],
    ) -> Problem | None:
        request = self.factory.request_for(job, account, media)
        if request.photos:  # a photo set: each image still there and unchanged
            reason = PhotoSetService.problem(media)
            if reason:
                return Problem(job.id, account.id, reason, "job")
        elif request.options.source != "url":
            path = Path(media.path)
            if not path.is_file():
                return Problem(job.id, account.id, f"the video file is missing: {path}", "job")
            if self.hashes.digest(path) != media.sha256:
                return Problem(
                    job.id, account.id, f"the video file changed since it was added: {path}", "job"
                )
        if account.proxy is not None:
            if account.proxy.id not in proxies:
                proxies[account.proxy.id] = self._proxy_problem(account)
            reason = proxies[account.proxy.id]
            if reason:
                return Problem(job.id, account.id, reason, "proxy")
        try:
            publisher = self.factory.get(job.route)
        except PublishError as exc:
            return Problem(job.id, account.id, exc.reason, "job")
        problem = checks.problem(job.route, publisher, request)
        if problem is None:
            return None
        fallback = next_route(account.routes, job.route) if problem.fallback else None
        if fallback is not None:
            # the route cannot take it, another can: the job falls back at its slot
            self.ledger.events.emit(
                EngineEvent(
                    EventKind.WARNING,
                    f"{job.route} is not ready ({problem.reason}); the job will use {fallback}",
                    job_id=job.id,
                    timestamp=self.clock.now(),
                    account_id=account.id,
                    data={"code": "route_not_ready", "route": job.route, "fallback": fallback},
                )
            )
            return None
        return Problem(job.id, account.id, problem.reason, problem.scope)

    def _proxy_problem(self, account: Account) -> str | None:
        proxy = account.proxy
        assert proxy is not None
        result = check_proxy(
            ProxySpec(proxy.id, proxy_url(proxy)),
            str(self.services.settings.get("proxy.check_url")),
            timeout=self.proxy_timeout,
        )
        self.services.proxies.record_check(
            proxy.id,
            ok=result.ok,
            latency_ms=result.latency_ms,
            exit_ip=result.exit_ip,
            country=result.country,
            error=result.error,
        )
        if result.ok:
            return None
        return f"proxy {proxy_label(proxy)} does not answer: {result.error}"

    def _warn_proxy(self, problem: Problem) -> None:
        self.ledger.events.emit(
            EngineEvent(
                EventKind.WARNING,
                f"{problem.reason}; its jobs stay queued and retry at their slot if it is "
                "still down",
                job_id=problem.job_id,
                timestamp=self.clock.now(),
                account_id=problem.account_id,
                data={"code": "proxy_down"},
            )
        )

    def forget(self, job_id: int) -> None:
        self._checked.pop(job_id, None)
