"""The engine's knobs, read once from the `engine.*` settings (see domain/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..domain.policy import ROUTE_DAILY_CAP_KEYS
from ..domain.settings import SettingsService
from ..store.enums import JobRoute

ROUTES = tuple(r.value for r in JobRoute)


@dataclass(frozen=True)
class EngineConfig:
    max_workers: int = 4
    # jobs at once per route, on top of max_workers
    route_limits: dict[str, int] = field(
        default_factory=lambda: {"tiktok_api": 4, "upload_post": 4, "browser": 2}
    )
    tick_seconds: float = 60.0
    grace_minutes: float = 30.0
    readiness_minutes: float = 30.0
    duplicate_window_days: int = 30
    retry_base_seconds: float = 60.0
    lease_seconds: float = 900.0
    daily_post_cap: int = 15
    # route -> posts per account per local day on it (domain/policy.ROUTE_DAILY_CAP_KEYS)
    route_daily_caps: dict[str, int] = field(default_factory=dict)
    check_seconds: float = 15.0
    # a post still "processing" this long after its receipt needs a person
    verify_timeout_seconds: float = 6 * 3600.0
    # cooldown when the platform asks for one without saying how long
    default_cooldown_seconds: float = 3600.0
    # retry delay = base * 2**(attempt-1) * (1 + jitter * U[0, 1))
    jitter: float = 0.25
    # caps on post starts per account: route -> (count, seconds). The engine adds each
    # route's own (`RouteSpec.post_rate`); a value here replaces the route's
    route_rate: dict[str, tuple[int, float]] = field(default_factory=dict)
    # how long `stop()` lets jobs in flight finish before leaving them to reconciliation
    stop_timeout: float = 120.0
    # scheduler periods for the engine's own duties (the routes' duties carry theirs)
    readiness_every: float = 300.0
    proxy_check_every: float = 900.0
    network_poll_every: float = 15.0
    # a wall-clock move this much larger than the monotonic one is a resume or a jump
    clock_jump_threshold: float = 30.0

    @classmethod
    def from_settings(cls, settings: SettingsService, **overrides: Any) -> EngineConfig:
        """The `engine.*` settings, with `overrides` (any of the fields, by name) on top."""
        get = settings.get
        read = cls(
            max_workers=int(get("engine.max_workers")),
            route_limits={r: int(get(f"engine.limit.{r}")) for r in ROUTES},
            tick_seconds=float(get("engine.tick_seconds")),
            grace_minutes=float(get("engine.grace_minutes")),
            readiness_minutes=float(get("engine.readiness_minutes")),
            duplicate_window_days=int(get("engine.duplicate_window_days")),
            retry_base_seconds=float(get("engine.retry_base_seconds")),
            lease_seconds=float(get("engine.lease_seconds")),
            daily_post_cap=int(get("engine.daily_post_cap")),
            route_daily_caps={r: int(get(key)) for r, key in ROUTE_DAILY_CAP_KEYS.items()},
            check_seconds=float(get("engine.check_seconds")),
        )
        # the caller's own values (CLI flags, tests) win over the settings
        return replace(read, **overrides)

    def route_limit(self, route: str) -> int:
        return max(1, self.route_limits.get(route, self.max_workers))
