"""Sidecar files of any shape (domain/watch_folders.parse_sidecar): a Sidecar whose
fields are what the watcher can use, or one ValidationError naming the field; never
anything else."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.watch_folders import (
    AT_RULES,
    MAX_CAPTION,
    SIDECAR_KEYS,
    check_template,
    parse_sidecar,
)
from piper_desktop.store.enums import JobRoute
from tests.fuzz.conftest import FUZZ

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
fields = st.dictionaries(
    st.sampled_from([*SIDECAR_KEYS, "caption ", "extra"]),
    values
    | st.sampled_from(["auto", "now", "2030-01-07T18:00+01:00", "2030-01-07T18:00", "upload_post"])
    | st.lists(st.text(max_size=12), max_size=5),
    max_size=5,
)


def check(text: str, suffix: str) -> None:
    try:
        sidecar = parse_sidecar(text, suffix)
    except ValidationError as exc:
        assert exc.field and "\n" not in str(exc)
        return
    assert sidecar.caption is None or (
        isinstance(sidecar.caption, str) and 0 < len(sidecar.caption) <= MAX_CAPTION
    )
    assert all(
        tag and "#" not in tag and not any(c.isspace() for c in tag) for tag in sidecar.hashtags
    )
    if sidecar.at is not None and sidecar.at not in AT_RULES:
        assert datetime.fromisoformat(sidecar.at).tzinfo is not None
    assert sidecar.route is None or sidecar.route in [r.value for r in JobRoute]


@FUZZ
@given(fields)
@example({"hashtags": "a,b #c"})
@example({"at": "now", "scheduled_date": "auto"})
def test_json_sidecars(data: dict[str, Any]) -> None:
    check(json.dumps(data), ".json")


@FUZZ
@given(st.text(max_size=200))
@example("[1, 2]")
@example("{")
def test_any_text_as_either_sidecar(text: str) -> None:
    check(text, ".json")
    check(text, ".txt")


@FUZZ
@given(st.text(max_size=40))
@example("{stem} {oops}")
@example("{")
@example("{0}")
@example("{name!r}")
def test_caption_templates(template: str) -> None:
    try:
        checked = check_template(template)
    except ValidationError as exc:
        assert exc.field == "caption_template" and "\n" not in str(exc)
        return
    if checked is not None:
        checked.format(stem="s", name="n", folder="f", date="d")
