"""The site file: elements as ordered candidates, the first format still loading, and
every bad file refused in one line that names the key (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from piper_desktop.browser.sites import Candidate, SiteConfigError, load_site
from piper_desktop.paths import resource


def write(tmp_path: Path, data: Any, name: str = "override.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_bundled_file_lists_candidates_most_specific_first() -> None:
    site = load_site("tiktok", env={})
    assert site.format == 2
    post = site.candidates("post_button_enabled")
    assert post[0] == Candidate(
        "css",
        "button[data-e2e=post_video_button][aria-disabled=false]",
        test_id_attribute="data-e2e",
    )
    assert post[1].kind == "role" and post[1].name == "Post" and post[1].exact
    assert ("disabled", False) in post[1].states
    option = site.candidates("visibility_option", label="Only you")
    assert option[0].value.endswith(":text-is('Only you')")
    assert option[1].describe() == "role=option name='Only you' exact"
    assert {i.name for i in site.interrupters} >= {"cookie banner", "product tour"}
    # every element of the bundled file offers a way to find it besides its first CSS
    for key in ("file_input", "caption_editor", "visibility_toggle", "post_button", "upload_done"):
        assert len(site.candidates(key)) > 1, key


def test_first_format_one_string_per_element_still_loads(tmp_path: Path) -> None:
    bundled = json.loads(resource("sites", "tiktok.json").read_text())
    old = {
        "version": 1,
        "urls": bundled["urls"],
        "selectors": {
            key: (value if isinstance(value, str) else next(v for v in value if isinstance(v, str)))
            for key, value in bundled["selectors"].items()
        },
    }
    site = load_site("tiktok", override_path=write(tmp_path, old), env={})
    assert site.version == 1
    assert site.candidates("post_button") == (
        Candidate("css", "button[data-e2e=post_video_button]", test_id_attribute="data-e2e"),
    )


def test_override_replaces_an_elements_list_and_adds_interrupters(tmp_path: Path) -> None:
    override = {
        "format": 2,
        "version": 9,
        "selectors": {"post_button": [{"test_id": "publish"}, {"text": "Publish", "exact": True}]},
        "interrupters": [
            {
                "name": "survey",
                "detect": ["#survey"],
                "dismiss": [{"role": "button", "name": "Close"}],
            },
            {"name": "cookie banner", "detect": ["#cookies"], "dismiss": ["#cookies .ok"]},
        ],
    }
    site = load_site("tiktok", override_path=write(tmp_path, override), env={})
    first, second = site.candidates("post_button")
    assert first.describe() == "test_id='publish'" and second.describe() == "text='Publish' exact"
    by_name = {i.name: i for i in site.interrupters}
    assert by_name["cookie banner"].detect[0].value == "#cookies", "same name replaces"
    assert "survey" in by_name and "product tour" in by_name


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ({"version": 3, "selectors": {"post_button": 5}}, "selectors.post_button"),
        ({"version": 3, "selectors": {"file_input": [7]}}, "selectors.file_input[0]"),
        (
            {"version": 3, "selectors": {"file_input": [{"rol": "button"}]}},
            "selectors.file_input[0]",
        ),
        (
            {"version": 3, "selectors": {"post_button": [{"role": "button", "exact": "yes"}]}},
            "selectors.post_button[0].exact",
        ),
        ({"version": 3, "selectors": {"caption_editor": []}}, "selectors.caption_editor"),
        ({"version": 3, "format": 7}, "'format'"),
        ({"version": "3"}, "'version'"),
        ({"version": 3, "urls": {"upload": 1}}, "urls.upload"),
        (
            {"version": 3, "interrupters": [{"name": "x", "detect": ["#a"]}]},
            "interrupters[0].dismiss",
        ),
        ({"version": 3, "known_dialogs": ["nothing_like_it"]}, "known_dialogs"),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, override: dict[str, Any], names: str) -> None:
    with pytest.raises(SiteConfigError) as caught:
        load_site("tiktok", override_path=write(tmp_path, override), env={})
    message = str(caught.value)
    assert names in message and "\n" not in message


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "version",
        "format",
        "urls",
        "selectors",
        "texts",
        "interrupters",
        "known_dialogs",
        "base_url",
        "session_cookie",
        "test_id_attribute",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(KEYS, JSON, max_size=6) | JSON)
def test_fuzz_any_json_loads_or_is_refused_in_one_line(tmp_path: Path, data: Any) -> None:
    path = write(tmp_path, data)
    try:
        load_site("tiktok", override_path=path, env={})
    except SiteConfigError as exc:
        assert str(exc) and "\n" not in str(exc) and "Traceback" not in str(exc)


ELEMENTS = st.sampled_from(["post_button", "file_input", "caption_editor", "upload_done"])
BAD_ELEMENT = (
    st.integers()
    | st.floats(allow_nan=False)
    | st.booleans()
    | st.none()
    | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
    | st.lists(st.integers() | st.none() | st.booleans(), min_size=1, max_size=3)
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(element=ELEMENTS, value=BAD_ELEMENT)
def test_fuzz_a_bad_element_is_refused_naming_it(tmp_path: Path, element: str, value: Any) -> None:
    path = write(tmp_path, {"version": 4, "selectors": {element: value}})
    with pytest.raises(SiteConfigError) as caught:
        load_site("tiktok", override_path=path, env={})
    assert f"selectors.{element}" in str(caught.value)


def test_unreadable_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SiteConfigError, match="not found"):
        load_site("tiktok", override_path=tmp_path / "missing.json", env={})
    with pytest.raises(SiteConfigError, match="not valid JSON"):
        load_site("tiktok", override_path=write(tmp_path, "{nope"), env={})
    with pytest.raises(SiteConfigError, match=r"nested too deeply|not valid JSON"):
        load_site("tiktok", override_path=write(tmp_path, "[" * 100_000), env={})
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SiteConfigError):
        load_site("tiktok", override_path=tmp_path / "bin.json", env={})
