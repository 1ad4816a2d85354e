"""Rasterise Piper's app icon to PNG and ICO for installers, with no dependencies.

The design is resources/icons/piper.svg (a paper plane on a violet-to-blue tile); its
shapes are repeated here in a 64-unit square. The outputs are committed; run this again
only when the design changes:
    python packaging/icons/make_icons.py
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
Point = tuple[float, float]
Colour = tuple[int, int, int]

UNIT = 64
# The tile's diagonal gradient, top-left to bottom-right.
TILE_FROM: Colour = (0x7C, 0x6C, 0xF2)
TILE_TO: Colour = (0x3F, 0xA9, 0xF5)
# Shapes drawn in order: the plane's body, then its folded wing.
PLANE: list[Point] = [(14, 31.5), (49, 16), (41.5, 49), (31, 38.5), (24.5, 45), (24, 35.5)]
WING: list[Point] = [(24, 35.5), (49, 16), (31, 38.5)]
SHAPES: list[tuple[list[Point], Colour]] = [(PLANE, (255, 255, 255)), (WING, (0xD9, 0xD4, 0xFF))]
MARGIN, RADIUS = 2 / UNIT, 14 / UNIT
SAMPLES = 4  # per axis, for anti-aliasing


def _in_polygon(x: float, y: float, poly: list[Point]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _in_tile(x: float, y: float) -> bool:
    lo, hi = MARGIN + RADIUS, 1 - MARGIN - RADIUS
    if not (MARGIN <= x <= 1 - MARGIN and MARGIN <= y <= 1 - MARGIN):
        return False
    cx, cy = min(max(x, lo), hi), min(max(y, lo), hi)
    return (x - cx) ** 2 + (y - cy) ** 2 <= RADIUS**2


def _sample(x: float, y: float) -> tuple[Colour, int]:
    if not _in_tile(x, y):
        return (0, 0, 0), 0
    t = min(max((x + y - 2 * MARGIN) / (2 - 4 * MARGIN), 0.0), 1.0)
    colour = tuple(round(a + (b - a) * t) for a, b in zip(TILE_FROM, TILE_TO, strict=True))
    for poly, fill in SHAPES:
        if _in_polygon(x * UNIT, y * UNIT, poly):
            colour = fill
    return colour, 255  # type: ignore[return-value]


def render(size: int) -> bytes:
    """RGBA rows, each prefixed with PNG's filter byte 0."""
    out = bytearray()
    step = 1 / (size * SAMPLES)
    for py in range(size):
        out.append(0)
        for px in range(size):
            r = g = b = a = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px * SAMPLES + sx + 0.5) * step
                    y = (py * SAMPLES + sy + 0.5) * step
                    (cr, cg, cb), ca = _sample(x, y)
                    r, g, b, a = r + cr * ca, g + cg * ca, b + cb * ca, a + ca
            n = SAMPLES * SAMPLES
            out += bytes((r // a, g // a, b // a, a // n) if a else (0, 0, 0, 0))
    return bytes(out)


def png(size: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(render(size), 9))
        + chunk(b"IEND", b"")
    )


def ico(sizes: list[int]) -> bytes:
    """An ICO whose images are PNGs (read by Windows Vista and later, and Inno Setup)."""
    images = [png(s) for s in sizes]
    directory = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries = b""
    for size, image in zip(sizes, images, strict=True):
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return directory + entries + b"".join(images)


def main() -> None:
    (HERE / "piper.png").write_bytes(png(256))
    (HERE / "piper.ico").write_bytes(ico([16, 32, 48, 256]))
    print(f"wrote piper.png and piper.ico in {HERE}")


if __name__ == "__main__":
    main()
