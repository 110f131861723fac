"""Lossless WebP stills (thumbnail, spritesheet) of the emulator's picture, standard library only.

`encode_webp` writes a RIFF/WEBP file holding a single ``VP8L`` chunk, following the
WebP Lossless Bitstream Specification (RFC 9649) for the chunk's contents and the
WebP container specification for the RIFF framing. The image is opaque RGB:
alpha_is_used is 0 and every pixel's alpha is 255.

No transforms and no colour cache are used. Pixels are coded with LZ77 backward
references where they pay off cheaply in CPython: a row seen a few rows earlier
(usually the one just above) becomes one copy, runs of equal pixels within a row
become copies of the previous pixel, and everything else is a literal. The five
prefix codes are Huffman codes built from the symbol frequencies.
"""

from __future__ import annotations

import heapq
import re
import struct
from collections import Counter
from collections.abc import Iterable

MAX_DIMENSION = 16384  # 14-bit width-1 and height-1 fields

_SIGNATURE = 0x2F
_NUM_LITERALS = 256
_NUM_LENGTH_CODES = 24
_NUM_DISTANCE_CODES = 40
_MAX_CODE_LENGTH = 15
_MAX_CODE_LENGTH_CODE_LENGTH = 7  # code-length code lengths are 3-bit fields
_CODE_LENGTH_ORDER = (17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
_MAX_COPY = 4096  # the largest length the 24 length prefix codes reach
# Distance codes above 120 are linear distances plus 120; prefix code 39 with all
# 18 extra bits set is the largest code there is, 1048576.
_DISTANCE_OFFSET = 120
_MAX_LINEAR_DISTANCE = 1048576 - _DISTANCE_OFFSET
# Codes 1..120 name small (dx, dy) offsets; these entries of the spec's table are
# the ones straight up, (0, 1) to (0, 7), so a repeated row costs no extra bits.
_ROW_ABOVE_CODES = (1, 5, 13, 23, 35, 55, 73)
_LEFT_PIXEL_CODE = 2  # (1, 0)

# Three or more equal pixels, found in C. The match may start mid-pixel; the
# 3-byte period means the whole pixels inside it are still equal, so trimming it
# to pixel boundaries only ever loses a pixel at either end of a run.
_RUN = re.compile(rb"(...)\1{2,}", re.DOTALL)
_MIN_RUN_BYTES = 9

# A copy token packs its length above the distance code, which needs 21 bits.
_COPY_SHIFT = 21
_DISTANCE_MASK = (1 << _COPY_SHIFT) - 1

# Flushing whole bytes out of the accumulator this often keeps its shifts cheap.
_FLUSH_BITS = 1024

_Token = bytes | int  # literal pixels (packed RGB) or a copy (length << 21 | distance code)


class _BitWriter:
    """Least-significant-bit-first writer, as VP8L reads its bitstream."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.acc = 0
        self.nbits = 0

    def put(self, value: int, nbits: int) -> None:
        self.acc |= value << self.nbits
        self.nbits += nbits
        if self.nbits >= _FLUSH_BITS:
            self.flush()

    def flush(self) -> None:
        nbytes = self.nbits >> 3
        self.chunks.append((self.acc & ((1 << (nbytes * 8)) - 1)).to_bytes(nbytes, "little"))
        self.acc >>= nbytes * 8
        self.nbits -= nbytes * 8

    def getvalue(self) -> bytes:
        self.flush()
        if self.nbits:
            self.chunks.append(self.acc.to_bytes(1, "little"))
            self.acc = self.nbits = 0
        return b"".join(self.chunks)


def _prefix(value: int) -> tuple[int, int, int]:
    """(prefix symbol, extra bit count, extra bits) of an LZ77 length or distance code >= 1."""
    n = value - 1
    if n < 4:
        return n, 0, 0
    high = n.bit_length() - 1
    extra_bits = high - 1
    return 2 * high + ((n >> extra_bits) & 1), extra_bits, n & ((1 << extra_bits) - 1)


def _huffman_lengths(freqs: list[int], limit: int) -> list[int]:
    """Code lengths of a Huffman code for `freqs`, none longer than `limit`.

    Fewer than two used symbols give all-zero lengths: such a code is sent in the
    simple form and its symbol then takes no bits in the stream.
    """
    used = [s for s, f in enumerate(freqs) if f]
    lengths = [0] * len(freqs)
    if len(used) < 2:
        return lengths
    # Raising every weight to a floor flattens the tree; doubling the floor until
    # the depth fits is libwebp's approach and costs little on these alphabets.
    floor = 1
    while True:
        heap = [(max(freqs[s], floor), i) for i, s in enumerate(used)]
        heapq.heapify(heap)
        parent = [0] * (2 * len(used) - 1)
        next_node = len(used)
        while len(heap) > 1:
            w1, n1 = heapq.heappop(heap)
            w2, n2 = heapq.heappop(heap)
            parent[n1] = parent[n2] = next_node
            heapq.heappush(heap, (w1 + w2, next_node))
            next_node += 1
        depth = [0] * next_node
        # Parents are created after their children, so walking down from the root
        # sees every parent's depth before its children need it.
        for node in range(next_node - 2, -1, -1):
            depth[node] = depth[parent[node]] + 1
        if max(depth[: len(used)]) <= limit:
            for i, s in enumerate(used):
                lengths[s] = depth[i]
            return lengths
        floor *= 2


def _canonical_codes(lengths: list[int]) -> list[int]:
    """Canonical codes for `lengths`, bit-reversed because the stream is written LSB first."""
    max_len = max(lengths, default=0)
    count = [0] * (max_len + 1)
    for length in lengths:
        count[length] += 1
    count[0] = 0
    next_code = [0] * (max_len + 2)
    code = 0
    for length in range(1, max_len + 1):
        code = (code + count[length - 1]) << 1
        next_code[length] = code
    codes = [0] * len(lengths)
    for symbol, length in enumerate(lengths):
        if length:
            code = next_code[length]
            next_code[length] += 1
            codes[symbol] = int(f"{code:0{length}b}"[::-1], 2)
    return codes


def _normal_code_lengths(freqs: list[int], limit: int) -> list[int]:
    """Huffman lengths with at least two used symbols, for codes sent in the normal form.

    A normal code with a single used symbol is a special case in decoders, so a
    second symbol with a code of its own is added instead; it is never written.
    """
    used = [s for s, f in enumerate(freqs) if f]
    if len(used) == 1:
        freqs = list(freqs)
        freqs[1 if used[0] == 0 else 0] = 1
    return _huffman_lengths(freqs, limit)


def _run_length_tokens(lengths: list[int]) -> list[tuple[int, int, int]]:
    """Code lengths as (code-length symbol, extra bit count, extra bits), using 16/17/18."""
    tokens: list[tuple[int, int, int]] = []
    i, n = 0, len(lengths)
    while i < n:
        value = lengths[i]
        run = 1
        while i + run < n and lengths[i + run] == value:
            run += 1
        i += run
        if value == 0:
            while run >= 11:
                step = min(run, 138)
                tokens.append((18, 7, step - 11))
                run -= step
            if run >= 3:
                tokens.append((17, 3, run - 3))
                run = 0
            tokens.extend((0, 0, 0) for _ in range(run))
        else:
            # Code 16 repeats the previous non-zero length, so the value goes out once first.
            tokens.append((value, 0, 0))
            run -= 1
            while run >= 3:
                step = min(run, 6)
                tokens.append((16, 2, step - 3))
                run -= step
            tokens.extend((value, 0, 0) for _ in range(run))
    return tokens


def _write_prefix_code(writer: _BitWriter, freqs: list[int]) -> list[int]:
    """Write a prefix code for `freqs` and return the code lengths its symbols are sent with."""
    used = [s for s, f in enumerate(freqs) if f]
    if len(used) <= 2 and all(s < _NUM_LITERALS for s in used):
        # Simple form; a lone symbol (or symbol 0 for an unused code) takes no bits.
        # Decoders differ in how they order two symbols (libwebp by value, FFmpeg
        # as listed), so the smaller goes first and both agree.
        symbols = used or [0]
        writer.put(1, 1)
        writer.put(len(symbols) - 1, 1)
        if symbols[0] < 2:
            writer.put(0, 1)
            writer.put(symbols[0], 1)
        else:
            writer.put(1, 1)
            writer.put(symbols[0], 8)
        if len(symbols) == 2:
            writer.put(symbols[1], 8)
        return _huffman_lengths(freqs, _MAX_CODE_LENGTH)

    lengths = _normal_code_lengths(freqs, _MAX_CODE_LENGTH)
    tokens = _run_length_tokens(lengths)
    # Trailing zero lengths need not be sent if the token count is given instead.
    count = len(tokens)
    while count > 2 and tokens[count - 1][0] in (0, 17, 18):
        count -= 1
    trimmed = count < len(tokens)
    tokens = tokens[:count]

    cl_freqs = [0] * len(_CODE_LENGTH_ORDER)
    for symbol, _, _ in tokens:
        cl_freqs[symbol] += 1
    cl_lengths = _normal_code_lengths(cl_freqs, _MAX_CODE_LENGTH_CODE_LENGTH)
    cl_codes = _canonical_codes(cl_lengths)

    writer.put(0, 1)
    # Trailing zeros in the code-length order may be left out, down to four lengths.
    num_code_lengths = len(_CODE_LENGTH_ORDER)
    while num_code_lengths > 4 and not cl_lengths[_CODE_LENGTH_ORDER[num_code_lengths - 1]]:
        num_code_lengths -= 1
    writer.put(num_code_lengths - 4, 4)
    for symbol in _CODE_LENGTH_ORDER[:num_code_lengths]:
        writer.put(cl_lengths[symbol], 3)
    writer.put(int(trimmed), 1)
    if trimmed:
        length_nbits = 2
        while count - 2 >= 1 << length_nbits:
            length_nbits += 2
        writer.put((length_nbits - 2) // 2, 3)
        writer.put(count - 2, length_nbits)
    for symbol, extra_bits, extra in tokens:
        writer.put(cl_codes[symbol], cl_lengths[symbol])
        if extra_bits:
            writer.put(extra, extra_bits)
    return lengths


def _append_copy(tokens: list[_Token], length: int, distance_code: int) -> None:
    while length > 0:
        step = min(length, _MAX_COPY)
        tokens.append(step << _COPY_SHIFT | distance_code)
        length -= step


def _append_row(tokens: list[_Token], row: bytes) -> None:
    literal_start = 0
    for match in _RUN.finditer(row):
        start = -(-match.start() // 3) * 3
        end = match.end() // 3 * 3
        if end - start < _MIN_RUN_BYTES:
            continue
        # The run's first pixel is a literal for the rest to copy.
        tokens.append(row[literal_start : start + 3])
        _append_copy(tokens, (end - start) // 3 - 1, _LEFT_PIXEL_CODE)
        literal_start = end
    if literal_start < len(row):
        tokens.append(row[literal_start:])


def _tokenise(width: int, height: int, rgb_rows: Iterable[bytes]) -> list[_Token]:
    tokens: list[_Token] = []
    row_bytes = width * 3
    last_seen: dict[bytes, int] = {}
    # Copies of whole rows at the same distance merge into one long copy: the
    # decoder copies pixel by pixel, so a copy may overlap what it produces.
    pending_code, pending_length = 0, 0
    y = -1
    for y, row_in in enumerate(rgb_rows):
        if y >= height:
            raise ValueError(f"more than {height} rows given")
        row = row_in if type(row_in) is bytes else bytes(row_in)
        if len(row) != row_bytes:
            raise ValueError(f"row {y} has {len(row)} bytes, expected {row_bytes}")
        earlier = last_seen.get(row)
        last_seen[row] = y
        code = 0
        if earlier is not None:
            rows_up = y - earlier
            if rows_up <= len(_ROW_ABOVE_CODES):
                code = _ROW_ABOVE_CODES[rows_up - 1]
            elif rows_up * width <= _MAX_LINEAR_DISTANCE:
                code = rows_up * width + _DISTANCE_OFFSET
        if code and code == pending_code:
            pending_length += width
            continue
        if pending_length:
            _append_copy(tokens, pending_length, pending_code)
        pending_code, pending_length = code, width if code else 0
        if not code:
            _append_row(tokens, row)
    if y + 1 != height:
        raise ValueError(f"{y + 1} rows given, expected {height}")
    if pending_length:
        _append_copy(tokens, pending_length, pending_code)
    return tokens


def _encode_tokens(writer: _BitWriter, tokens: list[_Token]) -> None:
    copy_prefixes: dict[int, tuple[int, int, int, int, int, int]] = {}
    green = [0] * (_NUM_LITERALS + _NUM_LENGTH_CODES)
    distance = [0] * _NUM_DISTANCE_CODES
    literals: list[bytes] = []
    for token in tokens:
        if isinstance(token, bytes):
            literals.append(token)
            continue
        prefixes = copy_prefixes.get(token)
        if prefixes is None:
            length_prefix = _prefix(token >> _COPY_SHIFT)
            distance_prefix = _prefix(token & _DISTANCE_MASK)
            prefixes = copy_prefixes[token] = length_prefix + distance_prefix
        green[_NUM_LITERALS + prefixes[0]] += 1
        distance[prefixes[3]] += 1
    pixels = b"".join(literals)
    for value, n in Counter(pixels[1::3]).items():
        green[value] += n
    red = [0] * _NUM_LITERALS
    for value, n in Counter(pixels[0::3]).items():
        red[value] = n
    blue = [0] * _NUM_LITERALS
    for value, n in Counter(pixels[2::3]).items():
        blue[value] = n
    alpha = [0] * _NUM_LITERALS
    alpha[255] = 1  # a single symbol: every pixel's alpha costs no bits

    # The five codes go out in this order: green (with lengths), red, blue, alpha, distance.
    g_len, r_len, b_len, _, d_len = [
        _write_prefix_code(writer, freqs) for freqs in (green, red, blue, alpha, distance)
    ]
    g_code, r_code, b_code, d_code = (_canonical_codes(x) for x in (g_len, r_len, b_len, d_len))
    for token in tokens:
        if isinstance(token, bytes):
            acc, nbits = writer.acc, writer.nbits
            for g, r, b in zip(token[1::3], token[0::3], token[2::3], strict=True):
                gl, rl = g_len[g], r_len[r]
                acc |= (g_code[g] | (r_code[r] | b_code[b] << rl) << gl) << nbits
                nbits += gl + rl + b_len[b]
                if nbits >= _FLUSH_BITS:
                    writer.acc, writer.nbits = acc, nbits
                    writer.flush()
                    acc, nbits = writer.acc, writer.nbits
            writer.acc, writer.nbits = acc, nbits
            continue
        lp, l_extra_bits, l_extra, dp, d_extra_bits, d_extra = copy_prefixes[token]
        symbol = _NUM_LITERALS + lp
        writer.put(g_code[symbol], g_len[symbol])
        writer.put(l_extra, l_extra_bits)
        writer.put(d_code[dp], d_len[dp])
        writer.put(d_extra, d_extra_bits)


def encode_webp(width: int, height: int, rgb_rows: Iterable[bytes]) -> bytes:
    """A lossless WebP of `height` rows of `width * 3` bytes of 8-bit RGB each."""
    if not (1 <= width <= MAX_DIMENSION and 1 <= height <= MAX_DIMENSION):
        raise ValueError(
            f"WebP images are 1 to {MAX_DIMENSION} pixels each way, not {width}x{height}"
        )
    tokens = _tokenise(width, height, rgb_rows)

    writer = _BitWriter()
    writer.put(_SIGNATURE, 8)
    writer.put(width - 1, 14)
    writer.put(height - 1, 14)
    writer.put(0, 1)  # alpha_is_used
    writer.put(0, 3)  # version
    writer.put(0, 1)  # no transforms
    writer.put(0, 1)  # no colour cache
    writer.put(0, 1)  # one prefix code group for the whole image
    _encode_tokens(writer, tokens)
    payload = writer.getvalue()

    padding = b"\x00" * (len(payload) & 1)
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + padding
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
