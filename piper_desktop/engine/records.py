"""A claimed job as a worker sees it: plain records read with one SQL statement.

The runner loads its job once per attempt and check; plain records read through the
DB-API cost a fraction of three ORM objects with their relationships. The attribute
names are the models' own, so code that takes a record also takes a model object
(reconciliation and the readiness check still load models).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..store.types import json_from_db, time_from_db


@dataclass(frozen=True, slots=True)
class ProxyRecord:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None


@dataclass(frozen=True, slots=True)
class AccountRecord:
    id: int
    platform: str
    username: str
    timezone: str | None
    routes: list[str]
    proxy: ProxyRecord | None


@dataclass(frozen=True, slots=True)
class MediaRecord:
    id: int
    path: str
    size: int
    sha256: str
    duration_sec: float | None
    title: str | None


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: int
    uuid: str
    account_id: int
    media_id: int
    campaign_id: int | None
    route: str
    status: str
    caption: str
    options: dict[str, Any]
    attempts: int
    max_attempts: int
    lease_owner: str | None
    receipt_kind: str | None
    receipt: str | None
    post_url: str | None
    submitted_at: datetime | None

    def but(self, **changes: Any) -> JobRecord:
        """A copy with `changes` (what a transition just wrote)."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class LoadedJob:
    job: JobRecord
    account: AccountRecord
    media: MediaRecord


LOAD_SQL = """
SELECT j.id, j.uuid, j.account_id, j.media_id, j.campaign_id, j.route, j.status, j.caption,
       j.options, j.attempts, j.max_attempts, j.lease_owner, j.receipt_kind, j.receipt,
       j.post_url, j.submitted_at,
       a.platform, a.username, a.timezone, a.routes,
       p.id, p.scheme, p.host, p.port, p.username, p.password,
       m.path, m.size, m.sha256, m.duration_sec, m.title
FROM jobs AS j
JOIN accounts AS a ON a.id = j.account_id
JOIN media_items AS m ON m.id = j.media_id
LEFT JOIN proxies AS p ON p.id = a.proxy_id
WHERE j.id = ?
"""


def load_job(conn: Any, job_id: int) -> LoadedJob | None:
    """The job with its account (and proxy) and media; None if it is gone."""
    row = conn.execute(LOAD_SQL, (job_id,)).fetchone()
    if row is None:
        return None
    (
        jid, uuid, account_id, media_id, campaign_id, route, status, caption,
        options, attempts, max_attempts, lease_owner, receipt_kind, receipt,
        post_url, submitted_at,
        platform, username, timezone, routes,
        proxy_id, scheme, host, port, proxy_user, proxy_password,
        path, size, sha256, duration_sec, title,
    ) = row  # fmt: skip
    job = JobRecord(
        jid,
        uuid,
        account_id,
        media_id,
        campaign_id,
        route,
        status,
        caption,
        json_from_db(options) or {},
        attempts,
        max_attempts,
        lease_owner,
        receipt_kind,
        receipt,
        post_url,
        time_from_db(submitted_at),
    )
    proxy = (
        ProxyRecord(scheme, host, port, proxy_user, proxy_password)
        if proxy_id is not None
        else None
    )
    account = AccountRecord(
        account_id, platform, username, timezone, json_from_db(routes) or [], proxy
    )
    return LoadedJob(job, account, MediaRecord(media_id, path, size, sha256, duration_sec, title))
