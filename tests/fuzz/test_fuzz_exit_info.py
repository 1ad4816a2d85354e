"""The exit-IP parser and the column guesser on generated input: never an exception,
and what they answer always has the promised shape."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from piper_desktop.clients.proxycheck import parse_exit_info
from piper_desktop.domain.import_columns import (
    ACCOUNT_SYNONYMS,
    guess_mapping,
    header_key,
    normalise_header,
)
from piper_desktop.domain.importers import ACCOUNT_FILE

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(["ip", "query", "origin", "country", "countryCode", "country_code", "x"])
SHAPES = st.dictionaries(KEYS, JSON | st.text(max_size=5), max_size=6)


@given(st.one_of(st.text(max_size=300), JSON.map(json.dumps), SHAPES.map(json.dumps)))
@example('{"ip": "127.0.0.1", "country": "US", "city": "x"}')  # ipinfo.io
@example('{"query": "127.0.0.1", "country": "United States", "countryCode": "US"}')  # ip-api
@example('{"ip": "127.0.0.1", "country": "US", "country_code": "US", "country_name": "x"}')
@example("[" * 5000)
def test_exit_info_never_raises_and_country_is_a_code(text: str) -> None:
    info = parse_exit_info(text)
    assert info.ip is None or (isinstance(info.ip, str) and 0 < len(info.ip) <= 64)
    assert info.country is None or (len(info.country) == 2 and info.country.isupper())


def test_exit_info_of_the_three_services() -> None:
    assert parse_exit_info('{"ip": "127.0.0.2", "country": "jp"}').country == "JP"
    ip_api = parse_exit_info('{"query": "127.0.0.3", "country": "Japan", "countryCode": "JP"}')
    assert (ip_api.ip, ip_api.country) == ("127.0.0.3", "JP")
    ipapi = parse_exit_info('{"ip": "127.0.0.4", "country_name": "Japan", "country_code": "JP"}')
    assert (ipapi.ip, ipapi.country) == ("127.0.0.4", "JP")
    assert parse_exit_info("127.0.0.5\n") == parse_exit_info('"127.0.0.5"')
    assert parse_exit_info('{"origin": "127.0.0.6, 127.0.0.7"}').ip == "127.0.0.6"


HEADERS = st.lists(
    st.one_of(
        st.sampled_from(sorted(ACCOUNT_SYNONYMS) + list(ACCOUNT_FILE.fields)),
        st.text(min_size=1, max_size=20),
    ).map(lambda h: h.upper() if len(h) % 3 == 0 else h),
    max_size=12,
    unique=True,
)


@given(HEADERS)
def test_guess_takes_each_field_once_and_prefers_exact_names(headers: list[str]) -> None:
    mapping = guess_mapping(headers, ACCOUNT_FILE.fields)
    assert set(mapping) <= set(headers)
    assert len(set(mapping.values())) == len(mapping)  # no field twice
    assert all(target in ACCOUNT_FILE.fields for target in mapping.values())
    for header in headers:
        if normalise_header(header) in ACCOUNT_FILE.fields:
            # an exact name always gets its field unless an earlier exact one took it
            assert mapping.get(header) == normalise_header(header) or any(
                normalise_header(h) == normalise_header(header)
                for h in headers[: headers.index(header)]
            )
    assert header_key(headers) == header_key(list(reversed(headers)))
