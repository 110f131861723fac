"""Before a job exists: a request checked, normalised and priced, and its fingerprint.

The run itself (submit, wait, deliver, and what happens on every way out) is jobrun.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from framecast import catalog, pricing
from framecast.domain import JobRequest
from framecast.errors import BudgetExceeded, ProviderUnavailable, UsageError
from framecast.normalise import (
    Adjustment,
    Prefer,
    normalise,
    refuse_adjustments,
    tier_megapixels,
)
from framecast.untrusted import strip_userinfo

if TYPE_CHECKING:
    from framecast.catalog import ModelInfo
    from framecast.providers.base import Provider

URL_PREFIXES = ("https://", "http://", "data:")
MAX_N = 4


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request as it will be sent: normalised for its model where framecast must do that,
    files inlined where needed.

    `adjustments` are the changes framecast made. Where the provider converts values
    itself, the request goes as asked: `conversions` are what the catalog expects the
    provider to make of it, and `priced` is the request the price table prices (the dearer
    side of a tie), since the provider alone knows what it will make and bill.
    """

    request: JobRequest
    model: ModelInfo | None
    adjustments: tuple[Adjustment, ...]
    priced: JobRequest
    conversions: tuple[Adjustment, ...] = ()
    asked: JobRequest | None = None  # before any adjustment

    @property
    def requested(self) -> dict[str, object]:
        """What the user asked for: seconds, size, aspect ratio and tier."""
        asked = self.asked or self.request
        return {
            "seconds": asked.seconds,
            "size": asked.size,
            "aspect_ratio": asked.aspect_ratio,
            "resolution": asked.resolution,
        }


def _inline(path: str, limit: int, provider: str) -> str:
    """A local file as a data: URI, for providers that take no uploads."""
    file = Path(path)
    try:
        size = file.stat().st_size
        content = file.read_bytes() if size <= limit else b""
    except OSError as error:
        raise UsageError(
            f"Cannot read {file}: {error.strerror or error}.", hint="Nothing was sent."
        ) from None
    if size > limit:
        raise UsageError(
            f"{file.name} is {size / 1e6:.1f} MB; "
            f"{provider} takes inline files up to {limit / 1e6:.0f} MB.",
            hint="Host the file and pass its https URL instead.",
        )
    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"


def prepare(
    request: JobRequest,
    provider: type[Provider],
    models: catalog.Catalog | None = None,
    *,
    strict: bool = False,
) -> Prepared:
    """Everything checked and converted before a paid request is sent; with `strict`, a
    value the model does not take as asked is refused rather than adjusted."""
    caps = provider.capabilities
    model_name = request.model or provider.default_model
    if model_name is None:
        raise UsageError(
            f"--model is required with {provider.name}.",
            hint=f"See what it offers with: framecast models --provider {provider.name}",
        )
    if not 1 <= request.n <= MAX_N:
        raise UsageError(f"--n {request.n}: ask for 1 to {MAX_N} videos.")
    info = (models or catalog.bundled()).find(model_name)
    if info is not None:
        info = provider.offered(info)
    if request.images and "i2v" not in caps.modes:
        raise UsageError(f"{provider.name} takes no reference images.")
    if request.video and "v2v" not in caps.modes:
        raise UsageError(f"{provider.name} takes no input video.")
    if request.webhook_url and not caps.webhooks:
        raise UsageError(f"{provider.name} sends no webhooks; --webhook-url would never be called.")
    if (request.metadata or request.user) and not caps.labels:
        flag = "--metadata" if request.metadata else "--user"
        raise UsageError(
            f"{provider.name} takes no metadata or end-user id; {flag} would not be sent.",
            hint="Drop it (or the profile's metadata/user) for this provider.",
        )
    if request.idempotency_key and not caps.idempotency:
        raise UsageError(
            f"{provider.name} does not deduplicate submissions; "
            "--idempotency-key would not protect you."
        )
    # A model known only from a live listing may declare no modes: nothing to check then.
    modes = info.modes if info is not None else ()
    if modes and request.images and "i2v" not in modes:
        raise UsageError(f"{model_name} does not animate images (modes: {', '.join(modes)}).")
    if modes and request.video and "v2v" not in modes:
        raise UsageError(f"{model_name} takes no input video (modes: {', '.join(modes)}).")
    if info is not None and len(request.images) > info.max_references:
        raise UsageError(f"{info.id} takes at most {info.max_references} reference image(s).")
    images = tuple(
        image
        if image.startswith(URL_PREFIXES) or caps.uploads
        else _inline(image, caps.data_uri_limit, provider.name)
        for image in request.images
    )
    video = request.video
    if video is not None and not video.startswith(URL_PREFIXES):
        video = _inline(video, caps.data_uri_limit, provider.name)
    # The default model made explicit, so the same request is the same.
    asked = replace(request, model=model_name, images=images, video=video)
    if caps.converts:
        dearer, conversions = _shaped(asked, info, "dearer")
        if strict and info is not None:
            refuse_adjustments(info, conversions, provider.name)
        expected = tuple(_costed(c, info, dearer) for c in conversions)
        return Prepared(asked, info, (), dearer, expected, asked)
    effective, adjustments = _shaped(asked, info, "cheaper")
    if strict and info is not None:
        refuse_adjustments(info, adjustments, provider.name)
    costed = tuple(_costed(a, info, effective) for a in adjustments)
    return Prepared(effective, info, costed, effective, (), asked)


