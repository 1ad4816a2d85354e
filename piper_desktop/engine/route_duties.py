"""The routes' periodic duties (token refresh, selector probe, ...) as engine duties.

`RouteDutyContext` is what a duty may use of the engine (`routes.spec.DutyContext`):
the route's publisher from the engine's factory, account status changes through the
ledger, warnings as engine events.
"""

from __future__ import annotations

from ..domain.events import EngineEvent, EngineEvents, EventKind
from ..domain.services import Services
from ..routes.base import Publisher
from ..routes.spec import RouteClock, RouteDuty
from .clock import Clock
from .ledger import Ledger
from .publishers import PublisherFactory


class RouteDutyContext:
    def __init__(
        self,
        route: str,
        factory: PublisherFactory,
        ledger: Ledger,
        events: EngineEvents,
        clock: Clock,
    ) -> None:
        self.route = route
        self.factory = factory
        self.ledger = ledger
        self.events = events
        self._clock = clock

    @property
    def services(self) -> Services:
        return self.factory.services

    @property
    def clock(self) -> RouteClock:
        return self._clock

    def publisher(self) -> Publisher:
        return self.factory.get(self.route)

    def account_status(self, account_id: int, status: str, reason: str) -> None:
        self.ledger.account_status(account_id, status, reason)

    def warn(self, message: str, data: dict[str, object]) -> None:
        self.events.emit(
            EngineEvent(
                EventKind.WARNING,
                message,
                timestamp=self._clock.now(),
                data=dict(data),
            )
        )


def route_duties(factory: PublisherFactory) -> list[tuple[str, RouteDuty]]:
    """(route, duty) for every duty every registered route offers."""
    return [(spec.name, duty) for spec in factory.routes for duty in spec.duties]
