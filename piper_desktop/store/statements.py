"""Every statement of the write path (and the engine's hot reads), built once.

Each is a SQLAlchemy Core construct with named `bindparam`s, wrapped in a `Statement`
that compiles it once per dialect and then runs it on the transaction's DB-API
connection (`store/db.Tx`). Rows come back with named access (`row.status`), values
converted by the columns' own types (aware datetimes, JSON, booleans) both ways.

Why not `Connection.execute` for each: the engine runs about fifteen of these small
statements per job, and Core's per-execution bookkeeping (cache key, result metadata)
costs three to four times the SQL itself; compiling once keeps the hot path where the
plain SQL it replaces was, while the SQL stays Core's, for any dialect.

A job's status is written only through the life cycle (`domain/lifecycle.py`): the
`MOVE_*` updates below are its writes, each guarded by the status and the lease holder
the life cycle read (`WHERE status = :source AND lease_owner IS :holder`), so that a job
moved meanwhile by anyone else is left alone.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, Protocol, cast

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Dialect,
    Table,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

from .enums import (
    FINAL_JOB_STATUSES,
    IN_FLIGHT_JOB_STATUSES,
    POSTED_JOB_STATUSES,
    POSTING_JOB_STATUSES,
    RUNNABLE_ACCOUNT_STATUSES,
    CampaignStatus,
    JobStatus,
)
from .models import Account, Artifact, Campaign, Job, JobEvent, JobUpload, MediaItem, Proxy
from .types import JSONText, UTCDateTime, json_from_db, json_to_db, time_from_db, time_to_db

Processor = Callable[[Any], Any]
# rows' field names come from each statement, so the row types are made at run time
_namedtuple: Callable[..., Any] = namedtuple
_MISSING: Any = object()  # a required parameter nobody gave


class Row(Protocol):
    """A result row: its columns by name (the statement's labels)."""

    def __getattr__(self, name: str) -> Any: ...


@lru_cache(maxsize=256)
def _stored_time(value: datetime) -> str:
    # one transaction binds the same `now` several times: format it once
    return time_to_db(value)


def _bind_processor(kind: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    # our own column types, called directly (SQLAlchemy's wrappers add a call each)
    if isinstance(kind, UTCDateTime):
        return _stored_time
    if isinstance(kind, JSONText):
        return json_to_db
    return kind.bind_processor(dialect)


def _result_processor(kind: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    if isinstance(kind, UTCDateTime):
        return time_from_db
    if isinstance(kind, JSONText):
        return json_from_db
    return kind.result_processor(dialect, None)


class Compiled:
    """One statement compiled for one dialect: its SQL, parameter order and converters."""

    __slots__ = ("_convert", "_fill", "_named", "_template", "row", "sql")

    def __init__(self, construct: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, construct.compile(dialect=dialect))
        self.sql: str = compiled.string
        binds: dict[str, tuple[Processor | None, Any]] = {}
        for param, name in compiled.bind_names.items():
            # constants (a status, a limit's offset) are the statement's own values
            default = _MISSING if param.required else param.effective_value
            binds[name] = (_bind_processor(param.type, dialect), default)
        # positional paramstyles (SQLite's qmark) take values in the SQL's order
        positions = getattr(compiled, "positiontup", None)
        self._named: tuple[str, ...] | None = None if positions else tuple(binds)
        names = tuple(positions) if positions else tuple(binds)
        # the constants converted once; each run fills in what the caller gives
        self._template: list[Any] = []
        fill: list[tuple[int, str, Processor | None, Any]] = []
        for index, name in enumerate(names):
            processor, default = binds[name]
            if default is _MISSING or default is None or processor is None:
                self._template.append(default)
            else:
                self._template.append(processor(default))
            fill.append((index, name, processor, default))
        self._fill = tuple(fill)
        self.row: Callable[[Iterable[Any]], Row] | None = None
        self._convert: tuple[tuple[int, Processor], ...] = ()
        columns = getattr(construct, "selected_columns", None)
        if columns is not None and len(columns):
            row_type: Any = _namedtuple("Row", [c.key for c in columns])
            self.row = row_type._make  # named access at C speed (namedtuple's getters)
            self._convert = tuple(
                (i, p)
                for i, c in enumerate(columns)
                if (p := _result_processor(c.type, dialect)) is not None
            )

    @property
    def required(self) -> tuple[str, ...]:
        """The parameters a caller must give (the constants are the statement's own)."""
        return tuple(dict.fromkeys(n for _, n, _, default in self._fill if default is _MISSING))

    def parameters(self, given: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The values to execute with: `given` by name, else the statement's constants,
        each converted to its stored form."""
        values = self._template.copy()
        for index, name, processor, default in self._fill:
            if name in given:
                value = given[name]
                values[index] = value if value is None or processor is None else processor(value)
            elif default is _MISSING:
                raise KeyError(f"parameter {name!r} not given for: {self.sql}")
        if self._named is not None:
            return dict(zip(self._named, values, strict=True))
        return values

    def rows(self, raw: Iterable[Sequence[Any]]) -> list[Row]:
        make = self.row
        assert make is not None, "rows of a statement that selects nothing"
        convert = self._convert
        if not convert:
            return [make(row) for row in raw]
        rows = []
        for row in raw:
            values = list(row)
            for i, processor in convert:
                value = values[i]
                if value is not None:
                    values[i] = processor(value)
            rows.append(make(values))
        return rows


class Statement:
    """A Core statement built once; compiled on first use per engine's dialect (not per
    dialect name: a sealed column's converters belong to one engine's team key)."""

    __slots__ = ("_compiled", "construct", "name")

    def __init__(self, name: str, construct: ClauseElement) -> None:
        self.name = name
        self.construct = construct
        self._compiled: weakref.WeakKeyDictionary[Dialect, Compiled] = (
            weakref.WeakKeyDictionary()
        )

    def compiled(self, dialect: Dialect) -> Compiled:
        done = self._compiled.get(dialect)
        if done is None:
            done = self._compiled[dialect] = Compiled(self.construct, dialect)
        return done

    def __repr__(self) -> str:
        return f"Statement({self.name})"


def _now() -> Any:
    return bindparam("now", type_=Job.__table__.c.updated_at.type)


def _in(column: ColumnElement[Any], values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN (...)` of our own constants, as ordinary (non-expanding) parameters,
    so the statement compiles once."""
    return column.in_([literal(str(v)) for v in sorted(values)])


# the models' tables (typed as tables: the declarative attribute is a FromClause)
JOBS = cast(Table, Job.__table__)
JOB_EVENTS = cast(Table, JobEvent.__table__)
ARTIFACTS = cast(Table, Artifact.__table__)
UPLOADS = cast(Table, JobUpload.__table__)
ACCOUNTS = cast(Table, Account.__table__)
CAMPAIGNS = cast(Table, Campaign.__table__)
jobs = Job.__table__.c
events = JobEvent.__table__.c
accounts = Account.__table__.c
campaigns = Campaign.__table__.c
media = MediaItem.__table__.c
proxies = Proxy.__table__.c
uploads = JobUpload.__table__.c

LEASE_FREE = or_(jobs.lease_owner.is_(None), jobs.lease_expires_at < _now())


# --- the life cycle's writes (domain/lifecycle.py picks one per move) --------------------
def _move(**values: Any) -> Update:
    """An update of one job that applies only if it is still as the life cycle read it."""
    return (
        update(JOBS)
        .where(
            jobs.id == bindparam("job"),
            jobs.status == bindparam("source"),
            jobs.lease_owner.is_not_distinct_from(bindparam("holder", type_=jobs.lease_owner.type)),
        )
        .values(status=bindparam("target"), updated_at=_now(), **values)
    )


RELEASED = {"lease_owner": None, "lease_expires_at": None}

JOB_STATE = Statement(
    "JOB_STATE",
    select(
        jobs.id,
        jobs.status,
        jobs.account_id,
        jobs.campaign_id,
        jobs.route,
        jobs.lease_owner,
        jobs.lease_expires_at,
        jobs.attempts,
        jobs.max_attempts,
        jobs.receipt,
        jobs.submitted_at,
    ).where(jobs.id == bindparam("job")),
)
MOVE_TAKE = Statement(
    "MOVE_TAKE",
    _move(lease_owner=bindparam("owner"), lease_expires_at=bindparam("lease_end")),
)
MOVE_SUBMIT = Statement(
    "MOVE_SUBMIT",
    _move(attempts=jobs.attempts + 1, lease_expires_at=bindparam("lease_end")),
)
MOVE_RESUME = Statement("MOVE_RESUME", _move(lease_expires_at=bindparam("lease_end")))
MOVE_VERIFY = Statement("MOVE_VERIFY", _move(next_attempt_at=bindparam("next_at"), **RELEASED))
MOVE_PUBLISH = Statement(
    "MOVE_PUBLISH",
    _move(
        published_at=_now(),
        post_url=func.coalesce(bindparam("post_url", type_=jobs.post_url.type), jobs.post_url),
        post_id=func.coalesce(bindparam("post_id", type_=jobs.post_id.type), jobs.post_id),
        platform_results=func.coalesce(
            bindparam("results", type_=jobs.platform_results.type), jobs.platform_results
        ),
        next_attempt_at=None,
        last_error=bindparam("error"),
        **RELEASED,
    ),
)
MOVE_RETRY = Statement(
    "MOVE_RETRY",
    _move(
        next_attempt_at=bindparam("next_at"),
        last_error=bindparam("reason"),
        # the next attempt is a new submission: its receipt replaces this one
        receipt=None,
        receipt_kind=None,
        **RELEASED,
    ),
)
MOVE_FAIL = Statement(
    "MOVE_FAIL",
    _move(last_error=bindparam("reason"), next_attempt_at=None, **RELEASED),
)
MOVE_ATTENTION = Statement(
    "MOVE_ATTENTION",
    _move(
        attention_reason=bindparam("reason"),
        last_error=bindparam("reason"),
        next_attempt_at=None,
        **RELEASED,
    ),
)
MOVE_FALLBACK = Statement(
    "MOVE_FALLBACK",
    _move(
        route=bindparam("route"),
        attempts=0,
        next_attempt_at=_now(),
        last_error=bindparam("reason"),
        receipt=None,
        receipt_kind=None,
        **RELEASED,
    ),
)
# a crash took back an attempt the platform certainly never saw
MOVE_PARK_UNSENT = Statement(
    "MOVE_PARK_UNSENT",
    _move(
        next_attempt_at=func.coalesce(
            bindparam("next_at", type_=jobs.next_attempt_at.type), jobs.next_attempt_at
        ),
        attempts=case((jobs.attempts > 0, jobs.attempts - 1), else_=0),
        **RELEASED,
    ),
)
MOVE_PARK = Statement(
    "MOVE_PARK",
    _move(
        next_attempt_at=func.coalesce(
            bindparam("next_at", type_=jobs.next_attempt_at.type), jobs.next_attempt_at
        ),
        **RELEASED,
    ),
)
MOVE_CANCEL = Statement("MOVE_CANCEL", _move(next_attempt_at=None, **RELEASED))
# the operator's other route for a job nobody holds; status, time and attempts stay
MOVE_CHANGE_ROUTE = Statement("MOVE_CHANGE_ROUTE", _move(route=bindparam("route")))
# the operator's new caption and time for a job nobody holds (the service passes the
# values it keeps); a job waiting for a retry waits for the new time instead
MOVE_EDIT = Statement(
    "MOVE_EDIT",
    _move(
        caption=bindparam("caption", type_=jobs.caption.type),
        scheduled_at=bindparam("at", type_=jobs.scheduled_at.type),
        next_attempt_at=bindparam("at", type_=jobs.next_attempt_at.type),
        pinned_time=bindparam("pinned", type_=Boolean()),
    ),
)
_FORCE = bindparam("force", type_=Boolean())
MOVE_REQUEUE = Statement(
    "MOVE_REQUEUE",
    _move(
        attempts=0,
        next_attempt_at=bindparam("next_at"),
        last_error=None,
        attention_reason=None,
        # forced: the operator checked that nothing went out; the old receipt goes
        receipt=case((_FORCE, None), else_=jobs.receipt),
        receipt_kind=case((_FORCE, None), else_=jobs.receipt_kind),
        submitted_at=case((_FORCE, None), else_=jobs.submitted_at),
        **RELEASED,
    ),
)

# the receipt is the platform's word: kept whatever the lease says (see Lifecycle.receipt)
STORE_RECEIPT = Statement(
    "STORE_RECEIPT",
    update(JOBS)
    .where(
        jobs.id == bindparam("job"),
        or_(
            jobs.receipt.is_(None),
            jobs.receipt != bindparam("value"),
            jobs.receipt_kind != bindparam("kind"),
        ),
    )
    .values(
        receipt_kind=bindparam("kind"),
        receipt=bindparam("value"),
        post_url=func.coalesce(bindparam("post_url", type_=jobs.post_url.type), jobs.post_url),
        submitted_at=_now(),
        status=case((jobs.status == bindparam("source"), bindparam("target")), else_=jobs.status),
        updated_at=_now(),
    ),
)
INSERT_EVENT = Statement(
    "INSERT_EVENT",
    insert(JOB_EVENTS).values(
        job_id=bindparam("job"),
        at=_now(),
        kind=bindparam("kind"),
        status=bindparam("status"),
        message=bindparam("message"),
        data=bindparam("data"),
    ),
)
LAST_RECEIPT = Statement(
    "LAST_RECEIPT",
    select(events.data)
    .where(events.job_id == bindparam("job"), events.kind == "receipt")  # EventKind.RECEIPT
    .order_by(events.id.desc())
    .limit(1),
)
INSERT_ARTIFACT = Statement(
    "INSERT_ARTIFACT",
    insert(ARTIFACTS).values(
        job_id=bindparam("job"),
        name=bindparam("name"),
        content_type=bindparam("content_type"),
        content=bindparam("content"),
        created_at=_now(),
    ),
)

# --- a receipt's resumable upload (JobUpload): written with the receipt, then per chunk --
# a fresh publish replaces the job's row: delete, then insert (the same on every dialect)
UPLOAD_FORGET = Statement("UPLOAD_FORGET", delete(UPLOADS).where(uploads.job_id == bindparam("job")))
UPLOAD_OPEN = Statement(
    "UPLOAD_OPEN",
    insert(UPLOADS).values(
        job_id=bindparam("job"),
        receipt=bindparam("receipt"),
        holder=bindparam("owner"),
        url=bindparam("url"),
        expires_at=bindparam("expires_at", type_=uploads.expires_at.type),
        total_bytes=bindparam("total_bytes"),
        chunk_size=bindparam("chunk_size"),
        chunk_count=bindparam("chunk_count"),
        chunks_acked=bindparam("chunks_acked"),
        bytes_acked=bindparam("bytes_acked"),
        resumes=bindparam("resumes"),
        abandoned=bindparam("abandoned"),
        updated_at=_now(),
    ),
)
# the platform acknowledged chunks; once it has them all the URL is of no more use.
# Only the upload's holder records them (no rows: another process took it over).
UPLOAD_ACK = Statement(
    "UPLOAD_ACK",
    update(UPLOADS)
    .where(
        uploads.job_id == bindparam("job"),
        uploads.receipt == bindparam("receipt"),
        uploads.holder == bindparam("owner"),
    )
    .values(
        chunks_acked=bindparam("chunks_acked"),
        bytes_acked=bindparam("bytes_acked"),
        resumes=bindparam("resumes"),
        url=case(
            (bindparam("complete", type_=Boolean()), None),
            else_=uploads.url,
        ),
        updated_at=_now(),
    ),
)
# a sender takes the upload over (after its holder is gone)
UPLOAD_TAKE = Statement(
    "UPLOAD_TAKE",
    update(UPLOADS)
    .where(
        uploads.job_id == bindparam("job"),
        uploads.receipt == bindparam("receipt"),
        uploads.holder.is_not_distinct_from(bindparam("holder", type_=uploads.holder.type)),
    )
    .values(holder=bindparam("owner"), updated_at=_now()),
)
# the job is done with it (final, retried afresh, or for a person): the URL, a
# credential, is forgotten
UPLOAD_DROP_URL = Statement(
    "UPLOAD_DROP_URL",
    update(UPLOADS)
    .where(uploads.job_id == bindparam("job"), uploads.url.is_not(None))
    .values(url=None),
)
UPLOAD_OF = Statement(
    "UPLOAD_OF",
    select(
        uploads.receipt,
        uploads.holder,
        uploads.url,
        uploads.expires_at,
        uploads.total_bytes,
        uploads.chunk_size,
        uploads.chunk_count,
        uploads.chunks_acked,
        uploads.bytes_acked,
        uploads.resumes,
        uploads.abandoned,
        uploads.updated_at,
    ).where(uploads.job_id == bindparam("job")),
)

# --- leases without a status change -----------------------------------------------------
RENEW_LEASES = Statement(
    "RENEW_LEASES",
    update(JOBS)
    .where(jobs.lease_owner == bindparam("owner"), _in(jobs.status, IN_FLIGHT_JOB_STATUSES))
    .values(lease_expires_at=bindparam("lease_end")),
)
RENEW_LEASE = Statement(
    "RENEW_LEASE",
    update(JOBS)
    .where(jobs.id == bindparam("job"), jobs.lease_owner == bindparam("owner"))
    .values(lease_expires_at=bindparam("lease_end")),
)
# what reconciliation may have to settle (verifying without a lease waits for its check)
ORPHANS = Statement(
    "ORPHANS",
    select(
        jobs.id,
        jobs.status,
        jobs.receipt,
        jobs.attempts,
        jobs.lease_owner,
        jobs.lease_expires_at,
        jobs.account_id,
        jobs.campaign_id,
        jobs.route,
        jobs.max_attempts,
        jobs.submitted_at,
    ).where(
        _in(jobs.status, IN_FLIGHT_JOB_STATUSES),
        or_(jobs.lease_owner.is_(None), jobs.lease_owner != bindparam("owner")),
        or_(jobs.status != JobStatus.VERIFYING.value, jobs.lease_owner.is_not(None)),
    ),
)

# --- accounts and campaigns -------------------------------------------------------------
ACCOUNT_STATE = Statement(
    "ACCOUNT_STATE",
    select(accounts.id, accounts.username, accounts.status, accounts.cooldown_until).where(
        accounts.id == bindparam("account")
    ),
)
ACCOUNT_STATUS = Statement(
    "ACCOUNT_STATUS",
    update(ACCOUNTS)
    .where(accounts.id == bindparam("account"))
    .values(
        status=bindparam("status"),
        status_reason=bindparam("reason"),
        cooldown_until=bindparam("cooldown_until"),
        updated_at=_now(),
    ),
)
LAST_POST = Statement(
    "LAST_POST",
    update(ACCOUNTS)
    .where(accounts.id == bindparam("account"))
    .values(last_post_at=_now(), updated_at=_now()),
)
CAMPAIGN_STATE = Statement(
    "CAMPAIGN_STATE",
    select(campaigns.name, campaigns.status).where(campaigns.id == bindparam("campaign")),
)
CAMPAIGN_OPEN_JOBS = Statement(
    "CAMPAIGN_OPEN_JOBS",
    select(func.count().label("open")).where(
        jobs.campaign_id == bindparam("campaign"), not_(_in(jobs.status, FINAL_JOB_STATUSES))
    ),
)
CAMPAIGN_COMPLETED = Statement(
    "CAMPAIGN_COMPLETED",
    update(CAMPAIGNS)
    .where(campaigns.id == bindparam("campaign"))
    .values(status=CampaignStatus.COMPLETED.value, updated_at=_now()),
)

# --- the claim pass (engine/dispatch.py) ------------------------------------------------
# what the life cycle needs besides id, status, account and campaign (lifecycle.JobState)
_STATE = (
    jobs.lease_owner,
    jobs.lease_expires_at,
    jobs.attempts,
    jobs.max_attempts,
    jobs.receipt,
    jobs.submitted_at,
)
# verifying jobs by next check: the due ones are claimed, the first later one tells the
# engine when to look again
CHECKS = Statement(
    "CHECKS",
    select(
        jobs.id,
        jobs.status,
        jobs.route,
        jobs.account_id,
        jobs.campaign_id,
        jobs.next_attempt_at,
        *_STATE,
    )
    .where(jobs.status == JobStatus.VERIFYING.value, LEASE_FREE)
    .order_by(jobs.next_attempt_at, jobs.id)
    .limit(bindparam("limit"))
    # PostgreSQL (team mode): another desktop's pass skips the rows this one reads; SQLite
    # renders nothing, its BEGIN IMMEDIATE already lets one pass run at a time
    .with_for_update(skip_locked=True, of=Job.__table__),
)
_other = Job.__table__.alias("other")
DUE_JOBS = Statement(
    "DUE_JOBS",
    select(
        jobs.id,
        jobs.status,
        jobs.account_id,
        jobs.campaign_id,
        jobs.media_id,
        jobs.route,
        jobs.caption,
        jobs.pinned_time,
        jobs.allow_duplicate,
        jobs.next_attempt_at,
        *_STATE,
        accounts.username,
        accounts.status.label("account_status"),
        accounts.cooldown_until,
        accounts.timezone,
        accounts.max_posts_per_day,
        accounts.min_spacing_minutes,
        accounts.last_post_at,
        # the posting window: where a route's daily cap holds the job to (policy.py)
        accounts.window_enabled,
        accounts.window_start,
        accounts.window_end,
        campaigns.status.label("campaign_status"),
        campaigns.missed_policy,
    )
    .select_from(
        Job.__table__.join(Account.__table__, accounts.id == jobs.account_id).outerjoin(
            Campaign.__table__, campaigns.id == jobs.campaign_id
        )
    )
    .where(
        _in(accounts.status, RUNNABLE_ACCOUNT_STATUSES),
        or_(jobs.campaign_id.is_(None), campaigns.status != CampaignStatus.PAUSED.value),
        # one status per query: the (status, next_attempt_at) index then gives the order,
        # and LIMIT stops the scan early (with IN (...) SQLite sorts every due job)
        jobs.status == bindparam("status"),
        jobs.next_attempt_at <= _now(),
        LEASE_FREE,
        # one post at a time per account: accounts posting right now wait
        not_(
            exists().where(
                _other.c.account_id == jobs.account_id,
                _in(_other.c.status, POSTING_JOB_STATUSES),
            )
        ),
    )
    .order_by(jobs.next_attempt_at, jobs.id)
    .limit(bindparam("limit"))
    # PostgreSQL (team mode): the job and its account stay locked until this pass
    # commits, and another desktop's pass skips both, so an account's one-post-at-a-time
    # rule, caps and spacing are decided by one desktop at a time. SQLite renders
    # nothing: BEGIN IMMEDIATE already lets one pass run at a time.
    .with_for_update(skip_locked=True, of=(Job.__table__, Account.__table__)),
)
RECENT_POSTS_MAX = 64  # accounts per statement (a pass reads a few: free workers × 2 + 2)


@cache
def recent_posts(accounts: int) -> Statement:
    """The posts of `accounts` accounts (bound as account_0, account_1, ...) since a time;
    one statement per count, built on first use (the count is small and bounded)."""
    if not 0 < accounts <= RECENT_POSTS_MAX:
        raise ValueError(f"recent_posts takes 1 to {RECENT_POSTS_MAX} accounts, not {accounts}")
    return Statement(
        f"RECENT_POSTS[{accounts}]",
        select(jobs.account_id, jobs.route, jobs.submitted_at).where(
            jobs.submitted_at >= bindparam("since"),
            jobs.account_id.in_([bindparam(f"account_{i}") for i in range(accounts)]),
        ),
    )


DUPLICATE = Statement(
    "DUPLICATE",
    select(jobs.id, jobs.status, jobs.published_at, jobs.submitted_at, jobs.scheduled_at)
    .where(
        jobs.account_id == bindparam("account"),
        jobs.media_id == bindparam("media"),
        jobs.id != bindparam("job"),
        _in(jobs.status, POSTED_JOB_STATUSES),
        func.coalesce(jobs.published_at, jobs.submitted_at, jobs.scheduled_at).between(
            bindparam("since", type_=jobs.published_at.type),
            bindparam("until", type_=jobs.published_at.type),
        ),
    )
    .order_by(jobs.id)
    .limit(1),
)
HOLD = Statement(
    "HOLD",
    update(JOBS)
    .where(jobs.id == bindparam("job"))
    .values(next_attempt_at=bindparam("until"), updated_at=_now()),
)
CAPTIONS = Statement(
    "CAPTIONS",
    select(jobs.caption, jobs.account_id, jobs.submitted_at).where(
        jobs.submitted_at >= bindparam("since"), jobs.caption != ""
    ),
)

# --- a claimed job as a worker sees it (engine/records.py) ------------------------------
LOAD_JOB = Statement(
    "LOAD_JOB",
    select(
        jobs.id,
        jobs.uuid,
        jobs.account_id,
        jobs.media_id,
        jobs.campaign_id,
        jobs.route,
        jobs.status,
        jobs.caption,
        jobs.options,
        jobs.attempts,
        jobs.max_attempts,
        jobs.lease_owner,
        jobs.receipt_kind,
        jobs.receipt,
        jobs.post_url,
        jobs.submitted_at,
        accounts.platform,
        accounts.username,
        accounts.timezone,
        accounts.routes,
        accounts.status.label("account_status"),
        proxies.id.label("proxy_id"),
        proxies.scheme.label("proxy_scheme"),
        proxies.host.label("proxy_host"),
        proxies.port.label("proxy_port"),
        proxies.username.label("proxy_username"),
        proxies.password.label("proxy_password"),
        media.path,
        media.size,
        media.sha256,
        media.duration_sec,
        media.title,
        media.kind.label("media_kind"),
        media.images.label("media_images"),
        media.cover_index.label("media_cover_index"),
    )
    .select_from(
        Job.__table__.join(Account.__table__, accounts.id == jobs.account_id)
        .join(MediaItem.__table__, media.id == jobs.media_id)
        .outerjoin(Proxy.__table__, proxies.id == accounts.proxy_id)
    )
    .where(jobs.id == bindparam("job")),
)


# any fixed number: the advisory lock that makes desktops' claim passes take turns
CLAIM_TURN_KEY = 0x50495045  # "PIPE"


@cache
def claim_turn() -> Statement:
    """PostgreSQL only (a function, so the SQLite schema test leaves it out): wait for
    the other desktops' claim passes, as BEGIN IMMEDIATE does on SQLite. Held until the
    pass commits; each later statement of the pass reads a fresh snapshot (READ
    COMMITTED), so it sees every earlier pass's claims — the account's one post at a
    time, caps and spacing hold across desktops, not only across its locked rows."""
    turn = func.pg_advisory_xact_lock(literal(CLAIM_TURN_KEY)).label("turn")
    return Statement("CLAIM_TURN", select(turn))


def all_statements() -> Iterator[Statement]:
    """Every statement of this module (the schema test prepares each one)."""
    for value in list(globals().values()):
        if isinstance(value, Statement):
            yield value
    yield recent_posts(RECENT_POSTS_MAX)
