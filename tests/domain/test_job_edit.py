"""`JobService.edit`: a waiting job's caption, time and route change (the life cycle's
edit and change_route moves) until it is claimed; after that, one line refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from piper_desktop.domain.errors import Conflict, ValidationError
from piper_desktop.domain.lifecycle import TABLE, IllegalTransition
from piper_desktop.domain.services import Services
from piper_desktop.store.models import Job, JobEvent
from tests.engine.helpers import add_account, add_media

LATER = datetime(2031, 3, 4, 18, 30, tzinfo=UTC)


def _job(services: Services, tmp_path: Path, name: str) -> int:
    account = add_account(services, name)
    media = add_media(services, tmp_path, f"{name}.mp4")
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="tiktok_api", at="auto", caption="old"
    )
    return job.id


def _set(services: Services, job_id: int, **values: object) -> None:
    with services.db.write() as session:
        row = session.get(Job, job_id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def _kinds(services: Services, job_id: int) -> list[str]:
    with services.db.session() as session:
        return [e.kind for e in session.query(JobEvent).filter_by(job_id=job_id)]


def test_edit_is_one_operator_move_of_the_table() -> None:
    move = TABLE["edit"]
    assert move.targets is None and {a.value for a in move.actors} == {"operator"}
    assert "claimed" not in move.sources and "queued" in move.sources


def test_caption_time_and_route_change_on_a_queued_job(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "editor")
    job = services.jobs.edit(
        job_id, caption="new #words", scheduled_at=LATER.isoformat(), route="upload_post"
    )
    assert (job.caption, job.route, job.status) == ("new #words", "upload_post", "queued")
    assert job.scheduled_at == LATER and job.next_attempt_at == LATER and job.pinned_time
    assert _kinds(services, job_id)[-2:] == ["edited", "route_changed"]


def test_only_the_caption_keeps_the_time(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "words")
    before = services.jobs.get(job_id)
    job = services.jobs.edit(job_id, caption="just words")
    assert job.caption == "just words" and job.scheduled_at == before.scheduled_at
    assert job.pinned_time == before.pinned_time


def test_a_claimed_job_refuses_in_one_line(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "claimed")
    _set(services, job_id, status="claimed", lease_owner="engine-1",
         lease_expires_at=datetime.now(UTC) + timedelta(minutes=5))  # fmt: skip
    with pytest.raises(IllegalTransition, match="only before it is claimed") as refused:
        services.jobs.edit(job_id, caption="too late")
    assert "\n" not in str(refused.value)
    assert services.jobs.get(job_id).caption == "old"


def test_a_job_someone_holds_refuses(services: Services, tmp_path: Path) -> None:
    # a live lease on a waiting job (a claim pass holding it): the edit must not land
    job_id = _job(services, tmp_path, "held")
    _set(services, job_id, lease_owner="engine-2",
         lease_expires_at=datetime.now(UTC) + timedelta(minutes=5))  # fmt: skip
    with pytest.raises(Conflict, match="claimed by engine-2"):
        services.jobs.edit(job_id, caption="sneaky")
    assert services.jobs.get(job_id).caption == "old"


def test_bad_input_names_the_field(services: Services, tmp_path: Path) -> None:
    job_id = _job(services, tmp_path, "bad")
    with pytest.raises(ValidationError, match="at"):
        services.jobs.edit(job_id, scheduled_at="next tuesday")
    with pytest.raises(ValidationError, match="caption"):
        services.jobs.edit(job_id, caption="x" * 2201)
    with pytest.raises(ValidationError, match="route"):
        services.jobs.edit(job_id, route="fax")
    # Upload-Post refuses an empty title: so does the edit that would leave one
    with pytest.raises(ValidationError, match="caption"):
        services.jobs.edit(job_id, caption="  ", route="upload_post")
    assert services.jobs.get(job_id).caption == "old"
