"""Team mode: this desktop's membership of a team's PostgreSQL, and the team's desktops.

The local vault (the SQLCipher file, opened with the master password) keeps whether this
data dir belongs to a team: the server's URL (a secret: it may carry the database
password), this desktop's id, name and operator, in one row that only this desktop
reads (`team.membership`; not a team setting, so `piper settings` does not list it).
Once a data dir has joined, every command and the GUI open the team's database instead
(`open_team`), with the team passphrase opening its secrets (store/sealed.py).
"""

from __future__ import annotations

import getpass
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from ..store import copies, migrate
from ..store.copy_between import Copied, CopyRefused, copy_rows, held_rows
from ..store.db import Database
from ..store.models import Job, Setting, TeamDesktop, TeamKey
from ..store.pg import PgDatabase
from ..store.sealed import WrongTeamPassphrase
from .errors import DomainError

MEMBERSHIP_KEY = "team.membership"


class TeamError(DomainError):
    pass


class WrongPassphrase(TeamError):
    def __init__(self) -> None:
        super().__init__("wrong team passphrase")


@dataclass(frozen=True)
class Membership:
    url: str
    desktop_id: str
    name: str
    operator: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class DesktopStatus:
    id: str
    name: str
    host: str
    operator: str
    last_seen_at: datetime
    engine_state: str | None
    jobs_held: int
    this_desktop: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"last_seen_at": self.last_seen_at.isoformat()}


