"""Which of Piper's jobs made which platform post: the one matching rule of analytics.

Pure Python over facts the caller loads (`domain/analytics.AnalyticsService.record`
loads them in its write transaction):

1. **id** — the job's receipt names the post: `jobs.post_id` (TikTok's
   `publicaly_available_post_id`, Upload-Post's per-platform `post_id`), else the id in
   its post URL (`…/video/<id>`, what the web route reads off the content page).
2. **guess** — for a post no receipt names (a private post TikTok gave no id for, a web
   post whose URL was never seen): a job of the account with the same caption (any
   case, whitespace collapsed; the platform's may be Piper's cut short) whose time
   (published, submitted or scheduled, the nearest) is within `GUESS_WINDOW` of the
   post's create time. Nearest pairs first; each job makes one post.
3. **outside** — everything else: posts made outside Piper.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MATCH_ID = "id"
MATCH_GUESS = "guess"
MATCH_OUTSIDE = "outside"
MATCH_KINDS = (MATCH_ID, MATCH_GUESS, MATCH_OUTSIDE)

# TikTok's create_time is when the post went live: minutes after a direct post's
# submission, at the slot for a scheduled one (Upload-Post's scheduled_date)
GUESS_WINDOW = timedelta(hours=3)
# a platform caption shorter than Piper's counts as the same when it is at least this
# long and Piper's starts with it (a list shows a cut title)
MIN_PREFIX = 20

_VIDEO_ID = re.compile(r"/video/(\d+)")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class JobFacts:
    """What matching needs of one of the account's posted jobs."""

    id: int
    post_id: str | None
    post_url: str | None
    caption: str
    times: tuple[datetime, ...]  # published, submitted, scheduled (those it has)


@dataclass(frozen=True)
class PostFacts:
    """What matching needs of one platform post."""

    post_id: str
    created_at: datetime
    caption: str


def job_post_id(job: JobFacts) -> str | None:
    """The platform post id a job's receipt names, if any."""
    if job.post_id:
        return job.post_id
    if job.post_url:
        found = _VIDEO_ID.search(job.post_url)
        if found:
            return found.group(1)
    return None


def caption_key(caption: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", caption)).strip().casefold()


def _same_caption(platform: str, piper: str) -> bool:
    if not platform:
        return False
    return platform == piper or (len(platform) >= MIN_PREFIX and piper.startswith(platform))


def match_posts(
    posts: Sequence[PostFacts], jobs: Iterable[JobFacts], taken: Iterable[int] = ()
) -> Mapping[str, tuple[int | None, str]]:
    """Each post's (job id or None, match kind). `taken`: jobs already matched to posts
    not in `posts` (they stay theirs)."""
    jobs = list(jobs)
    by_post_id = {pid: job.id for job in jobs if (pid := job_post_id(job)) is not None}
    result: dict[str, tuple[int | None, str]] = {}
    used = set(taken)
    for post in posts:
        job_id = by_post_id.get(post.post_id)
        if job_id is not None:
            result[post.post_id] = (job_id, MATCH_ID)
            used.add(job_id)
    # guesses: only jobs whose receipt named no post (one that did made that post)
    open_jobs: dict[str, list[JobFacts]] = {}
    by_start: dict[str, list[tuple[str, JobFacts]]] = {}  # for captions cut short
    for job in jobs:
        if job.id not in used and job_post_id(job) is None and job.caption.strip():
            key = caption_key(job.caption)
            open_jobs.setdefault(key, []).append(job)
            by_start.setdefault(key[:MIN_PREFIX], []).append((key, job))
    pairs: list[tuple[timedelta, str, int]] = []
    for post in posts:
        if post.post_id in result:
            continue
        key = caption_key(post.caption)
        candidates = open_jobs.get(key, [])
        if not candidates and len(key) >= MIN_PREFIX:
            near = by_start.get(key[:MIN_PREFIX], [])
            candidates = [job for full, job in near if _same_caption(key, full)]
        for job in candidates:
            if not job.times:
                continue
            gap = min(abs(post.created_at - t) for t in job.times)
            if gap <= GUESS_WINDOW:
                pairs.append((gap, post.post_id, job.id))
    for _gap, post_id, job_id in sorted(pairs):
        if post_id in result or job_id in used:
            continue
        result[post_id] = (job_id, MATCH_GUESS)
        used.add(job_id)
    for post in posts:
        result.setdefault(post.post_id, (None, MATCH_OUTSIDE))
    return result
