"""Fixtures every layer's tests share: a real SQLCipher vault in a temp data dir."""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# No test may reach beyond loopback, nor pick up an operator's environment.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _var in list(os.environ):
    if _var.startswith("PIPER_") and _var not in ("PIPER_TEST_KEEP",):
        del os.environ[_var]
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
# CI runs as root, where Chromium cannot have its sandbox: the run opts in explicitly
# (setting browser.allow_no_sandbox), as an operator would have to
if hasattr(os, "geteuid") and os.geteuid() == 0:
    os.environ["PIPER_BROWSER_NO_SANDBOX"] = "1"
# keyring must never touch a real keychain during tests
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

from sqlalchemy import create_engine, text  # noqa: E402

from piper_desktop.domain.services import Services  # noqa: E402
from piper_desktop.sandbox.media import write_video  # noqa: E402
from piper_desktop.sandbox.postgres import ThrowawayPostgres  # noqa: E402
from piper_desktop.sandbox.postgres import available as postgres_available  # noqa: E402
from piper_desktop.store.db import Database  # noqa: E402
from piper_desktop.store.migrate import upgrade  # noqa: E402
from piper_desktop.store.pg import PgDatabase  # noqa: E402
from piper_desktop.store.vault import create_vault  # noqa: E402

MASTER_PASSWORD = "correct horse battery staple"
TEAM_PASSPHRASE = "team passphrase of the tests"
TEST_SCRYPT_N = 2**12
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    return directory


@pytest.fixture
def db(data_dir: Path) -> Iterator[Database]:
    database = create_vault(data_dir, MASTER_PASSWORD)
    yield database
    database.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres]:
    """One throwaway PostgreSQL cluster for the run (Debian's postgresql package), with a
    migrated template database that each test's database is cloned from. CI installs
    the package, so there a missing server fails the run instead of skipping."""
    if not postgres_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (scripts/setup.sh --test installs it)")
        pytest.skip("PostgreSQL is not installed (Debian package: postgresql)")
    with ThrowawayPostgres() as cluster:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE piper_template"))
        admin.dispose()
        template = PgDatabase(cluster.url("piper_template"), Path(cluster.root))
        upgrade(template)
        # a cheap scrypt for the tests (the passphrase's cost is not what they test)
        template.create_team_key(TEAM_PASSPHRASE, scrypt_n=TEST_SCRYPT_N)
        template.close()
        yield cluster


_pg_databases = itertools.count(1)


@pytest.fixture
def pg_db(postgres: ThrowawayPostgres, data_dir: Path) -> Iterator[PgDatabase]:
    """A fresh team database on the run's cluster, migrated (a copy of the template)."""
    name = f"piper_test_{next(_pg_databases)}"
    admin = create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE piper_template"))
    database = PgDatabase(postgres.url(name), data_dir)
    database.unlock(TEAM_PASSPHRASE)
    yield database
    database.close()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


STORES = ["sqlcipher", "postgresql"]


def store_services(request: pytest.FixtureRequest) -> Services:
    """Services on the store a parametrised fixture names: the local SQLCipher file
    (the `db` fixture) or a team's PostgreSQL (`pg_db`). Tests marked `local_store`
    (they open the data dir's file themselves: `piper` subprocesses, the vault) run on
    the file only."""
    name = "db" if request.param == "sqlcipher" else "pg_db"
    return Services(request.getfixturevalue(name))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # a local_store test's PostgreSQL variant is left out, not skipped one by one
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_server = callspec is not None and "postgresql" in callspec.id.split("-")
        (dropped if on_server and item.get_closest_marker("local_store") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def services(db: Database) -> Services:
    return Services(db)


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    """A real small video (H.264 in MP4, 1 s, 360x640, 24 fps; content varies per call)."""
    return write_video(tmp_path / "clip.mp4")


def make_video(directory: Path, name: str, size: int | None = None, **shape: Any) -> Path:
    """A real video at directory/name: `size` pads it to that many bytes (sparse);
    `shape` (seconds, width, height, fps, codec) is passed to sandbox.media.write_video."""
    return write_video(directory / name, size=size, **shape)


def piper_cmd() -> list[str]:
    """How tests start the real `piper` program as a subprocess."""
    return [sys.executable, "-m", "piper_desktop"]


def piper_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPER_")}
    if "PIPER_BROWSER_NO_SANDBOX" in os.environ:  # the run's explicit opt-in (as root)
        env["PIPER_BROWSER_NO_SANDBOX"] = os.environ["PIPER_BROWSER_NO_SANDBOX"]
    env["PIPER_DATA_DIR"] = str(data_dir)
    env["PIPER_PASSWORD"] = MASTER_PASSWORD
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env
