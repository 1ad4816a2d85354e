"""What a route offers the engine, behind one small protocol.

A `RouteSpec` is a route's entry in the registry: how its publisher is built (and from
which settings), plus the OPTIONAL capabilities the engine asks for when they are there:

- `readiness`: before a slot, can this route post this job? (token, creator settings,
  API key, a logged-in browser session)
- `duties`: periodic work of the route (token refresh, selector probe), run by the
  engine's scheduler
- `handoff`: hand a job that needs a person to the operator and carry on after them
- `probe`: walk the platform's page without posting and report what it found
- `connected`: is the account connected to the route at all (a stored token pair, a
  profile, a session)? Asked before jobs are made, without the network (routes/connected.py)

Reconciliation after a crash is `Publisher.reconcile`, which every route answers (a
route that cannot tell raises `PublishError(needs_attention=True)`).

The engine iterates what the routes offer and knows no route by name. The small types
a route needs of the engine (a clock, what a duty may do) are defined here and the
engine adapts to them: routes/ never imports engine/.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar, cast

from ..domain.services import Services
from .base import AccountRef, Publisher, PublishError, PublishRequest, Receipt, ReceiptCallback

T = TypeVar("T")

# the settings a route is built from, read by the engine: key -> value
SettingsValues = Mapping[str, object]


class RouteClock(Protocol):
    """The engine's clock as a route sees it (the engine's `Clock` satisfies it)."""

    def now(self) -> datetime: ...

    def time(self) -> float: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RouteContext:
    """What a route is built with, once per publisher factory: the domain services, the
    engine's clock, and objects the route's publishers share for the factory's lifetime
    (e.g. one rate-limiter set for every TikTok publisher: limits are per user token,
    whatever object sends the request)."""

    def __init__(self, services: Services, clock: RouteClock) -> None:
        self.services = services
        self.clock = clock
        self._shared: dict[str, object] = {}
        self._lock = threading.Lock()

    def shared(self, key: str, make: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._shared:
                self._shared[key] = make()
            # the same `make` (one per key, in one route module) made what is stored
            return cast(T, self._shared[key])


@dataclass(frozen=True)
class Built:
    """A publisher and what ends it (its HTTP clients, its browser); None: nothing."""

    publisher: Publisher
    close: Callable[[], None] | None = None


@dataclass(frozen=True)
class RouteProblem:
    """Why a route cannot take a job now (readiness), for the operator."""

    reason: str
    # "job": this job's options; "account": the account's access to the route
    scope: str
    # may the account's next route take the job instead? (not when the problem is a
    # choice only the operator can make)
    fallback: bool = True


def problem_or_raise(exc: PublishError) -> RouteProblem:
    """A readiness question's PublishError as a problem, or raised again when it only
    means "cannot ask now" (retryable, nobody needs to act)."""
    if exc.retryable and not exc.needs_attention:
        raise exc
    # a login or access problem is the account's; a refused option is this job's, and so
    # is a route the account was never connected to (its other routes still work)
    if exc.code == "not_connected":
        return RouteProblem(exc.reason, "job")
    scope = "account" if exc.account_status or exc.needs_attention else "job"
    return RouteProblem(exc.reason, scope)


class Readiness(Protocol):
    """One readiness pass's questions to one route; answers may be cached for the pass
    (one creator_info per account, one key check, one session check per account).

    `problem` returns None (ready) or a `RouteProblem` (a person must act), or raises
    PublishError with `retryable=True` when the question could not be asked now."""

    def problem(self, publisher: Publisher, request: PublishRequest) -> RouteProblem | None: ...


class DutyContext(Protocol):
    """What a route's periodic duty may use of the engine (the engine implements it)."""

    @property
    def services(self) -> Services: ...

    @property
    def clock(self) -> RouteClock: ...

    def publisher(self) -> Publisher:
        """This route's publisher; raises PublishError when it cannot be built."""
        ...

    def account_status(self, account_id: int, status: str, reason: str) -> None:
        """Set the account's status as a publisher's error names it ("needs_login", ...)."""
        ...

    def warn(self, message: str, data: dict[str, object]) -> None:
        """Tell the operator (an engine warning event; `data["code"]` names it)."""
        ...


@dataclass(frozen=True)
class RouteDuty:
    name: str  # the scheduler's id for it ("token_refresh", "selector_probe")
    every: float  # seconds
    run: Callable[[DutyContext], object]
    # how late a run may still start; later than that it is skipped (the next one comes)
    misfire_grace: float = 300.0


class Handoff(Protocol):
    """A job handed to the operator (e.g. a visible browser window on its form)."""

    @property
    def is_open(self) -> bool: ...

    @property
    def blocked_by(self) -> str | None:
        """What stopped the job when it was handed over, if known."""
        ...

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until the operator closes it; False when `timeout` passed first."""
        ...

    def close(self) -> None: ...


class OperatorHandoff(Protocol):
    def begin(self, publisher: Publisher, request: PublishRequest) -> Handoff:
        """Open the job for the operator, filled in as far as the platform lets us."""
        ...

    def resume(
        self,
        publisher: Publisher,
        request: PublishRequest,
        on_receipt: ReceiptCallback,
        handoff: Handoff,
    ) -> Receipt:
        """Carry on after the operator is done; never posts twice (see the route)."""
        ...


class ProbeFinding(NamedTuple):
    """What a probe looked for and whether it was found; for an element with several
    candidates, which one matched (0: the first, most specific)."""

    what: str
    found: bool
    candidate: int | None = None
    matched: str | None = None

    @property
    def fallback(self) -> bool:
        """Only a later candidate matched: the page drifted from what the file expects."""
        return bool(self.found and self.candidate)


# `media` lets the probe go past the upload
Probe = Callable[[Publisher, AccountRef, Path | None], list[ProbeFinding]]


@dataclass(frozen=True)
class RouteSpec:
    name: str  # the JobRoute value jobs carry
    label: str  # for people ("TikTok Content Posting API")
    settings: tuple[str, ...]  # the settings it is built from; a change rebuilds it
    build: Callable[[RouteContext, SettingsValues], Built]
    # close a publisher replaced after a settings change at once (its HTTP clients close
    # when a call in flight ends); otherwise it is closed with the factory
    close_on_replace: bool = False
    readiness: Callable[[RouteContext], Readiness] | None = None
    duties: tuple[RouteDuty, ...] = field(default=())
    handoff: OperatorHandoff | None = None
    probe: Probe | None = None
    # the platform's cap on post starts per account: (count, seconds); None: no cap
    post_rate: tuple[int, float] | None = None
    # why the account is not connected to this route (None: it is); no network
    connected: Callable[[Services, int], str | None] | None = None
    # how a person connects an account to it ({user}: the account), for refusals
    connect_hint: str = ""
    # the longest caption each platform it posts to takes, in UTF-16 code units (what
    # TikTok counts); the post preview counts against them
    caption_limits: Mapping[str, int] = field(default_factory=dict)
    # its publisher opens the account's browser session: one machine at a time holds
    # it (domain/session_leases.py), so the engine waits while another desktop has it
    browser_session: bool = False
