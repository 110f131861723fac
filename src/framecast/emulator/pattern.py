"""The picture the emulator renders: tiles whose colours and layout come from the prompt.

Different prompts give visibly different clips, and the same prompt always gives
the same bytes, which keeps downloads and their tests deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

TILE_MBS = 4  # a tile is 4x4 macroblocks, 64x64 pixels
TILE_PX = TILE_MBS * 16


def _rgb_to_ycbcr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.709, limited range, as the stream's VUI declares."""
    r, g, b = (c / 255 for c in rgb)
    y = 16 + 219 * (0.2126 * r + 0.7152 * g + 0.0722 * b)
    cb = 128 + 224 * (-0.1146 * r - 0.3854 * g + 0.5 * b)
    cr = 128 + 224 * (0.5 * r - 0.4542 * g - 0.0458 * b)
    return round(y), round(cb), round(cr)


class MacroblockColours:
    """A mirrored, identicon-like tile pattern seeded by the prompt."""

    def __init__(self, prompt: str) -> None:
        digest = hashlib.sha256(prompt.encode("utf-8")).digest()
        self._bits = digest[16:]
        palette = [
            (64 + digest[i] % 176, 64 + digest[i + 1] % 176, 64 + digest[i + 2] % 176)
            for i in range(0, 12, 3)
        ]
        self.palette_rgb: list[tuple[int, int, int]] = [(24, 24, 32), *palette]
        self.palette_ycbcr = [_rgb_to_ycbcr(c) for c in self.palette_rgb]

    def index_at_tile(self, tile_x: int, tile_y: int, tiles_across: int) -> int:
        mirrored = min(tile_x, tiles_across - 1 - tile_x)
        byte = self._bits[(tile_y * 7 + mirrored * 3) % len(self._bits)]
        return (byte >> (tile_x + tile_y) % 5) % len(self.palette_rgb)

    def _tile_indices(self, tiles_across: int, tile_y: int) -> list[int]:
        return [self.index_at_tile(tx, tile_y, tiles_across) for tx in range(tiles_across)]

    def pcm_blocks(self, mb_cols: int, mb_rows: int, chroma_samples: int) -> list[bytes]:
        """Raw I_PCM sample blocks (luma, Cb, Cr) in macroblock raster order."""
        blocks = [
            bytes([y]) * 256 + bytes([cb]) * chroma_samples + bytes([cr]) * chroma_samples
            for y, cb, cr in self.palette_ycbcr
        ]
        tiles_across = -(-mb_cols // TILE_MBS)
        out: list[bytes] = []
        for mby in range(mb_rows):
            row = self._tile_indices(tiles_across, mby // TILE_MBS)
            out.extend(blocks[row[mbx // TILE_MBS]] for mbx in range(mb_cols))
        return out

    def rgb_rows(self, width: int, height: int, step: int = 1) -> Iterator[bytes]:
        """Rows of packed RGB pixels of the same picture, for PNG stills.

        With `step` > 1 the picture is sampled every `step` pixels, giving a
        reduced copy of a `width` x `height` frame.
        """
        tiles_across = -(-width // TILE_PX)
        pixels = [bytes(c) for c in self.palette_rgb]
        current_tile_row = -1
        row = b""
        for y in range(0, height, step):
            tile_y = y // TILE_PX
            if tile_y != current_tile_row:
                current_tile_row = tile_y
                indices = self._tile_indices(tiles_across, tile_y)
                row = b"".join(pixels[indices[x // TILE_PX]] for x in range(0, width, step))
            yield row

    def luma_at(self, x: int, y: int, width: int) -> int:
        """The luma sample a decoder must produce at pixel (x, y)."""
        tiles_across = -(-width // TILE_PX)
        index = self.index_at_tile(x // TILE_PX, y // TILE_PX, tiles_across)
        return self.palette_ycbcr[index][0]
