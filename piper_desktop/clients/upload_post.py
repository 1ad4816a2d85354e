"""Upload-Post API client (https://api.upload-post.com/api).

Uploads carry our own `request_id`, so that after a lost answer the upload can be found
by status instead of being sent twice. The video file is streamed by httpx's multipart
encoder from the open file; it is never read whole into memory.
"""

from __future__ import annotations

import mimetypes
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.http import (
    build_http_client,
    describe_transport_error,
    request_left,
    shown_proxy,
)
from piper_desktop.logs import get_logger, register_secret

log = get_logger("clients")

DEFAULT_BASE = "https://api.upload-post.com/api"
PLATFORM = "upload_post"


@dataclass(frozen=True)
class UploadAnswer:
    request_id: str | None
    job_id: str | None
    # per-platform results when the platform answered synchronously
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadStatus:
    """status: pending, queued, in_progress, completed or failed."""

    status: str
    request_id: str | None
    job_id: str | None
    # platform -> {"success": bool | None, "url": str | None, "error": str | None, ...}
    results: dict[str, dict[str, Any]]
    scheduled_date: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadPostProfile:
    username: str
    # platform -> the connected account's details, or "" while it is not connected
    social_accounts: dict[str, Any] = field(default_factory=dict)


def normalise_results(value: Any) -> dict[str, dict[str, Any]]:
    """Results come as {platform: {...}} or as [{"platform": ..., ...}]; make them a dict."""
    if isinstance(value, dict):
        return {str(k): dict(v) if isinstance(v, dict) else {"value": v} for k, v in value.items()}
    out: dict[str, dict[str, Any]] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item.get("platform"):
                entry = dict(item)
                out[str(entry.pop("platform"))] = entry
    return out


def _bool_field(value: bool) -> str:
    return "true" if value else "false"


def _post_fields(
    request_id: str | None,
    user: str,
    title: str,
    platforms: tuple[str, ...] | list[str],
    scheduled_date: str | None,
    timezone: str | None,
    async_upload: bool,
    tiktok: dict[str, Any] | None,
    *,
    description: str | None = None,
) -> dict[str, str | list[str]]:
    """The form fields of a post (video or photos), request_id first so the server knows
    it before any file arrives."""
    data: dict[str, str | list[str]] = {}
    if request_id:
        data["request_id"] = request_id
    data |= {"user": user, "title": title, "platform[]": list(platforms)}
    if description:
        data["description"] = description
    if scheduled_date:
        data["scheduled_date"] = scheduled_date
    if timezone:
        data["timezone"] = timezone
    data["async_upload"] = _bool_field(async_upload)
    for key, value in (tiktok or {}).items():
        if value is not None:
            data[key] = _bool_field(value) if isinstance(value, bool) else str(value)
    return data


