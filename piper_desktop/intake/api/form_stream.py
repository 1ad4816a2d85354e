"""A multipart form read as it arrives: the file goes straight to an owner-only file in
the intake folder, capped in size; the text fields are kept, capped too.

python-multipart's streaming parser does the parsing; FastAPI's own `UploadFile` would
first spool the whole body to the system's temporary folder, past any cap of ours.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from ...domain.errors import ValidationError

FIELD_MAX_BYTES = 64 * 1024
MAX_FIELDS = 64
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}$")


class TooLarge(Exception):
    def __init__(self, field: str, limit: int) -> None:
        super().__init__(
            f"{field}: larger than {limit // (1024 * 1024) or limit} "
            f"{'MB' if limit >= 1024 * 1024 else 'bytes'}"
        )
        self.field = field


@dataclass
class ReceivedForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    file_path: Path | None = None
    file_name: str = ""
    file_size: int = 0

    def first(self, *names: str) -> str | None:
        for name in names:
            values = self.fields.get(name)
            if values:
                return values[0]
        return None

    def every(self, *names: str) -> list[str]:
        return [value for name in names for value in self.fields.get(name, [])]

    def discard(self) -> None:
        if self.file_path is not None:
            self.file_path.unlink(missing_ok=True)


def boundary_of(content_type: str) -> bytes:
    kind, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise ValidationError("video", "send the form as multipart/form-data")
    return boundary


class FormReceiver:
    """Feed it the body's chunks; `form` holds what arrived."""

    def __init__(self, content_type: str, folder: Path, file_field: str, max_file: int) -> None:
        self.folder = folder
        self.file_field = file_field
        self.max_file = max_file
        self.form = ReceivedForm()
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._name = ""
        self._text: bytearray | None = None
        self._file: BinaryIO | None = None
        self._count = 0
        self.complete = False
        self._parser = MultipartParser(
            boundary_of(content_type),
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_done,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
                "on_end": self._end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        try:
            self._parser.write(chunk)
        except Exception:
            self.close()
            raise

    def finish(self) -> None:
        """The body ended: refuse a form cut off before its closing boundary."""
        if not self.complete:
            self.close()
            raise ValidationError("video", "the form ended before its last part")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # --- parser callbacks ---------------------------------------------------------------------
    def _part_begin(self) -> None:
        self._count += 1
        if self._count > MAX_FIELDS:
            raise ValidationError("form", f"more than {MAX_FIELDS} fields")
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def _headers_done(self) -> None:
        _kind, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if self._name == self.file_field and filename is not None:
            if self.form.file_path is not None:
                raise ValidationError(self.file_field, "send one video")
            name = filename.decode("utf-8", "replace")
            suffix = _SUFFIX.search(name)
            path = self.folder / f"{uuid.uuid4().hex}{suffix.group(0).lower() if suffix else ''}"
            # owner-only from the first byte (the folder is owner-only too)
            self._file = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
            self.form.file_path, self.form.file_name = path, name
            self._text = None
        else:
            self._text = bytearray()

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self.form.file_size += end - start
            if self.form.file_size > self.max_file:
                raise TooLarge(self.file_field, self.max_file)
            self._file.write(data[start:end])
        elif self._text is not None:
            self._text += data[start:end]
            if len(self._text) > FIELD_MAX_BYTES:
                raise ValidationError(self._name or "form", "is too long")

    def _end(self) -> None:
        self.complete = True

    def _part_end(self) -> None:
        if self._file is not None:
            self.close()
        elif self._text is not None:
            try:
                value = self._text.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError(self._name or "form", "is not UTF-8 text") from None
            self.form.fields.setdefault(self._name, []).append(value)
            self._text = None
