"""The API's FastAPI application over one `Services`.

Guards, outermost first: the Host header must be 127.0.0.1 or localhost (a page of
another site that rebinds its DNS name to 127.0.0.1 still sends its own name); every
path, the OpenAPI document included, needs the bearer token. There is no CORS
middleware: a browser page of another origin gets no Access-Control-Allow-Origin, so
it can neither read answers nor send the Authorization header.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from starlette.middleware.trustedhost import TrustedHostMiddleware

from ... import __version__
from ...domain.services import Services
from . import errors, jobs, resources, upload
from .deps import require_token

PREFIX = "/api/v1"
# TikTok takes videos up to 4 GB; a bigger upload is refused as it streams
MAX_UPLOAD_BYTES = 4 * 1024**3
LOCAL_HOSTS = ["127.0.0.1", "localhost"]


def build_app(
    services: Services,
    intake_dir: Path,
    *,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    wake: Callable[[str], None] | None = None,
) -> FastAPI:
    """`wake`: the serving engine's (new due work is claimed at once)."""
    app = FastAPI(
        title="Piper Desktop local API",
        version=__version__,
        description="Accounts, media, campaigns and jobs of this Piper, on 127.0.0.1 only. "
        "Every request needs `Authorization: Bearer <token>` (`piper api token`).",
        # the document is served below, behind the token; no docs pages (they load
        # scripts from a CDN)
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.services = services
    app.state.intake_dir = intake_dir
    app.state.max_upload_bytes = max_upload_bytes
    app.state.wake = wake or (lambda reason: None)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=LOCAL_HOSTS)
    errors.install(app)
    guarded = [Depends(require_token)]
    for router in (resources.router, jobs.router, upload.router):
        app.include_router(router, prefix=PREFIX, dependencies=guarded)

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi(request: Request) -> dict[str, Any]:
        return app.openapi()

    return app
