"""All domain services over one unlocked database: what the CLI, GUI and engine share."""

from __future__ import annotations

from functools import cached_property

from ..store.db import Database
from .accounts import AccountService
from .analytics import AnalyticsService
from .campaigns import CampaignService
from .events import EngineEvents
from .jobs import JobService
from .media import MediaService
from .profiles import ProfileService
from .proxies import ProxyService
from .settings import SettingsService


class Services:
    def __init__(self, db: Database, events: EngineEvents | None = None) -> None:
        self.db = db
        # one bus for the engine's and the operator's moves (the Engine uses it by default)
        self.events = events or EngineEvents()

    @cached_property
    def accounts(self) -> AccountService:
        return AccountService(self.db)

    @cached_property
    def proxies(self) -> ProxyService:
        return ProxyService(self.db)

    @cached_property
    def profiles(self) -> ProfileService:
        return ProfileService(self.db)

    @cached_property
    def media(self) -> MediaService:
        return MediaService(self.db)

    @cached_property
    def campaigns(self) -> CampaignService:
        return CampaignService(self.db, self.events)

    @cached_property
    def jobs(self) -> JobService:
        return JobService(self.db, self.events)

    @cached_property
    def analytics(self) -> AnalyticsService:
        return AnalyticsService(self.db)

    @cached_property
    def settings(self) -> SettingsService:
        return SettingsService(self.db)

    def close(self) -> None:
        self.db.close()
