"""The job loop: submit, wait, download, with the journal kept current at every step."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from framecast.domain import Job, JobRequest
from framecast.errors import ProviderUnavailable
from framecast.journal import Journal
from framecast.polling import PollPolicy, track
from framecast.providers.base import Provider, Variant
from framecast.saving import save_stream


def submit(provider: Provider, request: JobRequest, journal: Journal) -> Job:
    """Submit one job and journal it at once, before anything waits on it."""
    job = provider.submit(request)
    journal.record_submission(job, request, provider.base_url)
    return job


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
