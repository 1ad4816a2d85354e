"""The creator's settings for the post screen: creator_info asked fresh when the screen
opens (TikTok's Content Sharing Guidelines, point 1), with the avatar picture.

Through the publisher, so that a token near its end is refreshed (and the new pair
saved) exactly as the engine does it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...clients.tiktok import CreatorInfo
from ...domain.services import Services
from ...logs import get_logger
from ..requests import account_ref
from .connect import tiktok_client
from .publisher import TikTokApiPublisher
from .spec import SPEC, publisher_settings

log = get_logger("routes")


@dataclass(frozen=True)
class CreatorView:
    creator: CreatorInfo
    # the avatar's bytes (JPEG/PNG), or None when it could not be had
    avatar: bytes | None


def fetch_creator(services: Services, account_id: int) -> CreatorView:
    """creator_info for the account now, and its avatar. Raises the publisher's
    PublishError (with TikTok's code) when TikTok refuses, e.g. a creator who cannot
    post now (domain/tiktok_compliance.cannot_post_reason reads the code)."""
    account = services.accounts.get(account_id)
    values = {key: services.settings.get(key) for key in SPEC.settings}
    publisher = TikTokApiPublisher(services.accounts, publisher_settings(values))
    ref = account_ref(account)
    try:
        creator = publisher.creator_info(ref)
        avatar = None
        if creator.avatar_url:
            # the same client as every TikTok call: the account's proxy, our TLS settings
            with tiktok_client(services, account) as client:
                avatar = client.avatar(creator.avatar_url)
        if avatar is None:
            log.info("no avatar for account %s", account_id)
        return CreatorView(creator, avatar)
    finally:
        publisher.close()
