"""domain/intake.py: a file from outside becomes media and jobs for an account or a group."""

from __future__ import annotations

from pathlib import Path

import pytest

from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.intake import Target, intake_dir, queue_file
from piper_desktop.domain.services import Services
from piper_desktop.sandbox.media import write_video


def _account(services: Services, name: str, group: str | None = None) -> int:
    record = {"username": name, "routes": "upload_post", "group": group}
    return services.accounts.add({k: v for k, v in record.items() if v is not None}).id


def test_an_account_target_gets_one_job_at_its_next_free_slot(
    services: Services, tmp_path: Path
) -> None:
    account = _account(services, "alice")
    queued = queue_file(
        services, write_video(tmp_path / "a.mp4"), Target(account="@alice"), caption="hi #x"
    )
    assert [job.account_id for job in queued.jobs] == [account]
    job = services.jobs.get(queued.jobs[0].id)
    assert (job.route, job.caption, job.pinned_time) == ("upload_post", "hi #x", False)
    assert "job" in queued.line()


def test_a_group_target_queues_every_member_and_reports_the_refused(
    services: Services, tmp_path: Path
) -> None:
    _account(services, "bob", "Clients")
    _account(services, "carol", "clients")
    _account(services, "dave", "other")
    video = write_video(tmp_path / "b.mp4")
    first = queue_file(services, video, Target(group="CLIENTS"))
    assert len(first.jobs) == 2 and not first.refused
    # the same video again within the duplicate window: refused per account, named
    again = queue_file(services, video, Target(group="clients"))
    assert again.jobs == [] and {name for name, _ in again.refused} == {"bob", "carol"}
    assert again.media.id == first.media.id  # the library keeps one copy of the content


@pytest.mark.parametrize(
    ("target", "field"),
    [
        (Target(account="nobody"), "account"),
        (Target(group="empty"), "group"),
    ],
)
def test_a_bad_target_names_its_field_and_stores_nothing(
    services: Services, tmp_path: Path, target: Target, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        queue_file(services, write_video(tmp_path / "c.mp4"), target)
    assert caught.value.field == field
    assert services.media.count() == 0


def test_an_account_without_a_route_needs_one(services: Services, tmp_path: Path) -> None:
    services.accounts.add({"username": "erin"})
    with pytest.raises(ValidationError, match="route"):
        queue_file(services, write_video(tmp_path / "d.mp4"), Target(account="erin"))
    queued = queue_file(
        services, write_video(tmp_path / "d.mp4"), Target(account="erin", route="upload_post")
    )
    assert len(queued.jobs) == 1


def test_a_target_is_an_account_or_a_group() -> None:
    with pytest.raises(ValidationError, match="target"):
        Target(account="a", group="b")
    with pytest.raises(ValidationError, match="target"):
        Target()


def test_intake_folders_are_owner_only(tmp_path: Path) -> None:
    folder = intake_dir(tmp_path, "telegram")
    assert folder.is_dir() and folder.stat().st_mode & 0o077 == 0
    assert (tmp_path / "intake").stat().st_mode & 0o077 == 0
