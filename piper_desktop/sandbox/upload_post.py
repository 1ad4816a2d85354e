"""A local stand-in for the Upload-Post API (https://api.upload-post.com/api).

Contract per DESIGN.md: `Authorization: Apikey <key>`, multipart `POST /api/upload`
(file or URL in `video`), status by request_id or job_id moving pending → in_progress →
completed/failed with per-platform results, history, scheduled posts (list, cancel,
edit), retry of failed platforms, 401/429/validation errors that name the field.

A client-sent `request_id` that was already seen returns the existing request instead of
uploading twice. Every accepted upload is listed in `uploads` (in-process) and under
`GET /__sandbox__/state` (subprocess tests).

Defaults: API key "sandbox-upload-post-key"; any profile name is accepted (set
`profiles` to restrict); an async upload completes on the 3rd status poll (pending,
in_progress, completed); 120 requests per minute per key. Post URLs point at this
server (`/p/<platform>/<id>`), never at a real site.

Controls (POST JSON): `/__sandbox__/fail_platform {"platform", "error"}` makes the next
upload that includes that platform fail there; `/__sandbox__/configure
{"polls_to_complete", "rate_limit": [count, seconds], "profiles": [names] or null}`.
`GET /api/uploadposts/users` lists the `profiles` (none while any name is accepted).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from piper_desktop.sandbox import upload_post_photos
from piper_desktop.sandbox.httpbase import SandboxHandler, SandboxHTTPServer, SandboxServer
from piper_desktop.sandbox.multipart import MultipartError, boundary_from, read_multipart

PLATFORMS = {
    "tiktok",
    "instagram",
    "youtube",
    "facebook",
    "linkedin",
    "x",
    "threads",
    "pinterest",
    "bluesky",
    "reddit",
}
PRIVACY = {"PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"}
TIKTOK_FIELDS = (
    "privacy_level",
    "disable_duet",
    "disable_comment",
    "disable_stitch",
    "cover_timestamp",
    "is_aigc",
)


@dataclass
class UploadRecord:
    request_id: str
    job_id: str | None
    user: str
    title: str
    platforms: list[str]
    video: dict[str, Any]
    scheduled_date: str | None
    scheduled_at: float | None
    timezone: str | None
    async_upload: bool
    tiktok: dict[str, str]
    created_at: float
    client_request_id: bool
    polls: int = 0
    cancelled: bool = False
    # platform -> error text for the platforms that will fail
    failures: dict[str, str] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    retries: int = 0


class Refusal(Exception):
    def __init__(self, status: int, error: str, field_name: str | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.field = field_name


def _parse_date(value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refusal(400, "scheduled_date must be ISO 8601", "scheduled_date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _first(query: dict[str, list[str]], key: str) -> str | None:
    """A query parameter's first value, or None when it is absent."""
    values = query.get(key)
    return values[0] if values else None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class UploadPostState:
    def __init__(
        self,
        *,
        clock: Callable[[], float],
        api_keys: set[str],
        profiles: set[str] | None,
        polls_to_complete: int,
        rate_limit: tuple[int, float],
    ) -> None:
        self.clock = clock
        self.api_keys = api_keys
        self.profiles = profiles
        self.polls_to_complete = polls_to_complete
        self.rate_limit = rate_limit
        self.lock = threading.RLock()
        self.records: dict[str, UploadRecord] = {}
        self.by_job: dict[str, str] = {}
        self.uploads: list[dict[str, Any]] = []
        self.platform_failures: dict[str, deque[str]] = {}
        self.base_url = ""
        self._hits: dict[str, deque[float]] = {}
        self._post_counter = 0

    def authenticate(self, header: str | None) -> str:
        match = re.fullmatch(r"Apikey\s+(\S+)", header or "")
        if not match or match.group(1) not in self.api_keys:
            raise Refusal(401, "Invalid or missing API key")
        key = match.group(1)
        count, window = self.rate_limit
        now = self.clock()
        with self.lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= count:
                raise Refusal(429, "Too many requests, slow down")
            hits.append(now)
        return key

    # --- uploads ------------------------------------------------------------------------
    def accept(self, form: dict[str, Any]) -> tuple[UploadRecord, bool]:
        """Store a validated upload; (record, True) if the request_id was seen before."""
        with self.lock:
            rid = form.get("request_id")
            if rid and rid in self.records:
                return self.records[rid], True
            scheduled = form.get("scheduled_date")
            record = UploadRecord(
                request_id=rid or secrets.token_hex(16),
                job_id=("job_" + secrets.token_hex(8)) if scheduled else None,
                user=form["user"],
                title=form["title"],
                platforms=form["platforms"],
                video=form["video"],
                scheduled_date=scheduled,
                scheduled_at=_parse_date(scheduled) if scheduled else None,
                timezone=form.get("timezone"),
                async_upload=form["async_upload"],
                tiktok=form["tiktok"],
                created_at=self.clock(),
                client_request_id=bool(rid),
            )
            for platform in record.platforms:
                queue = self.platform_failures.get(platform)
                if queue:
                    record.failures[platform] = queue.popleft()
            self.records[record.request_id] = record
            if record.job_id:
                self.by_job[record.job_id] = record.request_id
            self.uploads.append(
                {
                    "request_id": record.request_id,
                    "job_id": record.job_id,
                    "user": record.user,
                    "title": record.title,
                    "platforms": list(record.platforms),
                    "scheduled_date": record.scheduled_date,
                    "tiktok": dict(record.tiktok),
                    **{f"video_{k}": v for k, v in record.video.items()},
                }
            )
            return record, False

    def _outcomes(self, record: UploadRecord) -> None:
        for platform in record.platforms:
            if platform in record.results and record.results[platform].get("success"):
                continue
            error = record.failures.get(platform)
            if error:
                record.results[platform] = {"success": False, "error": error, "url": None}
            else:
                self._post_counter += 1
                post_id = str(7_500_000_000 + self._post_counter)
                record.results[platform] = {
                    "success": True,
                    "error": None,
                    "post_id": post_id,
                    "url": f"{self.base_url}/p/{platform}/{post_id}",
                }

    def status(self, record: UploadRecord) -> dict[str, Any]:
        """Each poll moves an upload one step: pending → in_progress → final."""
        with self.lock:
            base = {
                "success": True,
                "request_id": record.request_id,
                "job_id": record.job_id,
                "scheduled_date": record.scheduled_date,
            }
            if record.cancelled:
                return base | {"status": "cancelled", "results": []}
            if record.scheduled_at is not None and self.clock() < record.scheduled_at:
                return base | {"status": "pending", "results": []}
            if record.async_upload or record.scheduled_at is not None:
                record.polls += 1
                if record.polls < self.polls_to_complete:
                    step = "pending" if record.polls == 1 else "in_progress"
                    return base | {"status": step, "results": []}
            self._outcomes(record)
            results = [{"platform": p, **r} for p, r in record.results.items()]
            ok = any(r["success"] for r in record.results.values())
            return base | {
                "status": "completed" if ok else "failed",
                "completed": sum(1 for r in record.results.values() if r["success"]),
                "total": len(record.platforms),
                "results": results,
            }

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "uploads": [dict(u) for u in self.uploads],
                "records": [asdict(r) for r in self.records.values()],
            }


