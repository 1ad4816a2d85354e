"""A local stand-in for the TikTok Content Posting API and its OAuth endpoints.

It follows the contract in DESIGN.md: OAuth 2.0 with PKCE (S256), tokens that expire,
per-token rate limits, creator info, direct/inbox/photo init, chunked uploads checked
byte range by byte range, and a status that moves from PROCESSING_* to a final state
over a few polls. State lives in memory; every post that went through is listed in
`posts`, which is what "published exactly once" is proven against (in-process through
`TikTokApiSandbox.posts`, from a subprocess through `GET /__sandbox__/state`).

Defaults, chosen so the ordinary demo works out of the box:
- client_key "sandbox-client-key", client_secret "sandbox-client-secret";
- the authorize page consents at once, as the user "sandbox_creator" (or the name set
  with `authorize_as`), and redirects only to loopback redirect URIs;
- audited=True, so all four privacy levels are offered (audited=False offers only
  SELF_ONLY, like an unaudited app);
- access tokens live 2 h, refresh tokens 180 days (TikTok's current OAuth docs), upload
  URLs 1 h, auth codes 10 min; refresh tokens rotate (every refresh answers a new one and
  the old one is refused from then on); `token_refreshes` counts the refresh requests
  that arrived, and `token_gate` (an Event: cleared, a refresh waits at the door until it is
  set) lets a test hold a refresh in flight while another refresher comes along;
- a post reaches its final status on the 2nd status poll after its bytes arrived;
- verified domains for PULL_FROM_URL: 127.0.0.1 and localhost (nothing is fetched).

Controls over HTTP (for tests that drive `piper` as a subprocess), all POST with JSON:
`/__sandbox__/fail_next {"reason"}`, `/__sandbox__/tokens {"username", "scopes"}` →
a fresh token pair, `/__sandbox__/expire_tokens`, `/__sandbox__/expire_uploads`,
`/__sandbox__/refuse_uploads` (every unfinished upload answers its next chunk with a
416: a refused resume), `/__sandbox__/configure {"audited", "polls_to_complete",
"access_token_lifetime", "chunk_delay", "ack_delay", ...}`, `/__sandbox__/creator
{"username", ...settings}`.

Other readings of the documentation, for resumes: `state.status_has_bytes = False` (a
status without uploaded_bytes), `state.range_on_416 = False` (a 416 that says where it
stands only in its JSON body); `state.uploads_open` (an Event: cleared, every chunk
waits at the door — a stalled link a test opens when it has looked).

A slow uplink: `chunk_delay` (seconds before a chunk is read: the client is still
sending it) and `ack_delay` (seconds between taking a chunk and acknowledging it), also
from the environment for `piper sandbox` (PIPER_SANDBOX_TIKTOK_CHUNK_DELAY,
PIPER_SANDBOX_TIKTOK_ACK_DELAY).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlencode, urlsplit

from piper_desktop.sandbox import tiktok_display, tiktok_photos
from piper_desktop.sandbox.httpbase import SandboxHandler, SandboxHTTPServer, SandboxServer

MB = 1024 * 1024
MIN_CHUNK = 5 * MB
MAX_CHUNK = 64 * MB
MAX_LAST_CHUNK = 128 * MB
MAX_CHUNKS = 1000

ALL_PRIVACY = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]
KNOWN_SCOPES = {"user.info.basic", "user.info.stats", "video.publish", "video.upload", "video.list"}
FAIL_REASONS = {
    "file_format_check_failed",
    "duration_check_failed",
    "frame_rate_check_failed",
    "picture_size_check_failed",
    "internal",
    "video_pull_failed",
    "photo_pull_failed",
    "publish_cancelled",
    "auth_removed",
    "spam_risk_too_many_posts",
    "spam_risk_user_banned_from_posting",
    "spam_risk_text",
    "spam_risk",
}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _avatar_png(open_id: str, side: int = 48) -> bytes:
    """A plain square PNG in a colour of the creator's own (no image library needed)."""
    red, green, blue = hashlib.sha256(open_id.encode()).digest()[:3]
    row = b"\x00" + bytes((red, green, blue)) * side
    raw = zlib.compress(row * side)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _log_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class CreatorSettings:
    nickname: str = ""
    # None: derived from the app's audit state
    privacy_level_options: list[str] | None = None
    comment_disabled: bool = False
    duet_disabled: bool = False
    stitch_disabled: bool = False
    max_video_post_duration_sec: int = 600
    # an unaudited app may post only to private accounts
    private_account: bool = True
    # an error code creator_info answers with: the creator cannot post now (e.g.
    # spam_risk_too_many_posts, reached_active_user_cap); None: they can
    posting_refused: str | None = None


@dataclass
class SandboxUser:
    open_id: str
    username: str
    settings: CreatorSettings = field(default_factory=CreatorSettings)


@dataclass
class _Grant:
    open_id: str
    scopes: set[str]
    expires_at: float


@dataclass
class _AuthCode:
    open_id: str
    scopes: set[str]
    redirect_uri: str
    challenge: str
    expires_at: float


