"""Mux an H.264 elementary stream into an ISO base media file (MP4).

The movie box comes before the media data ("fast start"), so players can begin
before the whole file has arrived, as with the real providers' MP4s.
"""

from __future__ import annotations

import struct
from fractions import Fraction

from framecast.emulator import h264
from framecast.emulator.pattern import MacroblockColours

_MOVIE_TIMESCALE = 1000
_UNITY_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def _avcc(sps: bytes, pps: bytes, layout: h264.StreamLayout) -> bytes:
    parts = [
        bytes([1, layout.profile_idc, layout.constraint_flags, layout.level_idc, 0xFF, 0xE1]),
        struct.pack(">H", len(sps)),
        sps,
        b"\x01",
        struct.pack(">H", len(pps)),
        pps,
    ]
    if layout.profile_idc not in (66, 77, 88):
        parts.append(bytes([0xFC | layout.chroma_format_idc, 0xF8, 0xF8, 0]))
    return _box(b"avcC", *parts)


def _sample_entry(layout: h264.StreamLayout, sps: bytes, pps: bytes) -> bytes:
    compressor = b"framecast emulator"
    return _box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),
        struct.pack(">HH", layout.width, layout.height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes([len(compressor)]) + compressor.ljust(31, b"\x00"),
        struct.pack(">Hh", 0x0018, -1),
        _avcc(sps, pps, layout),
    )


def _moov(
    layout: h264.StreamLayout,
    sps: bytes,
    pps: bytes,
    sample_sizes: list[int],
    timescale: int,
    sample_delta: int,
    data_offset: int,
) -> bytes:
    count = len(sample_sizes)
    media_duration = count * sample_delta
    movie_duration = round(media_duration * _MOVIE_TIMESCALE / timescale)
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, _MOVIE_TIMESCALE, movie_duration),
        struct.pack(">IH", 0x00010000, 0x0100),
        bytes(10),
        _UNITY_MATRIX,
        bytes(24),
        struct.pack(">I", 2),  # next_track_ID
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        0x3,  # enabled, in movie
        struct.pack(">IIIII", 0, 0, 1, 0, movie_duration),
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0, 0),
        _UNITY_MATRIX,
        struct.pack(">II", layout.width << 16, layout.height << 16),
    )
    mdhd = _full_box(
        b"mdhd",
        0,
        0,
        struct.pack(">IIIIHH", 0, 0, timescale, media_duration, 0x55C4, 0),  # 'und'
    )
    hdlr = _full_box(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
    vmhd = _full_box(b"vmhd", 0, 1, bytes(8))
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), _sample_entry(layout, sps, pps)),
        _full_box(b"stts", 0, 0, struct.pack(">III", 1, count, sample_delta)),
        _full_box(b"stss", 0, 0, struct.pack(">II", 1, 1)),
        _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, count, 1)),
        _full_box(
            b"stsz", 0, 0, struct.pack(">II", 0, count), struct.pack(f">{count}I", *sample_sizes)
        ),
        _full_box(b"stco", 0, 0, struct.pack(">II", 1, data_offset)),
    )
    minf = _box(b"minf", vmhd, dinf, stbl)
    mdia = _box(b"mdia", mdhd, hdlr, minf)
    return _box(b"moov", mvhd, _box(b"trak", tkhd, mdia))


def render_mp4(prompt: str, width: int, height: int, seconds: float, fps: Fraction) -> bytes:
    """A playable clip of `seconds` at `fps`, showing the prompt's pattern."""
    layout = h264.StreamLayout.for_size(width, height)
    sps = h264.sequence_parameter_set(layout, fps)
    pps = h264.picture_parameter_set()
    frames = max(1, round(seconds * fps))
    samples = [h264.idr_picture(layout, MacroblockColours(prompt))]
    samples.extend(h264.skip_picture(layout, n) for n in range(1, frames))
    # Samples are length-prefixed NAL units (avcC lengthSizeMinusOne = 3).
    payloads = [struct.pack(">I", len(s)) + s for s in samples]
    sizes = [len(p) for p in payloads]
    # Keep sample times exact: timescale = fps numerator * 512 ticks.
    timescale = fps.numerator * 512
    sample_delta = fps.denominator * 512
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    moov_size = len(_moov(layout, sps, pps, sizes, timescale, sample_delta, 0))
    data_offset = len(ftyp) + moov_size + 8
    moov = _moov(layout, sps, pps, sizes, timescale, sample_delta, data_offset)
    mdat_size = 8 + sum(sizes)
    return b"".join([ftyp, moov, struct.pack(">I", mdat_size), b"mdat", *payloads])
