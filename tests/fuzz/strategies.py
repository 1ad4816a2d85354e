"""What the fuzz tests throw at the parsers: text with the characters that break
parsers (NUL, CR, quotes, delimiters, BOMs, lone surrogates, huge cells), CSV and JSON
documents built from it, proxy lines, cookies."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from piper_desktop.domain import accounts as acc
from piper_desktop.domain import proxies as prx

NASTY = [
    "\x00", "\r", "\n", "\r\n", "\t", "\x07", "\x1b", "\x7f", '"', "'", ",", ";", ":", "@",
    "[", "]", "{", "}", "#", "=", "+", "-", " ", "\ufeff", "\u2028", "\u0085", "\ud800",
    "\udfff", "é", "ß", "日本", "\U0001f600", "%", "%40", "\\", "//", "::1", "NaN",
]  # fmt: skip
HUGE = ["x" * 140_000, '"' + "y" * 140_000, "9" * 5000]

characters = st.one_of(st.characters(), st.sampled_from([c for c in NASTY if len(c) == 1]))
# pieces of any text and of the nasty strings, joined
nasty_text = st.lists(st.one_of(st.text(max_size=4), st.sampled_from(NASTY)), max_size=8).map(
    "".join
)
# mostly short, now and then one of the huge cells
cell = st.one_of(nasty_text, nasty_text, nasty_text, st.sampled_from(HUGE))

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(nasty_text, inner, max_size=4),
    max_leaves=12,
)


def known_columns(fields: dict[str, Any], aliases: tuple[str, ...] = ()) -> list[str]:
    return [*fields, *aliases]


@st.composite
def csv_documents(draw: st.DrawFn, columns: list[str]) -> str:
    """A CSV-like text: a header of (mostly) known columns, rows of nasty cells, quoted
    or not, with any delimiter and line ending, sometimes ragged."""
    header = draw(
        st.lists(
            st.one_of(st.sampled_from(columns), st.sampled_from(columns), nasty_text),
            min_size=1,
            max_size=6,
        )
    )
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r", "\n"]))
    quote = draw(st.booleans())
    rows = draw(
        st.lists(st.lists(cell, min_size=0, max_size=len(header) + 2), min_size=0, max_size=6)
    )

    def render(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if quote else value

    lines = [delimiter.join(render(h) for h in header)]
    lines += [delimiter.join(render(c) for c in row) for row in rows]
    prefix = draw(st.sampled_from(["", "", "\ufeff", "\n\n"]))
    return prefix + newline.join(lines) + draw(st.sampled_from(["", newline]))


@st.composite
def json_documents(draw: st.DrawFn, keys: list[str], list_keys: tuple[str, ...]) -> str:
    """Lists of records with known keys and any JSON values (or plain JSON noise),
    sometimes under a list key, sometimes with a nested one, any indentation."""
    record = st.dictionaries(st.one_of(st.sampled_from(keys), nasty_text), json_values, max_size=6)
    items = draw(st.lists(st.one_of(record, record, json_values), max_size=6))
    shape = draw(st.sampled_from(["list", "keyed", "nested", "noise"]))
    data: Any
    if shape == "list":
        data = items
    elif shape == "keyed":
        data = {draw(st.sampled_from(list_keys)): items}
    elif shape == "nested":
        key = draw(st.sampled_from(list_keys))
        data = {"meta": {key: draw(json_values)}, key: items}
    else:
        data = draw(json_values)
    indent = draw(st.sampled_from([None, 1, 2]))
    return json.dumps(data, indent=indent, allow_nan=True, ensure_ascii=draw(st.booleans()))


hosts = st.one_of(
    st.sampled_from(["127.0.0.1", "127.0.0.2", "localhost", "[::1]", "::1", "[::1", "h st", ""]),
    st.text(alphabet="abc.-_:[]0123456789", max_size=12),
)
ports = st.one_of(
    st.integers(min_value=-5, max_value=70_000).map(str),
    st.sampled_from(["", "notaport", "80x", "0", "65535", "65536", "99999"]),
)
secrets = st.text(alphabet=characters, min_size=0, max_size=8).map(lambda s: "SECRET-" + s)
users = st.text(alphabet=characters, max_size=8)


@st.composite
def proxy_lines(draw: st.DrawFn) -> tuple[str, str]:
    """(a proxy line in one of the pasted forms, or a broken one; its password)."""
    host, port, user, password = draw(hosts), draw(ports), draw(users), draw(secrets)
    scheme = draw(st.sampled_from(["http", "https", "socks5", "ftp", "HTTP", ""]))
    form = draw(st.integers(min_value=0, max_value=6))
    line = [
        f"{host}:{port}",
        f"{host}:{port}:{user}:{password}",
        f"{user}:{password}@{host}:{port}",
        f"{scheme}://{user}:{password}@{host}:{port}",
        f"{user}:{password}:{host}:{port}",
        f"{scheme}://{host}:{port}/",
        draw(nasty_text) + password,
    ][form]
    return line, password


cookie_keys = [
    "name", "value", "domain", "host", "path", "expires", "expirationDate", "expiry",
    "session", "hostOnly", "httpOnly", "secure", "sameSite",
]  # fmt: skip
cookie_values = st.one_of(
    json_values,
    st.sampled_from([".tiktok.com", "tiktok.com", "/", "lax", "no_restriction", 1e300, -1]),
)
cookies = st.dictionaries(st.sampled_from(cookie_keys), cookie_values, max_size=10)


@st.composite
def netscape_documents(draw: st.DrawFn) -> str:
    fields = st.lists(cell, min_size=0, max_size=8)
    lines = draw(st.lists(fields, max_size=6))
    prefix = draw(st.sampled_from(["", "#HttpOnly_", "# "]))
    return "\n".join(prefix + "\t".join(line) for line in lines)


ACCOUNT_COLUMNS = known_columns(acc.FIELDS, ("tag",))
PROXY_COLUMNS = known_columns(prx.FIELDS)
