"""The job loop: prepare, submit, wait, download, with the journal kept current at every step."""

from __future__ import annotations

import base64
import mimetypes
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from framecast import catalog, pricing
from framecast.domain import Job, JobRequest
from framecast.errors import BudgetExceeded, FramecastError, ProviderUnavailable, UsageError
from framecast.journal import Journal
from framecast.normalise import Adjustment, normalise
from framecast.polling import PollPolicy, track
from framecast.saving import save_stream

if TYPE_CHECKING:
    from framecast.catalog import ModelInfo
    from framecast.providers.base import Provider, Variant

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
    size = file.stat().st_size
    if size > limit:
        raise UsageError(
            f"{file.name} is {size / 1e6:.1f} MB; "
            f"{provider} takes inline files up to {limit / 1e6:.0f} MB.",
            hint="Host the file and pass its https URL instead.",
        )
    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(file.read_bytes()).decode('ascii')}"


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
    shape = normalise(
        info,
        size=request.size,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        seconds=request.seconds,
    )
    images = tuple(
        image
        if image.startswith(URL_PREFIXES) or caps.uploads
        else _inline(image, caps.data_uri_limit, provider.name)
        for image in request.images
    )
    video = request.video
    if video is not None and not video.startswith(URL_PREFIXES):
        video = _inline(video, caps.data_uri_limit, provider.name)
    effective = replace(
        request,
        seconds=shape.seconds,
        size=shape.size,
        aspect_ratio=shape.aspect_ratio,
        resolution=shape.resolution,
        images=images,
        video=video,
    )
    return Prepared(effective, info, shape.adjustments)


def submit(
    provider: Provider, prepared: Prepared, journal: Journal, *, extend: str | None = None
) -> list[Job]:
    """Submit and journal at once, before anything waits. `n` is emulated where not native.

    Where the provider deduplicates by key, every submission carries one, so a
    retried POST cannot create (and bill) a second job. With `extend`, the
    request continues that finished job instead of starting a new one.
    """
    request = prepared.request
    if extend is not None:
        if request.n != 1:
            raise UsageError("--extend makes one continuation; drop --n.")
        created = provider.extend(extend, request)
        for job in created:
            journal.record_submission(job, request, provider.base_url, {"extends": extend})
        return created
    if provider.capabilities.idempotency and request.idempotency_key is None:
        request = replace(request, idempotency_key=f"framecast-{uuid.uuid4()}")
    extra = {"adjustments": [str(a) for a in prepared.adjustments]}
    if request.n == 1 or provider.capabilities.native_n:
        created = provider.submit(request)
        for job in created:
            journal.record_submission(job, request, provider.base_url, extra)
        return created
    key = request.idempotency_key
    singles = [
        replace(request, n=1, idempotency_key=key and f"{key}-{i}") for i in range(1, request.n + 1)
    ]
    jobs: list[Job] = []
    errors: list[FramecastError] = []
    with ThreadPoolExecutor(max_workers=min(MAX_N, len(singles))) as pool:
        for future in [pool.submit(provider.submit, single) for single in singles]:
            try:
                for job in future.result():
                    journal.record_submission(job, request, provider.base_url, extra)
                    jobs.append(job)
            except FramecastError as error:
                errors.append(error)
    if errors:
        errors[
            0
        ].hint = (
            f"{len(jobs)} of {request.n} were submitted: {', '.join(j.id for j in jobs) or 'none'}."
        )
        raise errors[0]
    return jobs


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


def refresh(provider: Provider, job_id: str, journal: Journal) -> Job:
    job = provider.get(job_id)
    journal.update(job, provider.base_url)
    return job


def wait(
    tracked: Sequence[tuple[Provider, Job]],
    journal: Journal,
    *,
    policy: PollPolicy,
    deadline: float | None = None,
    refresh_first: bool = False,
    on_update: Callable[[Job], None] = lambda job: None,
    on_trouble: Callable[[Job, ProviderUnavailable], None] = lambda job, error: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Job]:
    """Poll every job until it finishes, journaling each change of status or progress."""
    providers = [provider for provider, _ in tracked]
    last = [job for _, job in tracked]

    def fetch(index: int, job: Job) -> Job:
        return providers[index].get(job.id)

    def updated(index: int, job: Job) -> None:
        before = last[index]
        last[index] = job
        if (job.status, job.progress, job.output_url) != (
            before.status,
            before.progress,
            before.output_url,
        ):
            journal.update(job, providers[index].base_url)
        on_update(job)

    return track(
        last,
        fetch,
        policy=policy,
        deadline=deadline,
        refresh_first=refresh_first,
        on_update=updated,
        on_trouble=lambda index, job, error: on_trouble(job, error),
        clock=clock,
        sleep=sleep,
    )


def download(
    provider: Provider,
    job: Job,
    journal: Journal,
    path: Path,
    *,
    variant: Variant = "video",
    force: bool = False,
    on_start: Callable[[int | None], None] = lambda total: None,
    on_bytes: Callable[[int], None] = lambda count: None,
) -> tuple[Path, int]:
    """Save a finished job's asset; the video's final path is journaled."""
    saved, size = save_stream(
        lambda: provider.open_asset(job, variant),
        path,
        force=force,
        on_start=on_start,
        on_bytes=on_bytes,
    )
    if variant == "video":
        journal.set_output(job, provider.base_url, saved, size)
    return saved, size
