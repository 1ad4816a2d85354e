"""`POST /api/v1/upload-video`: the old service's upload, into `domain/intake.queue_file`.

Multipart fields (as Upload-Post's `/upload` and the FastAPI service had them): `video`
(the file), `title` (the caption; also the library's title), `user` (the account: id or
username), `platforms` (or `platform[]`; must include the account's platform) or
`route` (tiktok_api, upload_post, web), `scheduled_date` (ISO 8601, `now`, or `auto` =
the account's next free slot; the default). The answer lists the job(s) created.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ...domain import fields as f
from ...domain.errors import NotFound, ValidationError
from ...domain.intake import Target, queue_file
from ...domain.services import Services
from ...store.enums import JobRoute
from .deps import wake_engine
from .errors import refusal
from .form_stream import FormReceiver, ReceivedForm, TooLarge
from .jobs import job_rows

router = APIRouter(tags=["upload"])
# the domain's names for the form's fields, for messages that name what the client sent
FIELD_NAMES = {
    "account": "user",
    "at": "scheduled_date",
    "caption": "title",
    "path": "video",
    "media": "video",  # the same video again within the duplicate window
}

FORM_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["video", "user"],
                    "properties": {
                        "video": {"type": "string", "format": "binary"},
                        "title": {"type": "string", "description": "the caption"},
                        "user": {"type": "string", "description": "account id or username"},
                        "platforms": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "e.g. tiktok; must include the account's platform",
                        },
                        "route": {"type": "string", "enum": [r.value for r in JobRoute]},
                        "scheduled_date": {
                            "type": "string",
                            "description": "ISO 8601, 'now', or 'auto' (next free slot)",
                            "default": "auto",
                        },
                    },
                }
            }
        },
    }
}


def _named(exc: ValidationError) -> ValidationError:
    field = FIELD_NAMES.get(exc.field, exc.field)
    return exc if field == exc.field else ValidationError(field, exc.reason)


def _when(raw: str | None) -> str | Any:
    text = (raw or "").strip()
    if text.lower() in ("", "auto"):
        return "auto"
    if text.lower() == "now":
        return "now"
    return f.moment()("scheduled_date", text)


def queue_upload(services: Services, form: ReceivedForm) -> dict[str, Any]:
    """Check the form, then queue its video (ValidationError naming the form's field)."""
    if form.file_path is None or form.file_size == 0:
        raise ValidationError("video", "is required: the video file")
    user = (form.first("user") or "").strip()
    if not user:
        raise ValidationError("user", "is required: the account to post as")
    at = _when(form.first("scheduled_date"))
    route = (form.first("route") or "").strip() or None
    if route is not None and route not in [r.value for r in JobRoute]:
        raise ValidationError("route", f"must be one of {', '.join(r.value for r in JobRoute)}")
    try:
        account = services.accounts.find(user)
    except NotFound:
        raise ValidationError("user", f"no account {user!r}") from None
    platforms = [
        p.strip().lower()
        for raw in form.every("platforms", "platform[]", "platform")
        for p in raw.split(",")
        if p.strip()
    ]
    if platforms and account.platform not in platforms:
        raise ValidationError(
            "platforms",
            f"account {account.username} is on {account.platform}, not {', '.join(platforms)}",
        )
    title = (form.first("title") or "").strip() or None
    try:
        queued = queue_file(
            services,
            form.file_path,
            Target(account=str(account.id), route=route),
            caption=title,
            title=title or Path(form.file_name).stem or None,
            at=at,
        )
    except ValidationError as exc:
        raise _named(exc) from None
    return {
        "media": services.media.to_dict(queued.media),
        "jobs": job_rows(services, queued.jobs),
        "refused": [{"account": name, "reason": why} for name, why in queued.refused],
        "summary": queued.line(),
    }


def _keep_if_used(services: Services, form: ReceivedForm) -> None:
    """After a refusal: remove the received file unless the library now points at it."""
    path = form.file_path
    if path is None:
        return
    if not any(item.path == str(path) for item in services.media.list(search=path.name)):
        form.discard()


@router.post("/upload-video", status_code=201, openapi_extra=FORM_SCHEMA)
async def upload_video(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    receiver = FormReceiver(
        request.headers.get("content-type", ""),
        request.app.state.intake_dir,
        "video",
        request.app.state.max_upload_bytes,
    )
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > request.app.state.max_upload_bytes + 1024 * 1024:
        return refusal(413, "too_large", str(TooLarge("video", receiver.max_file)), "video")
    try:
        async for chunk in request.stream():
            # file writes off the event loop, like the services' calls
            await run_in_threadpool(receiver.feed, chunk)
        receiver.finish()
    except TooLarge as exc:
        receiver.form.discard()
        return refusal(413, "too_large", str(exc), exc.field)
    except ValidationError:
        receiver.form.discard()
        raise
    except Exception as exc:  # a cut-off or malformed body
        receiver.form.discard()
        return refusal(
            422, "validation", f"video: the form could not be read ({type(exc).__name__})", "video"
        )
    finally:
        receiver.close()
    try:
        body = await run_in_threadpool(queue_upload, services, receiver.form)
    except Exception:
        await run_in_threadpool(_keep_if_used, services, receiver.form)
        raise
    if body["jobs"]:
        wake_engine(request, "a video came in through the API")
    return JSONResponse(jsonable(body), status_code=201)


def jsonable(value: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(value)
