"""Collects what a test logged and raised, and proves no secret is in it."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager


class Captured:
    def __init__(self) -> None:
        self.records: list[str] = []
        self.errors: list[str] = []

    def error(self, exc: BaseException) -> None:
        self.errors.append(str(exc))
        self.errors.append(repr(exc))
        self.errors.append("".join(traceback.format_exception(exc)))

    def text(self) -> str:
        return "\n".join(self.records + self.errors)

    def assert_clean(self, secrets: list[str]) -> None:
        text = self.text()
        assert self.records, "nothing was logged: the check would prove nothing"
        for secret in secrets:
            assert secret and secret not in text, "a secret leaked into logs or errors"


class _Handler(logging.Handler):
    def __init__(self, sink: Captured) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.records.append(self.format(record))


@contextmanager
def capture_logs() -> Iterator[Captured]:
    """Everything Piper and httpx/httpcore log at DEBUG, as the file log would get it."""
    captured = Captured()
    handler = _Handler(captured)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(n) for n in ("piper", "httpx", "httpcore")]
    saved = [(lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
        lg.propagate = False
    try:
        yield captured
    finally:
        for lg, (level, propagate) in zip(loggers, saved, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)
            lg.propagate = propagate
