"""`piper` with no command parses the GUI's options without the command modules (issue 17,
fast first window); anything else still goes through the full parser, said once."""

from __future__ import annotations

import subprocess

from piper_desktop.cli.main import _gui_args
from tests.conftest import piper_cmd


def test_only_global_options_are_the_gui() -> None:
    args = _gui_args(["--data-dir", "/tmp/x", "--minimized", "-v"])
    assert args is not None and args.command is None
    assert (args.data_dir, args.minimized, args.verbose, args.sandbox) == (
        "/tmp/x",
        True,
        True,
        False,
    )
    for argv in (["accounts", "list"], ["--help"], ["--version"], ["--data-dir"], ["--bogus"]):
        assert _gui_args(argv) is None, argv


def test_a_malformed_option_is_said_once() -> None:
    done = subprocess.run([*piper_cmd(), "--data-dir"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("expected one argument") == 1, done.stderr
    assert "COMMAND" in done.stderr  # the full parser's usage
