"""engine/hosted.py: the engine starts its hosted services (intake) and stops them first."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.engine import Engine, ManualClock
from piper_desktop.engine.hosted import HostContext

SEEN: list[str] = []


class Recorder:
    name = "recorder"

    def __init__(self, context: HostContext) -> None:
        self.context = context

    def start(self) -> None:
        SEEN.append(f"start {self.context.engine.state()} {self.context.options.get('port')}")

    def stop(self) -> None:
        # stopped before the engine drains: it is still "stopping", not "stopped"
        SEEN.append(f"stop {self.context.engine.state()}")

    def status(self) -> str:
        return f"data in {self.context.data_dir}"


def recorder(context: HostContext) -> Recorder:
    return Recorder(context)


def off(context: HostContext) -> None:
    return None


def broken(context: HostContext) -> Recorder:
    raise RuntimeError("no token set")


REFS = (f"{__name__}:broken", f"{__name__}:off", f"{__name__}:recorder")


def test_hosted_services_run_with_the_engine(
    services: Services, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    SEEN.clear()
    engine = Engine(
        services,
        clock=clock,
        watch_system=False,
        data_dir=tmp_path,
        hosted_options={"port": 0},
        hosted=REFS,
    )
    with caplog.at_level(logging.INFO, logger="piper"):
        engine.start()
        try:
            # the broken one is named in one line; the others run; the one off is absent
            assert engine.hosted.statuses() == {"recorder": f"data in {tmp_path}"}
            assert any("did not start: no token set" in r.getMessage() for r in caplog.records)
        finally:
            engine.stop(timeout=5)
    assert SEEN == ["start running 0", "stop stopping"]
    assert engine.hosted.statuses() == {}
