"""Other desktops' changes into the GUI: a team store's ChangeListener (store/pg_listen.py,
its own thread) → a queued Qt signal → `AppContext.changed(table)` on the GUI thread, so
the panels showing those tables reload (off the GUI thread, as they always load).
Changes arriving close together are gathered into one reload per table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

if TYPE_CHECKING:
    from ..store.pg_listen import ChangeListener
    from .context import AppContext

DEBOUNCE_MS = 150  # a burst (a campaign's many jobs) becomes one reload, well within a second


class ChangeBridge(QObject):
    heard = Signal(object)  # frozenset of table names, from the listener's thread

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self._pending: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._flush)
        self.heard.connect(self._gather)  # queued: emitted from another thread
        self.listener: ChangeListener | None = None

    def start(self) -> bool:
        """Listen when the store is a team's (has `listen`); False for a local vault."""
        listen: Any = getattr(self.ctx.services.db, "listen", None)
        if listen is None or self.listener is not None:
            return False
        self.listener = listen(self.heard.emit)
        return True

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        self._timer.stop()

    def _gather(self, tables: frozenset[str]) -> None:
        self._pending |= set(tables)
        if not self._timer.isActive():
            self._timer.start()

    def _flush(self) -> None:
        tables, self._pending = sorted(self._pending), set()
        for table in tables:
            self.ctx.changed(table)
