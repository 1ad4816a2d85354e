"""A local replica of TikTok Studio's web upload page (see DESIGN.md, "TikTok web upload page").

It serves the pages a person meets (login, upload form, content list) on loopback and
keeps the truth tests check against: every completed post (who, caption, entities,
visibility, options, schedule, file sha256) is recorded on the server and exposed at
`/__sandbox__/state`. The page itself is static HTML/JS under `sandbox/web/`; the server
hands it a config object naming the layout variant's features.

Layout variants (`sandbox/studio_variants.py` names and describes them): the same public
page as an independent engineer would write it, one part at a time — `file_button`,
`suggestions_class`, `plain_editor`, `visibility_listbox`, `visibility_select`,
`toggle_switches`, `schedule_picker`, `post_text_only`, `iframe` (the form in the Creator
Center's iframe at `/creator-center/upload`), `unknown_modal`, `known_interrupters`,
`post_now_confirm`, `split_prompt`, `slow` (other timings), `v2` (renamed attributes) —
or several joined by `+`; `all_different` is the issue's list at once. Every variant
records posts exactly as the default page does. Chosen by
`TikTokStudioSandbox(variant=...)`, else `$PIPER_SANDBOX_STUDIO_VARIANT`; a running server
switches with `server.variant = spec`, `configure(variant=spec)` or
`POST /__sandbox__/variant {"variant": spec}` (`GET` lists the names);
`piper sandbox --studio-variant SPEC` starts with one.

Behaviours a test or an operator can switch on:
- `create_session(username)` / the `/login` page give a `sessionid` cookie;
  `expire_sessions(username)` makes them invalid (the upload page then redirects 302 to
  `/login?redirect_url=...`).
- `require_captcha(on="load"|"post")`: a captcha overlay blocks the form until a person
  clicks its verify button (`POST /api/captcha/solve`); `/api/post` refuses meanwhile.
- `interstitial`: an unknown modal dialog that blocks the page from load on.
- `confirm_post_now`: clicking Post asks "Post now" first (the default page's dialog).
- `processing_seconds` / `upload_rate`: how long the server-driven upload progress takes;
  `render_delay_ms` / `suggest_delay_ms`: a late form, late suggestions.
- `legacy_mode`: `/creator-center/upload` redirects ("redirect") or wraps the form in
  an iframe ("iframe").
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from piper_desktop.logs import get_logger
from piper_desktop.sandbox.httpbase import SandboxHandler, SandboxHTTPServer, SandboxServer
from piper_desktop.sandbox.studio_variants import (
    DEFAULT,
    SLOW_OPTIONS,
    SLOW_PAGE,
    VARIANT_ENV,
    VariantError,
    describe,
    parse_variant,
)

log = get_logger("sandbox")
WEB_DIR = Path(__file__).resolve().parent / "web"

# Markup names per variant: what the page renders, and so what selectors must target.
VARIANTS: dict[str, dict[str, str]] = {
    "v1": {
        "select_card": "select_video_container",
        "upload_status": "upload_status_container",
        "post_button": "post_video_button",
        "visibility": "video_visibility_container",
        "editor_class": "public-DraftEditor-content",
    },
    "v2": {
        "select_card": "upload_card_v2",
        "upload_status": "upload_progress_v2",
        "post_button": "publish_button",
        "visibility": "privacy_container",
        "editor_class": "caption-editor-v2",
    },
}

VISIBILITY_CODES = {0: "PUBLIC_TO_EVERYONE", 1: "MUTUAL_FOLLOW_FRIENDS", 2: "SELF_ONLY"}
MIN_SCHEDULE_S = 15 * 60
MAX_SCHEDULE_S = 10 * 24 * 3600
# Scheduling is checked when Post is clicked; allow for the minutes spent filling the form.
SCHEDULE_TOLERANCE_S = 180
CAPTION_LIMIT = 4000


@dataclass
class Upload:
    id: str
    username: str
    filename: str
    size: int
    sha256: str
    received_at: float


@dataclass
class Post:
    id: str
    username: str
    caption: str
    text_extra: list[dict[str, Any]]
    visibility: str
    allow_comment: bool
    allow_duet: bool
    allow_stitch: bool
    brand_organic: bool
    brand_content: bool
    aigc: bool
    schedule_time: int | None
    upload_id: str
    filename: str
    size: int
    sha256: str
    created_at: float
    url: str
    # the split-video prompt's "Split" was chosen (the split_prompt variant)
    split: bool = False

    @property
    def status(self) -> str:
        if self.schedule_time and self.schedule_time > time.time():
            return "scheduled"
        return "posted"


@dataclass
class StudioOptions:
    # a layout variant spec (studio_variants.py): "default", "file_button+plain_editor", ...
    variant: str = DEFAULT
    confirm_post_now: bool = False
    cookie_banner: bool = True
    processing_seconds: float = 0.6
    # bytes per second the server reads an upload at; None reads as fast as it comes
    upload_rate: float | None = None
    legacy_mode: str = "redirect"
    interstitial: str | None = None
    # delay before the success modal navigates to the content page (page behaviour)
    success_navigate_ms: int = 800
    # the page renders its form this long after load; suggestions show this long late
    render_delay_ms: int = 0
    suggest_delay_ms: int = 0
    mention_users: list[str] = field(
        default_factory=lambda: ["piperfriend", "pipercat", "tiktok", "tiktokcreators"]
    )


class StudioHTTPServer(SandboxHTTPServer):
    def __init__(self, address: tuple[str, int], handler: type[SandboxHandler]) -> None:
        super().__init__(address, handler)
        self.options = StudioOptions()
        self.sessions: dict[str, str] = {}
        self.uploads: dict[str, Upload] = {}
        self.posts: list[Post] = []
        # username (or "*" for everyone) -> "load" | "post"
        self.captcha: dict[str, str] = {}
        self.captcha_solved = 0
        # the country /api/ip reports for the exit IP (tests change it per server)
        self.exit_country = "US"
        self._post_counter = 7_300_000_000_000_000_000
        self.changed = threading.Condition(self.lock)

    def user_for(self, sessionid: str | None) -> str | None:
        if not sessionid:
            return None
        with self.lock:
            return self.sessions.get(sessionid)

    def captcha_for(self, username: str) -> str | None:
        with self.lock:
            return self.captcha.get(username) or self.captcha.get("*")

    def next_post_id(self) -> str:
        with self.lock:
            self._post_counter += 1
            return str(self._post_counter)

    def features(self) -> frozenset[str]:
        return parse_variant(self.options.variant)

    def set_variant(self, spec: str) -> frozenset[str]:
        """Switch the layout variant (checked first: a bad name changes nothing)."""
        features = parse_variant(spec)
        with self.lock:
            self.options.variant = spec
        return features

    def timing(self) -> StudioOptions:
        """The options as the page and the upload see them: the slow feature makes
        processing longer and the link slower than whatever a test configured."""
        options = self.options
        if "slow" not in self.features():
            return options
        rate = options.upload_rate
        return replace(
            options,
            processing_seconds=max(options.processing_seconds, SLOW_OPTIONS["processing_seconds"]),
            upload_rate=min(rate, SLOW_OPTIONS["upload_rate"])
            if rate
            else SLOW_OPTIONS["upload_rate"],
            render_delay_ms=max(options.render_delay_ms, SLOW_PAGE["render_delay_ms"]),
            suggest_delay_ms=max(options.suggest_delay_ms, SLOW_PAGE["suggest_delay_ms"]),
        )

    def state_snapshot(self) -> Any:
        with self.lock:
            return {
                "posts": [asdict(p) | {"status": p.status} for p in self.posts],
                "uploads": [asdict(u) for u in self.uploads.values()],
                "users_logged_in": sorted(set(self.sessions.values())),
                "captcha": dict(self.captcha),
                "captcha_solved": self.captcha_solved,
                "options": asdict(self.options),
                "features": sorted(self.features()),
            }


def _cookie(handler: SandboxHandler, name: str) -> str | None:
    raw = handler.headers.get("Cookie") or ""
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class StudioHandler(SandboxHandler):
    server: StudioHTTPServer

    # --- helpers -----------------------------------------------------------------
    def user(self) -> str | None:
        return self.server.user_for(_cookie(self, "sessionid"))

    def redirect(self, location: str, extra_headers: dict[str, str] | None = None) -> None:
        headers = {"Location": location} | (extra_headers or {})
        self.send_bytes(302, b"", "text/plain", headers)

    def require_user_page(self) -> str | None:
        username = self.user()
        if username is None:
            self.redirect("/login?redirect_url=" + quote(self.path, safe=""))
        return username

    def require_user_api(self) -> str | None:
        username = self.user()
        if username is None:
            self.read_body()
            self.send_json(401, {"status_code": 8, "status_msg": "login required"})
        return username

    def send_html(self, body: str, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(200, body.encode("utf-8"), "text/html; charset=utf-8", headers)

    def rotating_cookie(self) -> dict[str, str]:
        # Like the real site's ever-changing tokens: proves storage state is saved back.
        return {"Set-Cookie": f"tt_csrf_token={secrets.token_hex(8)}; Path=/; SameSite=Lax"}

    # --- pages ---------------------------------------------------------------------
    def root(self, _m: re.Match[str]) -> None:
        self.redirect("/tiktokstudio/upload")

    def login_page(self, _m: re.Match[str]) -> None:
        redirect_url = (self.query().get("redirect_url") or ["/tiktokstudio/upload"])[0]
        self.send_html(
            _page(
                "Log in | TikTok",
                f"""<main class="login">
