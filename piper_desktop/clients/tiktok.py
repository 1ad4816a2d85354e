"""TikTok Content Posting API client: OAuth with PKCE, creator info, init, upload, status.

Follows the public contract in DESIGN.md. Every call that carries a user token goes
through a per-token rate limiter first, so we wait instead of collecting 429s. Video
bytes are streamed from disk chunk by chunk; the file is never held in memory.
"""

from __future__ import annotations

import base64
import hashlib
import html
import mimetypes
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from piper_desktop.clients.errors import ApiError, OAuthCancelled, OAuthError
from piper_desktop.clients.http import (
    build_http_client,
    describe_transport_error,
    request_left,
    shown_proxy,
)
from piper_desktop.clients.ratelimit import RateLimits
from piper_desktop.clients.tiktok_display import (
    ANALYTICS_SCOPES,
    DISPLAY_LIMITS,
    TikTokDisplayClient,
)
from piper_desktop.logs import get_logger, register_secret

log = get_logger("clients")

DEFAULT_API_BASE = "https://open.tiktokapis.com"
DEFAULT_AUTH_URL = "https://www.tiktok.com/v2/auth/authorize/"
PLATFORM = "tiktok"

MB = 1024 * 1024
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_LAST_CHUNK = 128 * MB
MAX_CHUNKS = 1000
DEFAULT_CHUNK = 10 * MB
# An upload URL lives one hour from the init that gave it (the platform's documentation).
UPLOAD_URL_LIFETIME = 3600.0
# Per user token per minute, from the platform's documentation.
DEFAULT_LIMITS: dict[str, tuple[int, float]] = {
    "creator_info": (20, 60.0),
    "init": (6, 60.0),
    "status": (30, 60.0),
    # the Display API's (analytics): 600 a minute per endpoint
    **DISPLAY_LIMITS,
}
SCOPES_DIRECT = ("user.info.basic", "video.publish", "video.upload")
# what a connect asks for: posting, and the Display API's videos and counts (analytics)
SCOPES_CONNECT = (*SCOPES_DIRECT, *ANALYTICS_SCOPES)


# --- chunking ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ChunkPlan:
    """How a file of `video_size` bytes is cut for FILE_UPLOAD."""

    video_size: int
    chunk_size: int
    total_chunk_count: int

    def ranges(self) -> list[tuple[int, int]]:
        """(first, last) byte offsets of each chunk, inclusive; the last absorbs the rest."""
        out = []
        for index in range(self.total_chunk_count):
            first = index * self.chunk_size
            last = (
                self.video_size - 1
                if index == self.total_chunk_count - 1
                else first + self.chunk_size - 1
            )
            out.append((first, last))
        return out

    def source_info(self) -> dict[str, Any]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total_chunk_count,
        }


