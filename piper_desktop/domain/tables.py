"""Read-side queries for list screens: filtered, sorted, paged rows as plain dicts.

The desktop's tables page through tens of thousands of rows, so sorting, filtering and
paging happen in SQL, and the labels a row shows (an account's proxy, a job's account
and media title) come from the same query instead of one lookup per row. Rows are plain
dicts of Python values, safe to hand from a worker thread to the GUI. Secrets (account
and proxy passwords, browser storage state, route tokens) are never selected.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Select,
    String,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlalchemy.sql import ColumnElement, SQLColumnExpression
from sqlalchemy.sql.selectable import ScalarSelect

from ..store.db import Database
from ..store.enums import FINAL_JOB_STATUSES, JobStatus
from ..store.models import (
    Account,
    BrowserProfile,
    Campaign,
    Job,
    MediaItem,
    Proxy,
    RouteCredential,
)
from ..store.search import TRIGRAM, job_text_matches, text_contains
from .accounts import has_tag
from .errors import ValidationError

# A list screen's select: each table's base has its own columns, the paging, sorting and
# filtering around it work on any row shape.
RowsSelect = Select[*tuple[Any, ...]]


@dataclass
class TableQuery:
    """What a list screen asks for. `filters` keys are per table (see `FILTERS`)."""

    search: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    sort: str | None = None
    descending: bool = False


@dataclass(frozen=True)
class TableSpec:
    base: Callable[[], RowsSelect]
    # a column, or several for one order (the first decides, the next break ties)
    sort: dict[str, SQLColumnExpression[Any] | tuple[SQLColumnExpression[Any], ...]]
    filters: dict[str, Callable[[Any], ColumnElement[bool]]]
    search: Callable[[str], ColumnElement[bool]]
    id_column: SQLColumnExpression[int]
    default_sort: str = "id"
    # counting without the joins (filters and searches read the main table)
    count_base: Callable[[], RowsSelect] | None = None
    # conditions to use instead when other filters narrow the rows too
    combined_filters: dict[str, Callable[[Any], ColumnElement[bool]]] = field(default_factory=dict)
    # how to join each labelled table onto the main one, for pages sorted by its columns
    joins: dict[str, Callable[[RowsSelect], RowsSelect]] = field(default_factory=dict)


def _search(*columns: SQLColumnExpression[str | None]) -> Callable[[str], ColumnElement[bool]]:
    def condition(text: str) -> ColumnElement[bool]:
        return or_(*(text_contains(column, text) for column in columns))

    return condition


# --- accounts ---------------------------------------------------------------------------

_proxy_label = (
    Proxy.scheme
    + "://"
    + case((Proxy.username != "", Proxy.username + "@"), else_="")
    + Proxy.host
    + ":"
    + cast(Proxy.port, String)
)
_connected_routes = (
    select(func.group_concat(RouteCredential.route, ","))
    .where(RouteCredential.account_id == Account.id)
    .correlate(Account)
    .scalar_subquery()
)


def _accounts_base() -> RowsSelect:
    return (
        select(
            Account.id,
            Account.platform,
            Account.username,
            Account.display_name,
            Account.email,
            Account.status,
            Account.status_reason,
            Account.cooldown_until,
            Account.group,
            Account.tags,
            Account.proxy_id,
            _proxy_label.label("proxy_label"),
            Proxy.status.label("proxy_status"),
            Proxy.last_error.label("proxy_error"),
            Proxy.latency_ms.label("proxy_latency_ms"),
            Proxy.last_check_at.label("proxy_checked_at"),
            Proxy.country.label("proxy_country"),
            Account.profile_id,
            BrowserProfile.name.label("profile_name"),
            Account.timezone,
            Account.country,
            Account.window_enabled,
            Account.window_start,
            Account.window_end,
            Account.min_spacing_minutes,
            Account.max_posts_per_day,
            Account.last_post_at,
            Account.routes,
            Account.notes,
            Account.storage_state.is_not(None).label("has_session"),
            _connected_routes.label("connected_routes"),
        )
        .outerjoin(Proxy, Proxy.id == Account.proxy_id)
        .outerjoin(BrowserProfile, BrowserProfile.id == Account.profile_id)
    )


ACCOUNTS = TableSpec(
    base=_accounts_base,
    sort={
        "id": Account.id,
        "platform": Account.platform,
        "username": Account.username,
        "display_name": Account.display_name,
        "status": Account.status,
        "group": Account.group,
        "timezone": Account.timezone,
        "proxy_label": Proxy.host,
        "proxy_status": Proxy.status,
        "profile_name": BrowserProfile.name,
        "last_post_at": Account.last_post_at,
        "max_posts_per_day": Account.max_posts_per_day,
    },
    filters={
        "status": lambda v: Account.status == v,
        "group": lambda v: Account.group == v,
        "tag": lambda v: has_tag(v),
        "platform": lambda v: Account.platform == v,
        "proxy_id": lambda v: Account.proxy_id == v,
        "profile_id": lambda v: Account.profile_id == v,
        "ids": lambda v: Account.id.in_(list(v)),
    },
    search=_search(Account.username, Account.display_name, Account.email, Account.notes),
    id_column=Account.id,
    joins={
        "proxies": lambda q: q.outerjoin(Proxy, Proxy.id == Account.proxy_id),
        "browser_profiles": lambda q: q.outerjoin(
            BrowserProfile, BrowserProfile.id == Account.profile_id
        ),
    },
)

# --- proxies ----------------------------------------------------------------------------

_proxy_users = (
    select(func.count(Account.id))
    .where(Account.proxy_id == Proxy.id)
    .correlate(Proxy)
    .scalar_subquery()
)


def _proxies_base() -> RowsSelect:
    return select(
        Proxy.id,
        Proxy.name,
        Proxy.scheme,
        Proxy.host,
        Proxy.port,
        Proxy.username,
        Proxy.kind,
        Proxy.status,
        Proxy.latency_ms,
        Proxy.exit_ip,
        Proxy.country,
        Proxy.last_check_at,
        Proxy.last_error,
        Proxy.notes,
        (Proxy.password.is_not(None) & (Proxy.password != "")).label("has_password"),
        _proxy_users.label("accounts_count"),
    )


PROXIES = TableSpec(
    base=_proxies_base,
    sort={
        "id": Proxy.id,
        "name": Proxy.name,
        "scheme": Proxy.scheme,
        "host": Proxy.host,
        "port": Proxy.port,
        "kind": Proxy.kind,
        "status": Proxy.status,
        "latency_ms": Proxy.latency_ms,
        "country": Proxy.country,
        "last_check_at": Proxy.last_check_at,
        "accounts_count": _proxy_users,
    },
    filters={
        "status": lambda v: Proxy.status == v,
        "kind": lambda v: Proxy.kind == v,
        "scheme": lambda v: Proxy.scheme == v,
        "country": lambda v: Proxy.country == v,
        "ids": lambda v: Proxy.id.in_(list(v)),
    },
    search=_search(Proxy.name, Proxy.host, Proxy.username, Proxy.exit_ip, Proxy.notes),
    id_column=Proxy.id,
)

# --- browser profiles -------------------------------------------------------------------

_profile_users = (
    select(func.count(Account.id))
    .where(Account.profile_id == BrowserProfile.id)
    .correlate(BrowserProfile)
    .scalar_subquery()
)


def _profiles_base() -> RowsSelect:
    return select(
        BrowserProfile.id,
        BrowserProfile.name,
        BrowserProfile.template,
        BrowserProfile.user_agent,
        BrowserProfile.viewport_width,
        BrowserProfile.viewport_height,
        BrowserProfile.device_scale_factor,
        BrowserProfile.is_mobile,
        BrowserProfile.has_touch,
        BrowserProfile.locale,
        BrowserProfile.timezone,
        BrowserProfile.geolocation_lat,
        BrowserProfile.geolocation_lon,
        BrowserProfile.color_scheme,
        _profile_users.label("accounts_count"),
    )


PROFILES = TableSpec(
    base=_profiles_base,
    sort={
        "id": BrowserProfile.id,
        "name": BrowserProfile.name,
        "template": BrowserProfile.template,
        "locale": BrowserProfile.locale,
        "timezone": BrowserProfile.timezone,
        "viewport_width": BrowserProfile.viewport_width,
        "accounts_count": _profile_users,
    },
    filters={
        "template": lambda v: BrowserProfile.template == v,
        "ids": lambda v: BrowserProfile.id.in_(list(v)),
    },
    search=_search(BrowserProfile.name, BrowserProfile.user_agent, BrowserProfile.locale),
    id_column=BrowserProfile.id,
)

# --- media ------------------------------------------------------------------------------

_media_jobs = (
    select(func.count(Job.id))
    .where(Job.media_id == MediaItem.id)
    .correlate(MediaItem)
    .scalar_subquery()
)


def _media_base() -> RowsSelect:
    return select(
        MediaItem.id,
        MediaItem.path,
        MediaItem.sha256,
        MediaItem.size,
        MediaItem.duration_sec,
        MediaItem.title,
        MediaItem.default_caption,
        MediaItem.hashtags,
        MediaItem.notes,
        MediaItem.created_at,
        _media_jobs.label("jobs_count"),
    )


MEDIA = TableSpec(
    base=_media_base,
    sort={
        "id": MediaItem.id,
        "title": MediaItem.title,
        "size": MediaItem.size,
        "duration_sec": MediaItem.duration_sec,
        "created_at": MediaItem.created_at,
        "jobs_count": _media_jobs,
    },
    filters={"ids": lambda v: MediaItem.id.in_(list(v))},
    search=_search(MediaItem.title, MediaItem.path, MediaItem.default_caption),
    id_column=MediaItem.id,
)

# --- campaigns --------------------------------------------------------------------------


def _campaign_count(*statuses: str) -> ScalarSelect[int]:
    query = select(func.count(Job.id)).where(Job.campaign_id == Campaign.id)
    if statuses:
        query = query.where(Job.status.in_(statuses))
    return query.correlate(Campaign).scalar_subquery()


_campaign_total = _campaign_count()
_campaign_done = _campaign_count(*sorted(FINAL_JOB_STATUSES))


def _campaigns_base() -> RowsSelect:
    return select(
        Campaign.id,
        Campaign.name,
        Campaign.status,
        Campaign.route,
        Campaign.strategy,
        Campaign.caption_template,
        Campaign.hashtags,
        Campaign.media_ids,
        Campaign.account_selection,
        Campaign.start_at,
        Campaign.missed_policy,
        Campaign.max_attempts,
        Campaign.created_at,
        _campaign_total.label("jobs_total"),
        _campaign_done.label("jobs_done"),
        _campaign_count("published").label("jobs_published"),
        _campaign_count("failed").label("jobs_failed"),
        _campaign_count("needs_attention").label("jobs_attention"),
    )


CAMPAIGNS = TableSpec(
    base=_campaigns_base,
    sort={
        "id": Campaign.id,
        "name": Campaign.name,
        "status": Campaign.status,
        "route": Campaign.route,
        "start_at": Campaign.start_at,
        "created_at": Campaign.created_at,
        "jobs_total": _campaign_total,
    },
    filters={
        "status": lambda v: Campaign.status == v,
        "route": lambda v: Campaign.route == v,
        "ids": lambda v: Campaign.id.in_(list(v)),
    },
    search=_search(Campaign.name, Campaign.caption_template),
    id_column=Campaign.id,
)

# --- jobs -------------------------------------------------------------------------------


def _job_statuses(value: Any) -> list[str]:
    statuses = [value] if isinstance(value, str) else list(value)
    known = {s.value for s in JobStatus}
    for status in statuses:
        if status not in known:
            raise ValidationError("status", f"unknown job status {status!r}")
    return statuses


def _job_status(value: Any) -> ColumnElement[bool]:
    return Job.status.in_(_job_statuses(value))


def _job_status_scanned(value: Any) -> ColumnElement[bool]:
    # `status || ''` cannot use the status index: with another filter beside it, walking
    # the jobs newest first and testing both stops after a page, where the index would
    # visit (and sort) every job of that status
    return Job.status.concat("").in_(_job_statuses(value))


def _jobs_base() -> RowsSelect:
    return (
        select(
            Job.id,
            Job.status,
            Job.route,
            Job.account_id,
            Account.platform.label("account_platform"),
            Account.username.label("account_username"),
            Account.timezone.label("account_timezone"),
            Job.media_id,
            MediaItem.title.label("media_title"),
            Job.campaign_id,
            Campaign.name.label("campaign_name"),
            Job.caption,
            Job.scheduled_at,
            Job.next_attempt_at,
            Job.pinned_time,
            Job.attempts,
            Job.max_attempts,
            Job.receipt_kind,
            Job.receipt,
            Job.post_url,
            Job.post_id,
            Job.last_error,
            Job.attention_reason,
            Job.submitted_at,
            Job.published_at,
            Job.created_at,
            Job.updated_at,
            Job.lease_owner,  # which desktop's engine holds it (team mode's "Held by")
        )
        .join(Account, Account.id == Job.account_id)
        .join(MediaItem, MediaItem.id == Job.media_id)
        .outerjoin(Campaign, Campaign.id == Job.campaign_id)
    )


def _job_search(text: str) -> ColumnElement[bool]:
    # the account by a subquery, not a join per job: one pass over the jobs
    accounts = select(Account.id).where(text_contains(Account.username, text))
    if len(text) < TRIGRAM:
        return or_(
            text_contains(Job.caption, text),
            text_contains(Job.receipt, text),
            text_contains(Job.last_error, text),
            Job.account_id.in_(accounts),
        )
    by_text = select(Job.id).where(job_text_matches(text))
    by_account = select(Job.id).where(Job.account_id.in_(accounts))
    # a set of ids looked up by primary key instead of a test on every job
    return Job.id.in_(union(by_text, by_account))


JOBS = TableSpec(
    base=_jobs_base,
    sort={
        "id": Job.id,
        "status": Job.status,
        "route": Job.route,
        # (platform, username) is the accounts' unique index, and (account, scheduled)
        # the jobs': this order walks both indexes instead of sorting every job
        "account_username": (Account.platform, Account.username, Job.account_id, Job.scheduled_at),
        "media_title": MediaItem.title,
        "campaign_name": Campaign.name,
        "scheduled_at": Job.scheduled_at,
        "next_attempt_at": Job.next_attempt_at,
        "attempts": Job.attempts,
        "receipt": Job.receipt,
        "published_at": Job.published_at,
        "updated_at": Job.updated_at,
    },
    filters={
        "status": _job_status,
        "route": lambda v: Job.route == v,
        "account_id": lambda v: Job.account_id == v,
        "campaign_id": lambda v: Job.campaign_id == v,
        "media_id": lambda v: Job.media_id == v,
        "since": lambda v: Job.updated_at >= v,
        "ids": lambda v: Job.id.in_(list(v)),
        # the calendar's list view: [from, until) of the scheduled time, one group
        "scheduled_from": lambda v: Job.scheduled_at >= v,
        "scheduled_until": lambda v: Job.scheduled_at < v,
        "account_group": lambda v: Job.account_id.in_(
            select(Account.id).where(func.lower(Account.group) == str(v).lower())
        ),
    },
    search=_job_search,
    id_column=Job.id,
    default_sort="id",
    count_base=lambda: select(func.count(Job.id)),
    combined_filters={"status": _job_status_scanned},
    joins={
        "accounts": lambda q: q.join(Account, Account.id == Job.account_id),
        "media_items": lambda q: q.join(MediaItem, MediaItem.id == Job.media_id),
        "campaigns": lambda q: q.outerjoin(Campaign, Campaign.id == Job.campaign_id),
    },
)

TABLES: dict[str, TableSpec] = {
    "accounts": ACCOUNTS,
    "proxies": PROXIES,
    "profiles": PROFILES,
    "media": MEDIA,
    "campaigns": CAMPAIGNS,
    "jobs": JOBS,
}


class TableService:
    """Rows and counts for any table in `TABLES`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def spec(table: str) -> TableSpec:
        try:
            return TABLES[table]
        except KeyError:
            raise ValidationError("table", f"unknown table {table!r}") from None

    def _where(
        self, spec: TableSpec, query: TableQuery, select_: RowsSelect, *, page: bool = False
    ) -> RowsSelect:
        active = {k: v for k, v in query.filters.items() if v not in (None, "", [])}
        text = query.search.strip()
        narrowed = len(active) > 1 or bool(text)
        for key, value in active.items():
            try:
                condition = spec.filters[key]
            except KeyError:
                raise ValidationError(key, "unknown filter") from None
            if page and narrowed and key in spec.combined_filters:
                condition = spec.combined_filters[key]
            select_ = select_.where(condition(value))
        if text:
            if text.startswith("#") and text[1:].isdigit():
                select_ = select_.where(spec.id_column == int(text[1:]))
            else:
                select_ = select_.where(spec.search(text))
        return select_

    def rows(
        self, table: str, query: TableQuery, offset: int = 0, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """A page of rows. Two steps: the ids of the page first (filter, sort, offset and
        limit over narrow rows, so a sort never carries whole rows of a large table),
        then those rows with their labels."""
        spec = self.spec(table)
        key = query.sort or spec.default_sort
        try:
            sort = spec.sort[key]
        except KeyError:
            raise ValidationError("sort", f"cannot sort {table} by {key!r}") from None
        columns = sort if isinstance(sort, tuple) else (sort,)
        order = [c.desc() if query.descending else c.asc() for c in columns]
        if key != "id":
            # a stable tie-break keeps pages from overlapping
            order.append(spec.id_column.desc() if query.descending else spec.id_column.asc())
        # only the joins the sort needs: filters and searches read the main table
        ids_query = select(spec.id_column)
        needed = {getattr(c, "table", None) for c in columns}
        for name, join in spec.joins.items():
            if any(getattr(t, "name", None) == name for t in needed):
                ids_query = join(ids_query)
        plain_order = key == "id"
        ids_query = self._where(spec, query, ids_query, page=plain_order)
        ids_query = ids_query.order_by(*order).offset(offset)
        if limit is not None:
            ids_query = ids_query.limit(limit)
        with self.db.session() as session:
            ids = list(session.scalars(ids_query))
            if not ids:
                return []
            found = {
                row._mapping["id"]: dict(row._mapping)
                for row in session.execute(spec.base().where(spec.id_column.in_(ids)))
            }
        return [found[i] for i in ids if i in found]

    def count(self, table: str, query: TableQuery) -> int:
        spec = self.spec(table)
        if spec.count_base is not None:
            base = spec.count_base()
        else:
            base = spec.base().with_only_columns(func.count(literal(1)), maintain_column_froms=True)
        statement = self._where(spec, query, base)
        with self.db.session() as session:
            return int(session.scalar(statement) or 0)

    def by_ids(self, table: str, ids: list[int]) -> list[dict[str, Any]]:
        if not ids:
            return []
        return self.rows(table, TableQuery(filters={"ids": ids}))

    def distinct(self, table: str, column: str) -> list[str]:
        """Distinct non-empty values of a column, for filter drop-downs."""
        columns: dict[tuple[str, str], Any] = {
            ("accounts", "group"): Account.group,
            ("accounts", "platform"): Account.platform,
            ("accounts", "timezone"): Account.timezone,
            ("profiles", "template"): BrowserProfile.template,
        }
        if (table, column) == ("accounts", "tags"):
            with self.db.session() as session:
                tags: set[str] = set()
                for value in session.scalars(select(Account.tags).distinct()):
                    tags.update(value or [])
            return sorted(tags)
        try:
            target = columns[(table, column)]
        except KeyError:
            raise ValidationError("column", f"no distinct values for {table}.{column}") from None
        with self.db.session() as session:
            return [v for v in session.scalars(select(target).distinct().order_by(target)) if v]

    def warm_up(self, connections: int = 3) -> None:
        """Open `connections` database connections now, one after another, so that
        tasks running side by side later find them ready: every new connection to the
        encrypted file derives the key again (a few hundred ms of CPU)."""
        with ExitStack() as stack:
            for _ in range(connections):
                session = stack.enter_context(self.db.session())
                session.execute(select(literal(1)))

    def account_labels(self) -> list[tuple[int, str, str]]:
        """(id, username, time zone) of every account, by name: pickers and completers."""
        with self.db.session() as session:
            return [
                (int(i), str(u), str(z or "UTC"))
                for i, u, z in session.execute(
                    select(Account.id, Account.username, Account.timezone).order_by(
                        Account.username
                    )
                )
            ]

    def totals(self) -> dict[str, int]:
        """How many rows each table holds (the sidebar's badges)."""
        with self.db.session() as session:
            return {
                "accounts": session.scalar(select(func.count(Account.id))) or 0,
                "proxies": session.scalar(select(func.count(Proxy.id))) or 0,
                "profiles": session.scalar(select(func.count(BrowserProfile.id))) or 0,
                "media": session.scalar(select(func.count(MediaItem.id))) or 0,
                "campaigns": session.scalar(select(func.count(Campaign.id))) or 0,
                "jobs": session.scalar(select(func.count(Job.id))) or 0,
            }
