"""Finding the browser, settings from the environment, and the site selectors file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from piper_desktop.browser import executable
from piper_desktop.browser.executable import BrowserNotFound, find_browser
from piper_desktop.browser.profile import (
    BrowserSettings,
    ProfileSettings,
    proxy_settings,
    redact_proxy,
)
from piper_desktop.browser.sites import SiteConfigError, load_site


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_browser_override_bundled_and_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = _exe(tmp_path / "my-chrome")
    found = find_browser(env={"PIPER_BROWSER": str(custom), "PATH": ""})
    assert (found.path, found.source) == (custom, "env PIPER_BROWSER")
    assert find_browser(str(custom), env={}).source == "setting"
    with pytest.raises(BrowserNotFound, match="not an executable"):
        find_browser(str(tmp_path / "missing"), env={})

    monkeypatch.setattr(executable, "_LINUX_PATHS", ())
    monkeypatch.setattr(executable, "_MAC_PATHS", ())
    monkeypatch.setattr(executable, "playwright_browsers_dirs", lambda env: [tmp_path / "pw"])
    bundled = _exe(tmp_path / "pw" / "chromium-1200" / "chrome-linux" / "chrome")
    found = find_browser(env={"PATH": ""})
    assert (found.path, found.source) == (bundled, "playwright")
    bundled.unlink()
    with pytest.raises(BrowserNotFound, match=r"apt install chromium\) or set PIPER_BROWSER"):
        find_browser(env={"PATH": str(tmp_path / "empty")})
    system = _exe(tmp_path / "bin" / "chromium")
    found = find_browser(env={"PATH": str(system.parent)})
    assert (found.path, found.source) == (system, "system")


def test_settings_profiles_and_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPER_BROWSER_MAX_CONTEXTS", "7")
    monkeypatch.setenv("PIPER_BROWSER_HEADLESS", "0")
    settings = BrowserSettings.from_env()
    assert settings.max_contexts == 7 and settings.headless is False
    assert BrowserSettings.from_env(max_contexts=2).max_contexts == 2
    options = ProfileSettings(
        user_agent="UA/1",
        locale="fr-FR",
        timezone_id="Europe/Paris",
        latitude=48.85,
        longitude=2.35,
        color_scheme="dark",
    ).context_options()
    assert options["geolocation"]["latitude"] == 48.85 and options["permissions"] == ["geolocation"]
    assert options["timezone_id"] == "Europe/Paris" and options["color_scheme"] == "dark"
    proxy = proxy_settings("http://us%40er:p%3Ass@127.0.0.1:8080")
    assert proxy == {"server": "http://127.0.0.1:8080", "username": "us@er", "password": "p:ss"}
    assert "p:ss" not in redact_proxy("http://user:p%3Ass@127.0.0.1:8080")
    with pytest.raises(ValueError, match="SOCKS5"):
        proxy_settings("socks5://u:p@127.0.0.1:1080")


def test_site_file_base_url_and_override(tmp_path: Path) -> None:
    bundled = load_site("tiktok", env={})
    assert bundled.base_url == "https://www.tiktok.com"
    assert bundled.url("upload") == "https://www.tiktok.com/tiktokstudio/upload"
    from_env = load_site("tiktok", env={"PIPER_TIKTOK_WEB_BASE": "http://127.0.0.1:9999"})
    assert from_env.url("content") == "http://127.0.0.1:9999/tiktokstudio/content"
    override = tmp_path / "newer.json"
    override.write_text(json.dumps({"version": 5, "selectors": {"post_button": "button.new"}}))
    site = load_site("tiktok", override_path=override, env={})
    assert site.version == 5 and site.selector("post_button") == "button.new"
    assert site.selector("visibility_option", label="Only you").endswith(":text-is('Only you')")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"version": 6, "selectors": {"caption_editor": ""}}))
    with pytest.raises(SiteConfigError, match="caption_editor"):
        load_site("tiktok", override_path=bad, env={})
    with pytest.raises(SiteConfigError, match="integer 'version'"):
        bad.write_text("{}")
        load_site("tiktok", override_path=bad, env={})
