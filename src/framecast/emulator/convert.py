"""Lumenfall's "Converted" parameters: what was asked for, and what the model makes.

Seeds 000-002 document the rules: `seconds` (or `duration`) is a number or a
string; `size` is WIDTHxHEIGHT or a ratio; `aspect_ratio` sets the shape and
`resolution` the scale; a WxH size wins over both; "any ratio is accepted and
mapped to the nearest supported value" (7:1 on a model with 4:1 and 8:1 gives
8:1, so ratios compare on a log scale) and so is any tier. Lengths map to the
nearest the model makes. Where the pages say nothing (exact ties), the larger
value wins: the wider ratio, the higher tier, the longer clip.

The video object echoes what was asked (seed 004 shows a sora-2 job with
`seconds: "10"` and `size: "1920x1080"`); the MP4 has what was made.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from framecast.emulator.models import Model, Size
from framecast.emulator.wire import ApiError

T = TypeVar("T")
MAX_SECONDS = 600  # far beyond any model; refuses nonsense rather than clamping it
_WXH = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")
_RATIO = re.compile(r"^\s*(\d{1,5}(?:\.\d+)?)\s*:\s*(\d{1,5}(?:\.\d+)?)\s*$")
_P_TIER = re.compile(r"^(\d{3,4})p$")
_K_TIER = re.compile(r"^(\d{1,2}(?:\.\d+)?)k$")
_MEGAPIXELS = re.compile(r"^(\d{1,3}(?:\.\d+)?)(?:mp)?$")


@dataclass(frozen=True, slots=True)
class Made:
    """What a create asked for (echoed in the video object) and what the model makes."""

    size: Size
    seconds: int
    asked_size: str
    asked_seconds: str


def _invalid(param: str, message: str, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(name, f"Invalid type for '{name}': expected a string.", "invalid_type")
    return value.strip()


def ratio_of(text: str) -> float | None:
    match = _RATIO.match(text)
    if match is None:
        return None
    width, height = float(match[1]), float(match[2])
    return width / height if width > 0 and height > 0 else None


def dimensions_of(text: str) -> tuple[int, int] | None:
    match = _WXH.match(text)
    if match is None:
        return None
    width, height = int(match[1]), int(match[2])
    return (width, height) if 0 < width <= 16384 and 0 < height <= 16384 else None


def tier_megapixels(tier: str) -> float | None:
    """Millions of pixels a tier stands for: 720p (16:9), 1K / 4K (squared), or megapixels."""
    text = tier.strip().lower()
    if match := _P_TIER.match(text):
        short = int(match[1])
        return short * short * 16 / 9 / 1e6
    if match := _K_TIER.match(text):
        return float(match[1]) ** 2 if float(match[1]) > 0 else None
    if (match := _MEGAPIXELS.match(text)) and float(match[1]) > 0:
        return float(match[1])
    dims = dimensions_of(text)
    return None if dims is None else dims[0] * dims[1] / 1e6


def _closest(items: Sequence[T], key: Callable[[T], float], target: float) -> list[T]:
    """The items nearest `target` on a log scale, the largest first."""
    distance = [abs(math.log(key(item) / target)) for item in items]
    best = min(distance)
    near = [i for i, d in zip(items, distance, strict=True) if d - best < 1e-9]
    return sorted(near, key=key, reverse=True)


def _megapixels(size: Size) -> float:
    return size.width * size.height / 1e6


def _size_ratio(size: Size) -> float:
    return ratio_of(size.ratio) or size.width / size.height


def _shaped(model: Model, ratio: float) -> list[Size]:
    best = _closest(model.sizes, _size_ratio, ratio)[0]
    return [s for s in model.sizes if s.ratio == best.ratio]


def _scaled(sizes: list[Size], tier: str) -> Size:
    exact = [s for s in sizes if s.tier.lower() == tier.lower()]
    if exact:
        return exact[0]
    wanted = tier_megapixels(tier)
    assert wanted is not None
    return _closest(sizes, lambda s: tier_megapixels(s.tier) or _megapixels(s), wanted)[0]


def seconds_of(fields: dict[str, Any], model: Model) -> tuple[int, str]:
    """(seconds made, seconds as asked) from `seconds` or its alias `duration`."""
    name = "seconds" if "seconds" in fields else "duration"
    raw = fields.get(name)
    if raw is None:
        return model.default_seconds, str(model.default_seconds)
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip().removesuffix("s"))
        except ValueError:
            value = None
    if value is None or not math.isfinite(value) or not 0 < value <= MAX_SECONDS:
        raise _invalid(name, f"Invalid value for '{name}': {raw!r} is not a number of seconds.")
    asked = raw.strip() if isinstance(raw, str) else f"{value:g}"
    made = min(model.durations, key=lambda d: (abs(d - value), -d))
    return made, asked


def size_of(fields: dict[str, Any], model: Model) -> tuple[Size, str]:
    """(size made, size as asked) from `size`, `aspect_ratio` and `resolution`."""
    size = _text(fields, "size")
    aspect = _text(fields, "aspect_ratio")
    tier = _text(fields, "resolution")
    if size is not None and size.lower() not in ("", "auto"):
        dims = dimensions_of(size)
        if dims is not None:
            exact = model.size(f"{dims[0]}x{dims[1]}")
            if exact is not None:
                return exact, size
            shaped = _shaped(model, dims[0] / dims[1])
            return _closest(shaped, _megapixels, dims[0] * dims[1] / 1e6)[0], size
        if ratio_of(size) is None:
            raise _invalid(
                "size",
                f"Invalid value for 'size': {size!r}. Use WIDTHxHEIGHT (e.g. 1920x1080) "
                "or a ratio (e.g. 16:9).",
            )
        aspect = size  # "W:H format is equivalent to aspect_ratio"
    if aspect is not None and aspect.lower() not in ("", "auto") and ratio_of(aspect) is None:
        raise _invalid(
            "aspect_ratio", f"Invalid value for 'aspect_ratio': {aspect!r} is not a ratio."
        )
    if tier is not None and tier.lower() not in ("", "auto") and tier_megapixels(tier) is None:
        raise _invalid(
            "resolution", f"Invalid value for 'resolution': {tier!r} is not a resolution tier."
        )
    default = model.default
    ratio = ratio_of(aspect) if aspect else None
    shaped = _shaped(model, ratio or _size_ratio(default))
    wanted_tier = tier if tier and tier.lower() != "auto" else default.tier
    made = _scaled(shaped, wanted_tier)
    return made, size if size and size.lower() != "auto" else made.text


def convert(fields: dict[str, Any], model: Model) -> Made:
    seconds, asked_seconds = seconds_of(fields, model)
    size, asked_size = size_of(fields, model)
    return Made(size, seconds, asked_size, asked_seconds)