<h1>Log in to TikTok</h1>
<p class="hint">Sandbox: any username logs in.</p>
<form data-e2e="login-form" method="post" action="/login">
  <input type="hidden" name="redirect_url" value="{html.escape(redirect_url)}">
  <label>Username <input name="username" autocomplete="username" required></label>
  <button type="submit" data-e2e="login-button">Log in</button>
</form></main>""",
            )
        )

    def login_submit(self, _m: re.Match[str]) -> None:
        form = self.form_body()
        username = (form.get("username") or [""])[0].strip().lstrip("@")
        redirect_url = (form.get("redirect_url") or ["/tiktokstudio/upload"])[0]
        if not re.fullmatch(r"[A-Za-z0-9._]{1,24}", username):
            self.send_html(_page("Log in", "<p class='error'>Invalid username</p>"))
            return
        if not redirect_url.startswith("/") or redirect_url.startswith("//"):
            redirect_url = "/tiktokstudio/upload"
        sessionid = _new_session(self.server, username)
        self.redirect(
            redirect_url,
            {"Set-Cookie": f"sessionid={sessionid}; Path=/; HttpOnly; SameSite=Lax"},
        )

    def upload_page(self, _m: re.Match[str]) -> None:
        username = self.require_user_page()
        if username is None:
            return
        if "iframe" in self.server.features():
            # the form lives in the Creator Center's iframe on this layout
            self.redirect("/creator-center/upload")
            return
        self.send_form(username, in_frame=False)

    def framed_upload(self, _m: re.Match[str]) -> None:
        """The form as the Creator Center's iframe loads it (`/creator#/upload?...`)."""
        username = self.require_user_page()
        if username is None:
            return
        self.send_form(username, in_frame=True)

    def send_form(self, username: str, in_frame: bool) -> None:
        features = self.server.features()
        options = self.server.timing()
        names = VARIANTS["v2" if "v2" in features else "v1"]
        config = {
            "username": username,
            "names": names,
            "features": sorted(features),
            "in_frame": in_frame,
            "captcha": self.server.captcha_for(username) == "load",
            "confirm_post_now": options.confirm_post_now,
            # in the iframe layout the banner belongs to the top page
            "cookie_banner": options.cookie_banner and not in_frame,
            "interstitial": options.interstitial,
            "success_navigate_ms": options.success_navigate_ms,
            "render_delay_ms": options.render_delay_ms,
            "suggest_delay_ms": options.suggest_delay_ms,
            "caption_limit": CAPTION_LIMIT,
            "min_schedule_s": MIN_SCHEDULE_S,
            "max_schedule_s": MAX_SCHEDULE_S,
        }
        self.send_html(_page("TikTok Studio", _app(config)), self.rotating_cookie())

    def legacy_upload(self, _m: re.Match[str]) -> None:
        username = self.require_user_page()
        if username is None:
            return
        if "iframe" in self.server.features():
            shell = {"shell": True, "cookie_banner": self.server.options.cookie_banner}
            self.send_html(
                _page(
                    "TikTok Creator Center",
                    '<header class="studio-header">TikTok Creator Center</header>'
                    '<iframe class="creator-frame" src="/creator#/upload?scene=creator_center" '
                    'title="Upload video"></iframe>' + _app(shell),
                ),
                self.rotating_cookie(),
            )
        elif self.server.options.legacy_mode == "iframe":
            self.send_html(
                _page(
                    "TikTok Creator Center",
                    '<iframe src="/tiktokstudio/upload" title="upload" '
                    'style="width:100%;height:96vh;border:0"></iframe>',
                )
            )
        else:
            self.redirect("/tiktokstudio/upload")

    def content_page(self, _m: re.Match[str]) -> None:
        username = self.require_user_page()
        if username is None:
            return
        with self.server.lock:
            posts = [p for p in self.server.posts if p.username == username]
        rows = []
        for post in reversed(posts):
            status = "Scheduled" if post.status == "scheduled" else "Posted"
            privacy = {
                "PUBLIC_TO_EVERYONE": "Everyone",
                "MUTUAL_FOLLOW_FRIENDS": "Friends",
                "SELF_ONLY": "Only you",
            }[post.visibility]
            when = time.strftime(
                "%Y-%m-%d %H:%M", time.gmtime(post.schedule_time or post.created_at)
            )
            rows.append(
                f"""<div class="post-row" data-e2e="content-post-item" data-post-id="{post.id}">
  <a class="post-link" href="{html.escape(post.url)}"><span class="post-caption">{html.escape(post.caption)}</span></a>
  <span class="post-status">{status}</span> <span class="post-privacy">{privacy}</span>
  <time>{when} UTC</time></div>"""
            )
        listing = "\n".join(rows) or '<p class="empty">No posts yet</p>'
        self.send_html(
            _page(
                "Posts | TikTok Studio",
                f'<main class="content"><h1>Posts</h1>'
                f'<div data-e2e="content-post-list">{listing}</div></main>',
            ),
            self.rotating_cookie(),
        )

    def video_page(self, match: re.Match[str]) -> None:
        post_id = match.group(2)
        with self.server.lock:
            post = next((p for p in self.server.posts if p.id == post_id), None)
        if post is None:
            self.send_html(_page("Video unavailable", "<p>Video currently unavailable</p>"))
            return
        self.send_html(
            _page(
                "TikTok",
                f"<main><h1>@{html.escape(post.username)}</h1>"
                f'<p class="caption">{html.escape(post.caption)}</p></main>',
            )
        )

    def static(self, match: re.Match[str]) -> None:
        name = match.group(1)
        path = WEB_DIR / name
        if "/" in name or not path.is_file():
            self.send_json(404, {"error": "not_found"})
            return
        kind = {".js": "application/javascript", ".css": "text/css"}.get(
            path.suffix, "application/octet-stream"
        )
        self.send_bytes(200, path.read_bytes(), kind + "; charset=utf-8")

    # --- APIs ----------------------------------------------------------------------
    def api_ip(self, _m: re.Match[str]) -> None:
        # ipinfo.io's shape: the address and its country ("ZZ" would be honest for
        # loopback; a real code lets spreading by country be tried end to end)
        self.send_json(200, {"ip": self.client_address[0], "country": self.server.exit_country})

    def api_upload(self, _m: re.Match[str]) -> None:
        username = self.require_user_api()
        if username is None:
            return
        filename = (self.query().get("filename") or ["video.mp4"])[0]
        length = int(self.headers.get("Content-Length") or 0)
        digest = hashlib.sha256()
        received = 0
        rate = self.server.timing().upload_rate
        started = time.monotonic()
        for chunk in self.stream_body(65536):
            digest.update(chunk)
            received += len(chunk)
            if rate:
                # Pace the read like a slower network link would.
                ahead = received / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        remaining = length - received
        if remaining:
            self.send_json(400, {"status_code": 4, "status_msg": "incomplete upload"})
            return
        upload = Upload(
            id=secrets.token_hex(8),
            username=username,
            filename=filename,
            size=length,
            sha256=digest.hexdigest(),
            received_at=time.time(),
        )
        with self.server.lock:
            self.server.uploads[upload.id] = upload
        self.send_json(200, {"status_code": 0, "upload_id": upload.id, "size": length})

    def api_upload_status(self, match: re.Match[str]) -> None:
        username = self.require_user_api()
        if username is None:
            return
        with self.server.lock:
            upload = self.server.uploads.get(match.group(1))
        if upload is None or upload.username != username:
            self.send_json(404, {"status_code": 4, "status_msg": "no such upload"})
            return
        duration = max(self.server.timing().processing_seconds, 0.001)
        progress = min(1.0, (time.time() - upload.received_at) / duration)
        self.send_json(
            200,
            {
                "status_code": 0,
                "state": "done" if progress >= 1.0 else "processing",
                "progress": round(progress * 100),
                "retry_in_ms": max(50, min(400, int(duration * 1000 / 10))),
            },
        )

    def api_suggest(self, _m: re.Match[str]) -> None:
        if self.require_user_api() is None:
            return
        kind = (self.query().get("type") or ["hashtag"])[0]
        word = (self.query().get("q") or [""])[0].lower()
        items: list[dict[str, Any]] = []
        if kind == "hashtag" and word:
            for n, tag in enumerate(dict.fromkeys([word, word + "s", word + "tok", "fyp"])):
                items.append({"value": tag, "label": "#" + tag, "views": f"{9 - n}.{n}M views"})
        elif kind == "mention" and word:
            with self.server.lock:
                known = list(
                    dict.fromkeys(
                        [*self.server.options.mention_users, *self.server.sessions.values()]
                    )
                )
            for name in known:
                if name.lower().startswith(word):
                    items.append({"value": name, "label": "@" + name, "nickname": name.title()})
        self.send_json(200, {"status_code": 0, "items": items[:6]})

    def api_post(self, _m: re.Match[str]) -> None:
        username = self.require_user_api()
        if username is None:
            return
        data = self.json_body() or {}
        if self.server.captcha_for(username):
            self.send_json(403, {"status_code": 10, "status_msg": "captcha_required"})
            return
        with self.server.lock:
            upload = self.server.uploads.get(str(data.get("upload_id")))
        if upload is None or upload.username != username:
            self.send_json(400, {"status_code": 4, "status_msg": "upload not found"})
            return
        if time.time() - upload.received_at < self.server.timing().processing_seconds:
            self.send_json(400, {"status_code": 4, "status_msg": "upload still processing"})
            return
        caption = str(data.get("caption") or "")
        if len(caption) > CAPTION_LIMIT:
            self.send_json(400, {"status_code": 4, "status_msg": "caption too long"})
            return
        visibility = VISIBILITY_CODES.get(int(data.get("visibility", 0)))
        if visibility is None:
            self.send_json(400, {"status_code": 4, "status_msg": "bad visibility"})
            return
        schedule_time = data.get("schedule_time")
        if schedule_time is not None:
            ahead = int(schedule_time) - time.time()
            if not (MIN_SCHEDULE_S - SCHEDULE_TOLERANCE_S <= ahead <= MAX_SCHEDULE_S):
                self.send_json(400, {"status_code": 4, "status_msg": "schedule out of range"})
                return
        private = visibility == "SELF_ONLY"
        post_id = self.server.next_post_id()
        post = Post(
            id=post_id,
            username=username,
            caption=caption,
            text_extra=list(data.get("text_extra") or []),
            visibility=visibility,
            allow_comment=bool(data.get("allow_comment")),
            allow_duet=bool(data.get("allow_duet")) and not private,
            allow_stitch=bool(data.get("allow_stitch")) and not private,
            brand_organic=bool(data.get("brand_organic")),
            brand_content=bool(data.get("brand_content")),
            aigc=bool(data.get("aigc")),
            schedule_time=int(schedule_time) if schedule_time is not None else None,
            upload_id=upload.id,
            filename=upload.filename,
            size=upload.size,
            sha256=upload.sha256,
            created_at=time.time(),
            url=f"{self.server.base_url}/@{username}/video/{post_id}",
            split=bool(data.get("split")),
        )
        with self.server.changed:
            self.server.posts.append(post)
            self.server.changed.notify_all()
        self.send_json(200, {"status_code": 0, "post_id": post_id, "url": post.url})

    def api_captcha_solve(self, _m: re.Match[str]) -> None:
        username = self.require_user_api()
        if username is None:
            return
        self.read_body()
        with self.server.changed:
            self.server.captcha.pop(username, None)
            self.server.captcha.pop("*", None)
            self.server.captcha_solved += 1
            self.server.changed.notify_all()
        self.send_json(200, {"status_code": 0})

    def api_posts(self, _m: re.Match[str]) -> None:
        username = self.require_user_api()
        if username is None:
            return
        with self.server.lock:
            posts = [
                asdict(p) | {"status": p.status}
                for p in self.server.posts
                if p.username == username
            ]
        self.send_json(200, {"status_code": 0, "posts": posts})

    # --- control endpoints for tests driving a subprocess -----------------------------
    def _control(self, path: str) -> None:
        data = self.json_body() if self.command == "POST" else None
        if path == "/__sandbox__/sessions" and self.command == "POST":
            username = str((data or {}).get("username") or "sandbox_user")
            self.send_json(200, {"sessionid": _new_session(self.server, username)})
        elif path == "/__sandbox__/expire" and self.command == "POST":
            _expire(self.server, (data or {}).get("username"))
            self.send_json(200, {"ok": True})
        elif path == "/__sandbox__/captcha" and self.command == "POST":
            payload = data or {}
            _set_captcha(self.server, payload.get("on", "load"), payload.get("username"))
            self.send_json(200, {"ok": True})
        elif path == "/__sandbox__/options" and self.command == "POST":
            payload = dict(data or {})
            try:
                if "variant" in payload:
                    self.server.set_variant(str(payload.pop("variant")))
            except VariantError as exc:
                self.send_json(400, {"error": str(exc)})
                return
            for key, value in payload.items():
                if hasattr(self.server.options, key):
                    setattr(self.server.options, key, value)
            self.send_json(200, asdict(self.server.options))
        elif path == "/__sandbox__/variant":
            # switch a running server's layout: {"variant": "file_button+plain_editor"}
            try:
                if self.command == "POST":
                    self.server.set_variant(str((data or {}).get("variant") or DEFAULT))
            except VariantError as exc:
                self.send_json(400, {"error": str(exc)})
                return
            self.send_json(
                200,
                {
                    "variant": self.server.options.variant,
                    "features": sorted(self.server.features()),
                    "known": dict(describe()),
                },
            )
        else:
            super()._control(path)

    routes = [
        ("GET", r"/", root),
        ("GET", r"/login", login_page),
        ("POST", r"/login", login_submit),
        ("GET", r"/tiktokstudio/upload", upload_page),
        ("GET", r"/creator-center/upload", legacy_upload),
        ("GET", r"/creator", framed_upload),
        ("GET", r"/tiktokstudio/content", content_page),
        ("GET", r"/@([A-Za-z0-9._]+)/video/(\d+)", video_page),
        ("GET", r"/static/([A-Za-z0-9_.-]+)", static),
        ("GET", r"/api/ip", api_ip),
        ("POST", r"/api/upload", api_upload),
        ("GET", r"/api/upload/([0-9a-f]+)", api_upload_status),
        ("GET", r"/api/suggest", api_suggest),
        ("POST", r"/api/post", api_post),
        ("POST", r"/api/captcha/solve", api_captcha_solve),
        ("GET", r"/api/posts", api_posts),
    ]


