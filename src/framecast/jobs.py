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
from framecast.normalise import Adjustment, normalise
from framecast.untrusted import strip_userinfo

if TYPE_CHECKING:
    from framecast.catalog import ModelInfo
    from framecast.providers.base import Provider

URL_PREFIXES = ("https://", "http://", "data:")
MAX_N = 4


@dataclass(frozen=True, slots=True)
class Prepared:
    """A request as it will be sent: normalised for its model, files inlined where needed."""

    request: JobRequest
    model: ModelInfo | None
    adjustments: tuple[Adjustment, ...]


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
    request: JobRequest, provider: type[Provider], models: catalog.Catalog | None = None
) -> Prepared:
    """Everything checked and converted before a paid request is sent."""
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
    return _shaped(replace(request, model=model_name, images=images, video=video), info)


def _shaped(request: JobRequest, info: ModelInfo | None) -> Prepared:
    """The request with its size, shape, tier and length those the model makes."""
    shape = normalise(
        info,
        size=request.size,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        seconds=request.seconds,
    )
    effective = replace(
        request,
        seconds=shape.seconds,
        size=shape.size,
        aspect_ratio=shape.aspect_ratio,
        resolution=shape.resolution,
    )
    return Prepared(effective, info, shape.adjustments)


def prepare_offline(request: JobRequest) -> Prepared:
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
    return _shaped(replace(request, model=info.id), info)


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
                provider.estimate(request), request, provider.name, prepared.model
            )
        except ProviderUnavailable as error:
            on_fallback(error)
    return pricing.from_table(request, prepared.model, request.model or provider.default_model)


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
