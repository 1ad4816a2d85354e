"""A small streaming multipart/form-data reader for the sandbox servers.

The stdlib's `cgi` is gone and `email` wants the whole body in memory; uploads here can
be hundreds of megabytes, so file parts are hashed and counted as they stream past and
never kept. Text fields are kept (up to a limit).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_PARAM = re.compile(r';\s*([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))')


class MultipartError(ValueError):
    pass


@dataclass
class FilePart:
    name: str
    filename: str
    content_type: str | None
    size: int = 0
    sha256: str = ""
    head: bytes = b""  # the first bytes, for a stand-in that checks a file's format


@dataclass
class FormData:
    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[FilePart] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]

    def file(self, name: str) -> FilePart | None:
        return next((f for f in self.files if f.name == name), None)


def boundary_from(content_type: str | None) -> bytes:
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("Content-Type must be multipart/form-data")
    params = _params(content_type)
    boundary = params.get("boundary")
    if not boundary or len(boundary) > 200:
        raise MultipartError("multipart boundary missing")
    return boundary.encode("latin-1")


def _params(header: str) -> dict[str, str]:
    out = {}
    for match in _PARAM.finditer(header):
        key = match.group(1).lower()
        value = match.group(2)
        value = re.sub(r"\\(.)", r"\1", value) if value is not None else match.group(3)
        out[key] = value
    return out


class _PartSink:
    """Hashes and counts a file part; keeps a text field (up to `limit` bytes)."""

    def __init__(self, name: str, is_file: bool, limit: int) -> None:
        self.name = name
        self.size = 0
        self._limit = limit
        self._hasher = hashlib.sha256() if is_file else None
        self._value = bytearray()
        self.head = b""

    def take(self, data: bytes | bytearray) -> None:
        self.size += len(data)
        if self._hasher is not None:
            if len(self.head) < 16:
                self.head += bytes(data[: 16 - len(self.head)])
            self._hasher.update(data)
        elif self.size > self._limit:
            raise MultipartError(f"field {self.name} is too long")
        else:
            self._value.extend(data)

    def digest(self) -> str:
        return self._hasher.hexdigest() if self._hasher is not None else ""

    def text(self) -> str:
        return self._value.decode("utf-8", "replace")


def read_multipart(
    blocks: Iterable[bytes],
    boundary: bytes,
    *,
    max_field: int = 1 << 20,
    max_header: int = 16 * 1024,
) -> FormData:
    """Parse a multipart body given as an iterable of byte blocks."""
    source = iter(blocks)
    buf = bytearray()
    delimiter = b"--" + boundary
    part_end = b"\r\n" + delimiter
    form = FormData()

    def more() -> bool:
        block = next(source, None)
        if block is None:
            return False
        buf.extend(block)
        return True

    # preamble, up to the first delimiter
    while True:
        at = buf.find(delimiter)
        if at >= 0:
            del buf[: at + len(delimiter)]
            break
        if len(buf) > len(delimiter):
            del buf[: len(buf) - len(delimiter)]
        if not more():
            raise MultipartError("no multipart boundary in body")

    while True:
        while len(buf) < 2:
            if not more():
                raise MultipartError("body ended inside a delimiter")
        if buf[:2] == b"--":
            for _ in source:  # drain the epilogue so the connection stays in step
                pass
            return form
        while True:
            at = buf.find(b"\r\n\r\n")
            if at >= 0:
                break
            if len(buf) > max_header:
                raise MultipartError("part headers too long")
            if not more():
                raise MultipartError("body ended inside part headers")
        head = bytes(buf[:at]).decode("utf-8", "replace")
        del buf[: at + 4]
        headers = {}
        for line in head.split("\r\n"):
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        disposition = _params(";" + headers.get("content-disposition", "").split(";", 1)[-1])
        name = disposition.get("name")
        if name is None:
            raise MultipartError("part without a name")
        filename = disposition.get("filename")
        sink = _PartSink(name, filename is not None, max_field)
        keep = len(part_end) - 1
        while True:
            at = buf.find(part_end)
            if at >= 0:
                sink.take(buf[:at])
                del buf[: at + len(part_end)]
                break
            if len(buf) > keep:
                sink.take(buf[: len(buf) - keep])
                del buf[: len(buf) - keep]
            if not more():
                raise MultipartError("body ended inside a part")
        if filename is not None:
            form.files.append(
                FilePart(
                    name,
                    filename,
                    headers.get("content-type"),
                    sink.size,
                    sink.digest(),
                    sink.head,
                )
            )
        else:
            form.fields.append((name, sink.text()))
