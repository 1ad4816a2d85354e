"""`/api/v1/` accounts, proxies, profiles, media, campaigns and caption suggestions.

Each endpoint is one call into a domain service and its `to_dict` (secrets left out);
sync endpoints, so FastAPI runs them on its thread pool and the engine is not held up.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ...domain.services import Services
from .deps import services, wake_engine

router = APIRouter()
Limit = Query(100, ge=1, le=1000, description="at most this many")
Offset = Query(0, ge=0)


@router.get("/accounts", tags=["accounts"])
def list_accounts(
    status: str | None = None,
    group: str | None = None,
    search: str | None = None,
    platform: str | None = None,
    limit: int = Limit,
    offset: int = Offset,
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    filters = {"status": status, "group": group, "search": search, "platform": platform}
    return s.accounts.rows(**{k: v for k, v in filters.items() if v}, limit=limit, offset=offset)


@router.get("/accounts/{ref}", tags=["accounts"])
def get_account(ref: str, s: Services = Depends(services)) -> dict[str, Any]:
    account = s.accounts.find(ref)
    data = s.accounts.to_dict(account)
    data["connected_routes"] = s.accounts.connected_routes(account.id)
    return data


@router.get("/proxies", tags=["proxies"])
def list_proxies(
    status: str | None = None, s: Services = Depends(services)
) -> list[dict[str, Any]]:
    return [s.proxies.to_dict(p) for p in s.proxies.list(status=status)]


@router.get("/proxies/{ref}", tags=["proxies"])
def get_proxy(ref: str, s: Services = Depends(services)) -> dict[str, Any]:
    return s.proxies.to_dict(s.proxies.find(ref))


@router.get("/profiles", tags=["profiles"])
def list_profiles(s: Services = Depends(services)) -> list[dict[str, Any]]:
    return [s.profiles.to_dict(p) for p in s.profiles.list()]


@router.get("/profiles/{ref}", tags=["profiles"])
def get_profile(ref: str, s: Services = Depends(services)) -> dict[str, Any]:
    return s.profiles.to_dict(s.profiles.find(ref))


@router.get("/media", tags=["media"])
def list_media(
    search: str | None = None,
    limit: int = Limit,
    offset: int = Offset,
    s: Services = Depends(services),
) -> list[dict[str, Any]]:
    return [s.media.to_dict(m) for m in s.media.list(search=search, limit=limit, offset=offset)]


@router.get("/media/{ref}", tags=["media"])
def get_media(ref: str, s: Services = Depends(services)) -> dict[str, Any]:
    return s.media.to_dict(s.media.find(ref))


@router.get("/campaigns", tags=["campaigns"])
def list_campaigns(s: Services = Depends(services)) -> list[dict[str, Any]]:
    return [s.campaigns.to_dict(c) for c in s.campaigns.list()]


def _campaign(s: Services, campaign_id: int) -> dict[str, Any]:
    data = s.campaigns.to_dict(s.campaigns.get(campaign_id))
    data["progress"] = s.campaigns.progress(campaign_id)
    return data


@router.get("/campaigns/{ref}", tags=["campaigns"])
def get_campaign(ref: str, s: Services = Depends(services)) -> dict[str, Any]:
    return _campaign(s, s.campaigns.find(ref).id)


@router.post("/campaigns/{ref}/start", tags=["campaigns"])
def start_campaign(ref: str, request: Request, s: Services = Depends(services)) -> dict[str, Any]:
    campaign_id = s.campaigns.find(ref).id
    job_ids = s.campaigns.start(campaign_id)
    wake_engine(request, "a campaign started through the API")
    return {"campaign": _campaign(s, campaign_id), "job_ids": job_ids}


@router.post("/campaigns/{ref}/pause", tags=["campaigns"])
def pause_campaign(ref: str, s: Services = Depends(services)) -> dict[str, Any]:
    campaign_id = s.campaigns.find(ref).id
    s.campaigns.pause(campaign_id)
    return _campaign(s, campaign_id)


@router.post("/campaigns/{ref}/resume", tags=["campaigns"])
def resume_campaign(ref: str, request: Request, s: Services = Depends(services)) -> dict[str, Any]:
    campaign_id = s.campaigns.find(ref).id
    s.campaigns.resume(campaign_id)
    wake_engine(request, "a campaign resumed through the API")
    return _campaign(s, campaign_id)


@router.post("/campaigns/{ref}/cancel", tags=["campaigns"])
def cancel_campaign(ref: str, s: Services = Depends(services)) -> dict[str, Any]:
    campaign_id = s.campaigns.find(ref).id
    cancelled = s.campaigns.cancel(campaign_id)
    return {"campaign": _campaign(s, campaign_id), "jobs_cancelled": cancelled}


class CaptionRequest(BaseModel):
    media: str = Field(description="the video: an id, a sha256 prefix or a path")
    account: str | None = Field(None, description="whose voice: an account id or username")
    n: int = Field(3, ge=1, le=10, description="how many suggestions")


@router.post("/captions", tags=["captions"])
def suggest_captions(body: CaptionRequest, s: Services = Depends(services)) -> dict[str, Any]:
    """Suggestions only (OpenRouter): nothing is stored or posted."""
    from ...clients.captions import caption_suggestions

    media = s.media.find(body.media)
    account = s.accounts.find(body.account) if body.account else None
    return {
        "media_id": media.id,
        "suggestions": caption_suggestions(s, media.id, account=account, n=body.n),
    }