def _validate(
    fields: dict[str, list[str]], video_file: dict[str, Any] | None, state: UploadPostState
) -> dict[str, Any]:
    def one(name: str) -> str | None:
        values = fields.get(name)
        return values[-1] if values else None

    user = (one("user") or "").strip()
    if not user:
        raise Refusal(400, "user is required", "user")
    if state.profiles is not None and user not in state.profiles:
        raise Refusal(400, f"profile {user!r} not found", "user")
    title = one("title")
    if not title:
        raise Refusal(400, "title is required", "title")
    platforms = fields.get("platform[]") or fields.get("platform") or []
    if not platforms:
        raise Refusal(400, "at least one platform[] is required", "platform[]")
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        raise Refusal(400, f"unsupported platform: {unknown[0]}", "platform[]")
    if video_file is not None:
        if video_file["size"] == 0:
            raise Refusal(400, "video file is empty", "video")
        video = video_file
    else:
        url = one("video")
        if not url or not url.startswith(("http://", "https://")):
            raise Refusal(400, "video must be a file or an http(s) URL", "video")
        video = {"url": url}
    scheduled = one("scheduled_date")
    if scheduled and _parse_date(scheduled) <= state.clock():
        raise Refusal(400, "scheduled_date must be in the future", "scheduled_date")
    tiktok = {k: v for k in TIKTOK_FIELDS if (v := one(k)) is not None}
    if "privacy_level" in tiktok and tiktok["privacy_level"] not in PRIVACY:
        raise Refusal(400, "privacy_level is not valid", "privacy_level")
    for key in ("disable_duet", "disable_comment", "disable_stitch", "is_aigc"):
        if key in tiktok and tiktok[key].lower() not in ("true", "false", "1", "0"):
            raise Refusal(400, f"{key} must be true or false", key)
    if "cover_timestamp" in tiktok and not tiktok["cover_timestamp"].isdigit():
        raise Refusal(400, "cover_timestamp must be milliseconds", "cover_timestamp")
    request_id = one("request_id") or None
    if request_id and not re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", request_id):
        raise Refusal(400, "request_id has invalid characters", "request_id")
    return {
        "request_id": request_id,
        "user": user,
        "title": title,
        "platforms": list(dict.fromkeys(platforms)),
        "video": video,
        "scheduled_date": scheduled,
        "timezone": one("timezone"),
        "async_upload": _flag(one("async_upload")),
        "tiktok": tiktok,
    }


