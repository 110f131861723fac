"""Video size notation: "WIDTHxHEIGHT" pixels, "W:H" ratios, or "auto"."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

_DIMENSIONS = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")
_RATIO = re.compile(r"^\s*(\d{1,4}(?:\.\d{1,3})?)\s*:\s*(\d{1,4}(?:\.\d{1,3})?)\s*$")
MAX_SIDE = 8192


def dimensions(text: str) -> tuple[int, int] | None:
    """(width, height) of a "WxH" size, or None when `text` is not in that form."""
    match = _DIMENSIONS.match(text)
    return (int(match[1]), int(match[2])) if match else None


def ratio(text: str) -> float | None:
    """width / height of a "W:H" ratio, or None when `text` is not in that form."""
    match = _RATIO.match(text)
    if not match or float(match[2]) == 0 or float(match[1]) == 0:
        return None
    return float(match[1]) / float(match[2])


def normalise(text: str) -> str:
    """Canonical spelling of a size argument; ValueError says what was expected."""
    if text.strip().lower() == "auto":
        return "auto"
    dims = dimensions(text)
    if dims is not None:
        width, height = dims
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise ValueError(f"{text!r}: width and height must be between 1 and {MAX_SIDE} pixels")
        return f"{width}x{height}"
    if ratio(text) is not None:
        left, right = (part.strip() for part in text.split(":"))
        return f"{left}:{right}"
    raise ValueError(f"{text!r} is not a size; use WIDTHxHEIGHT (1280x720), W:H (16:9) or auto")


def nearest_by_ratio(sizes: Iterable[str], target: float) -> str:
    """The size whose shape is closest to `target`, on a log scale (7:1 vs 4:1/8:1 picks 8:1)."""

    def distance(size: str) -> float:
        dims = dimensions(size)
        assert dims is not None
        return abs(math.log(dims[0] / dims[1]) - math.log(target))

    return min(sizes, key=distance)
