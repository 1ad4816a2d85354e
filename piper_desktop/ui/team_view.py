"""Team mode's view of the team: the desktops seen (name, operator, engine state, how
long ago each last beat, the jobs each one's engine holds, this desktop marked), which
desktop holds a job (the Jobs panel's "Held by"), and the status bar's
"Team: <server> · N machines". Loaded on a worker; reloaded on NOTIFY of job changes
(ui/change_bridge.py) and every heartbeat interval, since heartbeats notify nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from ..logs import mask
from .tasks import run_task

if TYPE_CHECKING:
    from ..domain.team import DesktopStatus
    from .context import AppContext

Index = QModelIndex | QPersistentModelIndex
REFRESH_MS = 30_000  # the engine's heartbeat interval (engine/engine.py)
HEADERS = ("Desktop", "Operator", "Engine", "Last heartbeat", "Jobs held")
NAMES: dict[str, str] = {}  # desktop id -> name, as last loaded (for "Held by")


def team_mode(ctx: AppContext) -> bool:
    """Whether this window works on a team's database (the desktop identified itself)."""
    return getattr(ctx.services.db, "desktop_id", None) is not None


def age(seen: datetime, now: datetime | None = None) -> str:
    """'12 s ago', '3 min ago', '2 h ago', '4 d ago'."""
    moment = seen if seen.tzinfo is not None else seen.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def held_by(lease_owner: str | None, names: dict[str, str] | None = None) -> str:
    """The desktop whose engine holds a job: its name when the owner is a team desktop's
    (its lease owner starts with the desktop id, domain/leases.py), else the host."""
    if not lease_owner:
        return ""
    host = lease_owner.split(":", 1)[0]
    for desktop_id, name in (NAMES if names is None else names).items():
        if host.startswith(desktop_id[:24] + "-"):
            return name
    return host


class TeamModel(QAbstractTableModel):
    """The desktops of the team, from `domain.team.desktops`."""

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.desktops: list[DesktopStatus] = []
        self._loading = False
        self._again = False

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.desktops)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        desk = self.desktops[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(desk, index.column())
        if role == Qt.ItemDataRole.FontRole and desk.this_desktop:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{desk.name} ({desk.id}) on {desk.host}"
        return None

    @staticmethod
    def text(desk: DesktopStatus, column: int) -> str:
        if column == 0:
            return desk.name + (" (this desktop)" if desk.this_desktop else "")
        if column == 1:
            return desk.operator
        if column == 2:
            return desk.engine_state or "not started"
        if column == 3:
            return age(desk.last_seen_at)
        return str(desk.jobs_held)

    def refresh(self) -> None:
        if self._loading:  # one load at a time; one more after it if asked meanwhile
            self._again = True
            return
        from ..domain import team

        db, me = self.ctx.services.db, getattr(self.ctx.services.db, "desktop_id", None)
        self._loading = True
        run_task(lambda: team.desktops(db, me), self._loaded, self._failed, owner=self)  # type: ignore[arg-type]

    def _loaded(self, desktops: list[DesktopStatus]) -> None:
        self.beginResetModel()
        self.desktops = list(desktops)
        self.endResetModel()
        NAMES.clear()
        NAMES.update({desk.id: desk.name for desk in self.desktops})
        self._finished()
        self.loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self._finished()
        self.failed.emit(
            f"Team server: {mask(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)}"
        )

    def _finished(self) -> None:
        self._loading = False
        if self._again:
            self._again = False
            self.refresh()


def status_text(ctx: AppContext, model: TeamModel) -> str:
    from ..domain.team import shown_url

    count = len(model.desktops)
    # the server as an operator knows it: no password, no SQLAlchemy driver name
    url = shown_url(str(getattr(ctx.services.db, "url", ""))).replace("+psycopg", "", 1)
    return f"Team: {url} · {count} machine{'s' if count != 1 else ''}"


class TeamWatch(QWidget):
    """The status bar's team label, keeping the model fresh (jobs NOTIFY, a timer)."""

    def __init__(self, ctx: AppContext, model: TeamModel) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = model
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(status_text(ctx, model))
        self.label.setObjectName("status_team")
        layout.addWidget(self.label)
        model.loaded.connect(lambda: self.label.setText(status_text(ctx, model)))
        model.failed.connect(self.label.setText)
        ctx.data_changed.connect(self._changed)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(model.refresh)
        self.timer.start()
        model.refresh()

    def _changed(self, table: str) -> None:
        if table in ("jobs", "*"):  # jobs held move with the jobs
            self.model.refresh()


class TeamPanel(QWidget):
    """The "Team" panel: the desktops and who holds what."""

    status_changed = Signal(str)

    def __init__(self, ctx: AppContext, model: TeamModel) -> None:
        super().__init__()
        self.ctx = ctx
        self.model = model
        self.status = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        title = QLabel("Team")
        title.setObjectName("PanelTitle")
        layout.addWidget(title)
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("Muted")
        layout.addWidget(self.subtitle)
        self.view = QTableView()
        self.view.setObjectName("team_desktops")
        self.view.setModel(model)
        self.view.verticalHeader().hide()
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.view, 1)
        model.loaded.connect(self._loaded)
        model.failed.connect(self.subtitle.setText)
        self._loaded()

    def _loaded(self) -> None:
        # the status bar names the team already (TeamWatch): the panel's counts say more
        self.subtitle.setText(status_text(self.ctx, self.model))
        held = sum(desk.jobs_held for desk in self.model.desktops)
        self.status = f"{held} job{'s' if held != 1 else ''} held"
        self.status_changed.emit(self.status)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.model.refresh()