class UploadPostHandler(SandboxHandler):
    server: UploadPostHTTPServer

    @property
    def state(self) -> UploadPostState:
        return self.server.state

    def refuse(self, refusal: Refusal) -> None:
        body: dict[str, Any] = {"success": False, "error": refusal.error}
        if refusal.field:
            body["field"] = refusal.field
        headers = {"Retry-After": "30"} if refusal.status == 429 else None
        self.send_json(refusal.status, body, headers)

    def _guarded(self, work: Callable[[], None], *, streamed: bool = False) -> None:
        try:
            self.state.authenticate(self.headers.get("Authorization"))
            work()
        except Refusal as refusal:
            if streamed:
                self.discard_body()
            self.refuse(refusal)

    def upload(self, match: re.Match[str]) -> None:
        def work() -> None:
            try:
                boundary = boundary_from(self.headers.get("Content-Type"))
                form = read_multipart(self.stream_body(), boundary)
            except MultipartError as exc:
                self.close_connection = True  # the rest of the body is not worth reading
                raise Refusal(400, str(exc)) from None
            fields: dict[str, list[str]] = {}
            for key, value in form.fields:
                fields.setdefault(key, []).append(value)
            header_rid = self.headers.get("X-Request-Id")
            if header_rid and "request_id" not in fields:
                fields["request_id"] = [header_rid]
            part = form.file("video")
            video_file = (
                {
                    "filename": part.filename,
                    "size": part.size,
                    "sha256": part.sha256,
                    "content_type": part.content_type,
                }
                if part
                else None
            )
            record, duplicate = self.state.accept(_validate(fields, video_file, self.state))
            answer: dict[str, Any] = {"success": True, "request_id": record.request_id}
            if duplicate:
                answer["duplicate"] = True
            if record.job_id:
                answer |= {
                    "job_id": record.job_id,
                    "scheduled_date": record.scheduled_date,
                    "message": "Post scheduled",
                }
            elif record.async_upload:
                answer["message"] = "Upload accepted; poll the status endpoint"
            else:
                status = self.state.status(record)
                answer["results"] = {
                    r["platform"]: {k: v for k, v in r.items() if k != "platform"}
                    for r in status["results"]
                }
            self.send_json(200, answer)

        self._guarded(work, streamed=True)

    def upload_photos(self, match: re.Match[str]) -> None:
        """A photo post; its own checks live in sandbox/upload_post_photos.py."""

        def work() -> None:
            try:
                boundary = boundary_from(self.headers.get("Content-Type"))
                form = read_multipart(self.stream_body(), boundary)
            except MultipartError as exc:
                self.close_connection = True
                raise Refusal(400, str(exc)) from None
            fields: dict[str, list[str]] = {}
            for key, value in form.fields:
                fields.setdefault(key, []).append(value)
            photos = [f for f in form.files if f.name in ("photos[]", "photos")]
            fields.setdefault("video", ["http://127.0.0.1/unused"])  # photos stand in for it
            validated = _validate(fields, None, self.state)
            description = (fields.get("description") or [""])[-1]
            problem = upload_post_photos.photo_problem(
                validated["platforms"], photos, validated["title"], description
            )
            if problem:
                raise Refusal(400, problem[1], problem[0])
            validated["video"] = upload_post_photos.photos_record(photos, description)
            record, duplicate = self.state.accept(validated)
            answer: dict[str, Any] = {"success": True, "request_id": record.request_id}
            if duplicate:
                answer["duplicate"] = True
            if record.job_id:
                answer |= {"job_id": record.job_id, "scheduled_date": record.scheduled_date}
            self.send_json(200, answer)

        self._guarded(work, streamed=True)

    def _record_for(self, request_id: str | None, job_id: str | None) -> UploadRecord:
        with self.state.lock:
            if request_id:
                record = self.state.records.get(request_id)
            elif job_id:
                record = self.state.records.get(self.state.by_job.get(job_id, ""))
            else:
                raise Refusal(400, "request_id or job_id is required", "request_id")
        if record is None:
            raise Refusal(404, "no upload found for this id")
        return record

    def status(self, match: re.Match[str]) -> None:
        def work() -> None:
            q = self.query()
            record = self._record_for(_first(q, "request_id"), _first(q, "job_id"))
            self.send_json(200, self.state.status(record))

        self._guarded(work)

    def history(self, match: re.Match[str]) -> None:
        def work() -> None:
            q = self.query()
            try:
                page = max(1, int((q.get("page") or ["1"])[0]))
                limit = min(100, max(1, int((q.get("limit") or ["20"])[0])))
            except ValueError:
                raise Refusal(400, "page and limit must be numbers", "page") from None
            with self.state.lock:
                records = sorted(self.state.records.values(), key=lambda r: -r.created_at)
                items = [
                    {
                        "request_id": r.request_id,
                        "job_id": r.job_id,
                        "user": r.user,
                        "title": r.title,
                        "platforms": r.platforms,
                        "created_at": datetime.fromtimestamp(r.created_at, UTC).isoformat(),
                        "results": [{"platform": p, **v} for p, v in r.results.items()],
                    }
                    for r in records[(page - 1) * limit : page * limit]
                ]
            self.send_json(
                200,
                {
                    "success": True,
                    "history": items,
                    "page": page,
                    "limit": limit,
                    "total": len(records),
                },
            )

        self._guarded(work)

    def schedule_list(self, match: re.Match[str]) -> None:
        def work() -> None:
            now = self.state.clock()
            with self.state.lock:
                jobs = [
                    {
                        "job_id": r.job_id,
                        "request_id": r.request_id,
                        "scheduled_date": r.scheduled_date,
                        "timezone": r.timezone,
                        "title": r.title,
                        "user": r.user,
                        "platforms": r.platforms,
                    }
                    for r in self.state.records.values()
                    if r.job_id and not r.cancelled and (r.scheduled_at or 0) > now
                ]
            self.send_json(200, {"success": True, "scheduled_posts": jobs})

        self._guarded(work)

    def schedule_delete(self, match: re.Match[str]) -> None:
        def work() -> None:
            record = self._record_for(None, match.group("job"))
            with self.state.lock:
                if record.scheduled_at is None or record.scheduled_at <= self.state.clock():
                    raise Refusal(409, "the job already ran and cannot be cancelled")
                record.cancelled = True
            self.send_json(200, {"success": True, "job_id": record.job_id, "message": "cancelled"})

        self._guarded(work)

    def schedule_patch(self, match: re.Match[str]) -> None:
        def work() -> None:
            record = self._record_for(None, match.group("job"))
            body = self.json_body()
            if not isinstance(body, dict):
                raise Refusal(400, "body must be a JSON object")
            with self.state.lock:
                if record.cancelled or (record.scheduled_at or 0) <= self.state.clock():
                    raise Refusal(409, "the job can no longer be edited")
                if "scheduled_date" in body:
                    when = _parse_date(str(body["scheduled_date"]))
                    if when <= self.state.clock():
                        raise Refusal(400, "scheduled_date must be in the future", "scheduled_date")
                    record.scheduled_date, record.scheduled_at = str(body["scheduled_date"]), when
                if "title" in body:
                    if not body["title"]:
                        raise Refusal(400, "title may not be empty", "title")
                    record.title = str(body["title"])
            self.send_json(
                200,
                {
                    "success": True,
                    "job_id": record.job_id,
                    "scheduled_date": record.scheduled_date,
                    "title": record.title,
                },
            )

        self._guarded(work)

    def retry(self, match: re.Match[str]) -> None:
        def work() -> None:
            body = self.json_body()
            if not isinstance(body, dict):
                raise Refusal(400, "body must be a JSON object")
            record = self._record_for(body.get("request_id"), body.get("job_id"))
            with self.state.lock:
                failed = [p for p, r in record.results.items() if not r.get("success")]
                if not failed:
                    raise Refusal(409, "nothing to retry: no failed platforms")
                for platform in failed:
                    del record.results[platform]
                    queue = self.state.platform_failures.get(platform)
                    if queue:
                        record.failures[platform] = queue.popleft()
                    else:
                        record.failures.pop(platform, None)
                record.retries += 1
                record.polls = 0
            self.send_json(
                200,
                {
                    "success": True,
                    "request_id": record.request_id,
                    "message": "Failed platforms re-enqueued for retry",
                },
            )

        self._guarded(work)

    def users(self, match: re.Match[str]) -> None:
        """The profiles of the key (Upload-Post's "Get User Profiles"); with `profiles`
        unset (any name accepted) none are listed."""

        def work() -> None:
            names = sorted(self.state.profiles or ())
            profiles = [
                {
                    "username": name,
                    "created_at": "2025-01-01T00:00:00",
                    "social_accounts": {"tiktok": {"username": name, "display_name": name}},
                }
                for name in names
            ]
            self.send_json(
                200, {"success": True, "plan": "sandbox", "limit": 100, "profiles": profiles}
            )

        self._guarded(work)

    def post_page(self, match: re.Match[str]) -> None:
        page = f"<!doctype html><title>sandbox post</title><p>{match.group(1)} post {match.group(2)}</p>"
        self.send_bytes(200, page.encode(), "text/html; charset=utf-8")

    routes = [
        ("POST", r"/api/upload", upload),
        ("POST", r"/api/upload_photos", upload_photos),
        ("GET", r"/api/uploadposts/status", status),
        ("GET", r"/api/uploadposts/history", history),
        ("GET", r"/api/uploadposts/users", users),
        ("GET", r"/api/uploadposts/schedule", schedule_list),
        ("DELETE", r"/api/uploadposts/schedule/(?P<job>[A-Za-z0-9_-]+)", schedule_delete),
        ("PATCH", r"/api/uploadposts/schedule/(?P<job>[A-Za-z0-9_-]+)", schedule_patch),
        ("POST", r"/api/uploadposts/posts/retry", retry),
        ("GET", r"/p/([a-z]+)/(\d+)", post_page),
    ]


