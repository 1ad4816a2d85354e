"""Issue 16, item 15: Chromium's sandbox is never dropped behind the operator's back.

As root Chromium cannot start its sandbox: without the opt-in (browser.allow_no_sandbox /
PIPER_BROWSER_NO_SANDBOX) Piper refuses with a message naming it. A sandboxed launch
that fails is an error naming the setting, not a silent relaunch without it. CI runs as
root, so "a sandboxed launch that fails" is real here: Chromium refuses its sandbox as
root; the tests only make Piper believe it is not root, to reach that path."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from piper_desktop.browser import host as host_module
from piper_desktop.browser.host import BrowserHost, BrowserHostError
from piper_desktop.browser.profile import BrowserSettings
from tests.browser.fixtures import chromium_or_skip

pytestmark = pytest.mark.browser

root_only = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="Chromium refuses its sandbox as root"
)


def _settings(_tmp_path: Path, *, allow: bool) -> BrowserSettings:
    # the default temp root: Chromium's singleton socket path must stay short
    return BrowserSettings(
        executable=chromium_or_skip(), force_headless=True, allow_no_sandbox=allow
    )


def _version(host: BrowserHost) -> str:
    async def launch() -> str:
        return (await host.browser()).version

    return host.run(launch, timeout=60)


@root_only
def test_as_root_without_the_opt_in_piper_refuses_and_names_the_setting(tmp_path: Path) -> None:
    with (
        BrowserHost(_settings(tmp_path, allow=False)) as host,
        pytest.raises(BrowserHostError) as caught,
    ):
        _version(host)
    message = str(caught.value)
    assert "as root" in message
    assert "browser.allow_no_sandbox" in message and "PIPER_BROWSER_NO_SANDBOX=1" in message


@root_only
def test_as_root_with_the_opt_in_it_runs_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="piper.browser"),
        BrowserHost(_settings(tmp_path, allow=True)) as host,
    ):
        assert _version(host)
    assert any("WITHOUT its sandbox" in r.getMessage() for r in caplog.records)


@root_only
def test_a_failed_sandboxed_launch_is_an_error_not_a_silent_relaunch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as "a normal user" Piper asks for the sandbox; Chromium (really root) refuses it
    monkeypatch.setattr(host_module, "_running_as_root", lambda: False)
    with (
        BrowserHost(_settings(tmp_path, allow=False)) as host,
        pytest.raises(BrowserHostError) as caught,
    ):
        _version(host)
    message = str(caught.value)
    assert "could not start with its sandbox" in message
    assert "browser.allow_no_sandbox" in message


@root_only
def test_with_the_opt_in_a_failed_sandboxed_launch_falls_back_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(host_module, "_running_as_root", lambda: False)
    with (
        caplog.at_level(logging.WARNING, logger="piper.browser"),
        BrowserHost(_settings(tmp_path, allow=True)) as host,
    ):
        assert _version(host)
    assert any("WITHOUT the sandbox" in r.getMessage() for r in caplog.records)


def test_the_opt_in_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPER_BROWSER_NO_SANDBOX", "0")
    assert BrowserSettings.from_env().allow_no_sandbox is False
    monkeypatch.setenv("PIPER_BROWSER_NO_SANDBOX", "1")
    assert BrowserSettings.from_env().allow_no_sandbox is True
    monkeypatch.delenv("PIPER_BROWSER_NO_SANDBOX")
    assert BrowserSettings.from_env().allow_no_sandbox is False