def _new_session(server: StudioHTTPServer, username: str) -> str:
    sessionid = secrets.token_hex(16)
    with server.lock:
        server.sessions[sessionid] = username
    return sessionid


def _expire(server: StudioHTTPServer, username: str | None) -> None:
    with server.lock:
        for sid, user in list(server.sessions.items()):
            if username is None or user == username:
                del server.sessions[sid]


def _set_captcha(server: StudioHTTPServer, on: str | None, username: str | None) -> None:
    with server.lock:
        key = username or "*"
        if on is None:
            server.captcha.pop(key, None)
        elif on in ("load", "post"):
            server.captcha[key] = on
        else:
            raise ValueError("captcha 'on' must be 'load', 'post' or None")


def _app(config: dict[str, Any]) -> str:
    """The page's script tags: its config object, then the replica's code."""
    config_json = json.dumps(config).replace("</", "<\\/")
    return (
        '<div id="root"></div>\n'
        f"<script>window.__STUDIO__ = {config_json};</script>\n"
        '<script src="/static/studio.js"></script>'
    )


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<link rel="stylesheet" href="/static/studio.css"></head>
<body>{body}</body></html>"""


class TikTokStudioSandbox(SandboxServer):
    """The TikTok Studio upload page replica; `state` is the truth tests assert on."""

    server_class = StudioHTTPServer
    handler_class = StudioHandler
    name = "tiktok_web"
    httpd: StudioHTTPServer

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        variant: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`variant` is a layout spec (studio_variants.py), refused when unknown; None
        takes $PIPER_SANDBOX_STUDIO_VARIANT, where a bad name is one warning line and the
        default layout (`piper --sandbox` must start; `piper sandbox` checks it first)."""
        super().__init__(host, port)
        if variant is None:
            spec = (os.environ if env is None else env).get(VARIANT_ENV) or DEFAULT
            try:
                self.httpd.set_variant(spec)
            except VariantError as exc:
                log.warning("%s: %s; the Studio replica uses the default layout", VARIANT_ENV, exc)
            return
        try:
            self.httpd.set_variant(variant)
        except VariantError:
            self.httpd.server_close()
            raise

    @property
    def options(self) -> StudioOptions:
        return self.httpd.options

    @property
    def variant(self) -> str:
        return self.httpd.options.variant

    @variant.setter
    def variant(self, spec: str) -> None:
        self.httpd.set_variant(spec)

    @property
    def features(self) -> frozenset[str]:
        return self.httpd.features()

    def configure(self, **options: Any) -> None:
        for key, value in options.items():
            if not hasattr(self.httpd.options, key):
                raise AttributeError(f"unknown studio option {key!r}")
            if key == "variant":
                self.httpd.set_variant(value)
            else:
                setattr(self.httpd.options, key, value)

    def create_session(self, username: str) -> str:
        return _new_session(self.httpd, username)

    def expire_sessions(self, username: str | None = None) -> None:
        _expire(self.httpd, username)

    def require_captcha(self, on: str | None = "load", username: str | None = None) -> None:
        _set_captcha(self.httpd, on, username)

    def session_cookie(self, sessionid: str) -> dict[str, Any]:
        """The cookie as it sits in a Playwright storage state for this server."""
        host = urlsplit(self.base_url).hostname or "127.0.0.1"
        return {
            "name": "sessionid",
            "value": sessionid,
            "domain": host,
            "path": "/",
            "expires": -1,
            "httpOnly": True,
            "secure": False,
            "sameSite": "Lax",
        }

    def storage_state_for(self, username: str) -> dict[str, Any]:
        return {"cookies": [self.session_cookie(self.create_session(username))], "origins": []}

    @property
    def posts(self) -> list[Post]:
        with self.httpd.lock:
            return list(self.httpd.posts)

    @property
    def uploads(self) -> list[Upload]:
        with self.httpd.lock:
            return list(self.httpd.uploads.values())

    def state(self) -> dict[str, Any]:
        return self.httpd.state_snapshot()

    def wait_for_posts(self, count: int, timeout: float = 10.0) -> list[Post]:
        deadline = time.monotonic() + timeout
        with self.httpd.changed:
            while len(self.httpd.posts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.httpd.changed.wait(left)
            return list(self.httpd.posts)

    @staticmethod
    def url_path(url: str) -> str:
        return unquote(urlsplit(url).path)
