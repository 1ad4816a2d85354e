"""GUI test fixtures: the app context over a real vault, tasks run inline by default."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from piper_desktop.domain.services import Services
from piper_desktop.ui import tasks
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.theme import apply_theme


@pytest.fixture(scope="session", autouse=True)
def themed_app(qapp) -> None:
    """The light theme, once: re-styling the application between tests would re-polish
    widgets other tests left for deletion."""
    apply_theme(qapp, "light")


@pytest.fixture(autouse=True)
def collect_while_alive(qapp) -> Iterator[None]:
    """Collect a test's garbage after its widgets are closed but before Qt deletes them
    (deleteLater runs at the next event loop): the Python side of a Qt object is never
    collected after its C++ side is gone. A whole-suite run once crashed in the garbage
    collector inside a later test's event loop (pyqtgraph's chart views keep cycles)."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def inline_tasks(qapp) -> Iterator[tasks.InlineRunner]:
    """Background work runs at once on the test's thread: flows are deterministic."""
    runner = tasks.InlineRunner()
    previous = tasks.set_runner(runner)
    yield runner
    tasks.set_runner(previous)


@pytest.fixture
def pool_tasks(inline_tasks) -> Iterator[tasks.PoolRunner]:
    """Real worker threads (for tests about threading)."""
    runner = tasks.PoolRunner(max_threads=2)
    tasks.set_runner(runner)
    yield runner
    runner.wait(10_000)
    tasks.set_runner(inline_tasks)


@pytest.fixture
def ctx(services: Services, data_dir: Path, qtbot) -> AppContext:
    context = AppContext(services, data_dir)
    opened: list[str] = []
    context.url_opener = opened.append  # nothing leaves the test machine
    context.opened_urls = opened  # type: ignore[attr-defined]
    messages: list[tuple[str, str]] = []
    context.message.connect(lambda text, level: messages.append((text, level)))
    context.messages = messages  # type: ignore[attr-defined]
    return context


# Known harmless Qt warnings of the headless (offscreen) platform plugin: it cannot do
# what a window manager does. Anything else Qt warns about fails the test.
OFFSCREEN_LIMITS = (
    r"This plugin does not support propagateSizeHints\(\)",
    r"This plugin does not support raise\(\)",
    r"This plugin does not support setParent!",
    r"This plugin does not support grabbing the (keyboard|mouse)",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_LIMITS))
