"""The publishing engine: claims due jobs, runs publishers, retries, reconciles.

Nothing here imports Qt: the GUI subscribes to `Engine.events` and turns the plain
Python events into signals.
"""

from __future__ import annotations

from .clock import Clock, ManualClock, SystemClock
from .config import EngineConfig
from .engine import Engine
from .publishers import PublisherFactory, RouteNotConfigured

__all__ = [
    "Clock",
    "Engine",
    "EngineConfig",
    "ManualClock",
    "PublisherFactory",
    "RouteNotConfigured",
    "SystemClock",
]