def plan_chunks(video_size: int, chunk_size: int = DEFAULT_CHUNK) -> ChunkPlan:
    """Cut a file per the platform's rules.

    Under 5 MB (or smaller than one chunk) the file goes whole as one chunk. Otherwise
    chunks are `chunk_size` (5–64 MB), total = floor(size / chunk_size) and the last chunk
    takes the remainder (so it stays under 2 × chunk_size ≤ 128 MB). If that would make
    more than 1000 chunks, the chunk size grows until it does not.
    """
    if video_size <= 0:
        raise ValueError("cannot upload an empty file")
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise ValueError("chunk_size must be between 5 MB and 64 MB")
    if video_size < MIN_CHUNK or video_size < chunk_size:
        if video_size > MAX_CHUNK:  # pragma: no cover - chunk_size ≤ 64 MB rules it out
            raise ValueError("file too large for a single chunk")
        return ChunkPlan(video_size, video_size, 1)
    if video_size // chunk_size > MAX_CHUNKS:
        chunk_size = -(-video_size // MAX_CHUNKS)
        if chunk_size > MAX_CHUNK:
            raise ValueError("file too large: it would need more than 1000 chunks of 64 MB")
    count = video_size // chunk_size
    last = video_size - (count - 1) * chunk_size
    if last > MAX_LAST_CHUNK:  # pragma: no cover - last < 2 × chunk_size ≤ 128 MB
        raise ValueError("last chunk would exceed 128 MB")
    return ChunkPlan(video_size, chunk_size, count)


def iter_file_slice(path: Path, first: int, last: int, block: int = 1 * MB) -> Iterator[bytes]:
    """Read bytes first..last (inclusive) of a file in blocks."""
    with path.open("rb") as handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            data = handle.read(min(block, remaining))
            if not data:
                raise OSError(f"file shrank while uploading: {path.name}")
            remaining -= len(data)
            yield data


def video_content_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed if guessed and guessed.startswith("video/") else "video/mp4"


# --- OAuth ------------------------------------------------------------------------------
def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Pkce:
    verifier: str = field(repr=False)
    challenge: str

    @classmethod
    def new(cls) -> Pkce:
        verifier = secrets.token_urlsafe(64)[:96]  # 43–128 unreserved characters
        register_secret(verifier)
        return cls(verifier, s256_challenge(verifier))


@dataclass(frozen=True)
class TokenSet:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: float
    refresh_expires_at: float
    open_id: str
    scope: str

    def to_credentials(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "access_expires_at": self.access_expires_at,
            "refresh_expires_at": self.refresh_expires_at,
            "open_id": self.open_id,
            "scope": self.scope,
        }


class LoopbackRedirectListener:
    """Catches the OAuth redirect on 127.0.0.1 and checks its `state`: a request with
    another state (any local process can reach the port) is answered 400 and ignored;
    the sign-in waits on for the real answer or the timeout.

    TikTok allows desktop apps a loopback redirect URI with any port, so the port is
    picked by the system.
    """

    def __init__(
        self,
        expected_state: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/callback/",
    ) -> None:
        self.expected_state = expected_state
        self.path = path
        self._done = threading.Event()
        self._code: str | None = None
        self._error: str | None = None
        self._ignored = 0  # requests whose state was not ours
        self._cancelled = False
        self._lock = threading.Lock()
        listener = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != listener.path:
                    self._page(404, "Not found.")
                    return
                ok = listener._accept(parse_qs(parts.query))
                self._page(
                    200 if ok else 400,
                    "Piper is connected. You can close this window."
                    if ok
                    else "Piper could not connect the account. Please try again from Piper.",
                )

            def _page(self, status: int, text: str) -> None:
                body = f"<!doctype html><title>Piper</title><p>{html.escape(text)}</p>".encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="oauth-loopback",
            daemon=True,
        )

    @property
    def redirect_uri(self) -> str:
        host, port = self._httpd.server_address[:2]
        # bound from text, the host reads back as text (the stubs allow bytes for AF_UNIX)
        host = host if isinstance(host, str) else bytes(host).decode()
        return f"http://{host}:{port}{self.path}"

    def _accept(self, query: dict[str, list[str]]) -> bool:
        state = (query.get("state") or [""])[0]
        if not secrets.compare_digest(state.encode(), self.expected_state.encode()):
            # not the answer to our request (any local process can reach this port):
            # refuse it and keep waiting for the real one, or the timeout
            with self._lock:
                self._ignored += 1
            return False
        with self._lock:
            return self._settle(query)

    def _settle(self, query: dict[str, list[str]]) -> bool:
        if self._done.is_set():
            return False  # only the first redirect counts
        if "error" in query:
            reason = (query.get("error_description") or query.get("error") or [""])[0]
            self._error = f"authorization refused: {reason}"
        elif not query.get("code"):
            self._error = "the authorization answer carried no code"
        else:
            self._code = query["code"][0]
            register_secret(self._code)
        self._done.set()
        return self._error is None

    def start(self) -> LoopbackRedirectListener:
        self._thread.start()
        return self

    def wait(self, timeout: float) -> str:
        """The authorization code; OAuthError on refusal, mismatch or timeout,
        OAuthCancelled when `cancel()` was called."""
        if not self._done.wait(timeout):
            ignored = f" ({self._ignored} foreign requests ignored)" if self._ignored else ""
            raise OAuthError(f"no authorization answer arrived in time{ignored}", platform=PLATFORM)
        if self._cancelled:
            raise OAuthCancelled("the sign-in was cancelled", platform=PLATFORM)
        if self._error or not self._code:
            raise OAuthError(self._error or "no code", platform=PLATFORM)
        return self._code

    def cancel(self) -> None:
        """End the wait now (from any thread): the person gave up on this sign-in."""
        with self._lock:
            if not self._done.is_set():
                self._cancelled = True
                self._done.set()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackRedirectListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- API results ------------------------------------------------------------------------
