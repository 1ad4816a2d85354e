"""The background-task helper and the one paged table model every list uses."""

from __future__ import annotations

import threading

from PySide6.QtCore import QItemSelectionModel, QObject, Qt, QThread
from PySide6.QtWidgets import QTableView

from piper_desktop.domain.services import Services
from piper_desktop.domain.tables import TableService
from piper_desktop.ui import tasks
from piper_desktop.ui.engine_bridge import EngineBridge, as_job_event
from piper_desktop.ui.table_model import Column, PagedTableModel, RowRole, TableSource


def test_run_task_delivers_on_the_gui_thread(qtbot, pool_tasks) -> None:
    seen: dict[str, object] = {}
    gui = QThread.currentThread()

    def work() -> int:
        seen["worker"] = threading.current_thread().name
        return 41 + 1

    def done(value: int) -> None:
        seen["value"] = value
        seen["on_gui"] = QThread.currentThread() is gui

    tasks.run_task(work, done)
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] == 42 and seen["on_gui"] is True
    assert seen["worker"] != threading.current_thread().name

    errors: list[BaseException] = []
    tasks.run_task(lambda: 1 / 0, lambda _v: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ZeroDivisionError)


def test_run_task_drops_results_for_a_deleted_owner(qtbot, pool_tasks) -> None:
    owner = QObject()
    release = threading.Event()
    delivered: list[int] = []
    tasks.run_task(lambda: release.wait(5) and 1, delivered.append, owner=owner)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owner))
    release.set()
    qtbot.waitUntil(lambda: pool_tasks.pending() == 0)
    assert delivered == []


def _alive(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def _seed(services: Services, count: int) -> None:
    from piper_desktop.domain.importers import import_accounts

    lines = ["username,group"] + [f"acct{n:04d},{'a' if n % 3 else 'b'}" for n in range(count)]
    report = import_accounts(services.db, "\n".join(lines))
    assert report.created == count


COLUMNS = [Column("id", "#"), Column("username", "User"), Column("group", "Group")]


def test_model_pages_sorts_and_filters(qtbot, services: Services) -> None:
    _seed(services, 450)
    model = PagedTableModel(
        TableSource(TableService(services.db), "accounts"), COLUMNS, page_size=200
    )
    model.refresh(keep=False)
    assert model.rowCount() == 200 and model.total == 450
    assert model.canFetchMore()
    model.fetchMore()
    model.fetchMore()
    assert model.rowCount() == 450 and not model.canFetchMore()
    assert model.data(model.index(0, 1)) == "acct0000"
    model.sort(1, Qt.SortOrder.DescendingOrder)
    assert model.rowCount() == 200
    assert model.data(model.index(0, 1)) == "acct0449"
    model.set_filter("group", "b")
    assert model.total == 150
    assert all(model.data(model.index(r, 2)) == "b" for r in range(model.rowCount()))
    model.set_search("acct000")
    assert model.total == 4  # acct0000, 0003, 0006, 0009 are in group b
    row = model.data(model.index(0, 0), RowRole)
    assert row["username"].startswith("acct000")


def test_stale_answers_are_dropped(qtbot, services: Services, pool_tasks) -> None:
    _seed(services, 30)
    model = PagedTableModel(TableSource(TableService(services.db), "accounts"), COLUMNS)
    with qtbot.waitSignal(model.loaded, timeout=10_000):
        model.set_filter("group", "b")
        model.set_filter("group", "a")  # the first answer must not win
    qtbot.waitUntil(lambda: pool_tasks.pending() == 0)
    assert model.total == 20
    assert {model.data(model.index(r, 2)) for r in range(model.rowCount())} == {"a"}


def test_live_refresh_keeps_the_selection(qtbot, services: Services) -> None:
    _seed(services, 20)
    model = PagedTableModel(TableSource(TableService(services.db), "accounts"), COLUMNS)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    model.refresh(keep=False)
    target = model.position_of(7)
    assert target is not None
    view.selectionModel().select(
        model.index(target, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    services.accounts.remove(2)  # a row above it goes away
    services.accounts.edit(7, {"group": "moved"})
    model.refresh(keep=True)
    selected = view.selectionModel().selectedRows()
    assert len(selected) == 1
    assert model.row(selected[0].row())["id"] == 7
    assert model.row(selected[0].row())["group"] == "moved"
    assert model.patch(7, {"group": "patched"})
    assert model.data(model.index(model.position_of(7) or 0, 2)) == "patched"
    assert not model.patch(999, {"group": "x"})


def test_bridge_reads_engine_events_from_any_thread(qtbot) -> None:
    from piper_desktop.domain.events import EngineEvent, EngineEvents, EventKind

    hub = EngineEvents()
    bridge = EngineBridge()
    bridge.attach(hub)
    received: list = []
    states: list[str] = []
    bridge.job_event.connect(received.append)
    bridge.engine_state.connect(states.append)
    worker = threading.Thread(
        target=lambda: (
            hub.emit(EngineEvent(EventKind.SUBMITTING, "uploading", job_id=3, status="submitting")),
            hub.emit(
                EngineEvent(EventKind.ENGINE, "paused", status="paused", data={"state": "paused"})
            ),
        )
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bool(received and states))
    assert received[0].job_id == 3 and received[0].kind == "submitting"
    assert received[0].status == "submitting" and states == ["paused"]
    bridge.detach()
    # emitted on this thread: a subscribed bridge would have delivered it at once
    hub.emit(EngineEvent(EventKind.PUBLISHED, "done", job_id=3, status="published"))
    assert len(received) == 1
    assert as_job_event({"id": 5, "type": "failed", "reason": "x"}).kind == "failed"


def test_a_long_session_cannot_use_up_none_or_true(qapp) -> None:
    """PySide6 6.12 loses a reference to None/True per call on Python 3.11; the guard
    (or a good PySide6) keeps hundreds of thousands of signals from aborting the app."""
    import sys

    from PySide6.QtCore import QTimer

    from piper_desktop.ui import qtfix

    bridge = EngineBridge()
    timer = QTimer()
    before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        bridge.engine_state.emit("running")
        timer.start(1000)
    lost = before[0] - sys.getrefcount(None), before[1] - sys.getrefcount(True)
    if max(lost) > 0:  # a leaking PySide6: the guard must have given them ballast
        assert sys.version_info < (3, 12)
        assert sys.getrefcount(None) > qtfix.BALLAST // 2
        assert sys.getrefcount(True) > qtfix.BALLAST // 2
    timer.stop()
