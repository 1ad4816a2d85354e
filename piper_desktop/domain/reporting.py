"""Reports over jobs: statistics and the full export (events, receipts, URLs, artifacts).

The export holds every job with its whole history and references to its artifacts (id,
name, type, size — never their bytes, which stay encrypted in the vault). CSV flattens
the lists into JSON text cells so that one row is one job.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import func, select

from ..store.db import Database
from ..store.enums import CLAIMABLE_JOB_STATUSES, JobStatus
from ..store.models import Account, Artifact, Campaign, Job, JobEvent, MediaItem
from .jobs import JobService
from .records import plain, row_dict
from .textfiles import safe_cell

CSV_COLUMNS = [
    "id",
    "uuid",
    "account",
    "account_id",
    "route",
    "status",
    "campaign",
    "campaign_id",
    "media_id",
    "media_sha256",
    "media_path",
    "caption",
    "scheduled_at",
    "pinned_time",
    "attempts",
    "max_attempts",
    "next_attempt_at",
    "receipt_kind",
    "receipt",
    "post_url",
    "post_id",
    "submitted_at",
    "published_at",
    "last_error",
    "attention_reason",
    "allow_duplicate",
    "created_at",
    "updated_at",
    "options",
    "platform_results",
    "events",
    "artifacts",
]


def job_stats(db: Database, now: datetime | None = None) -> dict[str, Any]:
    """JobService.stats plus what an operator watches day to day."""
    now = now or datetime.now(UTC)
    stats = JobService(db).stats()
    with db.session() as session:
        since = now - timedelta(days=1)
        stats["published_last_24h"] = (
            session.scalar(
                select(func.count(Job.id)).where(
                    Job.status == JobStatus.PUBLISHED.value, Job.published_at >= since
                )
            )
            or 0
        )
        stats["needs_attention"] = stats["by_status"].get(JobStatus.NEEDS_ATTENTION.value, 0)
        upcoming = session.scalar(
            select(func.min(Job.next_attempt_at)).where(
                Job.status.in_(sorted(CLAIMABLE_JOB_STATUSES))
            )
        )
    stats["next_due_at"] = plain(upcoming)
    return stats


def export_jobs(db: Database, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Every job (changed since `since`, if given) with events and artifact references."""
    with db.session() as session:
        query = (
            select(Job, Account.platform, Account.username, MediaItem.sha256, MediaItem.path)
            .join(Account, Account.id == Job.account_id)
            .join(MediaItem, MediaItem.id == Job.media_id)
            .order_by(Job.id)
        )
        if since is not None:
            query = query.where(Job.updated_at >= since)
        rows = session.execute(query).all()
        ids = [job.id for job, *_ in rows]
        events: dict[int, list[dict[str, Any]]] = defaultdict(list)
        artifacts: dict[int, list[dict[str, Any]]] = defaultdict(list)
        campaigns = dict(session.execute(select(Campaign.id, Campaign.name)).all())
        for chunk in _chunks(ids, 500):
            for event in session.scalars(
                select(JobEvent).where(JobEvent.job_id.in_(chunk)).order_by(JobEvent.id)
            ):
                events[event.job_id].append(
                    {
                        "at": plain(event.at),
                        "kind": event.kind,
                        "status": event.status,
                        "message": event.message,
                        "data": event.data,
                        # on a team server: which desktop and operator made it
                        "desktop": event.desktop,
                        "operator": event.operator,
                    }
                )
            for artifact_id, job_id, name, content_type, size, created in session.execute(
                select(
                    Artifact.id,
                    Artifact.job_id,
                    Artifact.name,
                    Artifact.content_type,
                    func.length(Artifact.content),
                    Artifact.created_at,
                )
                .where(Artifact.job_id.in_(chunk))
                .order_by(Artifact.id)
            ):
                artifacts[job_id].append(
                    {
                        "id": artifact_id,
                        "name": name,
                        "content_type": content_type,
                        "size": size,
                        "created_at": plain(created),
                    }
                )
    result = []
    for job, platform, username, sha256, path in rows:
        data = row_dict(job)
        data["account"] = f"{platform}:{username}"
        data["campaign"] = campaigns.get(job.campaign_id) if job.campaign_id else None
        data["media_sha256"] = sha256
        data["media_path"] = path
        data["events"] = events.get(job.id, [])
        data["artifacts"] = artifacts.get(job.id, [])
        result.append(data)
    return result


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def write_export(rows: list[dict[str, Any]], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(rows, out, indent=2, default=plain, ensure_ascii=False)
        out.write("\n")
        return
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                key: safe_cell(
                    json.dumps(value, default=plain, ensure_ascii=False)
                    if isinstance(value, list | dict)
                    else plain(value)
                )
                for key, value in row.items()
            }
        )
