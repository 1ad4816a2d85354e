"""`piper sandbox` as an operator starts it: the Studio replica's layout from the option or
the environment, and a bad name refused in one line before anything listens."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from piper_desktop.sandbox.studio_variants import VARIANT_ENV
from tests.conftest import piper_cmd, piper_env


def test_sandbox_starts_the_studio_with_the_chosen_layout(tmp_path: Path) -> None:
    env = piper_env(tmp_path, **{VARIANT_ENV: "plain_editor"})
    with subprocess.Popen(
        [*piper_cmd(), "sandbox", "--only", "tiktok_web", "--studio-variant", "iframe+slow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline().split()
            assert first[0] == "tiktok_web" and "(layout: iframe+slow)" in " ".join(first)
            answer = httpx.get(first[1] + "/__sandbox__/variant").json()
            assert answer["features"] == ["iframe", "slow"], "the option wins over the env"
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    assert proc.returncode == 0


def test_bad_layout_is_one_line_naming_where_it_came_from(tmp_path: Path) -> None:
    env = piper_env(tmp_path, **{VARIANT_ENV: "file_buton"})
    result = subprocess.run(
        [*piper_cmd(), "sandbox", "--only", "tiktok_web"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"piper: {VARIANT_ENV}: unknown studio variant 'file_buton'")
    listed = subprocess.run(
        [*piper_cmd(), "sandbox", "--studio-variants"],
        capture_output=True,
        text=True,
        env=piper_env(tmp_path),
        timeout=60,
    )
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert {"default", "all_different", "file_button", "unknown_modal"} <= set(names)
