"""The jobs table's text search: a case-insensitive substring of a job's caption,
receipt or last error, or of its account's name, answered from the trigram index for
three characters or more and by LIKE for shorter text."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, text, update

from piper_desktop.domain.services import Services
from piper_desktop.domain.tables import TableQuery, TableService
from piper_desktop.store.models import Job
from tests.conftest import make_video


def _found(tables: TableService, search: str, **filters: object) -> list[int]:
    query = TableQuery(search=search, filters=dict(filters))
    ids = [r["id"] for r in tables.rows("jobs", query)]
    assert tables.count("jobs", query) == len(ids)
    return ids


def _jobs(services: Services, tmp_path: Path, captions: list[str]) -> list[int]:
    account = services.accounts.add({"username": "Night_Owl"})
    media, _ = services.media.add(make_video(tmp_path, "a.mp4"), {"title": "Clip A"})
    return [
        services.jobs.add(
            account_id=account.id,
            media_id=media.id,
            route="upload_post",
            caption=caption,
            allow_duplicate=True,
        ).id
        for caption in captions
    ]


def test_substrings_of_any_case_and_with_query_syntax(services: Services, tmp_path: Path) -> None:
    a, b, c = _jobs(
        services, tmp_path, ['Sunset over the "Bay" #travel', "100% real_deal", "Nothing here"]
    )
    tables = TableService(services.db)
    assert _found(tables, "SUNSET") == [a]
    assert _found(tables, "et ov") == [a]  # across a word boundary
    assert _found(tables, '"bay"') == [a]  # quotes are text, not FTS5 syntax
    assert _found(tables, "#trav") == [a]
    assert _found(tables, "0% r") == [b]  # LIKE's wildcards are text too
    assert _found(tables, "l_d") == [b]
    assert _found(tables, "al_deal OR nothing") == []
    assert _found(tables, "zzqx") == []
    # one or two characters: no trigram, the plain LIKE answers
    assert _found(tables, "%") == [b]
    assert _found(tables, "Ay") == [a]
    # the account's name matches every job of it
    assert _found(tables, "night_o") == [a, b, c]
    assert _found(tables, "ow") == [a, b, c]
    # combined with a filter, and a job's own number
    assert _found(tables, "sunset", status="queued") == [a]
    assert _found(tables, "sunset", status="failed") == []
    assert _found(tables, f"#{c}") == [c]


def test_index_follows_edits_and_deletes(services: Services, tmp_path: Path) -> None:
    a, b = _jobs(services, tmp_path, ["first caption", "second caption"])
    tables = TableService(services.db)
    with services.db.write() as session:
        session.execute(
            update(Job)
            .where(Job.id == a)
            .values(caption="renamed", receipt="rcpt-778", last_error="Platform Refused")
        )
        # a write that leaves the text alone (the common one) keeps the index right too
        session.execute(update(Job).where(Job.id == b).values(attempts=2))
    assert _found(tables, "first") == []
    assert _found(tables, "renamed") == [a]
    assert _found(tables, "cpt-77") == [a]
    assert _found(tables, "refused") == [a]
    assert _found(tables, "caption") == [b]

    with services.db.write() as session:
        session.execute(delete(Job).where(Job.id == b))
    assert _found(tables, "second") == []
    # removing the account deletes its jobs by cascade: their text leaves the index
    services.accounts.remove(1)
    assert _found(tables, "renamed") == []
    if services.db.engine.dialect.name != "sqlite":
        return  # PostgreSQL keeps its own GIN index; the FTS5 table is SQLite's
    with services.db.engine.connect() as conn:
        check = "INSERT INTO jobs_fts(jobs_fts, rank) VALUES ('integrity-check', 1)"
        conn.execute(text(check))  # raises if the index and the jobs disagree
        left = conn.execute(text("SELECT count(*) FROM jobs_fts WHERE jobs_fts MATCH 'cap'"))
        assert left.scalar() == 0
