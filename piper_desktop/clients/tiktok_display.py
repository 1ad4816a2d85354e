"""TikTok Display API: the creator's videos and counts (issue 21's analytics).

From TikTok's reference (developers.tiktok.com, "List Videos", "Query Videos", "Get User
Info", "Rate Limits"):

- `POST /v2/video/list/?fields=…` {cursor, max_count ≤ 20} → data {videos, cursor,
  has_more}: the creator's *public* videos, newest first; the cursor is a UTC Unix
  time in milliseconds (videos posted before it). Scope `video.list`.
- `POST /v2/video/query/?fields=…` {filters: {video_ids: [≤ 20]}} → data {videos}: the
  given videos that belong to the creator. Scope `video.list`.
- `GET /v2/user/info/?fields=…` → data {user}: follower_count, following_count,
  likes_count, video_count need `user.info.stats`.
- Video fields: id, create_time (Unix seconds), share_url, video_description, title,
  duration (seconds), view_count, like_count, comment_count, share_count.
- 600 requests per minute per endpoint (a sliding one-minute window); over it, HTTP 429
  with code `rate_limit_exceeded`. A scope the creator did not grant answers
  `scope_not_authorized`.

Each endpoint has its own limiter (keyed by the endpoint alone: the cautious reading
of "per endpoint"); a 429 is retried after Retry-After when the answer has one, else
after a growing pause. Parsers take whatever JSON arrives and keep what is usable.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.http import describe_transport_error, request_left
from piper_desktop.clients.ratelimit import RateLimits
from piper_desktop.logs import get_logger, register_secret

log = get_logger("clients")
PLATFORM = "tiktok"

VIDEO_FIELDS = (
    "id",
    "create_time",
    "share_url",
    "video_description",
    "title",
    "duration",
    "view_count",
    "like_count",
    "comment_count",
    "share_count",
)
USER_FIELDS = ("open_id", "display_name", "follower_count", "likes_count", "video_count")
SCOPE_VIDEOS = "video.list"
SCOPE_STATS = "user.info.stats"
ANALYTICS_SCOPES = (SCOPE_VIDEOS, SCOPE_STATS)
MAX_COUNT = 20  # videos per list page, ids per query
DISPLAY_LIMITS: dict[str, tuple[int, float]] = {
    "video_list": (600, 60.0),
    "video_query": (600, 60.0),
    "user_info": (600, 60.0),
}
# a 429 without Retry-After: 2, 4, 8, 16, 32 s (and a little jitter), then give up
BACKOFF = (2.0, 4.0, 8.0, 16.0, 32.0)
APP_KEY = "app"  # the limiters' one key: per endpoint, whichever creator asks


@dataclass(frozen=True)
class Video:
    id: str
    create_time: datetime
    caption: str
    share_url: str | None
    duration_sec: int | None
    views: int
    likes: int
    comments: int
    shares: int


@dataclass(frozen=True)
class VideoPage:
    videos: tuple[Video, ...]
    cursor: int | None
    has_more: bool


@dataclass(frozen=True)
class UserStats:
    open_id: str
    followers: int
    likes: int
    videos: int


def _count(value: Any) -> int:
    """A count as TikTok sends it (an int; tolerate a numeric string); else 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float) and value == value and abs(value) < 2**63:
        return max(int(value), 0)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return 0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_video(raw: Any) -> Video | None:
    """One Video Object; None when it has no usable id or create time."""
    if not isinstance(raw, dict):
        return None
    video_id = raw.get("id")
    if isinstance(video_id, bool) or not isinstance(video_id, str | int):
        return None
    video_id = str(video_id).strip()
    if not video_id or len(video_id) > 100 or not video_id.isascii():
        return None
    created = raw.get("create_time")
    if isinstance(created, bool) or not isinstance(created, int | float) or created != created:
        return None
    try:
        create_time = datetime.fromtimestamp(int(created), UTC)
    except (OverflowError, OSError, ValueError):
        return None
    duration = raw.get("duration")
    caption = _text(raw.get("video_description")) or _text(raw.get("title")) or ""
    return Video(
        id=video_id,
        create_time=create_time,
        caption=caption,
        share_url=_text(raw.get("share_url")),
        duration_sec=_count(duration) if duration is not None else None,
        views=_count(raw.get("view_count")),
        likes=_count(raw.get("like_count")),
        comments=_count(raw.get("comment_count")),
        shares=_count(raw.get("share_count")),
    )


