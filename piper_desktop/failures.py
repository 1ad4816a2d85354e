"""What an operator is told when something fails: one line, never SQL, never a secret;
and for the GUI a crash report file with the details, secrets masked, owner-only.

The CLI's top-level handler (cli/main.py) and the GUI's (ui/app.py) both word their
line here, so that the two faces say the same thing about the same failure.
"""

from __future__ import annotations

import platform
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from . import __version__
from .domain.errors import DomainError
from .logs import mask
from .owner_only import private_dir, write_private_text
from .store.faults import StoreFault, classify

CRASH_DIR = "crash-reports"
# SQLAlchemy appends the statement (and, unless hidden, its values) to its messages
_SQL_MARKERS = ("[SQL:", "[parameters:", "(Background on this error")


def one_line(exc: BaseException) -> str:
    """The exception's first line, masked, without SQL; its type when it says nothing."""
    orig = getattr(exc, "orig", None)
    source = orig if isinstance(orig, BaseException) else exc
    text = str(source)
    for marker in _SQL_MARKERS:
        text = text.split(marker)[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    name = type(source).__name__
    return mask(f"{name}: {first}" if first else name)


def describe(exc: BaseException, database: Path | None = None) -> str:
    """The line an operator reads: a fault of the database file in its own words, a
    refusal of the domain as it says, anything else as `one_line`."""
    known: BaseException | None = classify(exc, database) if database is not None else None
    if known is None and isinstance(exc, StoreFault | DomainError):
        known = exc
    if known is not None:
        lines = str(known).splitlines() or [type(known).__name__]
        return mask(lines[0])
    return one_line(exc)


def write_crash_report(
    data_dir: Path,
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> Path:
    """A file with what happened (the traceback, masked) for the operator to send."""
    folder = private_dir(data_dir / CRASH_DIR)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    body = "".join(traceback.format_exception(exc_type, exc, tb))
    # belt and braces: the engine hides statement values already
    body = "\n".join(line.split("[parameters:")[0] for line in body.splitlines())
    text = (
        f"Piper Desktop {__version__} crash report ({stamp})\n"
        f"Python {sys.version.split()[0]} on {platform.platform()}\n\n{mask(body)}\n"
    )
    return write_private_text(folder / f"crash-{stamp}.txt", text)
