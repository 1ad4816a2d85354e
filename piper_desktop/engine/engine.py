"""The engine: claims due jobs from the database and runs them on a bounded worker pool.

Two ways to run it, one loop:
- `Engine.start()` / `stop()`: in the background, until stopped (the GUI's tray mode and
  `piper run`). APScheduler reminds it of its periodic duties (tick, readiness, proxy
  checks, network watch, and those the routes offer: token refresh, selector probes);
  the loop thread sleeps until the next due moment computed from the database, or until
  something wakes it.
- `Engine.run_once()`: everything due now, followed until each job is final or waiting
  (retry later, held by a cap, needs a person); then it returns (`piper run --once`).

Start-up always reconciles jobs left mid-flight first. Stopping is done in stages: no
new claims, jobs in flight finish (a job not yet submitted goes back to the queue, a
submitted one leaves its status checks for the next start), leases are released; a job
still uploading when the time is up keeps its lease and is reconciled at the next start.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..domain import team
from ..domain.events import EngineEvent, EngineEvents, EventKind
from ..domain.leases import LeaseOwner
from ..domain.services import Services
from ..logs import get_logger
from ..store import statements as sql
from ..store.enums import CLAIMABLE_JOB_STATUSES, JobStatus
from ..store.models import Account, Job
from .clock import Clock, SystemClock
from .config import EngineConfig
from .dispatch import CaptionBook, ClaimPass, PassResult, Work, next_due, reslot_missed
from .hosted import EngineControls, HostContext, HostedSet
from .ledger import Ledger
from .leftovers import Left, describe, what_is_left
from .publishers import PublisherFactory
from .readiness import Problem, ReadinessChecker
from .reconcile import reconcile
from .route_duties import RouteDutyContext, route_duties
from .runner import JobRunner
from .scheduler import Duty, build_scheduler
from .wake import ClockJumpDetector, LogindSleepWatcher, NetworkWatcher

log = get_logger("engine")
# a team server's changes that can make work due now (store/pg_listen.py)
WAKING_TABLES = frozenset({"jobs", "accounts", "campaigns", "settings"})
# run_once waits for a followed job's next status check only this far ahead (seconds)
FOLLOW_HORIZON = 60.0


class Engine:
    def __init__(
        self,
        services: Services,
        *,
        clock: Clock | None = None,
        events: EngineEvents | None = None,
        config: EngineConfig | None = None,
        factory: PublisherFactory | None = None,
        rng: random.Random | None = None,
        watch_system: bool = True,
        data_dir: Path | None = None,
        hosted_options: Mapping[str, Any] | None = None,
        hosted: tuple[str, ...] | None = None,
    ) -> None:
        self.services = services
        self.clock = clock or SystemClock()
        # the services' bus by default: the operator's moves are announced on it too
        self.events = events or services.events
        # a team server's desktop id where there is one (domain/leases.py says why)
        self.owner = LeaseOwner.new(getattr(services.db, "desktop_id", None))
        self.factory = factory or PublisherFactory(services, self.clock)
        config = config or EngineConfig.from_settings(services.settings)
        # the routes' own caps on post starts (TikTok: 6 inits a minute); the config's win
        rates = {spec.name: spec.post_rate for spec in self.factory.routes if spec.post_rate}
        self.config = replace(config, route_rate=rates | config.route_rate)
        self.ledger = Ledger(services.db, self.clock, str(self.owner), self.config, self.events)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._recheck = threading.Event()
        self._paused = False
        self.runner = JobRunner(
            services.db,
            self.ledger,
            self.factory,
            self.clock,
            self.config,
            self.events,
            self._stopping,
            rng,
        )
        self.readiness = ReadinessChecker(
            services, self.factory, self.ledger, self.clock, self.config
        )
        self._lock = threading.Lock()
        self._running: dict[int, tuple[Work, Future[None]]] = {}
        self._followed: set[int] = set()
        # workers finished so far (run_once looks again when one finished mid-pass)
        self._finished_count = 0
        self._pool: ThreadPoolExecutor | None = None
        self._thread: threading.Thread | None = None
        self._scheduler: Any = None
        self._jump = ClockJumpDetector(self.config.clock_jump_threshold)
        self._network = NetworkWatcher(lambda: self.wake("network back", recheck=True))
        self._logind = LogindSleepWatcher(lambda: self.wake("system resumed", recheck=True))
        self._watch_system = watch_system
        self._listener: Any = None  # a team server's change listener, while running
        self._last_renew = float("-inf")
        self._captions = CaptionBook()
        # (known, earliest next status check): lets passes skip reading the checks; our
        # own new checks lower it, and every tick forgets it (other processes' checks)
        self._check_hint: tuple[bool, datetime | None] = (False, None)
        self._planned_since_read: datetime | None = None
        self.ledger.on_verifying = self._check_planned
        self._state = "stopped"
        # the Telegram bot, watched folders, local API (engine/hosted.py), while running
        self.hosted = HostedSet(
            HostContext(
                services,
                self.events,
                self.clock,
                EngineControls(lambda: self.state, self.pause, self.resume, self.wake),
                data_dir,
                dict(hosted_options or {}),
            ),
            hosted,
        )
        # jobs still running when the last stop's time was up (reconciled at next start)
        self.stranded: list[int] = []

    # --- public -------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """stopped | running | paused | stopping"""
        return self._state

    def start(self) -> None:
        """Run in the background until `stop()`."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._set_state("running", "engine started")
        self._open_pool()
        self._jump.observe(self.clock.time(), self.clock.monotonic())
        self._thread = threading.Thread(
            target=self._loop_safely, args=(False,), name="piper-engine", daemon=True
        )
        self._thread.start()
        self._scheduler = build_scheduler(self.duties())
        self._scheduler.start()
        if self._watch_system:
            self._logind.start()
        listen = getattr(self.services.db, "listen", None)
        if listen is not None:  # a team server: another desktop's changes wake us at once
            self._listener = listen(self._heard)
        self.hosted.start()

    def stop(self, timeout: float | None = None) -> list[int]:
        """Stop in stages; returns the ids of jobs still running when time was up."""
        if self._state == "stopped" and self._thread is None:
            return []
        self._set_state("stopping", "stopping: no new jobs; letting jobs in flight finish")
        self._stopping.set()
        self._wake.set()
        self.hosted.stop()  # no new work from outside while the rest winds down
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._logind.stop()
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        left = self._drain(self.config.stop_timeout if timeout is None else timeout)
        self.factory.close()
        self._set_state(
            "stopped", "engine stopped" + (f"; {len(left)} job(s) still running" if left else "")
        )
        return left

    def run_once(self) -> dict[str, int]:
        """Process everything due now and follow it to a final or waiting state."""
        counts: Counter[str] = Counter()

        def count(event: EngineEvent) -> None:
            if event.job_id is not None:
                counts[event.kind.value] += 1

        unsubscribe = self.events.subscribe(count)
        self._stopping.clear()
        self._set_state("running", "processing what is due now")
        self._open_pool()
        try:
            self._loop(once=True)
        finally:
            self._drain(self.config.stop_timeout)
            self.factory.close()
            unsubscribe()
            left = self._leftovers()
            self._set_state(
                "stopped",
                f"done: {_summary(counts)}; {describe(left)}",
                left=[{"what": i.what, "count": i.count, "why": i.why} for i in left],
            )
        return dict(counts)

    def _leftovers(self) -> list[Left]:
        """What run_once leaves behind, and why (never a reason to wait longer)."""
        try:
            with self.services.db.session() as session:
                return what_is_left(session, self.owner, self.clock.now())
        except Exception:
            log.exception("could not read what is left")
            return []

    def request_stop(self) -> None:
        """Ask a running loop (background or run_once) to stop; safe from signal handlers."""
        self._stopping.set()
        self._wake.set()

    def pause(self) -> None:
        """No new claims; jobs in flight carry on."""
        self._paused = True
        self._set_state("paused", "paused: no new jobs start")

    def resume(self) -> None:
        self._paused = False
        self._set_state("running", "running again")
        self.wake("resumed by the operator")

    def _heard(self, tables: frozenset[str]) -> None:
        if tables & WAKING_TABLES:
            self.wake("changed at another desktop: " + ", ".join(sorted(tables)))

    def wake(self, reason: str, *, recheck: bool = False) -> None:
        """Re-check what is due now (and, with recheck, settle jobs left mid-flight)."""
        if recheck:
            self._recheck.set()
            with self._lock:
                self._check_hint = (False, None)
        self.events.emit(EngineEvent(EventKind.WAKE, reason, timestamp=self.clock.now()))
        self._wake.set()

    # --- duties (the scheduler calls these; tests may too) ------------------------------------
    def duties(self) -> list[Duty]:
        c = self.config
        duties = [
            Duty("tick", c.tick_seconds, self.tick, misfire_grace=c.tick_seconds),
            Duty("readiness", c.readiness_every, self.check_readiness, misfire_grace=60),
            Duty("proxy_checks", c.proxy_check_every, self.check_proxies, misfire_grace=300),
            Duty("network", c.network_poll_every, self._network.poll, misfire_grace=30),
        ]
        if getattr(self.services.db, "desktop_id", None) is not None:
            duties.append(Duty("team_heartbeat", 30, self._heartbeat, misfire_grace=30))
        # what the routes need done now and then (token refresh, selector probe)
        for route, duty in route_duties(self.factory):
            context = self._duty_context(route)
            duties.append(
                Duty(
                    duty.name,
                    duty.every,
                    partial(duty.run, context),
                    misfire_grace=duty.misfire_grace,
                )
            )
        return duties

    def _heartbeat(self) -> None:
        """On a team server: this desktop's engine state and owner, for `piper team status`
        and the other desktops' screens. Never fails the engine."""
        desktop = getattr(self.services.db, "desktop_id", None)
        if desktop is None:
            return
        try:
            team.heartbeat(self.services.db, desktop, self._state, str(self.owner))  # type: ignore[arg-type]
        except Exception:
            log.warning("team server: the heartbeat was not written", exc_info=True)

    def tick(self) -> None:
        jump = self._jump.observe(self.clock.time(), self.clock.monotonic())
        if jump is not None:
            what = "ahead" if jump > 0 else "back"
            self.wake(
                f"the wall clock moved {abs(jump):.0f}s {what} of the time that passed "
                "(resume from sleep or a clock change); re-checking what is due",
                recheck=True,
            )
            return
        # expired leases of dead processes are settled on every tick
        self._recheck.set()
        with self._lock:
            self._check_hint = (False, None)
        self._wake.set()

    def check_readiness(self) -> list[Problem]:
        if self._paused:
            return []
        return self.readiness.run()

    def run_duty(self, name: str) -> object:
        """Run the route duty called `name` now (the scheduler calls them; tests may)."""
        for route, duty in route_duties(self.factory):
            if duty.name == name:
                return duty.run(self._duty_context(route))
        raise KeyError(f"no route offers a duty {name!r}")

    def _duty_context(self, route: str) -> RouteDutyContext:
        return RouteDutyContext(route, self.factory, self.ledger, self.events, self.clock)

    def check_proxies(self, horizon_hours: float = 24.0) -> int:
        """Check the proxies of accounts with jobs in the next day; record the results."""
        from ..clients.proxycheck import ProxySpec, check_proxies
        from ..domain.proxies import proxy_url

        now = self.clock.now()
        with self.services.db.session() as session:
            accounts = session.scalars(
                select(Account)
                .join(Job, Job.account_id == Account.id)
                .where(Job.status.in_(sorted(CLAIMABLE_JOB_STATUSES)))
                .where(Job.next_attempt_at <= now + timedelta(hours=horizon_hours))
                .where(Account.proxy_id.is_not(None))
                .distinct()
            ).all()
            proxies = {a.proxy.id: a.proxy for a in accounts if a.proxy is not None}
        if not proxies:
            return 0
        results = check_proxies(
            [ProxySpec(p.id, proxy_url(p)) for p in proxies.values()],
            str(self.services.settings.get("proxy.check_url")),
            concurrency=int(self.services.settings.get("proxy.check_concurrency")),
        )
        for result in results:
            self.services.proxies.record_check(
                int(result.id),
                ok=result.ok,
                latency_ms=result.latency_ms,
                exit_ip=result.exit_ip,
                country=result.country,
                error=result.error,
            )
        return len(results)

    # --- the loop -----------------------------------------------------------------------------
    def _loop_safely(self, once: bool) -> None:
        try:
            self._loop(once)
        except Exception:
            log.exception("the engine loop stopped on an error")
            self._set_state("stopped", "the engine stopped on an internal error (see the log)")

    def _loop(self, once: bool) -> None:
        self._settle()
        self._readiness_safely()
        while not self._stopping.is_set():
            self._wake.clear()
            if self._recheck.is_set():
                self._recheck.clear()
                self._settle()
            self._renew_leases()
            finished = self._finished_count
            result = self._dispatch()
            running = self._running_count()
            if running:
                # workers set the wake event as they finish; leases are renewed meanwhile
                self._wake.wait(timeout=self._renew_every())
                continue
            if once and self._finished_count != finished:
                # a worker finished while the pass ran: its account was still busy in the
                # pass's reading, so what it held back may be due now — look again
                continue
            if once:
                deadline = self._followed_next()
                if deadline is None:
                    break
                if deadline <= self.clock.now() and not result.work:
                    # a check this run follows is due yet was not claimed: read them all
                    with self._lock:
                        self._check_hint = (False, None)
            else:
                deadline = self._next_due()
            now = self.clock.now()
            timeout = max((deadline - now).total_seconds(), 0.0) if deadline else None
            if not once:
                timeout = (
                    min(timeout, self.config.tick_seconds)
                    if timeout is not None
                    else self.config.tick_seconds
                )
            if result.waiting and not once:
                timeout = min(timeout or self.config.tick_seconds, self.config.tick_seconds)
            if timeout == 0 and not result.work:
                # due, yet nothing could be taken (another process holds it): look again
                # shortly instead of spinning
                timeout = 0.05
            self.clock.wait(self._wake, timeout)

    def _dispatch(self) -> PassResult:
        if self._stopping.is_set() or self._paused:
            return PassResult()
        with self._lock:
            busy = Counter(work.route for work, _ in self._running.values())
            free_total = self.config.max_workers - len(self._running)
        if free_total <= 0:
            return PassResult()
        # every registered route may take jobs (one without a limit of its own: max_workers)
        free_by_route = {
            route: self.config.route_limit(route) - busy[route]
            for route in [*self.config.route_limits, *self.factory.routes.names()]
        }
        read_checks = self._checks_due()
        with self._lock:
            self._planned_since_read = None
        with self.ledger.change() as change:
            result = ClaimPass(
                change,
                self.config,
                str(self.owner),
                free_total=free_total,
                free_by_route=free_by_route,
                captions=self._captions,
                mono=self.clock.monotonic(),
                scan_limit=free_total * 4 + 8,
                read_checks=read_checks,
            ).run()
        if result.checks_read:
            with self._lock:
                # checks planned by workers while this pass read count too
                moments = [m for m in (result.next_check, self._planned_since_read) if m]
                self._check_hint = (True, min(moments) if moments else None)
        for work in result.work:
            self._submit(work)
        if result.reslot:
            try:
                reslot_missed(self.ledger, result.reslot)
            except Exception:
                # they stay queued and late: the next pass finds them again
                log.exception("re-slotting %d missed job(s) failed", len(result.reslot))
        return result

    def _checks_due(self) -> bool:
        """Whether this pass must read the status checks (see `_check_hint`)."""
        with self._lock:
            known, at = self._check_hint
        return not known or (at is not None and at <= self.clock.now())

    def _check_planned(self, at: datetime) -> None:
        """A job of ours now waits for a status check at `at` (from the ledger)."""
        with self._lock:
            known, current = self._check_hint
            if known:
                self._check_hint = (True, at if current is None else min(current, at))
            planned = self._planned_since_read
            self._planned_since_read = at if planned is None else min(planned, at)

    def _submit(self, work: Work) -> None:
        assert self._pool is not None
        with self._lock:
            self._followed.add(work.job_id)
            future = self._pool.submit(self.runner.run, work)
            self._running[work.job_id] = (work, future)
        future.add_done_callback(partial(self._done, work.job_id))

    def _done(self, job_id: int, _future: Future[None]) -> None:
        self._finished(job_id)

    def _finished(self, job_id: int) -> None:
        with self._lock:
            self._running.pop(job_id, None)
            self._finished_count += 1
        self._wake.set()

    def _running_count(self) -> int:
        with self._lock:
            return len(self._running)

    def _open_pool(self) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self.config.max_workers, thread_name_prefix="piper-job"
            )

    def _drain(self, timeout: float) -> list[int]:
        with self._lock:
            futures = [future for _, future in self._running.values()]
        if futures:
            wait_futures(futures, timeout=timeout)
        with self._lock:
            left = sorted(self._running)
        self.stranded = left
        if self._pool is not None:
            self._pool.shutdown(wait=not left, cancel_futures=True)
            self._pool = None
        return left

    def _settle(self) -> None:
        try:
            outcome = reconcile(self.ledger, self.factory, self.owner)
        except Exception:
            log.exception("reconciliation failed; will try again at the next tick")
            return
        for ids in outcome.values():
            self._followed.update(ids)

    def _readiness_safely(self) -> None:
        try:
            self.check_readiness()
        except Exception:
            log.exception("readiness check failed")

    def _renew_every(self) -> float:
        return max(self.config.lease_seconds / 4, 1.0)

    def _renew_leases(self) -> None:
        mono = self.clock.monotonic()
        if mono - self._last_renew < self._renew_every():
            return
        self._last_renew = mono
        now = self.clock.now()
        with self.services.db.transaction() as tx:
            # every job this engine holds (IN_FLIGHT_JOB_STATUSES), one statement
            tx.run(
                sql.RENEW_LEASES,
                owner=str(self.owner),
                lease_end=now + timedelta(seconds=self.config.lease_seconds),
            )

    def _next_due(self) -> datetime | None:
        with self.services.db.session() as session:
            return next_due(session, self.clock.now())

    def _followed_next(self) -> datetime | None:
        """run_once: the next status check of a job this run is following, if any. A
        check further off than FOLLOW_HORIZON (the platform is slow or failing: the
        checks back off) is not waited for: the next run takes it, and this one says so."""
        with self._lock:
            followed = list(self._followed)
        if not followed:
            return None
        with self.services.db.session() as session:
            rows = session.execute(
                select(Job.id, Job.status, Job.next_attempt_at).where(Job.id.in_(followed))
            ).all()
        horizon = self.clock.now() + timedelta(seconds=FOLLOW_HORIZON)
        waiting = {
            job_id: at
            for job_id, status, at in rows
            if status == JobStatus.VERIFYING and at is not None and at <= horizon
        }
        with self._lock:
            self._followed &= set(waiting)
        return min(waiting.values()) if waiting else None

    def _set_state(self, state: str, message: str, **data: Any) -> None:
        self._state = state
        self._heartbeat()
        self.events.emit(
            EngineEvent(
                EventKind.ENGINE,
                message,
                status=state,
                timestamp=self.clock.now(),
                data={"state": state, **data},
            )
        )


def _summary(counts: Counter[str]) -> str:
    keys = ["published", "failed", "retrying", "needs_attention", "held", "fallback"]
    parts = [f"{counts.get(k, 0)} {k.replace('_', ' ')}" for k in keys if counts.get(k)]
    return ", ".join(parts) if parts else "nothing was due"
