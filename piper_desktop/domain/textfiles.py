"""Reading the text files operators hand Piper (accounts, proxies, cookies), and writing
CSV cells that a spreadsheet will not run.

Every problem names its line: a whole-file problem raises `FileFormatError` ("file: line
N: ..."); a problem confined to one row is returned with that row's line, so the rows
around it still import. Nothing here repeats a cell's value in a message, since a cell
may hold a password.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ValidationError
from .fields import shown

# larger files are refused before they are read (the import dialog's limit too)
MAX_FILE_BYTES = 20 * 1024 * 1024
# deeper JSON than this is refused before parsing (Python's parser would hit its
# recursion limit); what Piper reads is at most four levels deep
MAX_JSON_DEPTH = 64
# OWASP CSV injection: a cell starting with one of these is a formula to a spreadsheet
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = (",", "\t", ";")


class FileFormatError(ValidationError):
    """The whole file is unreadable: nothing of it is imported."""

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        super().__init__("file", f"line {line}: {reason}" if line is not None else reason)
        self.line = line
        self.detail = reason  # without the line


# --- bytes to text ----------------------------------------------------------------------
def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a BOM), or UTF-16 with its BOM (Excel's "Unicode text")."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise FileFormatError("not valid UTF-16 text") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise FileFormatError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); "
            "save the file as UTF-8",
            line=line,
        ) from None


def read_text_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A file's text; OSError (missing, unreadable) is left to the caller's one line."""
    file = Path(path)
    if file.stat().st_size > max_bytes:
        raise FileFormatError(f"is larger than {max_bytes // (1024 * 1024)} MB")
    return decode_text(file.read_bytes())


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


# --- JSON -------------------------------------------------------------------------------
_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def looks_like_json(text: str) -> bool:
    """`{...}` or a list of objects/strings; `[::1]:8080` (a proxy) is not JSON."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("{"):
        return True
    if not stripped.startswith("["):
        return False
    rest = stripped[1:].lstrip(" \t\r\n")
    return rest == "" or rest[0] in '{["]'


def _check_depth(text: str) -> None:
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise FileFormatError(
                    f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
                    line=line_of(text, match.start()),
                )
        elif token in "]}":
            depth -= 1


def load_json(text: str) -> Any:
    text = text.lstrip("\ufeff")
    _check_depth(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:  # the depth check above should have caught it
        raise FileFormatError("JSON nested too deeply") from None
    except ValueError:  # int() of a number with thousands of digits
        raise FileFormatError("not valid JSON: a number is too long") from None


def _skip_space(text: str, pos: int) -> int:
    match = _JSON_SPACE.match(text, pos)
    return match.end() if match else pos


def _member_positions(text: str, start: int) -> dict[str, int]:
    """Where each top-level member's value of the JSON object at `start` begins
    (the text is known to parse; a repeated key keeps its last place, as json does)."""
    decoder = json.JSONDecoder()
    positions: dict[str, int] = {}
    pos = _skip_space(text, start + 1)
    while pos < len(text) and text[pos] != "}":
        key, pos = decoder.raw_decode(text, pos)
        pos = _skip_space(text, _skip_space(text, pos) + 1)  # past ':'
        positions[key] = pos
        _value, pos = decoder.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
    return positions


def _element_lines(text: str, start: int, count: int) -> list[int]:
    """The line each element of the JSON array at `start` begins on."""
    decoder = json.JSONDecoder()
    lines: list[int] = []
    pos = _skip_space(text, start + 1)
    line, counted = line_of(text, pos), pos  # counted on from the last item: linear
    while len(lines) < count:
        line += text.count("\n", counted, pos)
        counted = pos
        lines.append(line)
        _value, pos = decoder.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
    return lines


@dataclass(frozen=True)
class JsonItem:
    line: int  # where the item begins
    item: int  # its place in the list, from 1
    value: Any
    shares_line: bool = False  # another item begins on the same line (minified JSON)


def json_items(
    text: str, list_keys: tuple[str, ...], *, single_object: bool = True
) -> list[JsonItem]:
    """The items of a JSON list, or of the list under the first of `list_keys` that a
    top-level object holds (only its own members count, not nested ones). An object
    without one is one item when `single_object`."""
    text = text.lstrip("\ufeff")
    data = load_json(text)
    start = _skip_space(text, 0)
    if isinstance(data, dict):
        key = next((k for k in list_keys if k in data), None)
        if key is None:
            if single_object:
                return [JsonItem(line_of(text, start), 1, data)]
            names = " or ".join(repr(k) for k in list_keys)
            raise FileFormatError(
                f"a JSON object must hold a {names} list", line=line_of(text, start)
            )
        at = _member_positions(text, start)[key]
        if not isinstance(data[key], list):
            raise FileFormatError(f"{key!r} must be a list", line=line_of(text, at))
        items, start = data[key], at
    elif isinstance(data, list):
        items = data
    else:
        raise FileFormatError("expected a JSON list of objects", line=line_of(text, start))
    lines = _element_lines(text, start, len(items))
    shared = {line for line, count in Counter(lines).items() if count > 1}
    return [
        JsonItem(line, n, value, line in shared)
        for n, (line, value) in enumerate(zip(lines, items, strict=True), 1)
    ]


# --- CSV --------------------------------------------------------------------------------
@dataclass
class CsvRow:
    line: int
    values: dict[str, str]


@dataclass
class CsvTable:
    header: list[str]
    rows: list[CsvRow] = field(default_factory=list)
    # (line, field, reason) of rows that could not be read
    problems: list[tuple[int, str, str]] = field(default_factory=list)


def sniff_delimiter(first_line: str) -> str:
    """The delimiter a header line uses: the most frequent of `,` tab `;` (a single
    column has none: `,`)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def first_line(text: str) -> str:
    for line in text.lstrip("\ufeff").split("\n"):
        if line.strip():
            return line.rstrip("\r")
    return ""


