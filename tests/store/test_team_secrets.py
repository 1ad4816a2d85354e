"""A team's secrets never reach its PostgreSQL server in the clear: each is sealed on
the desktop (AES-256-GCM under the team's data key, wrapped by a scrypt key of the team
passphrase). A `pg_dump` of a database holding every kind of secret shows none of them;
the desktop reads them back as they were."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from piper_desktop.domain.services import Services
from piper_desktop.sandbox.postgres import ThrowawayPostgres, find_bindir
from piper_desktop.store import sealed
from piper_desktop.store.models import JobUpload
from piper_desktop.store.pg import PgDatabase
from piper_desktop.store.sealed import SealedValueDamaged, TeamLocked, WrongTeamPassphrase
from tests.conftest import TEAM_PASSPHRASE, make_video

PLANTED = {
    "proxy": "pr0xy-pass-7731",
    "account": "acc0unt-pass-5523",
    "cookie": "sessionid-cookie-value-9931",
    "access": "act.access-token-4411",
    "refresh": "rft.refresh-token-8812",
    "api_key": "upload-post-api-key-3303",
    "upload": "http://127.0.0.1:9/upload/secret-upload-path-6601",
}


def _plant(services: Services, tmp_path: Path) -> int:
    proxy = services.proxies.add(
        {"host": "127.0.0.1", "port": 3128, "username": "u", "password": PLANTED["proxy"]}
    )
    account = services.accounts.add(
        {"username": "planted", "password": PLANTED["account"], "proxy_id": proxy.id}
    )
    services.accounts.save_storage_state(
        account.id,
        {"cookies": [{"name": "sessionid", "value": PLANTED["cookie"], "domain": "127.0.0.1"}]},
    )
    services.accounts.save(
        account.id,
        "tiktok_api",
        {"access_token": PLANTED["access"], "refresh_token": PLANTED["refresh"]},
    )
    services.settings.set("upload_post.api_key", PLANTED["api_key"])
    media, _ = services.media.add(make_video(tmp_path, "p.mp4"))
    job = services.jobs.add(
        account_id=account.id, media_id=media.id, route="tiktok_api", caption="planted"
    )
    now = datetime.now(UTC)
    with services.db.write() as session:
        session.add(
            JobUpload(
                job_id=job.id,
                receipt="v_pub_1",
                url=PLANTED["upload"],
                expires_at=now + timedelta(hours=1),
                total_bytes=5 * 2**30,  # more than PostgreSQL's INTEGER holds
                chunk_size=64 * 2**20,
                chunk_count=80,
                chunks_acked=0,
                bytes_acked=0,
                resumes=0,
                abandoned=0,
                updated_at=now,
            )
        )
    return account.id


def _dump(postgres: ThrowawayPostgres, url: str) -> str:
    bindir = find_bindir()
    assert bindir is not None
    database = url.rsplit("/", 1)[1]
    dumped = subprocess.run(
        [
            str(bindir / "pg_dump"),
            "-h",
            "127.0.0.1",
            "-p",
            str(postgres.port),
            "-U",
            "piper",
            database,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PGPASSWORD": postgres.password, "PATH": "/usr/bin:/bin"},
    )
    return dumped.stdout


def test_pg_dump_shows_no_planted_secret(
    pg_db: PgDatabase, postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    services = Services(pg_db)  # type: ignore[arg-type]
    account_id = _plant(services, tmp_path)
    dump = _dump(postgres, pg_db.url)
    assert "planted" in dump  # the dump is the real one: plain columns are there
    for name, secret in PLANTED.items():
        assert secret not in dump, name
    assert TEAM_PASSPHRASE not in dump
    assert "sealed1:" in dump
    # the desktop reads every one back
    account = services.accounts.get(account_id)
    assert account.password == PLANTED["account"]
    assert account.proxy is not None and account.proxy.password == PLANTED["proxy"]
    state = services.accounts.storage_state(account_id)
    assert state is not None and state["cookies"][0]["value"] == PLANTED["cookie"]
    assert services.accounts.load(account_id, "tiktok_api")["refresh_token"] == PLANTED["refresh"]
    assert services.settings.get("upload_post.api_key") == PLANTED["api_key"]
    with pg_db.session() as session:
        upload = session.get(JobUpload, 1) or session.query(JobUpload).one()
        assert upload.url == PLANTED["upload"] and upload.total_bytes == 5 * 2**30


def test_the_passphrase_opens_the_key_and_a_change_re_wraps_it(
    pg_db: PgDatabase, tmp_path: Path
) -> None:
    services = Services(pg_db)  # type: ignore[arg-type]
    account_id = _plant(services, tmp_path)
    other = PgDatabase(pg_db.url, tmp_path)  # a second desktop on the same server
    try:
        with pytest.raises(WrongTeamPassphrase):
            other.unlock("not the passphrase")
        with pytest.raises(TeamLocked):  # no key open: a sealed value cannot be read
            _ = Services(other).accounts.get(account_id).password  # type: ignore[arg-type]
        with pytest.raises(TeamLocked):  # nor a secret written in the clear
            Services(other).settings.set("openrouter.api_key", "sk-or-cleartext-1")  # type: ignore[arg-type]
        pg_db.change_passphrase(TEAM_PASSPHRASE, "a new team passphrase")
        with pytest.raises(WrongTeamPassphrase):
            other.unlock(TEAM_PASSPHRASE)
        other.unlock("a new team passphrase")
        assert Services(other).accounts.get(account_id).password == PLANTED["account"]  # type: ignore[arg-type]
    finally:
        other.close()


def test_a_sealed_value_does_not_open_in_another_column(pg_db: PgDatabase, tmp_path: Path) -> None:
    services = Services(pg_db)  # type: ignore[arg-type]
    account_id = _plant(services, tmp_path)
    with pg_db.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET password = (SELECT password FROM proxies LIMIT 1)"))
    with pytest.raises(SealedValueDamaged, match=r"accounts\.password"):
        services.accounts.get(account_id)


def test_values_seal_and_open_with_the_box(tmp_path: Path) -> None:
    box = sealed.SecretBox.new()
    one, two = box.seal("same", "t.c"), box.seal("same", "t.c")
    assert one != two and one.startswith(sealed.PREFIX)  # a fresh nonce each time
    assert box.open(one, "t.c") == "same"
    wrapped = box.wrap("pass phrase", n=2**12)
    again = sealed.SecretBox.unwrap(sealed.WrappedKey.from_json(wrapped.as_json()), "pass phrase")
    assert again.open(two, "t.c") == "same"
