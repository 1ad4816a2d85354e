"""`JobService.change_route`: another route for a job, only before it is claimed, and
never for a job the platform may already have."""

from __future__ import annotations

from pathlib import Path

import pytest

from piper_desktop.domain.errors import DomainError, ValidationError
from piper_desktop.domain.lifecycle import IllegalTransition
from piper_desktop.domain.services import Services
from piper_desktop.store.models import Job, JobEvent
from tests.engine.helpers import add_account, add_media


def _job(services: Services, tmp_path: Path, name: str) -> int:
    account = add_account(services, name)
    media = add_media(services, tmp_path, f"{name}.mp4")
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="tiktok_api", at="now", caption="c"
    )
    return job.id


def _set(services: Services, job_id: int, **values: object) -> None:
    with services.db.write() as session:
        row = session.get(Job, job_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def test_a_queued_job_changes_route_and_says_so(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "mover")
    job = services.jobs.change_route(job_id, "upload_post")
    assert job.route == "upload_post" and job.status == "queued"
    with services.db.session() as session:
        kinds = [e.kind for e in session.query(JobEvent).filter_by(job_id=job_id)]
    assert kinds[-1] == "route_changed"


def test_a_waiting_job_changes_route_and_keeps_waiting(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "waiter")
    _set(services, job_id, status="needs_attention", attention_reason="not connected")
    assert services.jobs.change_route(job_id, "browser").status == "needs_attention"


def test_a_claimed_job_keeps_its_route(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "busy")
    _set(services, job_id, status="claimed", lease_owner="engine-1")
    with pytest.raises(IllegalTransition, match="only before it is claimed"):
        services.jobs.change_route(job_id, "browser")
    assert services.jobs.get(job_id).route == "tiktok_api"


def test_a_job_with_a_receipt_keeps_its_route(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "posted")
    _set(services, job_id, status="needs_attention", receipt="pub-1", receipt_kind="publish_id")
    with pytest.raises(DomainError, match="may already be on the platform"):
        services.jobs.change_route(job_id, "upload_post")
    assert services.jobs.get(job_id).route == "tiktok_api"


def test_an_unknown_route_names_the_field(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "typo")
    with pytest.raises(ValidationError, match="route"):
        services.jobs.change_route(job_id, "fax")
