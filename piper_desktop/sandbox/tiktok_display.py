"""The TikTok stand-in's Display API: the creators' videos and counts (issue 21).

Written from TikTok's reference again on purpose (not imported from clients/), so the
client is tested against an independent reading:

- `video/list` lists a creator's *public* videos newest first, at most `max_count`
  (1–20, default 10) a page; `cursor` is a Unix time in milliseconds (videos created
  before it), the answer's `cursor` the oldest create time served, `has_more` whether
  older ones remain. Private (SELF_ONLY) videos are left out.
- `video/query` answers the ones of `filters.video_ids` (at most 20) that belong to the
  creator, private ones included.
- `user/info` answers the requested fields; the stats ones need `user.info.stats`.
- Every answer that serves a video grows its counts (`Growth`), so readings over
  several passes draw a curve; followers grow per user/info answer.

Videos come from the Content Posting API's finished posts (`add_published`) and from
`add_video` (posts made in the app, outside Piper), also over HTTP:
`POST /__sandbox__/videos {"username", "title", "create_time", "private", "views", ...}`.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

VIDEO_FIELDS = {
    "id",
    "create_time",
    "cover_image_url",
    "share_url",
    "video_description",
    "duration",
    "height",
    "width",
    "title",
    "embed_html",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
}
BASIC_USER_FIELDS = {"open_id", "union_id", "avatar_url", "display_name", "username"}
STATS_USER_FIELDS = {"follower_count", "following_count", "likes_count", "video_count"}


class DisplayRefusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Growth:
    """What each answer that serves a video adds to its counts."""

    views: int = 100
    likes: int = 10
    comments: int = 2
    shares: int = 1
    followers: int = 5


@dataclass
class SandboxVideo:
    id: str
    open_id: str
    username: str
    create_time: int  # Unix seconds
    title: str
    private: bool = False
    duration: int = 15
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    by_piper: bool = False

    def as_object(self, fields: set[str]) -> dict[str, Any]:
        full = {
            "id": self.id,
            "create_time": self.create_time,
            "cover_image_url": f"https://p16-sign.tiktokcdn.example/{self.id}.jpeg",
            "share_url": f"https://www.tiktok.com/@{self.username}/video/{self.id}",
            "video_description": self.title,
            "duration": self.duration,
            "height": 1920,
            "width": 1080,
            "title": self.title[:150],
            "embed_html": "",
            "embed_link": f"https://www.tiktok.com/embed/v2/{self.id}",
            "like_count": self.likes,
            "comment_count": self.comments,
            "share_count": self.shares,
            "view_count": self.views,
        }
        return {key: value for key, value in full.items() if key in fields}


@dataclass
class DisplayStore:
    """Every creator's videos and followers."""

    growth: Growth = field(default_factory=Growth)
    videos: dict[str, SandboxVideo] = field(default_factory=dict)
    followers: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _next: int = 7_500_000_000_000_000_000

    def add_video(
        self,
        open_id: str,
        username: str,
        *,
        title: str,
        create_time: int,
        private: bool = False,
        video_id: str | None = None,
        by_piper: bool = False,
        views: int = 0,
        likes: int = 0,
        comments: int = 0,
        shares: int = 0,
    ) -> SandboxVideo:
        with self.lock:
            if video_id is None:
                self._next += 1
                video_id = str(self._next)
            video = SandboxVideo(
                video_id, open_id, username, create_time, title, private,
                views=views, likes=likes, comments=comments, shares=shares, by_piper=by_piper,
            )  # fmt: skip
            self.videos[video_id] = video
            return video

    def _grow(self, video: SandboxVideo) -> None:
        g = self.growth
        video.views += g.views
        video.likes += g.likes
        video.comments += g.comments
        video.shares += g.shares

    def list_page(self, open_id: str, fields: set[str], body: dict[str, Any]) -> dict[str, Any]:
        max_count = body.get("max_count", 10)
        cursor = body.get("cursor")
        if (
            isinstance(max_count, bool)
            or not isinstance(max_count, int)
            or not 1 <= max_count <= 20
        ):
            raise DisplayRefusal(400, "invalid_params", "max_count must be between 1 and 20.")
        if cursor is not None and (isinstance(cursor, bool) or not isinstance(cursor, int)):
            raise DisplayRefusal(400, "invalid_params", "cursor must be an int64.")
        with self.lock:
            public = sorted(
                (v for v in self.videos.values() if v.open_id == open_id and not v.private),
                key=lambda v: (v.create_time, v.id),
                reverse=True,
            )
            if cursor is not None:
                public = [v for v in public if v.create_time * 1000 < cursor]
            page = public[:max_count]
            for video in page:
                self._grow(video)
            more = len(public) > len(page)
            next_cursor = page[-1].create_time * 1000 if page else (cursor or 0)
            return {
                "videos": [v.as_object(fields) for v in page],
                "cursor": next_cursor,
                "has_more": more,
            }

    def query(self, open_id: str, fields: set[str], body: dict[str, Any]) -> dict[str, Any]:
        filters = body.get("filters")
        ids = filters.get("video_ids") if isinstance(filters, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise DisplayRefusal(400, "invalid_params", "filters.video_ids must list video ids.")
        if len(ids) > 20:
            raise DisplayRefusal(400, "invalid_params", "At most 20 video ids at a time.")
        with self.lock:
            found = [
                v for i in ids if (v := self.videos.get(i)) is not None and v.open_id == open_id
            ]
            for video in found:
                self._grow(video)
            return {"videos": [v.as_object(fields) for v in found]}

    def user_info(
        self, open_id: str, username: str, fields: set[str], scopes: set[str]
    ) -> dict[str, Any]:
        if fields & STATS_USER_FIELDS and "user.info.stats" not in scopes:
            raise DisplayRefusal(
                401,
                "scope_not_authorized",
                "The user did not authorize the scope required: user.info.stats.",
            )
        if fields & BASIC_USER_FIELDS and "user.info.basic" not in scopes:
            raise DisplayRefusal(
                401,
                "scope_not_authorized",
                "The user did not authorize the scope required: user.info.basic.",
            )
        with self.lock:
            mine = [v for v in self.videos.values() if v.open_id == open_id]
            followers = self.followers.get(open_id, 100) + self.growth.followers
            self.followers[open_id] = followers
            full = {
                "open_id": open_id,
                "union_id": "u" + open_id,
                "avatar_url": f"/avatar/{open_id}.png",
                "display_name": username.title(),
                "username": username,
                "follower_count": followers,
                "following_count": 3,
                "likes_count": sum(v.likes for v in mine),
                "video_count": sum(1 for v in mine if not v.private),
            }
        return {"user": {key: value for key, value in full.items() if key in fields}}

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return [asdict(v) for v in self.videos.values()]


def requested_fields(query: dict[str, list[str]], known: set[str]) -> set[str]:
    raw = ",".join(query.get("fields") or [])
    fields = {f.strip() for f in raw.split(",") if f.strip()}
    if not fields:
        raise DisplayRefusal(400, "invalid_params", "The fields query parameter is required.")
    unknown = fields - known
    if unknown:
        raise DisplayRefusal(
            400, "invalid_params", f"Unknown fields: {', '.join(sorted(unknown))}."
        )
    return fields
