"""Case-insensitive substring search, written once for both stores.

SQLite's LIKE ignores ASCII case and its jobs' text has an FTS5 trigram index (migration
0004); PostgreSQL's LIKE is case-sensitive, so there it is ILIKE, and the jobs' text has a
pg_trgm GIN index over the same three columns (the same migration). Each construct here
compiles to its dialect's form, so the table queries of domain/tables.py stay one query.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, bindparam, column, literal_column, select, table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.types import NullType

from .models import Job

TRIGRAM = 3  # shorter text has no trigram to look up: a plain scan then
# the PostgreSQL index's expression (migration 0004): a query must repeat it exactly
JOB_TEXT_COLUMNS = ("caption", "receipt", "last_error")
JOB_TEXT_SQL = "(" + " || ' ' || ".join(f"coalesce({c}, '')" for c in JOB_TEXT_COLUMNS) + ")"


def like_pattern(text: str) -> str:
    """`text` anywhere, with LIKE's own wildcards taken literally (escape: backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class contains(FunctionElement[Any]):
    """`expr` holds `text`, whatever its case."""

    type = NullType()  # not Boolean: SQLite would test "= 1", which no index answers
    inherit_cache = True
    name = "piper_contains"


@compiles(contains)
def _contains_default(element: contains, compiler: SQLCompiler, **kw: Any) -> str:
    target, pattern = list(element.clauses)
    return f"{compiler.process(target, **kw)} LIKE {compiler.process(pattern, **kw)} ESCAPE '\\'"


@compiles(contains, "postgresql")
def _contains_postgresql(element: contains, compiler: SQLCompiler, **kw: Any) -> str:
    target, pattern = list(element.clauses)
    return f"{compiler.process(target, **kw)} ILIKE {compiler.process(pattern, **kw)} ESCAPE '\\'"


def text_contains(expr: Any, text: str) -> ColumnElement[bool]:
    return cast(ColumnElement[bool], contains(expr, bindparam(None, like_pattern(text))))


class job_text_match(FunctionElement[Any]):
    """A job's caption, receipt or last error holds the text (three characters or more),
    answered from the trigram index of migration 0004. It carries both dialects' forms
    of the text as parameters (an FTS5 phrase, a LIKE pattern); each renders its own."""

    type = NullType()  # not Boolean: SQLite would test "= 1", which no index answers
    inherit_cache = True
    name = "piper_job_text_match"


def job_text_matches(text: str) -> ColumnElement[bool]:
    # one quoted FTS5 string: a case-insensitive substring, no query syntax
    phrase = '"' + text.replace('"', '""') + '"'
    match = job_text_match(bindparam(None, phrase), bindparam(None, like_pattern(text)))
    return cast(ColumnElement[bool], match)


_jobs_fts = table("jobs_fts", column("rowid"))


@compiles(job_text_match)
def _match_sqlite(element: job_text_match, compiler: SQLCompiler, **kw: Any) -> str:
    phrase, _pattern = list(element.clauses)
    # a set of ids looked up by primary key instead of a test on every job
    ids = select(_jobs_fts.c.rowid).where(literal_column("jobs_fts").op("MATCH")(phrase))
    return f"{compiler.process(Job.__table__.c.id, **kw)} IN ({compiler.process(ids, **kw)})"


@compiles(job_text_match, "postgresql")
def _match_postgresql(element: job_text_match, compiler: SQLCompiler, **kw: Any) -> str:
    _phrase, pattern = list(element.clauses)
    jobs = Job.__table__.c
    parts = [f"coalesce({compiler.process(jobs[name], **kw)}, '')" for name in JOB_TEXT_COLUMNS]
    text = " || ' ' || ".join(parts)
    return f"({text}) ILIKE {compiler.process(pattern, **kw)} ESCAPE '\\'"
