"""Every field parser and every setting with any value: a ValidationError naming the
field (short, one line) or a clean value; a refused setting keeps what was stored."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from piper_desktop.domain import accounts as acc
from piper_desktop.domain import proxies as prx
from piper_desktop.domain.errors import ValidationError
from piper_desktop.domain.fields import Field, parse_record
from piper_desktop.domain.services import Services
from piper_desktop.domain.settings import DEFS
from tests.fuzz.conftest import FUZZ
from tests.fuzz.strategies import HUGE, json_values, nasty_text

ALL_FIELDS: list[tuple[str, Field]] = [
    *(("account", f) for f in acc.FIELDS.values()),
    *(("proxy", f) for f in prx.FIELDS.values()),
]
values = st.one_of(json_values, st.sampled_from(HUGE), nasty_text)


def assert_clean(value: Any) -> None:
    if isinstance(value, str):
        assert "\x00" not in value
        value.encode("utf-8")  # storable: no lone surrogates
    elif isinstance(value, list):
        for item in value:
            assert_clean(item)


@FUZZ
@given(spec=st.sampled_from(ALL_FIELDS), value=values)
@example(spec=("account", acc.FIELDS["display_name"]), value="Ann\x00")
@example(spec=("account", acc.FIELDS["timezone"]), value="America")
@example(spec=("account", acc.FIELDS["max_posts_per_day"]), value="9" * 5000)
def test_field_parsers(spec: tuple[str, Field], value: Any) -> None:
    _kind, field = spec
    try:
        parsed = field.parse(field.name, value)
    except ValidationError as exc:
        assert exc.field == field.name
        assert len(str(exc)) < 300 and "\n" not in str(exc)
        return
    assert_clean(parsed)


@FUZZ
@given(record=st.dictionaries(st.one_of(st.sampled_from(list(acc.FIELDS)), nasty_text), values))
def test_records(record: dict[str, Any]) -> None:
    try:
        parse_record(acc.FIELDS, record)
    except ValidationError as exc:
        assert exc.field and len(str(exc)) < 300


@FUZZ
@given(key=st.sampled_from(sorted(DEFS)), value=values.filter(lambda v: v is not None))
@example(key="engine.max_workers", value="9" * 5000)
@example(key="openrouter.api_key", value="sk\x00x")
def test_settings_values(fuzz_services: Services, key: str, value: Any) -> None:
    settings = fuzz_services.settings
    before = (settings.source(key), settings.get(key))
    try:
        settings.set(key, value)
    except ValidationError as exc:
        assert exc.field == key and len(str(exc)) < 300
        assert (settings.source(key), settings.get(key)) == before
        return
    assert_clean(settings.get(key))
