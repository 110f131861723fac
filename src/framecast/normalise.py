"""One request, many dialects: matching what the user asked for to what a model offers.

The rules follow Lumenfall's ("How these parameters work", seeds 001/002):

1. `size` WIDTHxHEIGHT is the most specific and always wins; a W:H size is an
   aspect ratio.
2. `aspect_ratio` sets the shape and `resolution` the scale, independently. A
   ratio alone keeps the model's default scale; a tier alone keeps its default
   shape.
3. A ratio, tier, size or duration the model does not offer maps to the nearest
   one it does: ratios and tiers are compared on a log scale (7:1 on a model with
   4:1 and 8:1 gives 8:1), sizes by shape then scale.

An exact tie is where money enters. When framecast itself adjusts a request (a
strict OpenAI server, NanoGPT), it takes the cheaper value: the shorter clip, the
lower tier (`prefer="cheaper"`). When a provider converts values itself
(Lumenfall) and its rule for ties is not documented, the request is sent as asked
and only priced here, at the dearer value (`prefer="dearer"`), so a budget is
never checked against less than the provider may bill. Ratio ties, which cost
the same either way, go to the wider shape.

Every change is returned as an Adjustment, marked when it raises the length or
the scale (and so the price), so the CLI can say what it did before anything is
sent. For a model the catalog does not know, values pass through untouched.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from framecast import sizes
from framecast.catalog import ModelInfo, SizeOption
from framecast.errors import UsageError

T = TypeVar("T")
Prefer = Literal["cheaper", "dearer"]
_P_TIER = re.compile(r"^(\d{3,4})p$")
_K_TIER = re.compile(r"^(\d+(?:\.\d+)?)k$")
_MEGAPIXELS = re.compile(r"^(\d+(?:\.\d+)?)(?:mp)?$")


@dataclass(frozen=True, slots=True)
class Adjustment:
    field: str
    requested: str
    used: str
    reason: str
    raises: bool = False  # a longer clip or a larger picture than asked: it costs more
    extra_cost: float | None = None  # how much more, where the price table knows
    currency: str = "USD"

    def __str__(self) -> str:
        text = f"{self.field} {self.requested} -> {self.used} ({self.reason}"
        if self.raises and self.extra_cost is not None:
            text += f"; costs {self.extra_cost:.2f} {self.currency} more"
        elif self.raises:
            text += "; may cost more"
        return text + ")"

    def document(self) -> dict[str, object]:
        return {
            "field": self.field,
            "requested": self.requested,
            "used": self.used,
            "reason": self.reason,
            "raises_cost": self.raises,
            "extra_cost": self.extra_cost,
            "currency": self.currency if self.extra_cost is not None else None,
        }


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


def _nearest(
    items: Sequence[T], key: Callable[[T], float], target: float, prefer: Prefer = "dearer"
) -> list[T]:
    """The items closest to `target` on a log scale; when tied, the largest first (dearer)
    or the smallest first (cheaper)."""
    distances = [abs(math.log(key(item)) - math.log(target)) for item in items]
    best = min(distances)
    tied = [
        item
        for item, d in zip(items, distances, strict=True)
        if math.isclose(d, best, abs_tol=1e-9)
    ]
    return sorted(tied, key=key, reverse=prefer == "dearer")


def nearest_duration(durations: Iterable[int], wanted: int, prefer: Prefer = "cheaper") -> int:
    options = sorted(set(durations))
    sign = 1 if prefer == "cheaper" else -1
    return min(options, key=lambda d: (abs(d - wanted), sign * d))


def _by_ratio(options: Sequence[SizeOption], target: float) -> list[SizeOption]:
    best = _nearest(options, lambda o: sizes.ratio(o.aspect_ratio) or o.ratio, target)
    label = best[0].aspect_ratio
    return [o for o in options if o.aspect_ratio == label]


def _scale(option: SizeOption) -> float:
    return tier_megapixels(option.resolution) or option.megapixels


def _by_tier(options: Sequence[SizeOption], tier: str, prefer: Prefer) -> SizeOption:
    exact = [o for o in options if o.resolution.lower() == tier.lower()]
    if exact:
        return exact[0]
    wanted = tier_megapixels(tier)
    assert wanted is not None
    return _nearest(options, _scale, wanted, prefer)[0]


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
    prefer: Prefer = "cheaper",
) -> Shape:
    _check_ratio(aspect_ratio)
    _check_tier(resolution)
    if size is not None and sizes.dimensions(size) is None and sizes.ratio(size) is not None:
        if aspect_ratio is not None and aspect_ratio != size:
            raise UsageError(
                f"--size {size} and --aspect-ratio {aspect_ratio} disagree; give one of them."
            )
        size, aspect_ratio = None, size
    if model is None:
        return Shape(size, aspect_ratio, resolution, seconds)

    nearest = f"nearest {model.id} offers"
    adjustments: list[Adjustment] = []
    used_seconds = seconds
    if seconds is not None and model.durations and seconds not in model.durations:
        used_seconds = nearest_duration(model.durations, seconds, prefer)
        raises = used_seconds > seconds
        adjustments.append(Adjustment("seconds", str(seconds), str(used_seconds), nearest, raises))
    if not model.sizes:
        # Lengths known, shapes not (a live listing): the shape passes through as asked.
        return Shape(size, aspect_ratio, resolution, used_seconds, tuple(adjustments))

    ratio_asked = aspect_ratio is not None and aspect_ratio.lower() != "auto"
    tier_asked = resolution is not None and resolution.lower() != "auto"
    dims = None if size is None else sizes.dimensions(size)
    if dims is not None:
        wanted = f"{dims[0]}x{dims[1]}"
        option = model.option(wanted)
        if option is None:
            shaped = _by_ratio(model.sizes, dims[0] / dims[1])
            area = dims[0] * dims[1] / 1e6
            option = _nearest(shaped, lambda o: o.megapixels, area, prefer)[0]
            raises = option.megapixels > area
            adjustments.append(Adjustment("size", wanted, option.size, nearest, raises))
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
            Adjustment("aspect_ratio", str(aspect_ratio), shaped[0].aspect_ratio, nearest)
        )
    tier = resolution if tier_asked and resolution else default.resolution
    option = _by_tier(shaped, tier, prefer)
    if tier_asked and resolution is not None and option.resolution.lower() != resolution.lower():
        raises = _scale(option) > (tier_megapixels(resolution) or 0.0)
        adjustments.append(Adjustment("resolution", resolution, option.resolution, nearest, raises))
    return Shape(
        option.size, option.aspect_ratio, option.resolution, used_seconds, tuple(adjustments)
    )


def refuse_adjustments(
    model: ModelInfo, adjustments: Sequence[Adjustment], provider: str | None
) -> None:
    """`--strict`: any value the model does not take as asked is an error listing those it
    does, instead of a nearest match."""
    if not adjustments:
        return
    first = adjustments[0]
    offered = {
        "seconds": _lengths(model.durations),
        "size": ", ".join(option.size for option in model.sizes),
        "aspect_ratio": ", ".join(model.aspect_ratios),
        "resolution": ", ".join(model.resolutions),
    }
    flag = "--" + first.field.replace("_", "-")
    if first.used == "ignored":
        raise UsageError(
            f"--strict: {flag} {first.requested} would be ignored, because --size wins.",
            hint=f"Give either --size or {flag}.",
        )
    where = f"{model.id} on {provider}" if provider else model.id
    raise UsageError(
        f"--strict: {where} does not make {flag} {first.requested} (it would be {first.used}).",
        hint=f"{model.id} offers {flag} {offered[first.field]}.",
    )


def _lengths(durations: Iterable[int]) -> str:
    ordered = sorted(set(durations))
    if len(ordered) > 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]} to {ordered[-1]}"
    return ", ".join(str(d) for d in ordered)