def shown_url(url: str) -> str:
    """The server as messages name it: no password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the team server"
    return parsed.render_as_string(hide_password=True).replace(":***@", "@")


def check_url(url: str) -> str:
    """A PostgreSQL URL SQLAlchemy can open with psycopg 3, or one line saying why not."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise TeamError("team URL: not a URL (postgresql://user@host:5432/database)") from None
    if parsed.get_backend_name() != "postgresql":
        raise TeamError("team URL: a PostgreSQL URL is needed (postgresql://user@host/db)")
    if not parsed.database:
        raise TeamError("team URL: name the database (postgresql://user@host:5432/DATABASE)")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def membership(local: Database) -> Membership | None:
    with local.session() as session:
        row = session.get(Setting, MEMBERSHIP_KEY)
        data = row.value if row is not None else None
    if not isinstance(data, dict):
        return None
    return Membership(
        str(data["url"]), str(data["desktop_id"]), str(data["name"]), str(data["operator"])
    )


def _remember(local: Database, member: Membership) -> None:
    with local.write() as session:
        row = session.get(Setting, MEMBERSHIP_KEY)
        if row is None:
            session.add(Setting(key=MEMBERSHIP_KEY, value=member.as_dict(), is_secret=True))
        else:
            row.value = member.as_dict()


def forget(local: Database) -> bool:
    """Leave the team (this data dir goes back to its local vault); True if it was in one."""
    with local.write() as session:
        row = session.get(Setting, MEMBERSHIP_KEY)
        if row is None:
            return False
        session.delete(row)
        return True


def _connect(url: str, local: Database) -> PgDatabase:
    team = PgDatabase(check_url(url), local.data_dir)
    try:
        with team.engine.connect():
            pass
    except OperationalError as exc:
        team.close()
        raise TeamError(f"cannot reach {shown_url(url)}: {_reason(exc)}") from None
    return team


def _reason(exc: OperationalError) -> str:
    # libpq's first line ("connection to server at ... failed: Connection refused") names
    # the host and port, never the password
    original = exc.orig
    text = str(original).strip().splitlines()[0] if original is not None else "no answer"
    return text[:300]


def _register(team: PgDatabase, member: Membership) -> None:
    now = datetime.now(UTC)
    with team.write() as session:
        row = session.get(TeamDesktop, member.desktop_id)
        if row is None:
            row = TeamDesktop(id=member.desktop_id, joined_at=now)
            session.add(row)
        row.name = member.name
        row.host = socket.gethostname()[:120]
        row.operator = member.operator
        row.last_seen_at = now


def _new_membership(
    url: str, local: Database, name: str | None, operator: str | None
) -> Membership:
    old = membership(local)
    return Membership(
        url=check_url(url),
        desktop_id=old.desktop_id if old is not None else secrets.token_hex(8),
        name=(name or socket.gethostname())[:120],
        operator=(operator or getpass.getuser())[:120],
    )


@contextmanager
def _opened(url: str, local: Database) -> Iterator[PgDatabase]:
    """The team's database, closed again if what follows fails."""
    team = _connect(url, local)
    try:
        yield team
    except BaseException:
        team.close()
        raise


def _member(team: PgDatabase, local: Database, member: Membership, *, remember: bool) -> PgDatabase:
    """This desktop in the team's list, its membership kept here (`remember`), and its
    writes signed as this desktop and operator from now on."""
    _register(team, member)
    if remember:
        _remember(local, member)
    team.identify(member.desktop_id, member.operator)
    return team


def holds_team(url: str, local: Database) -> bool:
    """Whether the database at `url` is already a team's (its key made): join it, else
    create it. Reaching it at all is checked here, one line if not."""
    with _opened(url, local) as team:
        made = migrate.current_revision(team) is not None and team.has_team_key()
    team.close()
    return made


def create_team(
    url: str,
    passphrase: str,
    local: Database,
    *,
    name: str | None = None,
    operator: str | None = None,
    scrypt_n: int | None = None,
) -> PgDatabase:
    """Make an empty PostgreSQL database the team's: its schema, its key, this desktop."""
    return _create(url, passphrase, local, name, operator, scrypt_n, fill=None)


def create_team_from_local(
    url: str,
    passphrase: str,
    local: Database,
    *,
    name: str | None = None,
    operator: str | None = None,
    scrypt_n: int | None = None,
) -> tuple[PgDatabase, Copied]:
    """`create_team`, with every row of this data dir's vault copied into the team
    (secrets sealed with the new team's key). The vault keeps its rows as they were."""
    copied = Copied()

    def fill(team: PgDatabase) -> None:
        copied.rows.update(copy_rows(local, team).rows)

    made = _create(url, passphrase, local, name, operator, scrypt_n, fill=fill)
    return made, copied


def _create(
    url: str,
    passphrase: str,
    local: Database,
    name: str | None,
    operator: str | None,
    scrypt_n: int | None,
    *,
    fill: Callable[[PgDatabase], None] | None,
) -> PgDatabase:
    if not passphrase:
        raise TeamError("team passphrase: it may not be empty")
    with _opened(url, local) as team:
        # a schema without its key is a create cut short (Ctrl-C, a dropped link): go on
        if migrate.current_revision(team) is not None and team.has_team_key():
            raise TeamError(f"{shown_url(url)} already holds a Piper team: use `piper team join`")
        migrate.upgrade(team)
        if fill is not None:
            held = held_rows(team)
            if any(held.rows.values()):
                raise TeamError(
                    f"{shown_url(url)} already holds data ({held.summary()}):"
                    " copy into an empty database"
                )
        if scrypt_n is None:
            team.create_team_key(passphrase)
        else:
            team.create_team_key(passphrase, scrypt_n=scrypt_n)
        if fill is not None:
            try:
                fill(team)
            except BaseException:
                # back to a create cut short (nothing copied: one transaction), so the
                # same command can be run again
                with team.write() as session:
                    session.execute(delete(TeamKey))
                raise
        member = _new_membership(url, local, name, operator)
        return _member(team, local, member, remember=True)


def join_team(
    url: str,
    passphrase: str,
    local: Database,
    *,
    name: str | None = None,
    operator: str | None = None,
) -> PgDatabase:
    """Join an existing team: its passphrase must open its key."""
    with _opened(url, local) as team:
        if migrate.current_revision(team) is None:
            raise TeamError(
                f"{shown_url(url)} holds no Piper team yet: make it one with `piper team create`"
            )
        # the passphrase first: a wrong one must not upgrade everyone's schema
        _unlock(team, passphrase)
        migrate.upgrade(team)
        member = _new_membership(url, local, name, operator)
        return _member(team, local, member, remember=True)


def _unlock(team: PgDatabase, passphrase: str) -> None:
    try:
        team.unlock(passphrase)
    except WrongTeamPassphrase:
        raise WrongPassphrase from None
    except LookupError as exc:
        raise TeamError(str(exc)) from None


def open_team(local: Database, member: Membership, passphrase: str) -> PgDatabase:
    """The team's database for a data dir that joined it, its secrets open."""
    with _opened(member.url, local) as team:
        _unlock(team, passphrase)  # before any upgrade of the shared schema
        if migrate.current_revision(team) != migrate.head_revision():
            migrate.upgrade(team)
        return _member(team, local, member, remember=False)


def change_passphrase(team: PgDatabase, old: str, new: str) -> None:
    if not new:
        raise TeamError("new team passphrase: it may not be empty")
    try:
        team.change_passphrase(old, new)
    except WrongTeamPassphrase:
        raise WrongPassphrase from None


def heartbeat(team: PgDatabase, desktop_id: str, engine_state: str, owner: str | None) -> None:
    with team.write() as session:
        row = session.get(TeamDesktop, desktop_id)
        if row is not None:
            row.last_seen_at = datetime.now(UTC)
            row.engine_state = engine_state
            row.engine_owner = owner


def desktops(team: PgDatabase, me: str | None) -> list[DesktopStatus]:
    """The team's desktops, with the jobs each one's engine holds now."""
    with team.session() as session:
        held = dict(
            session.execute(
                select(Job.lease_owner, func.count())
                .where(Job.lease_owner.is_not(None))
                .group_by(Job.lease_owner)
            ).all()
        )
        rows = session.scalars(select(TeamDesktop).order_by(TeamDesktop.name)).all()
    return [
        DesktopStatus(
            id=row.id,
            name=row.name,
            host=row.host,
            operator=row.operator,
            last_seen_at=row.last_seen_at,
            engine_state=row.engine_state,
            jobs_held=int(held.get(row.engine_owner, 0)) if row.engine_owner else 0,
            this_desktop=row.id == me,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class Exported:
    copied: Copied
    replaced: Copied | None  # what the vault held before, when it was replaced
    kept_copy: Path | None  # the vault file as it was, beside it


def export_local(
    team: PgDatabase, local: Database, member: Membership, *, replace: bool = False
) -> Exported:
    """The team's rows into this data dir's own vault (secrets opened with the team key,
    stored in the vault), then this data dir leaves the team and works alone.

    A vault that holds rows is refused unless `replace`; then a copy of its file is kept
    beside it first (copies.copy_name), so nothing it held is lost."""
    held = held_rows(local)
    kept: Path | None = None
    if any(held.rows.values()):
        if not replace:
            raise TeamError(
                f"this data dir's own vault holds data ({held.summary()}):"
                " --replace replaces it (a copy of it is kept beside it)"
            )
        kept = local.copy_to(copies.copy_name(local.path, "before-export"))
    try:
        copied = copy_rows(team, local, replace=replace)
    except CopyRefused as exc:
        raise TeamError(str(exc)) from None
    if membership(local) == member:
        forget(local)
    return Exported(copied, held if kept is not None else None, kept)


def export_to_new_vault(team: PgDatabase, directory: Path, password: str) -> Copied:
    """The team's rows into a new data dir's vault (same master password); the data dir
    that exported stays in the team."""
    from ..store.vault import create_vault

    target = create_vault(directory, password)
    try:
        return copy_rows(team, target)
    finally:
        target.close()
