"""The emulator's MP4 and PNG writers, checked by an independent decoder (FFmpeg via PyAV)."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import pytest

from framecast.emulator.h264 import StreamLayout, nal_unit
from framecast.emulator.mp4 import render_mp4
from framecast.emulator.pattern import MacroblockColours
from framecast.emulator.stills import render_spritesheet, render_thumbnail
from tests.conftest import probe_mp4


@pytest.mark.parametrize(
    ("width", "height", "seconds", "fps", "profile"),
    [
        (1280, 720, 4, Fraction(24), "Constrained Baseline"),
        (720, 1280, 2, Fraction(30), "Constrained Baseline"),
        (
            1920,
            1080,
            1,
            Fraction(25),
            "Constrained Baseline",
        ),  # 1080 is not a multiple of 16: cropped
        (
            1365,
            768,
            1,
            Fraction(24),
            "High 4:4:4 Predictive",
        ),  # odd width (Lumenfall's sora-2 1K size)
        (1183, 887, 1, Fraction(30000, 1001), "High 4:4:4 Predictive"),
        (64, 48, 3, Fraction(10), "Constrained Baseline"),
    ],
)
def test_mp4_matches_the_request(
    width: int, height: int, seconds: int, fps: Fraction, profile: str
) -> None:
    data = render_mp4("a lighthouse", width, height, seconds, fps)

    probe = probe_mp4(data)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.profile == profile
    assert (probe.width, probe.height) == (width, height)
    assert probe.fps == fps
    assert probe.frames == round(seconds * fps)
    assert probe.duration == pytest.approx(float(round(seconds * fps) / fps), abs=0.002)


def test_decoded_samples_are_exactly_the_pattern() -> None:
    colours = MacroblockColours("exact samples")
    probe = probe_mp4(render_mp4("exact samples", 200, 130, 1, Fraction(24)))

    for y in range(0, 130, 7):
        for x in range(0, 200, 9):
            assert probe.first_frame_luma[y * probe.luma_stride + x] == colours.luma_at(x, y, 200)


def test_stream_starts_with_the_moov_box_for_fast_start() -> None:
    data = render_mp4("x", 64, 64, 1, Fraction(24))
    assert data[4:8] == b"ftyp"
    assert data[32:40][4:8] == b"moov"


def test_emulation_prevention() -> None:
    assert (
        nal_unit(3, 7, b"\x00\x00\x01\x00\x00\x00\x05")
        == b"\x67\x00\x00\x03\x01\x00\x00\x03\x00\x05"
    )
    assert nal_unit(3, 7, b"\x01\x02") == b"\x67\x01\x02"


def test_layout_choice() -> None:
    assert StreamLayout.for_size(1280, 720).chroma_format_idc == 1
    assert StreamLayout.for_size(1365, 768).chroma_format_idc == 3
    assert StreamLayout.for_size(3840, 2160).level_idc == 51


def test_png_thumbnail_and_spritesheet_decode() -> None:
    for data, size in [
        (render_thumbnail("x", 640, 360), (640, 360)),
        (render_spritesheet("x", 640, 360, frames=96), (160 * 8, 90)),
        (render_spritesheet("x", 640, 360, frames=3), (160 * 3, 90)),
    ]:
        with av.open(io.BytesIO(data), mode="r") as container:
            frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == size


def test_thumbnail_shows_the_same_picture() -> None:
    colours = MacroblockColours("same picture")
    with av.open(io.BytesIO(render_thumbnail("same picture", 256, 128)), mode="r") as container:
        frame = next(container.decode(video=0)).to_rgb()
    plane = bytes(frame.planes[0])
    stride = frame.planes[0].line_size
    for x, y in [(0, 0), (100, 70), (255, 127)]:
        index = colours.index_at_tile(x // 64, y // 64, 4)
        assert (
            tuple(plane[y * stride + 3 * x : y * stride + 3 * x + 3]) == colours.palette_rgb[index]
        )