def parse_videos(data: Any) -> tuple[Video, ...]:
    raw = data.get("videos") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return ()
    return tuple(video for item in raw if (video := parse_video(item)) is not None)


def parse_page(data: Any) -> VideoPage:
    """video/list's data: its videos, the next cursor (ms), has_more."""
    data = data if isinstance(data, dict) else {}
    cursor = data.get("cursor")
    usable = isinstance(cursor, int) and not isinstance(cursor, bool) and cursor > 0
    return VideoPage(
        parse_videos(data),
        cursor if usable else None,
        data.get("has_more") is True and usable,
    )


def parse_user(data: Any) -> UserStats:
    user = data.get("user") if isinstance(data, dict) else None
    user = user if isinstance(user, dict) else {}
    return UserStats(
        open_id=str(user.get("open_id") or ""),
        followers=_count(user.get("follower_count")),
        likes=_count(user.get("likes_count")),
        videos=_count(user.get("video_count")),
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    if seconds is None or seconds != seconds or seconds < 0:
        return None
    return min(seconds, 300.0)


class TikTokDisplayClient:
    """The Display API over an httpx client (the account's proxy), with the per-endpoint
    limiters shared by every caller (`limits`)."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        api_base: str,
        limits: RateLimits,
        sleeper: Callable[[float], None],
        proxy_shown: str | None = None,
        backoff: Sequence[float] = BACKOFF,
    ) -> None:
        self._http = http
        self.api_base = api_base.rstrip("/")
        self.limits = limits
        self._sleep = sleeper
        self._proxy = proxy_shown
        self._backoff = tuple(backoff)
        self.retries = 0  # 429s waited out (what a pass reports)

    def _call(
        self, limit: str, token: str, method: str, path: str, fields: Sequence[str], body: Any
    ) -> dict[str, Any]:
        register_secret(token)
        url = f"{self.api_base}{path}"
        for attempt in range(len(self._backoff) + 1):
            self.limits.acquire(limit, APP_KEY)
            try:
                response = self._http.request(
                    method,
                    url,
                    params={"fields": ",".join(fields)},
                    json=body,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as exc:
                raise ApiError(
                    f"{path}: {describe_transport_error(exc, self._proxy)}",
                    platform=PLATFORM,
                    sent=request_left(exc),
                ) from None
            try:
                payload = response.json()
            except ValueError:
                payload = {}
            payload = payload if isinstance(payload, dict) else {}
            error = payload.get("error")
            error = error if isinstance(error, dict) else {}
            code = str(error.get("code") or ("ok" if response.status_code < 400 else ""))
            if response.status_code == 429 and attempt < len(self._backoff):
                delay = _retry_after(response)
                if delay is None:
                    delay = self._backoff[attempt] * (1 + random.random() / 10)
                log.info("%s: rate limited, retrying in %.1f s", path, delay)
                self.retries += 1
                self._sleep(delay)
                continue
            if response.status_code >= 400 or code != "ok":
                raise ApiError(
                    f"{path}: {error.get('message') or f'HTTP {response.status_code}'}",
                    platform=PLATFORM,
                    code=code or f"http_{response.status_code}",
                    http_status=response.status_code,
                    log_id=error.get("log_id") if isinstance(error.get("log_id"), str) else None,
                    retry_after=_retry_after(response),
                )
            data = payload.get("data")
            return data if isinstance(data, dict) else {}
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def list_videos(self, token: str, cursor: int | None = None) -> VideoPage:
        body: dict[str, Any] = {"max_count": MAX_COUNT}
        if cursor is not None:
            body["cursor"] = cursor
        data = self._call("video_list", token, "POST", "/v2/video/list/", VIDEO_FIELDS, body)
        return parse_page(data)

    def query_videos(self, token: str, ids: Sequence[str]) -> tuple[Video, ...]:
        if not ids:
            return ()
        if len(ids) > MAX_COUNT:
            raise ValueError(f"video/query takes at most {MAX_COUNT} ids")
        body = {"filters": {"video_ids": list(ids)}}
        data = self._call("video_query", token, "POST", "/v2/video/query/", VIDEO_FIELDS, body)
        return parse_videos(data)

    def user_stats(self, token: str) -> UserStats:
        data = self._call("user_info", token, "GET", "/v2/user/info/", USER_FIELDS, None)
        return parse_user(data)