class UploadPostHTTPServer(SandboxHTTPServer):
    state: UploadPostState

    def state_snapshot(self) -> Any:
        return self.state.snapshot()

    def handle_control(self, handler: SandboxHandler, path: str) -> bool:
        if handler.command != "POST":
            return False
        data = handler.json_body() or {}
        if path == "/__sandbox__/fail_platform":
            with self.state.lock:
                self.state.platform_failures.setdefault(str(data["platform"]), deque()).append(
                    str(data.get("error") or "sandbox: platform refused the post")
                )
        elif path == "/__sandbox__/configure":
            if "polls_to_complete" in data:
                self.state.polls_to_complete = int(data["polls_to_complete"])
            if "profiles" in data:
                profiles = data["profiles"]
                self.state.profiles = None if profiles is None else {str(p) for p in profiles}
            if "rate_limit" in data:
                count, window = data["rate_limit"]
                self.state.rate_limit = (int(count), float(window))
        else:
            return False
        handler.send_json(200, {"ok": True})
        return True


class UploadPostSandbox(SandboxServer):
    """Upload-Post on loopback; the API lives under `base_url + "/api"`."""

    server_class = UploadPostHTTPServer
    httpd: UploadPostHTTPServer
    handler_class = UploadPostHandler
    name = "upload_post"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], float] = time.time,
        api_keys: tuple[str, ...] = ("sandbox-upload-post-key",),
        profiles: set[str] | None = None,
        polls_to_complete: int = 3,
        rate_limit: tuple[int, float] = (120, 60.0),
    ) -> None:
        super().__init__(host, port)
        self.state = UploadPostState(
            clock=clock,
            api_keys=set(api_keys),
            profiles=profiles,
            polls_to_complete=polls_to_complete,
            rate_limit=rate_limit,
        )
        self.state.base_url = self.base_url
        self.httpd.state = self.state

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/api"

    @property
    def api_key(self) -> str:
        return sorted(self.state.api_keys)[0]

    @property
    def uploads(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(u) for u in self.state.uploads]

    def record(self, request_id: str) -> UploadRecord:
        return self.state.records[request_id]

    def fail_platform(
        self, platform: str, error: str = "sandbox: platform refused the post"
    ) -> None:
        """The next upload that includes `platform` fails there with `error`."""
        with self.state.lock:
            self.state.platform_failures.setdefault(platform, deque()).append(error)
