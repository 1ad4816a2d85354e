"""`piper telegram allow|list|deny` as a subprocess: chats stored with their targets,
bad input refused in one line naming the field."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.domain.telegram_chats import allowed_chats
from tests.conftest import piper_cmd, piper_env


def test_allow_list_deny(services: Services, data_dir: Path) -> None:
    services.accounts.add({"username": "carol", "routes": ["upload_post"]})
    services.accounts.add({"username": "dan", "group": "ClientB", "routes": ["upload_post"]})
    env = piper_env(data_dir)

    def piper(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*piper_cmd(), "telegram", *args], capture_output=True, text=True, env=env, timeout=60
        )

    empty = piper("list")
    assert empty.returncode == 0 and "no chat allowed yet" in empty.stdout
    done = piper("allow", "4242", "--account", "Carol")
    assert done.returncode == 0, done.stderr
    assert "telegram chat 4242 allowed: videos go to account tiktok:carol" in done.stdout
    # a group chat's id is negative; argparse must not take it for an option
    group = piper("allow", "-1001234567890", "--group", "clientb", "--route", "upload_post")
    assert group.returncode == 0, group.stderr
    rows = json.loads(piper("list", "--json").stdout)
    assert rows == [
        {"chat_id": -1001234567890, "account": None, "group": "clientb", "route": "upload_post"},
        {"chat_id": 4242, "account": "tiktok:carol", "group": None, "route": None},
    ]
    text = piper("list").stdout
    assert "4242" in text and "clientb" in text

    for args, field in [
        (("allow", "12ab", "--account", "carol"), "chat_id"),
        (("allow", "7", "--account", "nobody"), "account"),
        (("allow", "7", "--group", "empty"), "group"),
        (("allow", "7", "--account", "carol", "--route", "fax"), "route"),
        (("deny", "555"), "chat"),
    ]:
        bad = piper(*args)
        assert bad.returncode != 0
        assert bad.stderr.count("\n") == 1 and field in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr
    both = piper("allow", "7", "--account", "carol", "--group", "clientb")
    assert both.returncode == 2 and "--group" in both.stderr
    assert set(allowed_chats(services.settings)) == {4242, -1001234567890}

    gone = piper("deny", "4242")
    assert gone.returncode == 0 and "no longer served" in gone.stdout
    assert set(allowed_chats(services.settings)) == {-1001234567890}
