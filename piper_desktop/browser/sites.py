"""Page URLs and selectors of a site, from a versioned data file (never hard-coded).

The bundled file is `resources/sites/<site>.json`:
`{"version": N, "base_url": ..., "urls": {...}, "selectors": {...}, "texts": {...}}`.
An operator can point Piper at a newer file (setting, or env `PIPER_<SITE>_SELECTORS`);
its keys replace the bundled ones, so a partial file that fixes one selector works.
The base URL comes from the setting, else env (`PIPER_TIKTOK_WEB_BASE` for TikTok),
else the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from piper_desktop.logs import get_logger
from piper_desktop.paths import resource

log = get_logger("browser")

REQUIRED_SELECTORS = (
    "file_input",
    "upload_status",
    "upload_done",
    "caption_editor",
    "post_button",
    "post_button_enabled",
    "success_modal",
    "captcha",
)
REQUIRED_URLS = ("upload", "content", "login")


class SiteConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SiteConfig:
    name: str
    version: int
    base_url: str
    session_cookie: str
    urls: dict[str, str]
    selectors: dict[str, str]
    texts: dict[str, Any] = field(default_factory=dict)
    known_dialogs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def url(self, key: str) -> str:
        return self.base_url.rstrip("/") + self.urls[key]

    def path(self, key: str) -> str:
        return urlsplit(self.url(key)).path

    def selector(self, key: str, **params: str) -> str:
        try:
            template = self.selectors[key]
        except KeyError:
            raise SiteConfigError(
                f"selector {key!r} is missing from the {self.name} site file"
            ) from None
        # str.replace, not format(): CSS may contain braces of its own
        for name, value in params.items():
            template = template.replace("{" + name + "}", value.replace("'", "\\'"))
        return template

    def has(self, key: str) -> bool:
        return bool(self.selectors.get(key))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteConfigError(f"site file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise SiteConfigError(
            f"site file {path} is not valid JSON (line {exc.lineno}): {exc.msg}"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise SiteConfigError(f"site file {path} needs an integer 'version'")
    for key in ("urls", "selectors", "texts"):
        if key in data and not isinstance(data[key], dict):
            raise SiteConfigError(f"site file {path}: '{key}' must be an object")
    return data


def load_site(
    name: str = "tiktok",
    override_path: str | Path | None = None,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> SiteConfig:
    env = os.environ if env is None else env
    bundled_path = resource("sites", f"{name}.json")
    data = _read(bundled_path)
    sources = [str(bundled_path)]
    override = override_path or env.get(f"PIPER_{name.upper()}_SELECTORS")
    version = data["version"]
    if override:
        extra = _read(Path(override))
        if extra["version"] < data["version"]:
            log.warning(
                "selectors file %s is version %s, older than the bundled version %s",
                override,
                extra["version"],
                data["version"],
            )
        version = extra["version"]
        for key in ("urls", "selectors", "texts"):
            data[key] = {**data.get(key, {}), **extra.get(key, {})}
        for key in ("session_cookie", "known_dialogs", "base_url"):
            if key in extra:
                data[key] = extra[key]
        sources.append(str(override))
    base = base_url or env.get(str(data.get("base_url_env") or "")) or data.get("base_url")
    if not base or not urlsplit(base).scheme or not urlsplit(base).hostname:
        raise SiteConfigError(f"no usable base URL for {name}: {base!r}")
    missing = [k for k in REQUIRED_SELECTORS if not data.get("selectors", {}).get(k)]
    missing += [f"urls.{k}" for k in REQUIRED_URLS if not data.get("urls", {}).get(k)]
    if missing:
        raise SiteConfigError(f"{name} site file lacks: {', '.join(missing)}")
    return SiteConfig(
        name=name,
        version=version,
        base_url=base.rstrip("/"),
        session_cookie=str(data.get("session_cookie") or "sessionid"),
        urls=dict(data["urls"]),
        selectors=dict(data["selectors"]),
        texts=dict(data.get("texts") or {}),
        known_dialogs=tuple(data.get("known_dialogs") or ()),
        sources=tuple(sources),
    )
