"""The emulator's lossless WebP writer, checked pixel by pixel by independent decoders.

FFmpeg's own VP8L decoder (via PyAV) always runs; libwebp, the reference
implementation, runs too when the system has it, since the two read some corners
of the format (the order of a two-symbol simple code) differently.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import random
import struct
from collections.abc import Callable

import av
import pytest

from framecast.emulator.pattern import MacroblockColours
from framecast.emulator.webp import _huffman_lengths, encode_webp

Rows = list[bytes]
Decoder = Callable[[bytes], tuple[int, int, Rows]]


def _decode_with_pyav(data: bytes) -> tuple[int, int, Rows]:
    with av.open(io.BytesIO(data), mode="r", format="webp_pipe") as container:
        frame = next(container.decode(video=0))
    rgb = frame.reformat(format="rgb24")
    plane = rgb.planes[0]
    pixels = bytes(plane)
    stride = plane.line_size
    width, height = rgb.width, rgb.height
    return width, height, [pixels[y * stride : y * stride + width * 3] for y in range(height)]


def _load_libwebp() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("webp")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.WebPDecodeRGB.restype = ctypes.c_void_p
    lib.WebPDecodeRGB.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int),
    ]
    lib.WebPFree.argtypes = [ctypes.c_void_p]
    return lib


_LIBWEBP = _load_libwebp()


def _decode_with_libwebp(data: bytes) -> tuple[int, int, Rows]:
    assert _LIBWEBP is not None
    width, height = ctypes.c_int(), ctypes.c_int()
    pointer = _LIBWEBP.WebPDecodeRGB(data, len(data), ctypes.byref(width), ctypes.byref(height))
    assert pointer, "libwebp rejected the file"
    try:
        pixels = ctypes.string_at(pointer, width.value * height.value * 3)
    finally:
        _LIBWEBP.WebPFree(pointer)
    row = width.value * 3
    return width.value, height.value, [pixels[y * row : (y + 1) * row] for y in range(height.value)]


DECODERS = [
    pytest.param(_decode_with_pyav, id="ffmpeg"),
    pytest.param(
        _decode_with_libwebp,
        id="libwebp",
        marks=pytest.mark.skipif(_LIBWEBP is None, reason="libwebp not installed"),
    ),
]


def _noise(width: int, height: int, seed: int) -> Rows:
    rng = random.Random(seed)
    return [rng.randbytes(width * 3) for _ in range(height)]


def _two_colours(width: int, height: int) -> Rows:
    rng = random.Random(7)
    colours = (b"\x00\x00\x00", b"\xff\xfe\xfd")
    return [b"".join(rng.choice(colours) for _ in range(width)) for _ in range(height)]


def _spritesheet(cells: int) -> Rows:
    cell_rows = MacroblockColours("a spritesheet prompt").rgb_rows(1280, 720, 4)
    return [row * cells for row in cell_rows]


def _repeating_rows(width: int, height: int, period: int) -> Rows:
    """Rows that recur `period` rows later: copies from further up than the row above."""
    distinct = _noise(width, period, seed=period)
    return [distinct[y % period] for y in range(height)]


def _long_runs() -> Rows:
    """Runs longer than one copy can carry (4096 pixels), and runs that end mid-row."""
    a, b = b"\x01\x02\x03", b"\x09\x09\x09"
    return [a * 5000, a * 2500 + b * 2500, a * 5000, b + a * 4999]


def _skewed_greens() -> Rows:
    """Green values with Fibonacci counts, whose plain Huffman code is 21 bits deep."""
    rng = random.Random(11)
    pixels = [
        bytes([rng.randrange(256), green * 7, rng.randrange(256)])
        for green, count in enumerate(_fibonacci(22))
        for _ in range(count)
    ]
    rng.shuffle(pixels)
    width = 211
    height = -(-len(pixels) // width)
    pixels += [
        bytes([rng.randrange(256), 21 * 7, rng.randrange(256)])
        for _ in range(width * height - len(pixels))
    ]
    return [b"".join(pixels[y * width : (y + 1) * width]) for y in range(height)]


def _fibonacci(n: int) -> list[int]:
    numbers = [1, 1]
    while len(numbers) < n:
        numbers.append(numbers[-1] + numbers[-2])
    return numbers


IMAGES: dict[str, Callable[[], Rows]] = {
    "1x1": lambda: [b"\x12\x34\x56"],
    "3x5-noise": lambda: _noise(3, 5, seed=1),
    "17x9-noise": lambda: _noise(17, 9, seed=2),
    "1x300-noise": lambda: _noise(1, 300, seed=3),
    "256x256-noise": lambda: _noise(256, 256, seed=4),
    "single-colour": lambda: [b"\x10\x20\x30" * 64] * 48,
    "two-colours": lambda: _two_colours(50, 40),
    "pattern-1280x720": lambda: list(MacroblockColours("some prompt").rgb_rows(1280, 720)),
    "pattern-720x1280": lambda: list(MacroblockColours("some prompt").rgb_rows(720, 1280)),
    "pattern-odd-1183x887": lambda: list(MacroblockColours("odd").rgb_rows(1183, 887)),
    "spritesheet-strip": lambda: _spritesheet(8),
    "rows-repeat-every-2": lambda: _repeating_rows(10, 40, 2),
    "rows-repeat-every-7": lambda: _repeating_rows(10, 40, 7),
    "rows-repeat-every-12": lambda: _repeating_rows(10, 60, 12),
    "long-runs": _long_runs,
    "widest-16384x2": lambda: [b"\x05\x06\x07" * 16384, b"\x05\x06\x07" * 8192 + b"\x00" * 24576],
    "skewed-greens": _skewed_greens,
}


@pytest.mark.parametrize("decode", DECODERS)
@pytest.mark.parametrize("name", IMAGES)
def test_decodes_to_the_same_pixels(name: str, decode: Decoder) -> None:
    rows = IMAGES[name]()
    width, height = len(rows[0]) // 3, len(rows)

    decoded_width, decoded_height, decoded = decode(encode_webp(width, height, iter(rows)))

    assert (decoded_width, decoded_height) == (width, height)
    mismatched = [y for y in range(height) if decoded[y] != rows[y]]
    assert not mismatched, f"{len(mismatched)} rows differ, the first is row {mismatched[0]}"


def test_skewed_greens_need_a_length_limited_code() -> None:
    # Without this the skewed-greens case above would not exercise the 15-bit limit.
    assert max(_huffman_lengths(_fibonacci(22), 99)) > 15


@pytest.mark.parametrize("limit", [7, 15])
def test_length_limited_codes_are_complete(limit: int) -> None:
    lengths = _huffman_lengths([*_fibonacci(30), 0, 0, 5], limit)

    assert max(lengths) <= limit
    assert lengths[30:32] == [0, 0]
    assert sum(2.0**-n for n in lengths if n) == 1.0


@pytest.mark.parametrize(("width", "height"), [(1, 1), (3, 5), (17, 9), (1280, 720), (2, 16384)])
def test_riff_and_vp8l_headers(width: int, height: int) -> None:
    rows = MacroblockColours("headers").rgb_rows(width, height)

    data = encode_webp(width, height, rows)

    assert data[:4] == b"RIFF"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    assert data[8:12] == b"WEBP"
    assert data[12:16] == b"VP8L"
    chunk_size = struct.unpack("<I", data[16:20])[0]
    assert len(data) == 20 + chunk_size + chunk_size % 2  # odd chunks carry one pad byte
    assert data[20] == 0x2F
    fields = int.from_bytes(data[21:25], "little")
    assert fields & 0x3FFF == width - 1
    assert fields >> 14 & 0x3FFF == height - 1
    assert fields >> 28 == 0  # alpha_is_used and version


def test_odd_sized_chunk_is_padded() -> None:
    for seed in range(20):
        data = encode_webp(5, 5, _noise(5, 5, seed))
        chunk_size = struct.unpack("<I", data[16:20])[0]
        if chunk_size % 2:
            assert data[-1] == 0
            assert len(data) == 20 + chunk_size + 1
            return
    pytest.fail("no seed gave an odd-sized chunk")


@pytest.mark.parametrize(
    ("width", "height", "rows"),
    [
        pytest.param(0, 1, [], id="zero-width"),
        pytest.param(1, 0, [], id="zero-height"),
        pytest.param(16385, 1, [b"\0" * 16385 * 3], id="too-wide"),
        pytest.param(1, 16385, [b"\0\0\0"] * 16385, id="too-tall"),
        pytest.param(2, 2, [b"\0" * 6, b"\0" * 5], id="short-row"),
        pytest.param(2, 2, [b"\0" * 7, b"\0" * 6], id="long-row"),
        pytest.param(2, 3, [b"\0" * 6] * 2, id="too-few-rows"),
        pytest.param(2, 1, [b"\0" * 6] * 2, id="too-many-rows"),
    ],
)
def test_bad_input_is_refused(width: int, height: int, rows: Rows) -> None:
    with pytest.raises(ValueError, match=r"\d"):
        encode_webp(width, height, rows)
