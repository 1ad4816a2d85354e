"""intake/sidecar.py: any bytes give a Sidecar or a SidecarError of one line per field."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from piper_desktop.intake.sidecar import JSON_FIELDS, Sidecar, SidecarError, parse_json, parse_txt

values = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=60)
    | st.lists(st.text(max_size=12), max_size=4)
)
objects = st.dictionaries(st.sampled_from([*JSON_FIELDS, "other"]), values, max_size=6)


@given(st.binary(max_size=400))
def test_any_bytes(data: bytes) -> None:
    for parse in (parse_json, parse_txt):
        try:
            result = parse(data, "x.side")
        except SidecarError as exc:
            assert exc.problems and all("\n" not in p for p in exc.problems)
        else:
            assert isinstance(result, Sidecar)


@given(objects)
def test_json_objects(raw: dict[str, object]) -> None:
    try:
        result = parse_json(json.dumps(raw).encode(), "x.json")
    except SidecarError as exc:
        assert all("\n" not in p for p in exc.problems)
        # each bad field is named in its line
        assert len(exc.problems) <= len(raw) + 1
    else:
        assert set(raw) <= set(JSON_FIELDS)
        caption = result.full_caption()
        assert caption is None or isinstance(caption, str)
