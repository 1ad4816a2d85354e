"""Page URLs and element locators of a site, from a versioned data file (never hard-coded).

The bundled file is `resources/sites/<site>.json`:

    {"format": 2, "version": N, "base_url": ..., "urls": {...}, "texts": {...},
     "test_id_attribute": "data-e2e",
     "selectors": {"post_button": [candidate, ...], ...},
     "interrupters": [{"name": ..., "detect": [candidate, ...], "dismiss": [...]}],
     "known_dialogs": [element, ...]}

Each element is a list of candidates, most specific first. A candidate is a CSS (or
Playwright) selector string, or an object naming one user-facing way to find it:
`{"role": "button", "name": "Post", "exact": true}` (also `disabled`, `checked`,
`selected`, `expanded`), `{"label": ...}`, `{"placeholder": ...}`, `{"text": ...}`,
`{"test_id": ...}` or `{"css": ...}`; any of them may add `"within": CSS` to look only
inside that. A plain string where a list is expected is a one-candidate list, so files
in the first format (one selector string per element) still load.

An operator can point Piper at a newer file (setting, or env `PIPER_<SITE>_SELECTORS`);
its keys replace the bundled ones (an element's whole list), so a partial file that fixes
one element works. The base URL comes from the setting, else env (`PIPER_TIKTOK_WEB_BASE`
for TikTok), else the file. Every problem is one `SiteConfigError` line naming the key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from piper_desktop.logs import get_logger
from piper_desktop.paths import resource

if TYPE_CHECKING:
    from playwright.async_api import Frame, FrameLocator, Locator, Page

log = get_logger("browser")

FORMATS = (1, 2)
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
KINDS = ("css", "role", "label", "placeholder", "text", "test_id")
ROLE_STATES = ("disabled", "checked", "selected", "expanded")


class SiteConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Candidate:
    """One way to find an element: a CSS selector or a user-facing locator."""

    kind: str
    value: str
    name: str | None = None  # a role's accessible name
    exact: bool = False
    within: str | None = None
    states: tuple[tuple[str, bool], ...] = ()  # role states: ("disabled", False), ...
    test_id_attribute: str = "data-testid"

    def describe(self) -> str:
        if self.kind == "css":
            text = self.value
        elif self.kind == "role":
            text = f"role={self.value}"
            if self.name is not None:
                text += f" name={self.name!r}"
            text += "".join(f" {k}={str(v).lower()}" for k, v in self.states)
        else:
            text = f"{self.kind}={self.value!r}"
        if self.exact and self.kind != "css":
            text += " exact"
        return f"{self.within} >> {text}" if self.within else text

    def with_params(self, params: Mapping[str, str]) -> Candidate:
        if not params:
            return self

        def fill(template: str | None, css: bool) -> str | None:
            if template is None:
                return None
            # str.replace, not format(): CSS may contain braces of its own
            for key, value in params.items():
                template = template.replace(
                    "{" + key + "}", value.replace("'", "\\'") if css else value
                )
            return template

        return replace(
            self,
            value=fill(self.value, self.kind == "css") or "",
            name=fill(self.name, False),
            within=fill(self.within, True),
        )

    def locate(self, root: Page | Frame | FrameLocator | Locator) -> Locator:
        scope: Page | Frame | FrameLocator | Locator = (
            root.locator(self.within) if self.within else root
        )
        if self.kind == "css":
            return scope.locator(self.value)
        if self.kind == "role":
            states = dict(self.states)
            return scope.get_by_role(
                self.value,  # type: ignore[arg-type]  # validated against no list: the site's own word
                name=self.name,
                exact=self.exact or None,
                disabled=states.get("disabled"),
                checked=states.get("checked"),
                selected=states.get("selected"),
                expanded=states.get("expanded"),
            )
        if self.kind == "label":
            return scope.get_by_label(self.value, exact=self.exact)
        if self.kind == "placeholder":
            return scope.get_by_placeholder(self.value, exact=self.exact)
        if self.kind == "text":
            return scope.get_by_text(self.value, exact=self.exact)
        # test ids: the site's attribute (TikTok: data-e2e), without touching Playwright's
        # process-wide test-id setting
        return scope.locator(f"[{self.test_id_attribute}={json.dumps(self.value)}]")


@dataclass(frozen=True)
class Interrupter:
    """An overlay the site puts over the form that a person would just dismiss."""

    name: str
    detect: tuple[Candidate, ...]
    dismiss: tuple[Candidate, ...]


@dataclass(frozen=True)
class SiteConfig:
    name: str
    version: int
    base_url: str
    session_cookie: str
    urls: dict[str, str]
    selectors: dict[str, tuple[Candidate, ...]]
    texts: dict[str, Any] = field(default_factory=dict)
    known_dialogs: tuple[str, ...] = ()
    interrupters: tuple[Interrupter, ...] = ()
    sources: tuple[str, ...] = ()
    format: int = 2

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def url(self, key: str) -> str:
        return self.base_url.rstrip("/") + self.urls[key]

    def path(self, key: str) -> str:
        return urlsplit(self.url(key)).path

    def candidates(self, key: str, **params: str) -> tuple[Candidate, ...]:
        try:
            found = self.selectors[key]
        except KeyError:
            raise SiteConfigError(
                f"selector {key!r} is missing from the {self.name} site file"
            ) from None
        return tuple(c.with_params(params) for c in found)

    def selector(self, key: str, **params: str) -> str:
        """The first CSS candidate of `key` (for code that needs one selector string)."""
        for candidate in self.candidates(key, **params):
            if candidate.kind == "css" and not candidate.within:
                return candidate.value
        raise SiteConfigError(f"selector {key!r} has no CSS candidate in the {self.name} site file")

    def has(self, key: str) -> bool:
        return bool(self.selectors.get(key))


# --- reading and checking the file ---------------------------------------------------------
def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteConfigError(f"site file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteConfigError(f"site file {path} cannot be read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SiteConfigError(
            f"site file {path} is not valid JSON (line {exc.lineno}): {exc.msg}"
        ) from None
    except RecursionError:
        raise SiteConfigError(f"site file {path} is nested too deeply") from None
    if not isinstance(data, dict):
        raise SiteConfigError(f"site file {path} must hold a JSON object")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SiteConfigError(f"site file {path} needs an integer 'version'")
    fmt = data.get("format", 1)
    if fmt not in FORMATS or isinstance(fmt, bool):
        raise SiteConfigError(
            f"site file {path}: 'format' {fmt!r} is not one Piper reads ({FORMATS})"
        )
    for key in ("urls", "selectors", "texts"):
        if key in data and not isinstance(data[key], dict):
            raise SiteConfigError(f"site file {path}: '{key}' must be an object")
    for key, value in (data.get("urls") or {}).items():
        if not isinstance(value, str):
            raise SiteConfigError(f"site file {path}: 'urls.{key}' must be a string")
    for key in ("session_cookie", "base_url", "base_url_env", "test_id_attribute"):
        if key in data and not isinstance(data[key], str):
            raise SiteConfigError(f"site file {path}: '{key}' must be a string")
    dialogs = data.get("known_dialogs", [])
    if not isinstance(dialogs, list) or not all(isinstance(d, str) for d in dialogs):
        raise SiteConfigError(f"site file {path}: 'known_dialogs' must be a list of names")
    if "interrupters" in data and not isinstance(data["interrupters"], list):
        raise SiteConfigError(f"site file {path}: 'interrupters' must be a list")
    return data


def parse_candidate(raw: Any, where: str, test_id_attribute: str) -> Candidate:
    if isinstance(raw, str):
        if not raw.strip():
            raise SiteConfigError(f"{where}: an empty selector")
        return Candidate("css", raw, test_id_attribute=test_id_attribute)
    if not isinstance(raw, dict):
        raise SiteConfigError(
            f"{where}: a candidate is a selector string or an object, not {type(raw).__name__}"
        )
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        raise SiteConfigError(f"{where}: a candidate names exactly one of {', '.join(KINDS)}")
    kind = kinds[0]
    allowed = {kind, "exact", "within"} | ({"name", *ROLE_STATES} if kind == "role" else set())
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise SiteConfigError(f"{where}: unknown key {unknown[0]!r} for a {kind} candidate")
    value = raw[kind]
    if not isinstance(value, str) or not value.strip():
        raise SiteConfigError(f"{where}.{kind}: must be a non-empty string")
    for key in ("name", "within"):
        if key in raw and not isinstance(raw[key], str):
            raise SiteConfigError(f"{where}.{key}: must be a string")
    for key in ("exact", *ROLE_STATES):
        if key in raw and not isinstance(raw[key], bool):
            raise SiteConfigError(f"{where}.{key}: must be true or false")
    return Candidate(
        kind,
        value,
        name=raw.get("name"),
        exact=bool(raw.get("exact", False)),
        within=raw.get("within") or None,
        states=tuple((k, bool(raw[k])) for k in ROLE_STATES if k in raw),
        test_id_attribute=test_id_attribute,
    )


def parse_element(raw: Any, where: str, test_id_attribute: str) -> tuple[Candidate, ...]:
    if isinstance(raw, str):
        return (parse_candidate(raw, where, test_id_attribute),) if raw.strip() else ()
    if not isinstance(raw, list):
        raise SiteConfigError(
            f"{where}: must be a selector string or a list of candidates, not {type(raw).__name__}"
        )
    return tuple(
        parse_candidate(item, f"{where}[{index}]", test_id_attribute)
        for index, item in enumerate(raw)
    )


def parse_interrupters(raw: list[Any], where: str, test_id_attribute: str) -> list[Interrupter]:
    found = []
    for index, item in enumerate(raw):
        place = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise SiteConfigError(f"{place}: must be an object with name, detect and dismiss")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SiteConfigError(f"{place}.name: must be a non-empty string")
        parts = []
        for key in ("detect", "dismiss"):
            if key not in item:
                raise SiteConfigError(f"{place}.{key}: missing")
            candidates = parse_element(item[key], f"{place}.{key}", test_id_attribute)
            if not candidates:
                raise SiteConfigError(f"{place}.{key}: needs at least one candidate")
            parts.append(candidates)
        found.append(Interrupter(name, parts[0], parts[1]))
    return found


def _merge_interrupters(bundled: list[Any], extra: list[Any]) -> list[Any]:
    """The override's interrupters replace same-named bundled ones and add the rest."""
    names = {i.get("name") for i in extra if isinstance(i, dict)}
    kept = [i for i in bundled if not (isinstance(i, dict) and i.get("name") in names)]
    return kept + list(extra)


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
    fmt = data.get("format", 1)
    where = str(bundled_path)
    if override:
        extra = _read(Path(override))
        where = str(override)
        if extra["version"] < data["version"]:
            log.warning(
                "selectors file %s is version %s, older than the bundled version %s",
                override,
                extra["version"],
                data["version"],
            )
        version = extra["version"]
        fmt = max(fmt, extra.get("format", 1))
        for key in ("urls", "selectors", "texts"):
            data[key] = {**data.get(key, {}), **extra.get(key, {})}
        for key in ("session_cookie", "known_dialogs", "base_url", "test_id_attribute"):
            if key in extra:
                data[key] = extra[key]
        if "interrupters" in extra:
            # checked as the operator wrote them, so an error names their own index
            parse_interrupters(
                extra["interrupters"],
                f"{override}: interrupters",
                str(extra.get("test_id_attribute") or data.get("test_id_attribute") or ""),
            )
            data["interrupters"] = _merge_interrupters(
                data.get("interrupters") or [], extra["interrupters"]
            )
        sources.append(str(override))
    test_ids = str(data.get("test_id_attribute") or "data-testid")
    selectors = {
        str(key): parse_element(raw, f"{where}: selectors.{key}", test_ids)
        for key, raw in (data.get("selectors") or {}).items()
    }
    interrupters = parse_interrupters(
        data.get("interrupters") or [], f"{where}: interrupters", test_ids
    )
    base = base_url or env.get(str(data.get("base_url_env") or "")) or data.get("base_url")
    if not base or not urlsplit(base).scheme or not urlsplit(base).hostname:
        raise SiteConfigError(f"no usable base URL for {name}: {base!r}")
    missing = [f"selectors.{k}" for k in REQUIRED_SELECTORS if not selectors.get(k)]
    missing += [f"urls.{k}" for k in REQUIRED_URLS if not data.get("urls", {}).get(k)]
    if missing:
        raise SiteConfigError(f"{name} site file lacks: {', '.join(missing)}")
    unknown = [d for d in data.get("known_dialogs") or () if d not in selectors]
    if unknown:
        raise SiteConfigError(f"{where}: known_dialogs names {unknown[0]!r}, not a selector")
    return SiteConfig(
        name=name,
        version=version,
        base_url=base.rstrip("/"),
        session_cookie=str(data.get("session_cookie") or "sessionid"),
        urls=dict(data["urls"]),
        selectors=selectors,
        texts=dict(data.get("texts") or {}),
        known_dialogs=tuple(data.get("known_dialogs") or ()),
        interrupters=tuple(interrupters),
        sources=tuple(sources),
        format=int(fmt),
    )
