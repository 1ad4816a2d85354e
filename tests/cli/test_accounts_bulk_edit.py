"""`piper accounts edit` over several accounts or a group: the posting window in bulk."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import piper, ready

__all__ = ["ready"]


def _window(data_dir: Path, name: str) -> tuple[bool, str | None, str | None]:
    shown = json.loads(piper(data_dir, "accounts", "show", name, "--json").stdout)
    return shown["window_enabled"], shown["window_start"], shown["window_end"]


def test_posting_window_for_several_accounts_and_a_group(ready: Path) -> None:
    for name, group in (("ann", "jp"), ("ben", "jp"), ("cat", "us"), ("dan", "us")):
        added = piper(ready, "accounts", "add", name, "--group", group)
        assert added.returncode == 0, added.stderr
    by_name = piper(ready, "accounts", "edit", "ann", "cat", "--posting-window", "09:00-21:00")
    assert by_name.returncode == 0, by_name.stderr
    assert "ann" in by_name.stdout and "cat" in by_name.stdout
    assert _window(ready, "ann") == (True, "09:00", "21:00")
    assert _window(ready, "cat") == (True, "09:00", "21:00")
    assert _window(ready, "ben")[0] is False

    by_group = piper(ready, "accounts", "edit", "--of-group", "us", "--posting-window", "off")
    assert by_group.returncode == 0, by_group.stderr
    assert _window(ready, "cat")[0] is False and _window(ready, "dan")[0] is False
    assert _window(ready, "ann")[0] is True


def test_a_bad_window_is_one_line_and_changes_nothing(ready: Path) -> None:
    assert piper(ready, "accounts", "add", "ann").returncode == 0
    bad = piper(ready, "accounts", "edit", "ann", "--posting-window", "9am-5pm")
    assert bad.returncode != 0
    assert "posting_window" in bad.stderr and "HH:MM-HH:MM" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert _window(ready, "ann")[0] is False
    nobody = piper(ready, "accounts", "edit", "--posting-window", "09:00-21:00")
    assert nobody.returncode == 2 and "--of-group" in nobody.stderr
