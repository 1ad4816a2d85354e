"""No byte sequence of any secret appears anywhere under the data dir."""

from __future__ import annotations

import logging
from pathlib import Path

from piper_desktop.domain import importers
from piper_desktop.domain.services import Services
from piper_desktop.logs import configure_logging, get_logger
from piper_desktop.store.vault import create_vault
from tests.conftest import MASTER_PASSWORD

SECRETS = {
    "account password": "AcctPassw0rd-7731-zeta",
    "proxy password": "ProxyPass-5512-omega",
    "access token": "act.TOKEN-8841-access-kappa",
    "refresh token": "rft.TOKEN-2209-refresh-lambda",
    "api key": "UPLOADPOST-APIKEY-6672-sigma",
    "cookie": "SESSIONCOOKIE-3390-theta",
    "master password": MASTER_PASSWORD,
}


def _scan(directory: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for file in directory.rglob("*"):
        if not file.is_file():
            continue
        data = file.read_bytes()
        for name, secret in SECRETS.items():
            for encoding in ("utf-8", "utf-16-le"):
                if secret.encode(encoding) in data:
                    found.setdefault(name, []).append(file.name)
    return found


def test_no_secret_in_plaintext_under_data_dir(data_dir: Path) -> None:
    configure_logging(data_dir, verbose=True)
    db = create_vault(data_dir, MASTER_PASSWORD)
    services = Services(db)
    proxy = services.proxies.add(
        {"host": "127.0.0.1", "port": 3128, "username": "u", "password": SECRETS["proxy password"]}
    )
    account = services.accounts.add(
        {"username": "alice", "password": SECRETS["account password"], "proxy_id": proxy.id}
    )
    services.accounts.save(
        account.id,
        "tiktok_api",
        {"access_token": SECRETS["access token"], "refresh_token": SECRETS["refresh token"]},
    )
    services.accounts.save_storage_state(
        account.id,
        {"cookies": [{"name": "sessionid", "value": SECRETS["cookie"], "domain": ".tiktok.com"}]},
    )
    services.settings.set("upload_post.api_key", SECRETS["api key"])
    importers.import_accounts(db, f"username,password\nbob,{SECRETS['account password']}\n")
    # a careless log line must be masked too
    log = get_logger("test")
    log.info("token=%s key %s", SECRETS["access token"], SECRETS["api key"])
    log.warning("proxy http://u:%s@127.0.0.1:3128 failed", SECRETS["proxy password"])
    for handler in logging.getLogger("piper").handlers:
        handler.flush()
    # read back while the WAL still holds the recent pages
    assert (
        services.accounts.load(account.id, "tiktok_api")["access_token"] == SECRETS["access token"]
    )
    assert list(data_dir.glob("piper.db-wal")), "WAL file expected while open"
    assert (data_dir / "logs" / "piper.log").stat().st_size > 0
    assert _scan(data_dir) == {}
    db.close()
    assert _scan(data_dir) == {}
