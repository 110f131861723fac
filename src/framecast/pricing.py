"""What a request will cost: from a provider's dry run, or from the bundled price table.

Either way the answer is an Estimate with its breakdown (unit price x seconds x
n), its currency, where each number came from, and the inputs it could not
price, so that a budget check never silently under-counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from framecast.catalog import ModelInfo
from framecast.domain import JobRequest
from framecast.providers.base import CostLine, ProviderEstimate

EMULATOR_CONTROLS = ("emulator_",)


@dataclass(frozen=True, slots=True)
class Estimate:
    total: float | None  # None: the request could not be priced
    currency: str
    lines: tuple[CostLine, ...]
    source: str  # "dry_run" or "table"
    origin: str  # who answered: the provider's name, or the table's date and sources
    sources: tuple[str, ...]
    unpriced: tuple[str, ...]
    model: str | None
    routed_to: str | None = None
    seconds: int | None = None  # what was priced: the request's, or the model's default
    size: str | None = None

    def describe_source(self) -> str:
        if self.source == "dry_run":
            routed = (
                f", routed to {self.routed_to}" if self.routed_to not in (None, self.origin) else ""
            )
            return f"{self.origin} dry run{routed}"
        return f"framecast price table ({self.origin})"


def _unpriced_params(request: JobRequest) -> list[str]:
    return [
        f"--param {key} (passed through; may change the price)"
        for key in request.params
        if not key.startswith(EMULATOR_CONTROLS)
    ]


def from_table(request: JobRequest, model: ModelInfo | None, model_name: str | None) -> Estimate:
    """Price an (already normalised) request from the bundled table."""
    if model is None:
        reason = (
            f"model {model_name!r} is not in framecast's price table"
            if model_name
            else "no model given"
        )
        return Estimate(None, "USD", (), "table", "no entry", (), (reason,), model_name)
    size = request.size if request.size and "x" in request.size else model.default_size
    # A model that makes one length only (NanoGPT's extend models: 7 s) makes that one.
    only = model.durations[0] if len(model.durations) == 1 else None
    seconds = request.seconds or model.default_seconds or only
    price = model.price_for(size, request.audio)
    unpriced = _unpriced_params(request)
    if price is None or seconds is None:
        shape = f" at {size}" if size else ""
        length = "" if seconds is not None else " (no length given, and no default)"
        unpriced.insert(0, f"{model.id}{shape}: no price in the table{length}")
        return Estimate(None, "USD", (), "table", "no entry", (), tuple(unpriced), model.id)
    quantity = seconds * request.n
    lines = [
        CostLine(
            f"video output, {seconds} s" + (f" x {request.n}" if request.n > 1 else ""),
            quantity,
            "second",
            price.per_second,
            round(price.per_second * quantity, 6),
        )
    ]
    sources = [price.source]
    dates = [price.as_of]
    image_price = model.input_price("image")
    if request.images and image_price is not None:
        count = len(request.images) * request.n
        lines.append(
            CostLine(
                "reference image input",
                count,
                "image",
                image_price.amount,
                round(image_price.amount * count, 6),
            )
        )
        sources.append(image_price.source)
        dates.append(image_price.as_of)
    elif request.images:
        unpriced.append("reference image input (no price in the table; often included)")
    if request.video:
        video_price = model.input_price("video")
        detail = (
            f"{video_price.amount}/s of input, length unknown"
            if video_price
            else "no price in the table"
        )
        unpriced.append(f"input video ({detail})")
    if request.audio and model.audio is None:
        unpriced.append(f"audio ({model.id} is not known to make audio)")
    return Estimate(
        total=round(sum(line.total for line in lines), 6),
        currency=price.currency,
        lines=tuple(lines),
        source="table",
        origin="as of " + max(dates),
        sources=tuple(dict.fromkeys(sources)),
        unpriced=tuple(unpriced),
        model=model.id,
        seconds=seconds,
        size=size,
    )


def from_dry_run(
    dry: ProviderEstimate,
    request: JobRequest,
    provider: str,
    model: ModelInfo | None,
    expected_size: str | None = None,
) -> Estimate:
    """The provider priced the request exactly as it would run it, passthrough fields included.

    Its per-second line says what length it will bill, which is what it converted the
    request's to (the metric's name for video is not documented: "second" is expected).
    """
    billed = [
        line.quantity
        for line in dry.lines
        if line.unit.lower() in ("second", "seconds", "s") and line.quantity > 0
    ]
    seconds = request.seconds or (model.default_seconds if model else None)
    if billed and request.n > 0 and billed[0] % request.n == 0:
        seconds = int(billed[0] // request.n)
    return Estimate(
        total=dry.total,
        currency=dry.currency,
        lines=dry.lines,
        source="dry_run",
        origin=provider,
        sources=(),
        unpriced=(),
        model=dry.model or request.model,
        routed_to=dry.routed_to,
        seconds=seconds,
        # The dry run names no size: the one asked, else the one the ratio and tier asked for
        # are expected to make, else the model's default.
        size=request.size or expected_size or (model.default_size if model else None),
    )
