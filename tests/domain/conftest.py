"""The domain's tests run on both stores: the local SQLCipher file and a team's PostgreSQL
(tests/conftest.py `store_services`)."""

from __future__ import annotations

import pytest

from piper_desktop.domain.services import Services
from tests.conftest import STORES, store_services


@pytest.fixture(params=STORES)
def services(request: pytest.FixtureRequest) -> Services:
    return store_services(request)
