"""A claimed job as a worker sees it: plain records read with one statement.

The runner loads its job once per attempt and check; plain records read with one
prepared statement (store/statements.LOAD_JOB) cost a fraction of three ORM objects
with their relationships. `JobRecord` is the one typed job record the engine passes
from the runner to the ledger and the publishers. The attribute
names are the models' own, so code that takes a record also takes a model object
(reconciliation and the readiness check still load models).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain.lifecycle import JobState
from ..store.db import Tx
from ..store.statements import LOAD_JOB


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
    status: str = "active"


@dataclass(frozen=True, slots=True)
class MediaRecord:
    id: int
    path: str
    size: int
    sha256: str
    duration_sec: float | None
    title: str | None
    # a photo set (domain/photo_sets.py): its images in order and the cover's index
    kind: str = "video"
    images: tuple[str, ...] = ()
    cover_index: int = 0


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

    def state(self) -> JobState:
        """The life cycle's view of this job as it was read (its lease's end is not
        read: the engine's moves of a job it holds do not need it)."""
        return JobState(
            self.id, self.status, self.account_id, self.campaign_id, self.route,
            self.lease_owner, None, self.attempts, self.max_attempts, self.receipt,
            self.submitted_at,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class LoadedJob:
    job: JobRecord
    account: AccountRecord
    media: MediaRecord


def load_job(tx: Tx, job_id: int) -> LoadedJob | None:
    """The job with its account (and proxy) and media; None if it is gone."""
    row = tx.run(LOAD_JOB, job=job_id).first()
    if row is None:
        return None
    job = JobRecord(
        row.id,
        row.uuid,
        row.account_id,
        row.media_id,
        row.campaign_id,
        row.route,
        row.status,
        row.caption,
        row.options or {},
        row.attempts,
        row.max_attempts,
        row.lease_owner,
        row.receipt_kind,
        row.receipt,
        row.post_url,
        row.submitted_at,
    )
    proxy = (
        ProxyRecord(
            row.proxy_scheme, row.proxy_host, row.proxy_port, row.proxy_username,
            row.proxy_password,
        )
        if row.proxy_id is not None
        else None
    )  # fmt: skip
    account = AccountRecord(
        row.account_id, row.platform, row.username, row.timezone, row.routes or [], proxy,
        row.account_status,
    )  # fmt: skip
    media = MediaRecord(
        row.media_id, row.path, row.size, row.sha256, row.duration_sec, row.title,
        row.media_kind, tuple(i["path"] for i in row.media_images or ()), row.media_cover_index,
    )  # fmt: skip
    return LoadedJob(job, account, media)
