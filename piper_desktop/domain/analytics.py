"""How the posts did: the accounts' posts as the platform reports them, and their readings.

Tables (migration 0013, store/models.py): `analytics_posts` (a post seen on the
platform: its id unique per account, the Piper job it matched and how — "id", "guess"
or "outside", see domain/analytics_match.py —, caption, share URL, duration, latest
counts), `post_readings` (post × time → views, likes, comments, shares) and
`account_readings` (account × time → followers, likes, videos; views summed over the
posts read at that moment).

Read side (the Performance panel, the dashboard, `piper analytics ...`), one query per
call:

- `AnalyticsService.posts(account_id=None, *, limit=None) -> list[PostRow]`, newest
  first (by the post's create time);
- `post_readings(keys) -> {post key: [PostReading]}`, each list oldest first;
- `account_readings(account_id=None) -> {account id: [AccountReading]}`, oldest first.

Write side (the collection duty, routes/tiktok_api/analytics.py; tests and benches
seed with it):

- `record(account_id, at, posts, account_counts=None) -> Recorded`: one reading of an
  account at `at` (UTC) in one transaction: new posts inserted, known ones' details and
  latest counts updated, every post matched again (an "id" match stays; a guess may
  become an id once the job's receipt names the post), a `PostReading` per post and, with
  `AccountCounts`, an `AccountReading` whose views are the sum of `posts`' views. A
  second record at the same `at` replaces that reading. Bulk statements throughout
  (executemany), so 10,000 posts take one call.
- `job_post_ids(account_id) -> {post id: job id}`: the ids the account's jobs' receipts
  name (what the collector asks video/query for when video/list leaves them out).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update

from ..store.db import Database
from ..store.enums import POSTED_JOB_STATUSES
from ..store.models import (
    Account,
    AnalyticsPost,
    Campaign,
    Job,
)
from ..store.models import (
    AccountReading as AccountReadingRow,
)
from ..store.models import (
    PostReading as PostReadingRow,
)
from .analytics_match import (
    MATCH_GUESS,
    MATCH_ID,
    MATCH_OUTSIDE,
    JobFacts,
    PostFacts,
    job_post_id,
    match_posts,
)
from .errors import NotFound

POSTS = cast(Table, AnalyticsPost.__table__)
READINGS = cast(Table, PostReadingRow.__table__)
ACCOUNT_READINGS = cast(Table, AccountReadingRow.__table__)
p = POSTS.c
r = READINGS.c
ar = ACCOUNT_READINGS.c
jobs = cast(Table, Job.__table__).c
accounts = cast(Table, Account.__table__).c
campaigns = cast(Table, Campaign.__table__).c


@dataclass(frozen=True)
class PostRow:
    key: int
    account_id: int
    account: str
    platform: str
    post_id: str
    job_id: int | None
    campaign_id: int | None
    caption_template: str | None
    match: str
    created_at: datetime
    caption: str
    share_url: str | None
    views: int
    likes: int
    comments: int
    shares: int


@dataclass(frozen=True)
class PostReading:
    at: datetime
    views: int
    likes: int
    comments: int
    shares: int


@dataclass(frozen=True)
class AccountReading:
    at: datetime
    followers: int
    likes: int
    videos: int
    views: int


@dataclass(frozen=True)
class SeenPost:
    """One post as the platform lists it at a reading."""

    post_id: str
    created_at: datetime
    caption: str = ""
    share_url: str | None = None
    duration_sec: int | None = None
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0


@dataclass(frozen=True)
class AccountCounts:
    """An account's own counts at a reading (TikTok's user/info, user.info.stats)."""

    followers: int
    likes: int
    videos: int


@dataclass(frozen=True)
class Recorded:
    """What one `record` stored."""

    posts: int
    new: int
    by_id: int
    guessed: int
    outside: int
    views: int


_POST_ROW = select(
    p.id,
    p.account_id,
    accounts.username,
    p.platform,
    p.post_id,
    p.job_id,
    jobs.campaign_id,
    campaigns.caption_template,
    p.match,
    p.created_at,
    p.caption,
    p.share_url,
    p.views,
    p.likes,
    p.comments,
    p.shares,
).select_from(
    POSTS.join(cast(Table, Account.__table__), accounts.id == p.account_id)
    .outerjoin(cast(Table, Job.__table__), jobs.id == p.job_id)
    .outerjoin(cast(Table, Campaign.__table__), campaigns.id == jobs.campaign_id)
)

_UPDATE_POST = (
    update(POSTS)
    .where(p.id == bindparam("k"))
    .values(
        job_id=bindparam("job_id"),
        match=bindparam("match"),
        created_at=bindparam("created_at"),
        caption=bindparam("caption"),
        share_url=bindparam("share_url"),
        duration_sec=bindparam("duration_sec"),
        views=bindparam("views"),
        likes=bindparam("likes"),
        comments=bindparam("comments"),
        shares=bindparam("shares"),
        last_read_at=bindparam("last_read_at"),
    )
)


def _keys(values: Sequence[int]) -> Any:
    # integers rendered into the SQL: no bound-parameter limit (SQLite 32766,
    # PostgreSQL 65535) for the panel's 10,000 posts, and ints cannot inject anything
    return bindparam("keys", [int(v) for v in values], expanding=True, literal_execute=True)


class AnalyticsService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- read side --------------------------------------------------------------------
    def posts(self, account_id: int | None = None, *, limit: int | None = None) -> list[PostRow]:
        """The accounts' posts (one account's with `account_id`), newest first."""
        query = _POST_ROW.order_by(p.created_at.desc(), p.id.desc())
        if account_id is not None:
            query = query.where(p.account_id == account_id)
        if limit is not None:
            query = query.limit(limit)
        with self.db.session() as session:
            return [PostRow(*tuple(row)) for row in session.execute(query)]

    def post_readings(self, keys: Sequence[int]) -> dict[int, builtins.list[PostReading]]:
        """Each post's readings (by `PostRow.key`), oldest first; a post without any is
        left out."""
        found: dict[int, list[PostReading]] = {}
        if not keys:
            return found
        query = (
            select(r.post_key, r.at, r.views, r.likes, r.comments, r.shares)
            .where(r.post_key.in_(_keys(keys)))
            .order_by(r.post_key, r.at)
        )
        # the panel reads 300,000 of these: plain DB-API rows, each reading's time parsed
        # once (a pass stamps all its posts with one `at`), a third of Core's cost
        sql = str(
            query.compile(dialect=self.db.engine.dialect, compile_kwargs={"literal_binds": True})
        )
        times: dict[str, datetime] = {}
        with self.db.raw_read() as conn:
            cursor = conn.cursor()
            try:
                cursor.execute(sql)
                raw = cursor.fetchall()
            finally:
                cursor.close()
        for key, stamp, views, likes, comments, shares in raw:
            at = times.get(stamp)
            if at is None:
                at = times[stamp] = datetime.fromisoformat(stamp)
            readings = found.get(key)
            if readings is None:
                readings = found[key] = []
            readings.append(PostReading(at, views, likes, comments, shares))
        return found

    def account_readings(
        self, account_id: int | None = None
    ) -> dict[int, builtins.list[AccountReading]]:
        """Each account's readings (one account's with `account_id`), oldest first."""
        query = select(ar.account_id, ar.at, ar.followers, ar.likes, ar.videos, ar.views).order_by(
            ar.account_id, ar.at
        )
        if account_id is not None:
            query = query.where(ar.account_id == account_id)
        found: dict[int, list[AccountReading]] = {}
        with self.db.session() as session:
            for account, at, followers, likes, videos, views in session.execute(query):
                found.setdefault(account, []).append(
                    AccountReading(at, followers, likes, videos, views)
                )
        return found

    def job_post_ids(self, account_id: int) -> dict[str, int]:
        """The platform post ids the account's posted jobs' receipts name (post id →
        job id): what the collector asks for by id when a listing leaves them out
        (private posts)."""
        with self.db.session() as session:
            rows = session.execute(
                select(jobs.id, jobs.post_id, jobs.post_url).where(
                    jobs.account_id == account_id,
                    jobs.status.in_(sorted(POSTED_JOB_STATUSES)),
                )
            ).all()
        found: dict[str, int] = {}
        for job_id, post_id, post_url in rows:
            named = job_post_id(JobFacts(job_id, post_id, post_url, "", ()))
            if named is not None:
                found[named] = job_id
        return found

    # --- write side -------------------------------------------------------------------
    def record(
        self,
        account_id: int,
        at: datetime,
        posts: Sequence[SeenPost],
        account_counts: AccountCounts | None = None,
    ) -> Recorded:
        """One reading of an account at `at` (see the module's docstring)."""
        unique = list({post.post_id: post for post in posts}.values())
        with self.db.write() as session:
            platform = session.scalar(select(accounts.platform).where(accounts.id == account_id))
            if platform is None:
                raise NotFound("account", account_id)
            stored = {
                row.post_id: row
                for row in session.execute(
                    select(p.id, p.post_id, p.job_id, p.match).where(p.account_id == account_id)
                )
            }
            seen_ids = {post.post_id for post in unique}
            # jobs matched to posts this reading does not list stay theirs
            taken = [
                row.job_id
                for pid, row in stored.items()
                if pid not in seen_ids and row.job_id is not None
            ]
            job_rows = session.execute(
                select(
                    jobs.id,
                    jobs.post_id,
                    jobs.post_url,
                    jobs.caption,
                    jobs.published_at,
                    jobs.submitted_at,
                    jobs.scheduled_at,
                ).where(
                    jobs.account_id == account_id,
                    jobs.status.in_(sorted(POSTED_JOB_STATUSES)),
                )
            )
            facts = [
                JobFacts(
                    row.id,
                    row.post_id,
                    row.post_url,
                    row.caption or "",
                    tuple(t for t in (row.published_at, row.submitted_at, row.scheduled_at) if t),
                )
                for row in job_rows
            ]
            matched = match_posts(
                [PostFacts(post.post_id, post.created_at, post.caption) for post in unique],
                facts,
                taken,
            )
            new_rows: list[dict[str, Any]] = []
            changed: list[dict[str, Any]] = []
            kinds: list[str] = []
            for post in unique:
                job_id, kind = matched[post.post_id]
                old = stored.get(post.post_id)
                if old is not None and old.match == MATCH_ID and kind != MATCH_ID:
                    # the receipt named this post once: a job deleted since is the
                    # only way to lose it (its job_id is then NULL)
                    job_id, kind = old.job_id, MATCH_ID
                kinds.append(kind)
                values = {
                    "job_id": job_id,
                    "match": kind,
                    "created_at": post.created_at,
                    "caption": post.caption,
                    "share_url": post.share_url,
                    "duration_sec": post.duration_sec,
                    "views": post.views,
                    "likes": post.likes,
                    "comments": post.comments,
                    "shares": post.shares,
                    "last_read_at": at,
                }
                if old is None:
                    new_rows.append(
                        values
                        | {
                            "account_id": account_id,
                            "platform": platform,
                            "post_id": post.post_id,
                            "first_seen_at": at,
                        }
                    )
                else:
                    changed.append(values | {"k": old.id})
            if new_rows:
                session.execute(insert(POSTS), new_rows)
            if changed:
                session.execute(_UPDATE_POST, changed)
            keys = dict(
                session.execute(select(p.post_id, p.id).where(p.account_id == account_id)).all()
            )
            post_keys = [keys[post.post_id] for post in unique]
            if post_keys:
                session.execute(
                    delete(READINGS).where(r.at == at, r.post_key.in_(_keys(post_keys)))
                )
                session.execute(
                    insert(READINGS),
                    [
                        {
                            "post_key": key,
                            "at": at,
                            "views": post.views,
                            "likes": post.likes,
                            "comments": post.comments,
                            "shares": post.shares,
                        }
                        for key, post in zip(post_keys, unique, strict=True)
                    ],
                )
            views = sum(post.views for post in unique)
            if account_counts is not None:
                session.execute(
                    delete(ACCOUNT_READINGS).where(ar.account_id == account_id, ar.at == at)
                )
                session.execute(
                    insert(ACCOUNT_READINGS).values(
                        account_id=account_id,
                        at=at,
                        followers=account_counts.followers,
                        likes=account_counts.likes,
                        videos=account_counts.videos,
                        views=views,
                    )
                )
        return Recorded(
            posts=len(unique),
            new=len(new_rows),
            by_id=kinds.count(MATCH_ID),
            guessed=kinds.count(MATCH_GUESS),
            outside=kinds.count(MATCH_OUTSIDE),
            views=views,
        )
