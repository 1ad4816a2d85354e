"""`/api/v1/jobs`: list and filter, pending, statistics, one job, retry, cancel.

Every move goes through JobService, so the life cycle's rules hold here as in the CLI
and the GUI (a job that may be on the platform is not re-queued without `force`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from ...domain.errors import NotFound, ValidationError
from ...domain.services import Services
from ...store.enums import CLAIMABLE_JOB_STATUSES
from .deps import services, wake_engine

router = APIRouter(tags=["jobs"])


def job_rows(s: Services, jobs: list[Any]) -> list[dict[str, Any]]:
    names = s.accounts.names({j.account_id for j in jobs})
    rows = []
    for job in jobs:
        row = s.jobs.to_dict(job)
        row["account"] = names.get(job.account_id, str(job.account_id))
        rows.append(row)
    return rows


def _ref_id(find: Any, field: str, ref: str | None) -> int | None:
    """A filter's account or campaign: one that does not exist is bad input, not 404."""
    if not ref:
        return None
    try:
        found_id: int = find(ref).id
    except NotFound:
        raise ValidationError(field, f"no {field} {ref!r}") from None
    return found_id


@router.get("/jobs")
def list_jobs(
    status: list[str] | None = Query(None, description="one or more job statuses"),
    account: str | None = Query(None, description="an account id or username"),
    campaign: str | None = Query(None, description="a campaign id or name"),
    route: str | None = None,
    search: str | None = Query(None, description="text in the caption"),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    jobs = s.jobs.list(
        status=status or None,
        account_id=_ref_id(s.accounts.find, "account", account),
        campaign_id=_ref_id(s.campaigns.find, "campaign", campaign),
        route=route,
        search=search,
        limit=limit,
        offset=offset,
        newest_first=True,
    )
    return job_rows(s, jobs)


@router.get("/jobs/pending")
def pending_jobs(
    limit: int = Query(100, ge=1, le=1000), s: Services = Depends(services)
) -> list[dict[str, Any]]:
    """Jobs waiting for their time (queued, or retrying after a transient error)."""
    statuses = sorted(status.value for status in CLAIMABLE_JOB_STATUSES)
    return job_rows(s, s.jobs.list(status=statuses, limit=limit))


@router.get("/jobs/statistics")
def job_statistics(s: Services = Depends(services)) -> dict[str, Any]:
    from ...domain.reporting import job_stats

    return job_stats(s.db)


@router.get("/jobs/{job_id}")
def get_job(job_id: int, s: Services = Depends(services)) -> dict[str, Any]:
    job = s.jobs.get(job_id)
    data = job_rows(s, [job])[0]
    data["upload"] = s.jobs.upload(job.id)
    data["events"] = [s.jobs.event_dict(e) for e in s.jobs.events(job.id)]
    return data


@router.post("/jobs/{job_id}/retry")
def retry_job(
    job_id: int,
    request: Request,
    force: bool = Query(False, description="re-queue even if it may be on the platform"),
    s: Services = Depends(services),
) -> dict[str, Any]:
    job = s.jobs.retry(job_id, force=force)
    wake_engine(request, f"job {job_id} re-queued through the API")
    return job_rows(s, [job])[0]


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: int, s: Services = Depends(services)) -> dict[str, Any]:
    return job_rows(s, [s.jobs.cancel(job_id)])[0]