@dataclass
class Publish:
    publish_id: str
    open_id: str
    kind: str  # "direct", "inbox" or "photo"
    source: str  # FILE_UPLOAD or PULL_FROM_URL
    post_info: dict[str, Any]
    created_at: float
    video_size: int = 0
    chunk_size: int = 0
    total_chunk_count: int = 0
    video_url: str | None = None
    photo_urls: list[str] = field(default_factory=list)
    upload_token: str | None = None
    upload_expired: bool = False
    received: int = 0
    chunks_received: int = 0
    content_ranges: list[str] = field(default_factory=list)
    # every byte that arrived in a whole chunk, and every byte that arrived at all (a
    # chunk cut off by a dying client included): what a client resent, what it sent
    bytes_received_total: int = 0
    bytes_arrived: int = 0
    # set by `refuse_uploads`: every further chunk gets a 416 (a resume refused)
    refuse_ranges: bool = False
    complete: bool = False
    polls_since_complete: int = 0
    fail_reason: str | None = None
    post_id: str | None = None
    sha256: str | None = None
    _hasher: Any = field(default_factory=hashlib.sha256, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ApiRefusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class TikTokState:
    """Everything the stand-in knows; the handler only translates HTTP to calls here."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        client_key: str,
        client_secret: str,
        audited: bool,
        access_token_lifetime: float,
        refresh_token_lifetime: float,
        upload_url_lifetime: float,
        polls_to_complete: int,
        verified_domains: tuple[str, ...],
        rate_limits: dict[str, tuple[int, float]],
        max_posts_per_day: int | None,
        chunk_delay: float = 0.0,
        ack_delay: float = 0.0,
    ) -> None:
        self.clock = clock
        # a slow uplink: seconds each chunk takes to arrive, and to be acknowledged
        self.chunk_delay = chunk_delay
        self.ack_delay = ack_delay
        # cleared: every chunk waits at the door until it is set again (a stalled link
        # that a test opens when it has looked)
        self.uploads_open = threading.Event()
        self.uploads_open.set()
        # answers another reading of the documentation allows: a status without
        # uploaded_bytes, a 416 that says where it stands only in its JSON body
        self.status_has_bytes = True
        self.range_on_416 = True
        self.client_key = client_key
        self.client_secret = client_secret
        self.audited = audited
        self.access_token_lifetime = access_token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.upload_url_lifetime = upload_url_lifetime
        self.polls_to_complete = polls_to_complete
        self.verified_domains = set(verified_domains)
        self.rate_limits = dict(rate_limits)
        self.max_posts_per_day = max_posts_per_day
        self.lock = threading.RLock()
        self.users: dict[str, SandboxUser] = {}
        self.codes: dict[str, _AuthCode] = {}
        self.access_tokens: dict[str, _Grant] = {}
        self.refresh_tokens: dict[str, _Grant] = {}
        self.publishes: dict[str, Publish] = {}
        self.uploads: dict[str, str] = {}
        self.posts: list[dict[str, Any]] = []
        self.fail_queue: deque[str] = deque()
        self.authorize_queue: deque[str] = deque()
        self.token_gate = threading.Event()
        self.token_gate.set()
        self.token_refreshes = 0
        # the Display API's videos and counts (sandbox/tiktok_display.py)
        self.display = tiktok_display.DisplayStore()
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._counter = 0

    # --- users and tokens ---------------------------------------------------------------
    def user(self, username: str) -> SandboxUser:
        with self.lock:
            for user in self.users.values():
                if user.username == username:
                    return user
            open_id = "-000" + secrets.token_hex(12)
            user = SandboxUser(open_id, username, CreatorSettings(nickname=username.title()))
            self.users[open_id] = user
            return user

    def privacy_options(self, user: SandboxUser) -> list[str]:
        if user.settings.privacy_level_options is not None:
            return list(user.settings.privacy_level_options)
        return list(ALL_PRIVACY) if self.audited else ["SELF_ONLY"]

    def issue_tokens(
        self, open_id: str, scopes: set[str], refresh_expires_at: float | None = None
    ) -> dict[str, Any]:
        """A new pair; a refresh passes the spent refresh token's end, which the new one
        keeps (only a new login starts another 180 days)."""
        now = self.clock()
        refresh_ends = (
            refresh_expires_at
            if refresh_expires_at is not None
            else now + self.refresh_token_lifetime
        )
        access = "act." + secrets.token_urlsafe(40)
        refresh = "rft." + secrets.token_urlsafe(40)
        with self.lock:
            self.access_tokens[access] = _Grant(
                open_id, set(scopes), now + self.access_token_lifetime
            )
            self.refresh_tokens[refresh] = _Grant(open_id, set(scopes), refresh_ends)
        return {
            "access_token": access,
            "expires_in": int(self.access_token_lifetime),
            "open_id": open_id,
            "refresh_expires_in": int(refresh_ends - now),
            "refresh_token": refresh,
            "scope": ",".join(sorted(scopes)),
            "token_type": "Bearer",
        }

    def expire_access_tokens(self) -> None:
        with self.lock:
            for grant in self.access_tokens.values():
                grant.expires_at = min(grant.expires_at, self.clock() - 1)

    def expire_upload_urls(self) -> None:
        with self.lock:
            for publish in self.publishes.values():
                publish.upload_expired = True

    def refuse_uploads(self) -> None:
        """Every unfinished upload refuses its next chunk with a 416 from now on."""
        with self.lock:
            for publish in self.publishes.values():
                publish.refuse_ranges = True

    def authenticate(self, authorization: str | None, *need_any: str) -> _Grant:
        match = re.fullmatch(r"Bearer\s+(\S+)", authorization or "")
        grant = self.access_tokens.get(match.group(1)) if match else None
        if grant is None:
            raise ApiRefusal(
                401,
                "access_token_invalid",
                "The access token is invalid or not found in the request.",
            )
        if grant.expires_at <= self.clock():
            raise ApiRefusal(401, "access_token_invalid", "The access token has expired.")
        if need_any and not grant.scopes.intersection(need_any):
            raise ApiRefusal(
                401,
                "scope_not_authorized",
                f"The user did not authorize the scope required: {' or '.join(need_any)}.",
            )
        return grant

    def hit_rate_limit(self, name: str, token: str) -> None:
        limit = self.rate_limits.get(name)
        if not limit:
            return
        count, window = limit
        now = self.clock()
        with self.lock:
            hits = self._hits.setdefault((name, token), deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= count:
                raise ApiRefusal(
                    429, "rate_limit_exceeded", "API rate limit was exceeded, try again later."
                )
            hits.append(now)

    def new_id(self, prefix: str) -> str:
        with self.lock:
            self._counter += 1
            return f"{prefix}~v2-1.{7_300_000_000_000_000_000 + self._counter}"

    def check_unaudited(self, user: SandboxUser) -> None:
        """An unaudited app's direct posts: the account must be private, and at most 5
        users may post through the app in 24 hours (the Content Sharing Guidelines)."""
        if self.audited:
            return
        if not user.settings.private_account:
            raise ApiRefusal(
                403,
                "unaudited_client_can_only_post_to_private_accounts",
                "Unaudited clients can only post to a private account.",
            )
        now = self.clock()
        with self.lock:
            posters = {p.open_id for p in self.publishes.values() if p.created_at > now - 86400}
        if user.open_id not in posters and len(posters) >= 5:
            raise ApiRefusal(
                403,
                "reached_active_user_cap",
                "The daily quota for active publishing users from your client is reached.",
            )

    # --- posts --------------------------------------------------------------------------
    def finish(self, publish: Publish) -> None:
        """The bytes (or the pull) are complete: the platform decides the post now."""
        publish.complete = True
        if publish.source == "FILE_UPLOAD":
            publish.sha256 = publish._hasher.hexdigest()
        if publish.fail_reason:
            return
        if publish.kind != "inbox":
            publish.post_id = str(7_400_000_000_000_000_000 + len(self.posts) + 1)
        user = self.users.get(publish.open_id)
        if publish.post_id and user is not None:
            # the post as the Display API lists it (a private one only by id)
            self.display.add_video(
                user.open_id,
                user.username,
                title=str(publish.post_info.get("title") or ""),
                create_time=int(self.clock()),
                private=publish.post_info.get("privacy_level") == "SELF_ONLY",
                video_id=publish.post_id,
                by_piper=True,
            )
        with self.lock:
            self.posts.append(
                {
                    "publish_id": publish.publish_id,
                    "kind": publish.kind,
                    "source": publish.source,
                    "username": user.username if user else None,
                    "open_id": publish.open_id,
                    "title": publish.post_info.get("title"),
                    "privacy_level": publish.post_info.get("privacy_level"),
                    "post_info": dict(publish.post_info),
                    "bytes": publish.received if publish.source == "FILE_UPLOAD" else None,
                    "sha256": publish.sha256,
                    "video_url": publish.video_url,
                    "photo_urls": list(publish.photo_urls),
                    "post_id": publish.post_id,
                    "chunks": publish.chunks_received,
                    "at": self.clock(),
                }
            )

    def status_of(self, publish: Publish) -> dict[str, Any]:
        pending = "PROCESSING_UPLOAD" if publish.source == "FILE_UPLOAD" else "PROCESSING_DOWNLOAD"
        data: dict[str, Any] = {"status": pending, "publicaly_available_post_id": []}
        if publish.source == "FILE_UPLOAD":
            if self.status_has_bytes:
                data["uploaded_bytes"] = publish.received
        else:
            data["downloaded_bytes"] = 0
        if not publish.complete:
            return data
        publish.polls_since_complete += 1
        if publish.polls_since_complete < self.polls_to_complete:
            return data
        if publish.fail_reason:
            return data | {"status": "FAILED", "fail_reason": publish.fail_reason}
        if publish.source != "FILE_UPLOAD":
            data["downloaded_bytes"] = publish.video_size
        if publish.kind == "inbox":
            return data | {"status": "SEND_TO_USER_INBOX"}
        public = publish.post_info.get("privacy_level") != "SELF_ONLY"
        return data | {
            "status": "PUBLISH_COMPLETE",
            "publicaly_available_post_id": [int(publish.post_id)]
            if public and publish.post_id
            else [],
        }

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "posts": [dict(p) for p in self.posts],
                "publishes": [
                    {
                        f.name: getattr(p, f.name)
                        for f in fields(p)
                        if f.name not in ("_hasher", "lock", "upload_token")
                    }
                    for p in self.publishes.values()
                ],
                "users": [
                    {"open_id": u.open_id, "username": u.username, **asdict(u.settings)}
                    for u in self.users.values()
                ],
                "audited": self.audited,
                "videos": self.display.snapshot(),
                "fail_queue": list(self.fail_queue),
            }


# --- validation ---------------------------------------------------------------------------
def _check_chunks(video_size: Any, chunk_size: Any, total: Any) -> None:
    if not all(
        isinstance(v, int) and not isinstance(v, bool) for v in (video_size, chunk_size, total)
    ):
        raise ApiRefusal(
            400, "invalid_params", "video_size, chunk_size and total_chunk_count must be integers."
        )
    if video_size <= 0:
        raise ApiRefusal(400, "invalid_params", "video_size must be positive.")
    if video_size < MIN_CHUNK or chunk_size == video_size:
        if chunk_size != video_size or total != 1 or video_size > MAX_CHUNK:
            raise ApiRefusal(
                400,
                "invalid_params",
                "A video under 5 MB (or sent whole) must be one chunk of its full size.",
            )
        return
    if not MIN_CHUNK <= chunk_size <= MAX_CHUNK:
        raise ApiRefusal(400, "invalid_params", "chunk_size must be between 5 MB and 64 MB.")
    if total != video_size // chunk_size:
        raise ApiRefusal(
            400, "invalid_params", "total_chunk_count must be floor(video_size / chunk_size)."
        )
    if not 1 <= total <= MAX_CHUNKS:
        raise ApiRefusal(400, "invalid_params", "total_chunk_count must be between 1 and 1000.")
    if video_size - (total - 1) * chunk_size > MAX_LAST_CHUNK:
        raise ApiRefusal(400, "invalid_params", "The last chunk may not exceed 128 MB.")


def _check_post_info(state: TikTokState, user: SandboxUser, post_info: Any) -> dict[str, Any]:
    if not isinstance(post_info, dict):
        raise ApiRefusal(400, "invalid_params", "post_info is required.")
    if "brand_content_toggle" not in post_info or not isinstance(
        post_info["brand_content_toggle"], bool
    ):
        raise ApiRefusal(400, "invalid_params", "post_info.brand_content_toggle is required.")
    title = post_info.get("title", "")
    # TikTok counts the title in UTF-16 runes
    if not isinstance(title, str) or len(title.encode("utf-16-le", "surrogatepass")) > 4400:
        raise ApiRefusal(
            400, "invalid_params", "title must be a string of at most 2200 UTF-16 runes."
        )
    for key in (
        "disable_duet",
        "disable_comment",
        "disable_stitch",
        "brand_organic_toggle",
        "is_aigc",
    ):
        if key in post_info and not isinstance(post_info[key], bool):
            raise ApiRefusal(400, "invalid_params", f"post_info.{key} must be a boolean.")
    privacy = post_info.get("privacy_level")
    if privacy not in state.privacy_options(user):
        raise ApiRefusal(
            400,
            "privacy_level_option_mismatch",
            "privacy_level is not one of the creator's privacy_level_options.",
        )
    if post_info.get("brand_content_toggle") and privacy == "SELF_ONLY":
        raise ApiRefusal(
            400, "invalid_params", "Branded content cannot be posted with privacy SELF_ONLY."
        )
    return dict(post_info)


def _check_url(state: TikTokState, url: Any, what: str) -> str:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ApiRefusal(400, "invalid_params", f"{what} must be an http(s) URL.")
    host = (urlsplit(url).hostname or "").lower()
    verified = any(host == d or host.endswith("." + d) for d in state.verified_domains)
    if not verified:
        raise ApiRefusal(
            403,
            "url_ownership_unverified",
            "The domain or URL prefix of the media URL is not verified for this app.",
        )
    return url


_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class TikTokApiHandler(SandboxHandler):
    server: TikTokApiHTTPServer

    @property
    def state(self) -> TikTokState:
        return self.server.state

    # --- answers ------------------------------------------------------------------------
    def api_ok(self, data: dict[str, Any]) -> None:
        self.send_json(
            200, {"data": data, "error": {"code": "ok", "message": "", "log_id": _log_id()}}
        )

    def api_error(self, refusal: ApiRefusal) -> None:
        headers = {"Retry-After": "60"} if refusal.status == 429 else None
        self.send_json(
            refusal.status,
            {
                "data": {},
                "error": {"code": refusal.code, "message": refusal.message, "log_id": _log_id()},
            },
            headers,
        )

    def oauth_error(self, status: int, error: str, description: str) -> None:
        self.send_json(
            status, {"error": error, "error_description": description, "log_id": _log_id()}
        )

    # --- OAuth --------------------------------------------------------------------------
    def authorize(self, match: re.Match[str]) -> None:
        q = {k: v[0] for k, v in self.query().items()}
        state = self.state
        redirect_uri = q.get("redirect_uri", "")
        parts = urlsplit(redirect_uri)
        if (
            q.get("client_key") != state.client_key
            or parts.scheme not in ("http", "https")
            or (parts.hostname or "") not in LOOPBACK_HOSTS
            or parts.port is None
        ):
            # never redirect anywhere on a bad client or redirect URI
            self.send_bytes(
                400,
                b"<!doctype html><p>invalid client_key or redirect_uri</p>",
                "text/html; charset=utf-8",
            )
            return

        def back(params: dict[str, str]) -> None:
            params["state"] = q.get("state", "")
            sep = "&" if parts.query else "?"
            self.send_bytes(
                302, b"", "text/plain", {"Location": redirect_uri + sep + urlencode(params)}
            )

        scopes = {s for s in re.split(r"[,\s]+", q.get("scope", "")) if s}
        if q.get("response_type") != "code":
            back(
                {
                    "error": "unsupported_response_type",
                    "error_description": "response_type must be code",
                }
            )
        elif not scopes or not scopes <= KNOWN_SCOPES:
            back({"error": "invalid_scope", "error_description": "unknown or missing scope"})
        elif q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            back(
                {
                    "error": "invalid_request",
                    "error_description": "code_challenge with S256 is required",
                }
            )
        else:
            with state.lock:
                username = (
                    state.authorize_queue.popleft() if state.authorize_queue else "sandbox_creator"
                )
            user = state.user(username)
            code = secrets.token_urlsafe(32)
            with state.lock:
                state.codes[code] = _AuthCode(
                    user.open_id, scopes, redirect_uri, q["code_challenge"], state.clock() + 600
                )
            back({"code": code, "scopes": ",".join(sorted(scopes))})

    def token(self, match: re.Match[str]) -> None:
        form = {k: v[0] for k, v in self.form_body().items()}
        state = self.state
        if not form.get("client_key") or (
            form.get("client_key"),
            form.get("client_secret"),
        ) != (state.client_key, state.client_secret):
            self.oauth_error(401, "invalid_client", "Client key or secret is incorrect.")
            return
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            with state.lock:
                code = state.codes.pop(form.get("code", ""), None)  # codes work once
            if code is None or code.expires_at <= state.clock():
                self.oauth_error(400, "invalid_grant", "Authorization code is expired or invalid.")
            elif form.get("redirect_uri") != code.redirect_uri:
                self.oauth_error(
                    400, "invalid_grant", "redirect_uri does not match the authorize request."
                )
            elif _s256(form.get("code_verifier", "")) != code.challenge:
                self.oauth_error(
                    400, "invalid_request", "Code verifier or code challenge is invalid."
                )
            else:
                self.send_json(200, state.issue_tokens(code.open_id, code.scopes))
        elif grant_type == "refresh_token":
            with state.lock:
                state.token_refreshes += 1  # counted on arrival, before the gate
            state.token_gate.wait()
            with state.lock:
                grant = state.refresh_tokens.pop(form.get("refresh_token", ""), None)
            if grant is None or grant.expires_at <= state.clock():
                self.oauth_error(400, "invalid_grant", "Refresh token is invalid or expired.")
            else:
                answer = state.issue_tokens(grant.open_id, grant.scopes, grant.expires_at)
                self.send_json(200, answer)
        else:
            self.oauth_error(400, "unsupported_grant_type", "grant_type is not supported.")

    # --- Content Posting API ------------------------------------------------------------
    def _api(
        self, limit: str, scopes: tuple[str, ...], work: Callable[[_Grant, Any], dict[str, Any]]
    ) -> None:
        try:
            grant = self.state.authenticate(self.headers.get("Authorization"), *scopes)
            token = self.headers["Authorization"].split()[-1]
            self.state.hit_rate_limit(limit, token)
            body = self.json_body()
            if not isinstance(body, dict):
                raise ApiRefusal(400, "invalid_params", "The request body must be a JSON object.")
            self.api_ok(work(grant, body))
        except ApiRefusal as refusal:
            self.api_error(refusal)

    def creator_info(self, match: re.Match[str]) -> None:
        def work(grant: _Grant, body: Any) -> dict[str, Any]:
            user = self.state.users[grant.open_id]
            s = user.settings
            if s.posting_refused:
                raise ApiRefusal(
                    403, s.posting_refused, "The creator cannot make more posts at this moment."
                )
            return {
                "creator_avatar_url": f"{self.server.base_url}/avatar/{user.open_id}.png",
                "creator_username": user.username,
                "creator_nickname": s.nickname or user.username,
                "privacy_level_options": self.state.privacy_options(user),
                "comment_disabled": s.comment_disabled,
                "duet_disabled": s.duet_disabled,
                "stitch_disabled": s.stitch_disabled,
                "max_video_post_duration_sec": s.max_video_post_duration_sec,
            }

        self._api("creator_info", ("video.publish",), work)

    def _new_publish(self, grant: _Grant, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        state = self.state
        user = state.users[grant.open_id]
        post_info: dict[str, Any] = {}
        if kind != "inbox":
            post_info = _check_post_info(state, user, body.get("post_info"))
            state.check_unaudited(user)
        source_info = body.get("source_info")
        if not isinstance(source_info, dict):
            raise ApiRefusal(400, "invalid_params", "source_info is required.")
        now = state.clock()
        if state.max_posts_per_day is not None:
            with state.lock:
                today = [
                    p
                    for p in state.publishes.values()
                    if p.open_id == grant.open_id and p.created_at > now - 86400
                ]
            if len(today) >= state.max_posts_per_day:
                raise ApiRefusal(
                    403,
                    "spam_risk_too_many_posts",
                    "The daily post cap from the API is reached for the current user.",
                )
        if body.get("media_type") == "PHOTO":  # direct or inbox: sandbox/tiktok_photos.py
            if source_info.get("source") != "PULL_FROM_URL":
                raise ApiRefusal(400, "invalid_params", "Photos support PULL_FROM_URL only.")
            try:
                images = tiktok_photos.check_request(
                    body.get("post_info") or {}, source_info
                )
            except tiktok_photos.PhotoRefusal as refusal:
                raise ApiRefusal(400, refusal.code, refusal.message) from None
            urls = [_check_url(state, u, "photo_images") for u in images]
            pulled = tiktok_photos.pull_problem(urls)
            publish = Publish(
                state.new_id("p_pub_url"),
                grant.open_id,
                kind,
                "PULL_FROM_URL",
                post_info,
                now,
                photo_urls=urls,
                fail_reason=pulled,
            )
        elif source_info.get("source") == "FILE_UPLOAD":
            _check_chunks(
                source_info.get("video_size"),
                source_info.get("chunk_size"),
                source_info.get("total_chunk_count"),
            )
            publish = Publish(
                state.new_id("v_pub_file" if kind == "direct" else "v_inbox_file"),
                grant.open_id,
                kind,
                "FILE_UPLOAD",
                post_info,
                now,
                video_size=source_info["video_size"],
                chunk_size=source_info["chunk_size"],
                total_chunk_count=source_info["total_chunk_count"],
                upload_token=secrets.token_urlsafe(24),
            )
        elif source_info.get("source") == "PULL_FROM_URL":
            url = _check_url(state, source_info.get("video_url"), "video_url")
            publish = Publish(
                state.new_id("v_pub_url" if kind == "direct" else "v_inbox_url"),
                grant.open_id,
                kind,
                "PULL_FROM_URL",
                post_info,
                now,
                video_url=url,
            )
        else:
            raise ApiRefusal(
                400, "invalid_params", "source_info.source must be FILE_UPLOAD or PULL_FROM_URL."
            )
        with state.lock:
            if state.fail_queue:
                publish.fail_reason = state.fail_queue.popleft()
            state.publishes[publish.publish_id] = publish
            if publish.upload_token:
                state.uploads[publish.upload_token] = publish.publish_id
        data = {"publish_id": publish.publish_id}
        if publish.upload_token:
            data["upload_url"] = f"{self.server.base_url}/upload/{publish.upload_token}"
        else:
            with publish.lock:
                state.finish(publish)  # the platform pulls on its own from here
        return data

    def video_init(self, match: re.Match[str]) -> None:
        self._api("init", ("video.publish",), lambda g, b: self._new_publish(g, "direct", b))

    def inbox_init(self, match: re.Match[str]) -> None:
        self._api("init", ("video.upload",), lambda g, b: self._new_publish(g, "inbox", b))

    def content_init(self, match: re.Match[str]) -> None:
        def work(grant: _Grant, body: dict[str, Any]) -> dict[str, Any]:
            if body.get("media_type") != "PHOTO":
                raise ApiRefusal(400, "invalid_params", "media_type must be PHOTO.")
            mode = body.get("post_mode")
            if mode not in ("DIRECT_POST", "MEDIA_UPLOAD"):
                raise ApiRefusal(
                    400, "invalid_params", "post_mode must be DIRECT_POST or MEDIA_UPLOAD."
                )
            need = "video.publish" if mode == "DIRECT_POST" else "video.upload"
            if need not in grant.scopes:
                raise ApiRefusal(401, "scope_not_authorized", f"The user did not authorize {need}.")
            if mode == "MEDIA_UPLOAD":
                body = body | {
                    "post_info": {"brand_content_toggle": False, "privacy_level": "SELF_ONLY"}
                    | (body.get("post_info") or {})
                }
            return self._new_publish(grant, "photo" if mode == "DIRECT_POST" else "inbox", body)

        self._api("init", ("video.publish", "video.upload"), work)

    def status_fetch(self, match: re.Match[str]) -> None:
        def work(grant: _Grant, body: dict[str, Any]) -> dict[str, Any]:
            publish = self.state.publishes.get(str(body.get("publish_id", "")))
            if publish is None or publish.open_id != grant.open_id:
                raise ApiRefusal(400, "invalid_params", "publish_id does not exist.")
            with publish.lock:
                return self.state.status_of(publish)

        self._api("status", ("video.publish", "video.upload"), work)

    # --- upload -------------------------------------------------------------------------
    def upload(self, match: re.Match[str]) -> None:
        state = self.state
        with state.lock:
            publish_id = state.uploads.get(match.group("token"))
            publish = state.publishes.get(publish_id or "")
        if publish is None:
            self.discard_body()
            self.api_error(ApiRefusal(404, "invalid_params", "Unknown upload URL."))
            return
        state.uploads_open.wait()
        if state.chunk_delay:
            # a slow uplink: the chunk trickles in (the client is still sending it)
            time.sleep(state.chunk_delay)
        with publish.lock:
            answer = self._upload_chunk(publish)
        if answer is None:
            return
        if state.ack_delay:
            # a slow acknowledgement: the chunk is taken, its answer not yet sent
            time.sleep(state.ack_delay)
        status, headers = answer
        self.send_bytes(status, b"", "text/plain", headers)

    def _upload_chunk(self, publish: Publish) -> tuple[int, dict[str, str]] | None:
        """Take one chunk; the success answer to send (206/201), or None when an error
        was sent already."""
        state = self.state
        if publish.upload_expired or state.clock() - publish.created_at > state.upload_url_lifetime:
            self.discard_body()
            self.api_error(ApiRefusal(403, "upload_url_expired", "The upload URL has expired."))
            return None
        if not (self.headers.get("Content-Type") or "").startswith("video/"):
            self.discard_body()
            self.api_error(
                ApiRefusal(400, "invalid_params", "Content-Type must be the video's type.")
            )
            return None
        match = _RANGE.fullmatch(self.headers.get("Content-Range") or "")
        length = int(self.headers.get("Content-Length") or 0)
        index = -1
        expected: tuple[int, int] | None = None
        if match and not publish.complete:
            first, last, total = (int(g) for g in match.groups())
            index = first // publish.chunk_size if publish.chunk_size else -1
            if 0 <= index < publish.total_chunk_count and first == index * publish.chunk_size:
                end = (
                    publish.video_size - 1
                    if index == publish.total_chunk_count - 1
                    else first + publish.chunk_size - 1
                )
                expected = (first, end)
            ok = (
                expected == (first, last)
                and total == publish.video_size
                and first == publish.received
                and length == last - first + 1
            )
        else:
            ok = False
        if publish.refuse_ranges:
            ok = False  # this upload takes no more bytes (a refused resume)
        if not ok:
            self.discard_body()
            headers = {"Content-Range": f"bytes */{publish.video_size}"}
            if publish.received and state.range_on_416:
                headers["Range"] = f"bytes=0-{publish.received - 1}"
            self.send_json(
                416,
                {
                    "data": {"uploaded_bytes": publish.received},
                    "error": {
                        "code": "range_not_satisfiable",
                        "message": "Content-Range does not continue the upload.",
                        "log_id": _log_id(),
                    },
                },
                headers,
            )
            return None
        hasher = publish._hasher.copy()  # commit only a chunk that arrives whole
        got = 0
        for block in self.stream_body():
            hasher.update(block)
            got += len(block)
            publish.bytes_arrived += len(block)
        if got != length:
            self.close_connection = True
            return None
        publish._hasher = hasher
        publish.received += got
        publish.bytes_received_total += got
        publish.chunks_received += 1
        publish.content_ranges.append(self.headers["Content-Range"])
        if publish.received == publish.video_size:
            state.finish(publish)
            return 201, {}
        return 206, {"Range": f"bytes=0-{publish.received - 1}"}

    # --- Display API (sandbox/tiktok_display.py) ----------------------------------------
    def _display(
        self,
        limit: str,
        scope: str | None,
        known: set[str],
        work: Callable[[_Grant, set[str], dict[str, Any]], dict[str, Any]],
    ) -> None:
        try:
            grant = self.state.authenticate(
                self.headers.get("Authorization"), *((scope,) if scope else ())
            )
            self.state.hit_rate_limit(limit, self.headers["Authorization"].split()[-1])
            body = self.json_body() if self.command == "POST" else {}
            if not isinstance(body, dict):
                raise ApiRefusal(400, "invalid_params", "The request body must be a JSON object.")
            fields = tiktok_display.requested_fields(self.query(), known)
            self.api_ok(work(grant, fields, body))
        except tiktok_display.DisplayRefusal as refusal:
            self.api_error(ApiRefusal(refusal.status, refusal.code, refusal.message))
        except ApiRefusal as refusal:
            self.api_error(refusal)

    def video_list(self, match: re.Match[str]) -> None:
        display = self.state.display
        self._display(
            "video_list",
            "video.list",
            tiktok_display.VIDEO_FIELDS,
            lambda grant, fields, body: display.list_page(grant.open_id, fields, body),
        )

    def video_query(self, match: re.Match[str]) -> None:
        display = self.state.display
        self._display(
            "video_query",
            "video.list",
            tiktok_display.VIDEO_FIELDS,
            lambda grant, fields, body: display.query(grant.open_id, fields, body),
        )

    def user_info(self, match: re.Match[str]) -> None:
        state = self.state

        def work(grant: _Grant, fields: set[str], body: dict[str, Any]) -> dict[str, Any]:
            user = state.users[grant.open_id]
            return state.display.user_info(user.open_id, user.username, fields, grant.scopes)

        self._display(
            "user_info",
            None,
            tiktok_display.BASIC_USER_FIELDS | tiktok_display.STATS_USER_FIELDS,
            work,
        )

    def avatar(self, match: re.Match[str]) -> None:
        user = self.state.users.get(match["open_id"])
        if user is None:
            self.send_bytes(404, b"no such avatar")
            return
        self.send_bytes(200, _avatar_png(user.open_id), "image/png")

    routes = [
        ("GET", r"/avatar/(?P<open_id>[A-Za-z0-9_-]+)\.png", avatar),
        ("GET", r"/v2/auth/authorize/?", authorize),
        ("POST", r"/v2/oauth/token/?", token),
        ("POST", r"/v2/post/publish/creator_info/query/?", creator_info),
        ("POST", r"/v2/post/publish/video/init/?", video_init),
        ("POST", r"/v2/post/publish/inbox/video/init/?", inbox_init),
        ("POST", r"/v2/post/publish/content/init/?", content_init),
        ("POST", r"/v2/post/publish/status/fetch/?", status_fetch),
        ("PUT", r"/upload/(?P<token>[A-Za-z0-9_-]+)", upload),
        ("POST", r"/v2/video/list/?", video_list),
        ("POST", r"/v2/video/query/?", video_query),
        ("GET", r"/v2/user/info/?", user_info),
    ]


class TikTokApiHTTPServer(SandboxHTTPServer):
    state: TikTokState

    def state_snapshot(self) -> Any:
        return self.state.snapshot()

    def handle_control(self, handler: SandboxHandler, path: str) -> bool:
        if handler.command != "POST":
            return False
        data = handler.json_body() or {}
        state = self.state
        if path == "/__sandbox__/fail_next":
            state.fail_queue.append(str(data["reason"]))
            handler.send_json(200, {"ok": True})
        elif path == "/__sandbox__/tokens":
            user = state.user(str(data.get("username") or "sandbox_creator"))
            scopes = set(data.get("scopes") or ("user.info.basic", "video.publish", "video.upload"))
            handler.send_json(200, state.issue_tokens(user.open_id, scopes))
        elif path == "/__sandbox__/expire_tokens":
            state.expire_access_tokens()
            handler.send_json(200, {"ok": True})
        elif path == "/__sandbox__/expire_uploads":
            state.expire_upload_urls()
            handler.send_json(200, {"ok": True})
        elif path == "/__sandbox__/refuse_uploads":
            state.refuse_uploads()
            handler.send_json(200, {"ok": True})
        elif path == "/__sandbox__/configure":
            for key in (
                "audited",
                "polls_to_complete",
                "access_token_lifetime",
                "refresh_token_lifetime",
                "upload_url_lifetime",
                "max_posts_per_day",
                "chunk_delay",
                "ack_delay",
            ):
                if key in data:
                    setattr(state, key, data[key])
            handler.send_json(200, {"ok": True})
        elif path == "/__sandbox__/videos":
            user = state.user(str(data.pop("username", "sandbox_creator")))
            video = state.display.add_video(
                user.open_id,
                user.username,
                title=str(data.get("title") or ""),
                create_time=int(data.get("create_time") or state.clock()),
                private=bool(data.get("private")),
                views=int(data.get("views") or 0),
                likes=int(data.get("likes") or 0),
                comments=int(data.get("comments") or 0),
                shares=int(data.get("shares") or 0),
            )
            handler.send_json(200, {"ok": True, "id": video.id})
        elif path == "/__sandbox__/creator":
            user = state.user(str(data.pop("username", "sandbox_creator")))
            for key, value in data.items():
                if hasattr(user.settings, key):
                    setattr(user.settings, key, value)
            handler.send_json(200, {"ok": True, "open_id": user.open_id})
        else:
            return False
        return True


class TikTokApiSandbox(SandboxServer):
    """The TikTok Content Posting API on loopback. See the module docstring for defaults."""

    server_class = TikTokApiHTTPServer
    httpd: TikTokApiHTTPServer
    handler_class = TikTokApiHandler
    name = "tiktok_api"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], float] = time.time,
        client_key: str = "sandbox-client-key",
        client_secret: str = "sandbox-client-secret",
        audited: bool = True,
        # TikTok's current OAuth docs: access tokens 2 h, refresh tokens 180 days
        access_token_lifetime: float = 2 * 3600.0,
        refresh_token_lifetime: float = 180 * 86400.0,
        upload_url_lifetime: float = 3600.0,
        polls_to_complete: int = 2,
        verified_domains: tuple[str, ...] = ("127.0.0.1", "localhost"),
        rate_limits: dict[str, tuple[int, float]] | None = None,
        max_posts_per_day: int | None = None,
        chunk_delay: float = 0.0,
        ack_delay: float = 0.0,
    ) -> None:
        super().__init__(host, port)
        self.state = TikTokState(
            clock=clock,
            client_key=client_key,
            client_secret=client_secret,
            audited=audited,
            access_token_lifetime=access_token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
            upload_url_lifetime=upload_url_lifetime,
            polls_to_complete=polls_to_complete,
            verified_domains=verified_domains,
            rate_limits=rate_limits
            if rate_limits is not None
            else {
                "creator_info": (20, 60.0),
                "init": (6, 60.0),
                "status": (30, 60.0),
                # the Display API: 600 a minute per endpoint
                "video_list": (600, 60.0),
                "video_query": (600, 60.0),
                "user_info": (600, 60.0),
            },
            max_posts_per_day=max_posts_per_day,
            chunk_delay=chunk_delay,
            ack_delay=ack_delay,
        )
        self.httpd.state = self.state

    @property
    def client_key(self) -> str:
        return self.state.client_key

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/v2/auth/authorize/"

    @property
    def posts(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(p) for p in self.state.posts]

    def publish(self, publish_id: str) -> Publish:
        return self.state.publishes[publish_id]

    def fail_next(self, reason: str) -> None:
        """The next post initialised ends FAILED with this fail_reason."""
        with self.state.lock:
            self.state.fail_queue.append(reason)

    def authorize_as(self, username: str) -> None:
        """The next authorize request consents as this user."""
        with self.state.lock:
            self.state.authorize_queue.append(username)

    def issue_tokens(
        self,
        username: str = "sandbox_creator",
        scopes: tuple[str, ...] = ("user.info.basic", "video.publish", "video.upload"),
    ) -> dict[str, Any]:
        """A token pair without the OAuth dance (the token endpoint's answer)."""
        return self.state.issue_tokens(self.state.user(username).open_id, set(scopes))

    def set_creator(self, username: str = "sandbox_creator", **settings: Any) -> SandboxUser:
        user = self.state.user(username)
        for key, value in settings.items():
            if not hasattr(user.settings, key):
                raise AttributeError(key)
            setattr(user.settings, key, value)
        return user

    def add_video(
        self,
        username: str = "sandbox_creator",
        *,
        title: str = "",
        create_time: float | None = None,
        private: bool = False,
        views: int = 0,
        likes: int = 0,
        comments: int = 0,
        shares: int = 0,
    ) -> tiktok_display.SandboxVideo:
        """A post the creator made in the app, outside Piper."""
        user = self.state.user(username)
        when = int(create_time if create_time is not None else self.state.clock())
        return self.state.display.add_video(
            user.open_id, user.username, title=title, create_time=when, private=private,
            views=views, likes=likes, comments=comments, shares=shares,
        )  # fmt: skip

    @property
    def display(self) -> tiktok_display.DisplayStore:
        return self.state.display

    def expire_access_tokens(self) -> None:
        self.state.expire_access_tokens()

    def expire_upload_urls(self) -> None:
        self.state.expire_upload_urls()

    def refuse_uploads(self) -> None:
        self.state.refuse_uploads()