class UploadPostClient:
    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE,
        proxy_url: str | None = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> None:
        register_secret(api_key)
        self.base_url = base_url.rstrip("/")
        self._proxy = shown_proxy(proxy_url)
        self._http = build_http_client(
            proxy_url=proxy_url, timeout=timeout, headers={"Authorization": f"Apikey {api_key}"}
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> UploadPostClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        try:
            response = self._http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.TransportError as exc:
            raise ApiError(
                f"{method} {path}: {describe_transport_error(exc, self._proxy)}",
                platform=PLATFORM,
                sent=request_left(exc),
            ) from None
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {"data": payload}
        return response.status_code, payload | {"_retry_after": response.headers.get("Retry-After")}

    def _raise(self, what: str, status: int, payload: dict[str, Any]) -> None:
        message = payload.get("error") or payload.get("message") or f"HTTP {status}"
        if isinstance(message, dict):
            message = message.get("message") or str(message)
        field_name = payload.get("field")
        retry_after = payload.get("_retry_after")
        raise ApiError(
            f"{what}: {message}" + (f" (field {field_name})" if field_name else ""),
            platform=PLATFORM,
            code=str(payload.get("code") or field_name or f"http_{status}"),
            http_status=status,
            retry_after=float(retry_after) if retry_after else None,
        )

    def upload(
        self,
        *,
        video: Path | str,
        user: str,
        title: str,
        platforms: tuple[str, ...] | list[str],
        request_id: str | None = None,
        scheduled_date: str | None = None,
        timezone: str | None = None,
        async_upload: bool = True,
        tiktok: dict[str, Any] | None = None,
    ) -> UploadAnswer:
        """POST /upload. `video` is a local file (streamed) or a URL string."""
        data = _post_fields(
            request_id, user, title, platforms, scheduled_date, timezone, async_upload, tiktok
        )
        if isinstance(video, Path):
            content_type = mimetypes.guess_type(video.name)[0] or "video/mp4"
            with video.open("rb") as handle:
                files = {"video": (video.name, handle, content_type)}
                status, payload = self._request("POST", "/upload", data=data, files=files)
        else:
            # a part without a file name is a plain field; it keeps the body multipart
            status, payload = self._request(
                "POST", "/upload", data=data, files={"video": (None, video)}
            )
        if status >= 400 or payload.get("success") is False:
            self._raise("upload", status, payload)
        log.info("Upload-Post accepted upload for profile %s", user)
        return UploadAnswer(
            request_id=payload.get("request_id"),
            job_id=payload.get("job_id"),
            results=normalise_results(payload.get("results")),
            raw=payload,
        )

    def upload_photos(
        self,
        *,
        photos: list[Path],
        user: str,
        title: str,
        description: str,
        platforms: tuple[str, ...] | list[str],
        request_id: str | None = None,
        scheduled_date: str | None = None,
        timezone: str | None = None,
        async_upload: bool = True,
        tiktok: dict[str, Any] | None = None,
    ) -> UploadAnswer:
        """POST /upload_photos: the images as repeated `photos[]` files, in order."""
        data = _post_fields(
            request_id,
            user,
            title,
            platforms,
            scheduled_date,
            timezone,
            async_upload,
            tiktok,
            description=description,
        )
        with ExitStack() as stack:
            files = [
                (
                    "photos[]",
                    (
                        path.name,
                        stack.enter_context(path.open("rb")),
                        mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                    ),
                )
                for path in photos
            ]
            status, payload = self._request("POST", "/upload_photos", data=data, files=files)
        if status >= 400 or payload.get("success") is False:
            self._raise("photo upload", status, payload)
        log.info("Upload-Post accepted %d photos for profile %s", len(photos), user)
        return UploadAnswer(
            request_id=payload.get("request_id"),
            job_id=payload.get("job_id"),
            results=normalise_results(payload.get("results")),
            raw=payload,
        )

    def status(
        self, *, request_id: str | None = None, job_id: str | None = None
    ) -> UploadStatus | None:
        """Where an upload stands; None if the server has never seen the id."""
        if not request_id and not job_id:
            raise ValueError("request_id or job_id is required")
        params = {"request_id": request_id} if request_id else {"job_id": job_id}
        status, payload = self._request("GET", "/uploadposts/status", params=params)
        if status == 404:
            return None
        if status >= 400 or payload.get("success") is False:
            self._raise("status", status, payload)
        return UploadStatus(
            status=str(payload.get("status") or ""),
            request_id=payload.get("request_id"),
            job_id=payload.get("job_id"),
            results=normalise_results(payload.get("results")),
            scheduled_date=payload.get("scheduled_date"),
            raw=payload,
        )

    def profiles(self) -> list[UploadPostProfile]:
        """GET /uploadposts/users: the profiles made under this API key."""
        status, payload = self._request("GET", "/uploadposts/users")
        if status >= 400 or payload.get("success") is False:
            self._raise("profiles", status, payload)
        found = payload.get("profiles")
        out = []
        for item in found if isinstance(found, list) else []:
            if isinstance(item, dict) and isinstance(item.get("username"), str):
                social = item.get("social_accounts")
                out.append(
                    UploadPostProfile(
                        item["username"], dict(social) if isinstance(social, dict) else {}
                    )
                )
        return out

    def history(self, *, page: int = 1, limit: int = 20) -> dict[str, Any]:
        status, payload = self._request(
            "GET", "/uploadposts/history", params={"page": page, "limit": limit}
        )
        if status >= 400:
            self._raise("history", status, payload)
        payload.pop("_retry_after", None)
        return payload

    def scheduled(self) -> list[dict[str, Any]]:
        status, payload = self._request("GET", "/uploadposts/schedule")
        if status >= 400:
            self._raise("schedule", status, payload)
        jobs = payload.get("scheduled_posts", payload.get("data", []))
        return list(jobs) if isinstance(jobs, list) else []

    def cancel_scheduled(self, job_id: str) -> None:
        status, payload = self._request("DELETE", f"/uploadposts/schedule/{job_id}")
        if status >= 400:
            self._raise("cancel schedule", status, payload)

    def edit_scheduled(
        self, job_id: str, *, scheduled_date: str | None = None, title: str | None = None
    ) -> dict[str, Any]:
        body = {k: v for k, v in {"scheduled_date": scheduled_date, "title": title}.items() if v}
        status, payload = self._request("PATCH", f"/uploadposts/schedule/{job_id}", json=body)
        if status >= 400:
            self._raise("edit schedule", status, payload)
        payload.pop("_retry_after", None)
        return payload

    def retry(self, *, request_id: str | None = None, job_id: str | None = None) -> dict[str, Any]:
        """Re-run the platforms that failed for an upload."""
        body = {"request_id": request_id} if request_id else {"job_id": job_id}
        status, payload = self._request("POST", "/uploadposts/posts/retry", json=body)
        if status >= 400:
            self._raise("retry", status, payload)
        payload.pop("_retry_after", None)
        return payload