def header_cells(line: str) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=sniff_delimiter(line)), [])
    except csv.Error:
        return []
    return [c.strip() for c in cells]


def _unescape(value: str) -> str:
    """Undo `safe_cell` on what Piper's own export wrote."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        return value[1:]
    return value


def _csv_reason(exc: csv.Error) -> str:
    message = str(exc)
    if "field larger than field limit" in message:
        return f"a field is longer than {csv.field_size_limit():,} characters (a quote left open?)"
    if "new-line character seen in unquoted field" in message:
        return "a line break (CR) inside a field without quotes: put the field in quotes"
    return f"not valid CSV: {message}"


def _physical_lines(text: str) -> Iterator[str]:
    # lines end at "\n" only: a lone CR is data, refused below unless it is quoted
    if "\n" not in text and "\r" in text:
        text = text.replace("\r", "\n")  # an old Mac file: CR ends each line
    return iter(io.StringIO(text, newline="\n"))


def read_csv(
    text: str,
    columns: Collection[str],
    aliases: dict[str, str],
    ignore: Collection[str] = (),
) -> CsvTable:
    """A CSV (or tab- or semicolon-separated) table with a header row naming known
    columns (or their aliases); the columns named in `ignore` are read past. Line
    numbers count the header as line 1."""
    text = text.lstrip("\ufeff")
    delimiter = sniff_delimiter(first_line(text))
    reader = csv.reader(_physical_lines(text), delimiter=delimiter)
    header: list[str] | None = None
    table = CsvTable([])
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if header is None:
                raise FileFormatError(_csv_reason(exc), line=start) from None
            table.problems.append((start, "line", _csv_reason(exc)))
            continue
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = _check_header(cells, columns, aliases, start, ignore)
            table.header = header
            continue
        values: dict[str, str] = {}
        extra = cells[len(header) :]
        if any(c.strip() for c in extra):
            table.problems.append((start, "line", f"{len(cells)} values but {len(header)} columns"))
            continue
        unnamed = [
            n
            for n, (name, cell) in enumerate(zip(header, cells, strict=False), 1)
            if not name and cell.strip()
        ]
        if unnamed:
            table.problems.append(
                (start, f"column {unnamed[0]}", "has a value but no name in line 1")
            )
            continue
        for name, cell in zip(header, cells, strict=False):
            if name and name != IGNORED:
                values[name] = _unescape(cell)
        table.rows.append(CsvRow(start, values))
    return table


# a column the operator chose to leave out (an import's mapping)
IGNORED = "\x00ignored"


def _check_header(
    cells: list[str],
    columns: Collection[str],
    aliases: dict[str, str],
    line: int,
    ignore: Collection[str] = (),
) -> list[str]:
    header: list[str] = []
    for cell in cells:
        name = cell.strip()
        if name and name in ignore:
            header.append(IGNORED)
            continue
        canonical = aliases.get(name, name)
        if name and canonical not in columns:
            raise UnknownColumn(name, sorted(columns), line)
        if canonical and canonical in header:
            raise FileFormatError(f"column {name!r} appears twice", line=line)
        header.append(canonical)
    return header


class UnknownColumn(FileFormatError):
    """The header names a column Piper does not know. Its message quotes the name
    (never as `name: ...`, which log masking takes for a secret when the column is
    called like one)."""

    def __init__(self, column: str, known: list[str], line: int = 1) -> None:
        super().__init__(
            f"unknown column {shown(column)}; the columns are: {', '.join(known)}", line=line
        )
        self.column = column


# --- CSV cells written ----------------------------------------------------------------
def safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: one starting like a formula gets a
    leading `'` (OWASP's advice); `read_csv` takes it off again on re-import."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
