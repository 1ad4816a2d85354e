"""`piper accounts connect --all|--group` (Upload-Post profiles by name, TikTok sign-ins
one after another) and `piper accounts import-cookies FOLDER`, the real `piper` against
the sandbox stand-ins."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from piper_desktop.domain.services import Services
from piper_desktop.sandbox.tiktok_api import TikTokApiSandbox
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from piper_desktop.store.vault import unlock_vault
from tests.conftest import MASTER_PASSWORD, piper_cmd, piper_env


def _piper(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*piper_cmd(), "accounts", *args], capture_output=True, text=True, env=env, timeout=90
    )


def _fresh(data_dir: Path) -> Services:
    return Services(unlock_vault(data_dir, MASTER_PASSWORD))


def test_connect_group_to_upload_post_profiles_by_name(services: Services, data_dir: Path) -> None:
    for name, group in (("anna", "ClientB"), ("Ben", "ClientB"), ("carl", "ClientB"),
                        ("dora", "other")):  # fmt: skip
        services.accounts.add({"username": name, "group": group})
    services.accounts.save(services.accounts.find("carl").id, "upload_post", {"profile": "old"})
    with UploadPostSandbox(profiles={"Anna", "@ben", "dora", "zed"}) as server:
        services.settings.set("upload_post.api_key", server.api_key)  # type: ignore[attr-defined]
        env = piper_env(data_dir, PIPER_UPLOAD_POST_BASE=server.api_base)  # type: ignore[attr-defined]
        # "clientb" is ClientB: any case; carl is connected already and kept as he is
        run = _piper(env, "connect", "--route", "upload_post", "--group", "clientb")
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines() == [
            "@carl  already connected (skipped)",
            "@anna  connected to Upload-Post profile Anna",
            "@Ben  connected to Upload-Post profile @ben",
        ]
        fresh = _fresh(data_dir)
        assert fresh.accounts.load(fresh.accounts.find("anna").id, "upload_post") == {
            "profile": "Anna"
        }
        assert fresh.accounts.load(fresh.accounts.find("carl").id, "upload_post") == {
            "profile": "old"
        }
        assert fresh.accounts.load(fresh.accounts.find("dora").id, "upload_post") == {}
        fresh.db.close()
        # an account no profile names is said, and the run exits 1
        services.accounts.add({"username": "eve"})
        run = _piper(env, "connect", "--route", "upload_post", "--all", "--json")
        assert run.returncode == 1
        lines = {line["account"]: line["state"] for line in json.loads(run.stdout)}
        assert lines == {"anna": "skipped", "Ben": "skipped", "carl": "skipped",
                         "dora": "connected", "eve": "unmatched"}  # fmt: skip
        # a wrong key: one line, no traceback, nothing stored
        services.settings.set("upload_post.api_key", "wrong-key")
        run = _piper(env, "connect", "--route", "upload_post", "--all")
        assert run.returncode != 0 and "Traceback" not in run.stderr
        assert "invalid or missing api key" in run.stderr.lower()
        assert run.stderr.count("\n") == 1


def test_connect_all_to_tiktok_one_after_another(services: Services, data_dir: Path) -> None:
    for name in ("first", "second"):
        services.accounts.add({"username": name})
    services.settings.set("tiktok.client_key", "sandbox-client-key")
    services.settings.set("tiktok.client_secret", "sandbox-client-secret")
    with TikTokApiSandbox() as tiktok:
        tiktok.authorize_as("first")  # type: ignore[attr-defined]
        tiktok.authorize_as("someone_else")  # type: ignore[attr-defined]
        env = piper_env(
            data_dir,
            PIPER_TIKTOK_API_BASE=tiktok.base_url,
            PIPER_TIKTOK_AUTH_URL=tiktok.auth_url,  # type: ignore[attr-defined]
        )
        proc = subprocess.Popen(
            [*piper_cmd(), "accounts", "connect", "--all", "--route", "tiktok_api",
             "--no-browser", "--timeout", "60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        assert proc.stdout is not None
        seen: list[str] = []
        links = 0
        # each account's link is printed in turn; the operator's browser follows it
        for line in proc.stdout:
            seen.append(line.rstrip("\n"))
            if line.startswith("http"):
                links += 1
                assert httpx.get(line.strip(), follow_redirects=True, timeout=30).status_code == 200
            if links == 2 and line.startswith("@second"):
                break
        out, err = proc.communicate(timeout=60)
        seen += out.splitlines()
        assert proc.returncode == 0, err
        assert seen[0].startswith("[1/2] @first: sign in as this creator (waiting up to 60 s)")
        assert "@first  connected as @first" in seen
        assert "@second  connected as @someone_else" in seen
        assert seen.index("@first  connected as @first") < next(
            i for i, line in enumerate(seen) if line.startswith("[2/2] @second")
        )
        # the mismatch is flagged (the single-connect rule), tokens never printed
        assert "@second is now connected to the TikTok creator @someone_else" in err
        fresh = _fresh(data_dir)
        creds = fresh.accounts.load(fresh.accounts.find("second").id, "tiktok_api")
        assert creds["identity_mismatch"] is True
        assert creds["access_token"] not in "\n".join(seen) + err
        fresh.db.close()


def test_connect_refuses_an_account_and_all_at_once(services: Services, data_dir: Path) -> None:
    run = _piper(piper_env(data_dir), "connect", "anna", "--all", "--route", "upload_post")
    assert run.returncode == 2 and "name one account, or give --all or --group" in run.stderr


@pytest.fixture
def cookies(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "cookies"
    folder.mkdir()
    cookie = {"name": "sessionid", "value": "abc123", "domain": ".tiktok.com", "path": "/"}
    (folder / "Anna.json").write_text(json.dumps([cookie]), encoding="utf-8")
    (folder / "@ben.txt").write_text(
        "# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\tben-session\n",
        encoding="utf-8",
    )
    (folder / "carl-cookies.json").write_text("[{not json", encoding="utf-8")
    (folder / "stranger.json").write_text(json.dumps([cookie]), encoding="utf-8")
    (folder / "notes.md").write_text("not a cookies file", encoding="utf-8")
    yield folder


def test_import_cookies_folder_matches_files_to_accounts(
    services: Services, data_dir: Path, cookies: Path
) -> None:
    for name in ("anna", "ben", "carl", "dora"):
        services.accounts.add({"username": name})
    run = _piper(piper_env(data_dir), "import-cookies", str(cookies))
    # a bad file is one line naming it; the others go on
    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        "@anna  imported 1 cookie(s) from Anna.json",
        "@ben  imported 1 cookie(s) from @ben.txt",
        "no cookies file for 1 account(s): @dora",
    ]
    err = run.stderr.splitlines()
    assert len(err) == 2 and "Traceback" not in run.stderr
    assert err[0].startswith("carl-cookies.json: no usable cookie (line 1")
    assert err[1] == "stranger.json: no account of that name"
    fresh = _fresh(data_dir)
    state = fresh.accounts.storage_state(fresh.accounts.find("ben").id)
    assert state is not None and state["cookies"][0]["value"] == "ben-session"
    assert fresh.accounts.storage_state(fresh.accounts.find("carl").id) in (None, {})
    fresh.db.close()
    missing = _piper(piper_env(data_dir), "import-cookies", str(cookies / "nowhere"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr
