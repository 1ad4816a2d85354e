"""Services the engine hosts while it runs: work that arrives from outside.

The Telegram bot, the watched folders and the local automation API (issue 20) live in
the engine's process, in GUI tray mode and in `piper run`, and feed the same domain
services as the CLI and GUI (`domain/intake.py`). Each is a `Hosted`: started after the
engine's loop, stopped before it drains. One that is not configured says so by
returning None from its factory; one that fails to start logs one line and the engine
publishes on without it.

A hosted service registers by adding "module:factory" to `HOSTED`; the modules are
imported only when an engine starts, so the CLI's other commands never load them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..domain.events import EngineEvents
from ..domain.services import Services
from ..logs import get_logger
from .clock import Clock

log = get_logger("engine")

# "module:factory" for each hosted service, in start order
HOSTED: tuple[str, ...] = (
    "piper_desktop.intake.telegram_bot:telegram_bot",
    "piper_desktop.intake.api.server:hosted_api",
    "piper_desktop.intake.folders:watched_folders",
)


class Hosted(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def status(self) -> str:
        """One line for the GUI's settings pages and `piper run`'s start-up."""
        ...


@dataclass(frozen=True)
class EngineControls:
    """What a hosted service may ask of the engine that hosts it."""

    state: Callable[[], str]
    pause: Callable[[], None]
    resume: Callable[[], None]
    wake: Callable[[str], None]


@dataclass(frozen=True)
class HostContext:
    services: Services
    events: EngineEvents
    clock: Clock
    engine: EngineControls
    # where intake keeps files it receives (owner-only; None: a temporary engine in tests)
    data_dir: Path | None = None
    # per-run choices, e.g. {"api": True, "api_port": 0} from `piper run --api`
    options: Mapping[str, Any] = field(default_factory=dict)


HostedFactory = Callable[[HostContext], "Hosted | None"]


def _factory(ref: str) -> HostedFactory:
    module, _, name = ref.partition(":")
    factory: HostedFactory = getattr(importlib.import_module(module), name)
    return factory


class HostedSet:
    """The hosted services of one engine run."""

    def __init__(self, context: HostContext, refs: tuple[str, ...] | None = None) -> None:
        self.context = context
        self.refs = HOSTED if refs is None else refs
        self.running: list[Hosted] = []

    def start(self) -> None:
        for ref in self.refs:
            try:
                hosted = _factory(ref)(self.context)
                if hosted is None:
                    continue
                hosted.start()
            except Exception as exc:  # one broken intake must not stop publishing
                log.error("%s did not start: %s", ref.rpartition(":")[0].rpartition(".")[2], exc)
                continue
            log.info("%s: %s", hosted.name, hosted.status())
            self.running.append(hosted)

    def stop(self) -> None:
        for hosted in reversed(self.running):
            try:
                hosted.stop()
            except Exception:
                log.exception("%s did not stop cleanly", hosted.name)
        self.running.clear()

    def statuses(self) -> dict[str, str]:
        return {hosted.name: hosted.status() for hosted in self.running}