def _shaped(
    request: JobRequest, info: ModelInfo | None, prefer: Prefer
) -> tuple[JobRequest, tuple[Adjustment, ...]]:
    """The request with its size, shape, tier and length those the model makes."""
    shape = normalise(
        info,
        size=request.size,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        seconds=request.seconds,
        prefer=prefer,
    )
    effective = replace(
        request,
        seconds=shape.seconds,
        size=shape.size,
        aspect_ratio=shape.aspect_ratio,
        resolution=shape.resolution,
    )
    return effective, shape.adjustments


def _costed(adjustment: Adjustment, info: ModelInfo | None, effective: JobRequest) -> Adjustment:
    """A raise with what it adds to the price, where the table can say."""
    if not adjustment.raises or info is None:
        return adjustment
    used = info.price_for(effective.size, effective.audio)
    if used is None:
        return adjustment
    n = effective.n
    if adjustment.field == "seconds":
        extra = used.per_second * (int(adjustment.used) - int(adjustment.requested)) * n
    else:
        # Against the dearest size of this shape that is no larger than what was asked, if
        # any: what the user would have got had framecast rounded down instead.
        asked = tier_megapixels(adjustment.requested)
        same_shape = [o for o in info.sizes if o.aspect_ratio == _aspect(info, effective)]
        smaller = [o for o in same_shape if asked is not None and o.megapixels <= asked]
        if not smaller:
            return adjustment
        below = info.price_for(max(smaller, key=lambda o: o.megapixels).size, effective.audio)
        seconds = effective.seconds or info.default_seconds or 0
        if below is None or below.currency != used.currency:
            return adjustment
        extra = (used.per_second - below.per_second) * seconds * n
    return replace(adjustment, extra_cost=round(extra, 6), currency=used.currency)


def _aspect(info: ModelInfo, request: JobRequest) -> str | None:
    option = info.option(request.size or "")
    return option.aspect_ratio if option is not None else request.aspect_ratio


def prepare_offline(request: JobRequest, *, strict: bool = False) -> Prepared:
    """A request checked and converted against the bundled table alone, for pricing when no
    provider is configured; nothing can be sent from it."""
    import difflib

    if request.model is None:
        raise UsageError(
            "--model is required to price a request without a provider.",
            hint="List the models and their prices with: framecast models",
        )
    table = catalog.bundled()
    info = table.find(request.model)
    if info is None:
        close = difflib.get_close_matches(request.model, list(table.models), n=3)
        raise UsageError(
            f"{request.model!r} is not in framecast's price table.",
            hint=f"Did you mean: {', '.join(close)}?" if close else "See: framecast models",
        )
    asked = replace(request, model=info.id)
    effective, adjustments = _shaped(asked, info, "cheaper")
    if strict:
        refuse_adjustments(info, adjustments, None)
    costed = tuple(_costed(a, info, effective) for a in adjustments)
    return Prepared(effective, info, costed, effective, (), asked)


def fingerprint(provider: str, base_url: str, request: JobRequest, extend: str | None) -> str:
    """What makes two submissions the same request: where it goes, and everything it asks for.

    Local input files count by their contents, so an edited reference image is
    a new request even under the same name.
    """

    def media(value: str) -> str:
        if value.startswith(("https://", "http://")):
            return value
        if value.startswith("data:"):
            return "sha256:" + hashlib.sha256(value.encode()).hexdigest()
        try:
            return "sha256:" + hashlib.sha256(Path(value).read_bytes()).hexdigest()
        except OSError:
            return value

    record = request.to_record()
    record["images"] = [media(image) for image in request.images]
    record["video"] = None if request.video is None else media(request.video)
    document = {
        "provider": provider,
        "base_url": strip_userinfo(base_url).rstrip("/"),
        "request": record,
        "extends": extend,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def estimate(
    provider: Provider,
    prepared: Prepared,
    *,
    on_fallback: Callable[[ProviderUnavailable], None] = lambda e: None,
) -> pricing.Estimate:
    """The provider's own dry-run price where it has one, else the bundled table's."""
    request = prepared.request
    if provider.capabilities.dry_run:
        try:
            return pricing.from_dry_run(
                provider.estimate(request),
                request,
                provider.name,
                prepared.model,
                expected_size=prepared.priced.size,
            )
        except ProviderUnavailable as error:
            on_fallback(error)
    priced = prepared.priced
    return pricing.from_table(priced, prepared.model, priced.model or provider.default_model)


def check_budget(estimate: pricing.Estimate, max_cost: float, *, allow_unpriced: bool) -> None:
    """Refuse (exit 8) before submitting when the estimate is over the cap or unknown."""
    if estimate.total is None:
        if allow_unpriced:
            return
        raise BudgetExceeded(
            f"Cannot price this request ({'; '.join(estimate.unpriced)}); "
            "--max-cost cannot be checked.",
            hint="Nothing was sent. Pass --allow-unpriced to submit anyway.",
        )
    if estimate.total > max_cost:
        raise BudgetExceeded(
            f"The estimate, {estimate.total:.2f} {estimate.currency}, "
            f"is above --max-cost {max_cost:.2f}.",
            hint=f"Nothing was sent. Source: {estimate.describe_source()}.",
        )
