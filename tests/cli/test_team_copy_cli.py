"""`piper team create URL --from-local` and `piper team export-local` as an operator runs
them: a data dir's own accounts, proxies and keys go to the team (sealed: the server's
dump holds none of them) and come back; nothing the vault held is written over unasked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from piper_desktop.sandbox.postgres import ThrowawayPostgres
from tests.cli.test_team_cli import PASSPHRASE, desks, ok, one_line, piper, team_url  # noqa: F401
from tests.conftest import MASTER_PASSWORD
from tests.store.test_team_secrets import _dump

ACCOUNT_PW = "cli-acct-pw-4417"
PROXY_PW = "cli-proxy-pw-2290"
API_KEY = "cli-upload-post-key-8830"


def _usernames(data_dir: Path) -> list[str]:
    return sorted(
        r["username"] for r in json.loads(ok(piper(data_dir, "accounts", "list", "--json")))
    )


@pytest.mark.local_store
def test_from_local_and_back(
    desks: tuple[Path, Path],  # noqa: F811
    team_url: str,  # noqa: F811
    postgres: ThrowawayPostgres,
    tmp_path: Path,
) -> None:
    a, b = desks
    ok(piper(a, "proxies", "add", f"127.0.0.1:3128:puser:{PROXY_PW}"))
    ok(piper(a, "accounts", "add", "mine", "--account-password-stdin", stdin=ACCOUNT_PW + "\n"))
    ok(piper(a, "settings", "set", "upload_post.api_key", "--stdin", stdin=API_KEY + "\n"))

    made = piper(a, "team", "create", team_url, "--from-local")
    out = ok(made)
    assert "copied to the team: " in out and "1 accounts" in out and "1 proxies" in out
    for secret in (ACCOUNT_PW, PROXY_PW, API_KEY, PASSPHRASE, MASTER_PASSWORD):
        assert secret not in made.stdout + made.stderr
    dump = _dump(postgres, team_url)
    assert "mine" in dump
    for secret in (ACCOUNT_PW, PROXY_PW, API_KEY):
        assert secret not in dump

    # a second desktop sees the copied data, and adds to it
    ok(piper(b, "team", "join", team_url))
    assert _usernames(b) == ["mine"]
    ok(piper(b, "accounts", "add", "added_on_team"))

    # a team database is never copied into a second time
    again = piper(b, "team", "create", team_url, "--from-local")
    assert "already holds a Piper team" in one_line(again)

    # the way back, into a new folder: this data dir stays in the team
    out = ok(piper(a, "team", "export-local", "--to", str(tmp_path / "copy")))
    assert "this data dir stays in the team" in out
    assert _usernames(tmp_path / "copy") == ["added_on_team", "mine"]
    assert _usernames(a) == ["added_on_team", "mine"]  # still the team's

    # into this data dir's vault: it still holds its own rows, so only with --replace
    refused = piper(a, "team", "export-local")
    assert "own vault holds data" in one_line(refused)
    assert "--replace" in refused.stderr
    back = ok(piper(a, "team", "export-local", "--replace"))
    assert "replaced the local vault's" in back and "kept in " in back
    assert "left the team" in back
    assert list(a.glob("piper.*.before-export.bak"))
    assert _usernames(a) == ["added_on_team", "mine"]  # its own vault now, no passphrase:
    alone = piper(a, "accounts", "list", passphrase=None)
    assert "added_on_team" in ok(alone)
    shown = ok(piper(a, "settings", "get", "upload_post.api_key", "--reveal"))
    assert API_KEY in shown
