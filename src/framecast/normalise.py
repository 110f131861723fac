"""One request, many dialects: matching what the user asked for to what a model offers.

The rules follow Lumenfall's ("How these parameters work", seeds 001/002):

1. `size` WIDTHxHEIGHT is the most specific and always wins; a W:H size is an
   aspect ratio.
2. `aspect_ratio` sets the shape and `resolution` the scale, independently. A
   ratio alone keeps the model's default scale; a tier alone keeps its default
   shape.
3. A ratio, tier, size or duration the model does not offer maps to the nearest
   one it does: ratios and tiers are compared on a log scale (7:1 on a model with
   4:1 and 8:1 gives 8:1), sizes by shape then scale. An exact tie goes to the
   larger value (the wider ratio, the higher tier, the longer clip).

Every change is returned as an Adjustment, so the CLI can say what it did.
For a model the catalog does not know, values pass through untouched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from framecast import sizes
from framecast.catalog import ModelInfo, SizeOption
from framecast.errors import UsageError

T = TypeVar("T")
_P_TIER = re.compile(r"^(\d{3,4})p$")
_K_TIER = re.compile(r"^(\d+(?:\.\d+)?)k$")
_MEGAPIXELS = re.compile(r"^(\d+(?:\.\d+)?)(?:mp)?$")


@dataclass(frozen=True, slots=True)
class Adjustment:
    field: str
    requested: str
    used: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field} {self.requested} -> {self.used} ({self.reason})"


@dataclass(frozen=True, slots=True)
class Shape:
    """The effective size, shape, scale and duration to request."""

    size: str | None  # WIDTHxHEIGHT, "auto", a W:H ratio (unknown models), or None: the default
    aspect_ratio: str | None
    resolution: str | None
    seconds: int | None
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def dimensions(self) -> tuple[int, int] | None:
        return None if self.size is None else sizes.dimensions(self.size)


def tier_megapixels(tier: str) -> float | None:
    """Pixels (in millions) a tier stands for: 720p, 1K / 2K / 4K, megapixels (0.25, 1), WxH."""
    text = tier.strip().lower()
    if match := _P_TIER.match(text):
        short = int(match[1])
        return short * short * 16 / 9 / 1e6
    if match := _K_TIER.match(text):
        return float(match[1]) ** 2
    if match := _MEGAPIXELS.match(text):
        return float(match[1])
    dims = sizes.dimensions(text)
    return None if dims is None else dims[0] * dims[1] / 1e6


def _nearest(items: Sequence[T], key: Callable[[T], float], target: float) -> list[T]:
    """The items closest to `target` on a log scale, largest first when tied."""
    distances = [abs(math.log(key(item)) - math.log(target)) for item in items]
    best = min(distances)
    tied = [
        item
        for item, d in zip(items, distances, strict=True)
        if math.isclose(d, best, abs_tol=1e-9)
    ]
    return sorted(tied, key=key, reverse=True)


def nearest_duration(durations: Iterable[int], wanted: int) -> int:
    options = sorted(set(durations))
    return min(options, key=lambda d: (abs(d - wanted), -d))


def _by_ratio(options: Sequence[SizeOption], target: float) -> list[SizeOption]:
    best = _nearest(options, lambda o: sizes.ratio(o.aspect_ratio) or o.ratio, target)
    label = best[0].aspect_ratio
    return [o for o in options if o.aspect_ratio == label]


def _by_tier(options: Sequence[SizeOption], tier: str) -> SizeOption:
    exact = [o for o in options if o.resolution.lower() == tier.lower()]
    if exact:
        return exact[0]
    wanted = tier_megapixels(tier)
    assert wanted is not None
    return _nearest(options, lambda o: tier_megapixels(o.resolution) or o.megapixels, wanted)[0]


def _check_tier(resolution: str | None) -> None:
    if (
        resolution is not None
        and resolution.lower() != "auto"
        and tier_megapixels(resolution) is None
    ):
        raise UsageError(
            f"--resolution {resolution!r} is not a resolution tier.",
            hint="Use a tier such as 720p, 1080p, 1K, 4K, or megapixels such as 0.25.",
        )


def _check_ratio(aspect_ratio: str | None) -> None:
    if (
        aspect_ratio is not None
        and aspect_ratio.lower() != "auto"
        and sizes.ratio(aspect_ratio) is None
    ):
        raise UsageError(f"--aspect-ratio {aspect_ratio!r} is not a ratio such as 16:9.")


def normalise(
    model: ModelInfo | None,
    *,
    size: str | None = None,
    aspect_ratio: str | None = None,
    resolution: str | None = None,
    seconds: int | None = None,
) -> Shape:
    _check_ratio(aspect_ratio)
    _check_tier(resolution)
    if size is not None and sizes.dimensions(size) is None and sizes.ratio(size) is not None:
        if aspect_ratio is not None and aspect_ratio != size:
            raise UsageError(
                f"--size {size} and --aspect-ratio {aspect_ratio} disagree; give one of them."
            )
        size, aspect_ratio = None, size
    if model is None or not model.sizes:
        return Shape(size, aspect_ratio, resolution, seconds)

    adjustments: list[Adjustment] = []
    used_seconds = seconds
    if seconds is not None and model.durations and seconds not in model.durations:
        used_seconds = nearest_duration(model.durations, seconds)
        adjustments.append(
            Adjustment("seconds", str(seconds), str(used_seconds), f"nearest {model.id} offers")
        )

    ratio_asked = aspect_ratio is not None and aspect_ratio.lower() != "auto"
    tier_asked = resolution is not None and resolution.lower() != "auto"
    dims = None if size is None else sizes.dimensions(size)
    if dims is not None:
        wanted = f"{dims[0]}x{dims[1]}"
        option = model.option(wanted)
        if option is None:
            shaped = _by_ratio(model.sizes, dims[0] / dims[1])
            option = _nearest(shaped, lambda o: o.megapixels, dims[0] * dims[1] / 1e6)[0]
            adjustments.append(
                Adjustment("size", wanted, option.size, f"nearest {model.id} offers")
            )
        for name, asked in (("aspect_ratio", ratio_asked), ("resolution", tier_asked)):
            if asked:
                requested = aspect_ratio if name == "aspect_ratio" else resolution
                adjustments.append(Adjustment(name, str(requested), "ignored", "size wins"))
        return Shape(
            option.size, option.aspect_ratio, option.resolution, used_seconds, tuple(adjustments)
        )
    if not (ratio_asked or tier_asked):
        return Shape(size, None, None, used_seconds, tuple(adjustments))

    default = model.option(model.default_size or "") or model.sizes[0]
    target_ratio = sizes.ratio(aspect_ratio) if ratio_asked and aspect_ratio else default.ratio
    shaped = _by_ratio(model.sizes, target_ratio or default.ratio)
    if ratio_asked and shaped[0].aspect_ratio != aspect_ratio:
        adjustments.append(
            Adjustment(
                "aspect_ratio",
                str(aspect_ratio),
                shaped[0].aspect_ratio,
                f"nearest {model.id} offers",
            )
        )
    option = _by_tier(shaped, resolution if tier_asked and resolution else default.resolution)
    if tier_asked and resolution is not None and option.resolution.lower() != resolution.lower():
        adjustments.append(
            Adjustment("resolution", resolution, option.resolution, f"nearest {model.id} offers")
        )
    return Shape(
        option.size, option.aspect_ratio, option.resolution, used_seconds, tuple(adjustments)
    )
