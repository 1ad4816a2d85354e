"""A route's media check: the job's file, probed (cached by size and mtime), against the
platform's limits (domain/media_limits.py). Each route asks it in its readiness check
and again in `submit` before anything is sent, so a file the platform would refuse
costs no attempt and says why."""

from __future__ import annotations

from ..domain.media_limits import TIKTOK_WEB, MediaLimits
from ..domain.mediafile import PROBES, NotMedia
from .base import PublishError, PublishRequest
from .spec import RouteProblem

CODE = "media_unsupported"


def media_refusal(
    request: PublishRequest, limits: MediaLimits | None, max_duration_sec: float | None = None
) -> PublishError | None:
    """Why the platform would refuse this job's file, as a permanent PublishError that
    nothing was posted (the engine may fall back), or None. `limits` None: the file
    must still be a video, whatever the platform."""
    if request.options.source == "url":
        return None  # the platform pulls it; nothing of ours to look at
    if request.photos:
        if limits is TIKTOK_WEB:  # the Studio route uploads videos only
            return PublishError(
                "a photo set posts through the TikTok API or Upload-Post route, not TikTok Studio",
                code=CODE,
                certainly_not_posted=True,
            )
        return None  # the API routes' photos.py check it (domain/photos.py)
    try:
        facts = PROBES.facts(request.media_path)
    except NotMedia as exc:
        reason = f"the job's file is not a video: {exc}"
    else:
        found = limits.problem(facts, max_duration_sec) if limits is not None else None
        if found is None:
            return None
        reason = f"{found} ({request.media_path.name})"
    return PublishError(reason, code=CODE, certainly_not_posted=True)


def media_problem(
    request: PublishRequest, limits: MediaLimits | None, max_duration_sec: float | None = None
) -> RouteProblem | None:
    """The same as a readiness answer: the job waits for the operator."""
    refusal = media_refusal(request, limits, max_duration_sec)
    return RouteProblem(refusal.reason, "job") if refusal is not None else None


def refuse_unfit_media(
    request: PublishRequest, limits: MediaLimits | None, max_duration_sec: float | None = None
) -> None:
    refusal = media_refusal(request, limits, max_duration_sec)
    if refusal is not None:
        raise refusal
