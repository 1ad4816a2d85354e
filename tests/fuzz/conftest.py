"""Fuzzing every importer and parser of operators' input (issue 16).

Two hypothesis profiles: `fuzz` (the default run: a moderate number of examples per
test) and `fuzz-slow` (many more; `HYPOTHESIS_PROFILE=fuzz-slow pytest tests/fuzz`).
No example database is kept (nothing written to the worktree); a failure prints the
example to reproduce it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from piper_desktop.domain.services import Services
from piper_desktop.store.db import Database
from piper_desktop.store.vault import create_vault
from tests.conftest import MASTER_PASSWORD

_COMMON = {
    "deadline": None,
    "database": None,
    # the vault fixture outlives the examples on purpose: each example imports into the
    # same database, and what an earlier one stored must survive the next one
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
}
settings.register_profile("fuzz", max_examples=40, **_COMMON)
settings.register_profile("fuzz-slow", max_examples=1500, **_COMMON)
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "fuzz"))


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """One real SQLCipher vault per fuzz module, holding rows that must never be lost."""
    directory: Path = tmp_path_factory.mktemp("fuzz-vault")
    database = create_vault(directory, MASTER_PASSWORD)
    services = Services(database)
    services.accounts.add(
        {"username": "keeper_kept", "email": "keeper@example.com", "password": "pw-keeper-1"}
    )
    services.proxies.add(
        {"host": "keeper.proxy.test", "port": 3128, "username": "kept", "password": "pw-proxy-1"}
    )
    yield database
    database.close()


@pytest.fixture(scope="module")
def fuzz_services(fuzz_db: Database) -> Services:
    return Services(fuzz_db)