@dataclass(frozen=True)
class CreatorInfo:
    username: str
    nickname: str
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int | None
    avatar_url: str | None = None


@dataclass(frozen=True)
class InitResult:
    publish_id: str
    # a short-lived capability to upload; kept out of logs and receipts
    upload_url: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class PublishStatus:
    status: str
    fail_reason: str | None
    post_ids: tuple[str, ...]
    uploaded_bytes: int | None
    downloaded_bytes: int | None


class UploadUrlExpired(ApiError):
    """The upload URL answered 403: it lives one hour."""


class UploadRefused(ApiError):
    """The upload URL answers 416 with no way forward: it refuses the next byte range
    and its own position gives none to continue from."""


# --- the client -------------------------------------------------------------------------
def _token_key(token: str) -> str:
    # rate-limit bucket per user token, without keeping the token itself as a key
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class TikTokClient:
    def __init__(
        self,
        *,
        client_key: str,
        client_secret: str,
        api_base: str = DEFAULT_API_BASE,
        auth_url: str = DEFAULT_AUTH_URL,
        proxy_url: str | None = None,
        timeout: httpx.Timeout | float | None = None,
        limits: RateLimits | None = None,
        clock: Callable[[], float] = time.time,
        upload_retry_delays: tuple[float, ...] = (1.0, 3.0, 10.0),
        sleeper: Callable[[float], None] = time.sleep,
    ) -> None:
        register_secret(client_secret)
        self.client_key = client_key
        self._client_secret = client_secret
        self.api_base = api_base.rstrip("/")
        self.auth_url = auth_url
        self.limits = limits or RateLimits(DEFAULT_LIMITS)
        self._clock = clock
        self._retry_delays = upload_retry_delays
        self._sleep = sleeper
        self._proxy = shown_proxy(proxy_url)
        self._http = build_http_client(proxy_url=proxy_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TikTokClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def display(self) -> TikTokDisplayClient:
        """The Display API (videos and counts) over this client's connection and limits."""
        return TikTokDisplayClient(
            self._http,
            api_base=self.api_base,
            limits=self.limits,
            sleeper=self._sleep,
            proxy_shown=self._proxy,
        )

    # --- OAuth --------------------------------------------------------------------------
    def authorize_url(
        self, *, scopes: tuple[str, ...], redirect_uri: str, state: str, code_challenge: str
    ) -> str:
        query = urlencode(
            {
                "client_key": self.client_key,
                "scope": ",".join(scopes),
                "response_type": "code",
                "redirect_uri": redirect_uri,
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.auth_url}?{query}"

    def authorize_with_loopback(
        self,
        open_url: Callable[[str], object],
        *,
        scopes: tuple[str, ...] = SCOPES_CONNECT,
        timeout: float = 300.0,
        port: int = 0,
    ) -> TokenSet:
        """The whole desktop flow: listen on loopback, let the person consent in a
        browser (`open_url`), check state, trade the code (with the PKCE verifier)."""
        with self.loopback_authorization(scopes=scopes, port=port) as sign_in:
            open_url(sign_in.url)
            return sign_in.wait(timeout)

    def loopback_authorization(
        self, *, scopes: tuple[str, ...] = SCOPES_CONNECT, port: int = 0
    ) -> LoopbackAuthorization:
        """The desktop flow in steps, for a caller that shows the link and may cancel
        the wait: listening from here on; close it (or use `with`)."""
        return LoopbackAuthorization(self, scopes, port)

    def exchange_code(self, code: str, code_verifier: str, redirect_uri: str) -> TokenSet:
        register_secret(code)
        register_secret(code_verifier)
        return self._token_request(
            {
                "client_key": self.client_key,
                "client_secret": self._client_secret,
                "code": code,
                "grant_type": "authorization_code",
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        register_secret(refresh_token)
        return self._token_request(
            {
                "client_key": self.client_key,
                "client_secret": self._client_secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            }
        )

    def _token_request(self, form: dict[str, str]) -> TokenSet:
        grant = form["grant_type"]
        try:
            response = self._http.post(
                f"{self.api_base}/v2/oauth/token/",
                data=form,
                headers={"Cache-Control": "no-cache"},
            )
        except httpx.TransportError as exc:
            raise OAuthError(
                f"token request ({grant}): {describe_transport_error(exc, self._proxy)}",
                platform=PLATFORM,
                sent=request_left(exc),
            ) from None
        payload = _json_or_empty(response)
        if response.status_code >= 400 or payload.get("error"):
            raise OAuthError(
                f"token request ({grant}) refused: {payload.get('error_description') or 'no reason given'}",
                platform=PLATFORM,
                code=str(payload.get("error") or f"http_{response.status_code}"),
                http_status=response.status_code,
                log_id=payload.get("log_id"),
                retry_after=_retry_after(response),
            )
        now = self._clock()
        try:
            tokens = TokenSet(
                access_token=payload["access_token"],
                refresh_token=payload["refresh_token"],
                access_expires_at=now + float(payload["expires_in"]),
                refresh_expires_at=now + float(payload.get("refresh_expires_in") or 0),
                open_id=str(payload.get("open_id") or ""),
                scope=str(payload.get("scope") or ""),
            )
        except (KeyError, TypeError, ValueError):
            raise OAuthError(
                f"token answer ({grant}) is missing fields", platform=PLATFORM
            ) from None
        register_secret(tokens.access_token)
        register_secret(tokens.refresh_token)
        log.info("TikTok token %s succeeded for open_id %s", grant, tokens.open_id)
        return tokens

    # --- Content Posting API ------------------------------------------------------------
    def _call(self, limit: str, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        register_secret(token)
        self.limits.acquire(limit, _token_key(token))
        try:
            response = self._http.post(
                f"{self.api_base}{path}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TransportError as exc:
            raise ApiError(
                f"{path}: {describe_transport_error(exc, self._proxy)}",
                platform=PLATFORM,
                sent=request_left(exc),
            ) from None
        payload = _json_or_empty(response)
        error = _member(payload, "error")
        code = str(error.get("code") or ("ok" if response.status_code < 400 else ""))
        if response.status_code >= 400 or code != "ok":
            raise ApiError(
                f"{path}: {error.get('message') or f'HTTP {response.status_code}'}",
                platform=PLATFORM,
                code=code or f"http_{response.status_code}",
                http_status=response.status_code,
                log_id=error.get("log_id"),
                retry_after=_retry_after(response),
            )
        data = payload.get("data")
        return data if isinstance(data, dict) else {}

    def creator_info(self, access_token: str) -> CreatorInfo:
        data = self._call("creator_info", access_token, "/v2/post/publish/creator_info/query/", {})
        max_duration = data.get("max_video_post_duration_sec")
        return CreatorInfo(
            username=str(data.get("creator_username") or ""),
            nickname=str(data.get("creator_nickname") or ""),
            privacy_level_options=tuple(data.get("privacy_level_options") or ()),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=int(max_duration) if max_duration is not None else None,
            avatar_url=data.get("creator_avatar_url"),
        )

    def avatar(self, url: str, *, max_bytes: int = 2 * MB) -> bytes | None:
        """The creator's avatar picture (creator_avatar_url, valid 2 h), or None when it
        cannot be had: the post screen shows the nickname either way."""
        try:
            response = self._http.get(url)
        except httpx.TransportError:
            return None
        if response.status_code != 200 or len(response.content) > max_bytes:
            return None
        return response.content

    def init_video(
        self, access_token: str, *, post_info: dict[str, Any], source_info: dict[str, Any]
    ) -> InitResult:
        """Direct post (scope video.publish)."""
        data = self._call(
            "init",
            access_token,
            "/v2/post/publish/video/init/",
            {"post_info": post_info, "source_info": source_info},
        )
        return _init_result(data)

    def init_inbox_video(self, access_token: str, *, source_info: dict[str, Any]) -> InitResult:
        """Upload as a draft to the creator's inbox (scope video.upload)."""
        data = self._call(
            "init",
            access_token,
            "/v2/post/publish/inbox/video/init/",
            {"source_info": source_info},
        )
        return _init_result(data)

    def init_photo(
        self,
        access_token: str,
        *,
        post_info: dict[str, Any],
        photo_urls: list[str],
        cover_index: int = 0,
        post_mode: str = "DIRECT_POST",
    ) -> InitResult:
        """Photo post; the platform pulls the images from verified URLs."""
        data = self._call(
            "init",
            access_token,
            "/v2/post/publish/content/init/",
            {
                "post_info": post_info,
                "source_info": {
                    "source": "PULL_FROM_URL",
                    "photo_cover_index": cover_index,
                    "photo_images": photo_urls,
                },
                "post_mode": post_mode,
                "media_type": "PHOTO",
            },
        )
        return _init_result(data)

    def fetch_status(self, access_token: str, publish_id: str) -> PublishStatus:
        data = self._call(
            "status",
            access_token,
            "/v2/post/publish/status/fetch/",
            {"publish_id": publish_id},
        )
        return PublishStatus(
            status=str(data.get("status") or ""),
            fail_reason=data.get("fail_reason") or None,
            post_ids=tuple(str(x) for x in data.get("publicaly_available_post_id") or ()),
            uploaded_bytes=data.get("uploaded_bytes"),
            downloaded_bytes=data.get("downloaded_bytes"),
        )

    # --- FILE_UPLOAD --------------------------------------------------------------------
    def upload_file(
        self,
        upload_url: str,
        path: Path,
        plan: ChunkPlan,
        *,
        content_type: str | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        start_chunk: int = 0,
        on_chunk: Callable[[int, int], None] | None = None,
    ) -> None:
        """PUT every chunk from `start_chunk` on, in order, streaming each from disk.

        206 → next chunk; 201 → done; 416 → continue from what the server says it has
        (all of it: done; a chunk boundary: from there; anything else, or the same
        place again: UploadRefused); 403 → UploadUrlExpired; 5xx or a lost answer → the
        same chunk again after a pause (the server answers 416 if it had already taken
        it). `on_chunk(chunks, bytes)` is told after every chunk the server
        acknowledged, with the chunks and bytes it has in all.
        """
        content_type = content_type or video_content_type(path)
        ranges = plan.ranges()
        index = max(0, min(start_chunk, len(ranges) - 1))
        resyncs = 0
        failures = 0
        while index < len(ranges):
            first, last = ranges[index]
            headers = {
                "Content-Type": content_type,
                "Content-Length": str(last - first + 1),
                "Content-Range": f"bytes {first}-{last}/{plan.video_size}",
            }
            try:
                response = self._http.put(
                    upload_url, content=iter_file_slice(path, first, last), headers=headers
                )
            except httpx.TransportError as exc:
                failures += 1
                if failures > len(self._retry_delays):
                    why = describe_transport_error(exc, self._proxy)
                    raise ApiError(
                        f"upload chunk {index + 1}/{len(ranges)}: {why}",
                        platform=PLATFORM,
                        sent=request_left(exc),
                    ) from None
                self._sleep(self._retry_delays[failures - 1])
                continue
            status = response.status_code
            if status == 206 and index + 1 == len(ranges):
                # the last chunk taken, yet the upload not complete: only a 201 (or a
                # server that says it has every byte) ends it
                if _received_bytes(response) < plan.video_size:
                    raise UploadRefused(
                        "the upload took its last chunk but is not complete",
                        platform=PLATFORM,
                        code="upload_incomplete",
                        http_status=206,
                    )
                status = 201
            if status in (201, 206):
                failures = 0
                done = status == 201
                acked = len(ranges) if done else index + 1
                sent = plan.video_size if done else last + 1
                if on_chunk:
                    on_chunk(acked, sent)
                if on_progress:
                    on_progress(sent, plan.video_size)
                if done:
                    return
                index += 1
                continue
            if status == 403:
                raise UploadUrlExpired(
                    "the upload URL has expired",
                    platform=PLATFORM,
                    code="upload_url_expired",
                    http_status=403,
                )
            if status == 416:
                have = _received_bytes(response)
                if have >= plan.video_size:
                    # the last answer was lost: the server has every byte
                    if on_chunk:
                        on_chunk(len(ranges), plan.video_size)
                    return
                resume_at = have // plan.chunk_size if have % plan.chunk_size == 0 else None
                resyncs += 1
                if resume_at is None or resume_at == index or resyncs > 5:
                    raise UploadRefused(
                        f"the upload refuses chunk {index + 1}/{len(ranges)} and has "
                        f"{have} of {plan.video_size} bytes",
                        platform=PLATFORM,
                        code="range_not_satisfiable",
                        http_status=416,
                    )
                index = min(resume_at, len(ranges) - 1)
                log.info("upload resynced at chunk %d after 416", index + 1)
                continue
            if status >= 500 or status == 429:
                failures += 1
                if failures > len(self._retry_delays):
                    raise ApiError(
                        f"upload chunk {index + 1}/{len(ranges)} failed",
                        platform=PLATFORM,
                        http_status=status,
                    )
                self._sleep(_retry_after(response) or self._retry_delays[failures - 1])
                continue
            payload = _json_or_empty(response)
            error = _member(payload, "error")
            raise ApiError(
                f"upload chunk {index + 1}/{len(ranges)} refused: "
                f"{error.get('message') or f'HTTP {status}'}",
                platform=PLATFORM,
                code=error.get("code"),
                http_status=status,
                log_id=error.get("log_id"),
            )


def _received_bytes(response: httpx.Response) -> int:
    """How many bytes the server has, from its 416 answer (`Range: bytes=0-N`, else the
    body's data.uploaded_bytes); 0 when it says nothing usable (never negative)."""
    for header in ("Range", "Content-Range"):
        value = response.headers.get(header, "")
        if "-" in value and "*" not in value:
            try:
                last = int(value.split("-", 1)[1].split("/", 1)[0].strip())
            except ValueError:
                continue
            if last >= 0:
                return last + 1
    payload = _json_or_empty(response)
    data = _member(payload, "data")
    value = data.get("uploaded_bytes")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return 0
    try:
        return max(int(value), 0)
    except ValueError:
        return 0


def _init_result(data: dict[str, Any]) -> InitResult:
    publish_id = data.get("publish_id")
    if not publish_id:
        raise ApiError("init answer had no publish_id", platform=PLATFORM, code="bad_answer")
    return InitResult(str(publish_id), data.get("upload_url"))


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _member(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """The JSON object under `key`, or an empty one when it is missing or not an object."""
    value = payload.get(key)
    return value if isinstance(value, dict) else {}


class LoopbackAuthorization:
    """One sign-in: the loopback listener is up and `url` is the consent link; `wait`
    trades the code for tokens; `cancel` (any thread) ends the wait at once."""

    def __init__(self, client: TikTokClient, scopes: tuple[str, ...], port: int) -> None:
        self._client = client
        self._pkce = Pkce.new()
        state = secrets.token_urlsafe(24)
        self._listener = LoopbackRedirectListener(state, port=port).start()
        self.redirect_uri = self._listener.redirect_uri
        self.url = client.authorize_url(
            scopes=scopes,
            redirect_uri=self.redirect_uri,
            state=state,
            code_challenge=self._pkce.challenge,
        )

    def wait(self, timeout: float) -> TokenSet:
        code = self._listener.wait(timeout)
        return self._client.exchange_code(code, self._pkce.verifier, self.redirect_uri)

    def cancel(self) -> None:
        self._listener.cancel()

    def close(self) -> None:
        self._listener.close()

    def __enter__(self) -> LoopbackAuthorization:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
