"""Stills (thumbnail, spritesheet) of the emulator's picture, standard library only.

The OpenAI spec serves both as `image/webp`, so that is what they are encoded as;
the PNG writer stays for the emulator's own tests of its picture.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable

from framecast.emulator.pattern import MacroblockColours
from framecast.emulator.webp import encode_webp


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(width: int, height: int, rgb_rows: Iterable[bytes]) -> bytes:
    raw = b"".join(b"\x00" + row for row in rgb_rows)  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw, 6)),
            _chunk(b"IEND", b""),
        ]
    )


def render_thumbnail(prompt: str, width: int, height: int) -> bytes:
    return encode_webp(width, height, MacroblockColours(prompt).rgb_rows(width, height))


def render_spritesheet(prompt: str, width: int, height: int, frames: int) -> bytes:
    """A strip of up to 8 reduced frames side by side, as preview scrubbers use."""
    cells = max(1, min(8, frames))
    step = 4
    # The clip is a still, so every cell is the same reduced frame.
    cell_rows = list(MacroblockColours(prompt).rgb_rows(width, height, step))
    cell_w, cell_h = len(cell_rows[0]) // 3, len(cell_rows)
    return encode_webp(cell_w * cells, cell_h, [row * cells for row in cell_rows])
