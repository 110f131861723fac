"""Pieces the job commands share: finding jobs, showing results, resume hints."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framecast import jobs, listing
from framecast.domain import Job, JobStatus
from framecast.errors import FramecastError, Interrupted, JobFailed
from framecast.inputs import build_request
from framecast.journal import Entry, Journal
from framecast.providers import get_provider
from framecast.providers.base import Provider
from framecast.report import job_document, wait_command
from framecast.settings import (
    ProviderChoice,
    choose_provider,
    for_journaled_job,
    openai_sunset_warning,
)
from framecast.ui import Display, console, print_json, print_result, summary

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(slots=True)
class Target:
    """A job named on the command line, with the provider that answers for it."""

    provider: Provider
    job: Job
    entry: Entry | None  # None: not in the journal


@dataclass(frozen=True, slots=True)
class Flags:
    provider: str | None
    base_url: str | None
    api_key: str | None


def resolve_targets(refs: list[str], journal: Journal, flags: Flags) -> list[Target]:
    """Providers for each reference; journaled jobs go back to where they were submitted."""
    opened: dict[tuple[str, str | None], Provider] = {}
    targets: list[Target] = []

    def provider_for(choice: ProviderChoice) -> Provider:
        key = (choice.name, choice.base_url)
        if key not in opened:
            opened[key] = choice.open()
        return opened[key]

    for ref in refs:
        entry = journal.resolve(ref)
        explicit = flags.provider is not None or flags.base_url is not None
        if entry is not None and not explicit:
            choice = for_journaled_job(entry.provider, entry.base_url, api_key=flags.api_key)
            targets.append(Target(provider_for(choice), entry.job, entry))
            continue
        choice = choose_provider(
            provider=flags.provider, base_url=flags.base_url, api_key=flags.api_key
        )
        provider = provider_for(choice)
        job_id = entry.id if entry is not None else ref
        known = journal.get(provider.name, provider.base_url, job_id)
        placeholder = Job(id=job_id, provider=provider.name, status=JobStatus.QUEUED)
        targets.append(Target(provider, known.job if known else placeholder, known))
    return targets


def close_all(targets: list[Target]) -> None:
    for provider in {id(t.provider): t.provider for t in targets}.values():
        provider.close()


def prepared_request(
    prompt: str, flags: dict[str, Any], err: Console, *, quiet: bool
) -> tuple[ProviderChoice, jobs.Prepared]:
    """The provider and the checked, normalised request named by `generate`/`estimate` flags."""
    text = sys.stdin.read() if prompt == "-" else prompt
    request = build_request(
        text,
        model=flags["model"],
        seconds=flags["seconds"],
        size=flags["size"],
        aspect_ratio=flags["aspect_ratio"],
        resolution=flags["resolution"],
        n=flags["n"],
        images=flags["image"] or (),
        video=flags["video"],
        negative_prompt=flags["negative_prompt"],
        seed=flags["seed"],
        audio=flags["audio"],
        webhook_url=flags["webhook_url"],
        metadata=flags["metadata"] or (),
        user=flags["user"],
        idempotency_key=flags["idempotency_key"],
        params=flags["param"] or (),
    )
    choice = choose_provider(
        provider=flags["provider"], base_url=flags["base_url"], api_key=flags["api_key"]
    )
    provider_cls = get_provider(choice.name)
    models = listing.cached_catalog(choice.name, choice.base_url or provider_cls.default_base_url)
    prepared = jobs.prepare(request, provider_cls, models)
    if not quiet:
        warning = openai_sunset_warning(choice)
        if warning:
            err.print(f"Warning: {warning}", style="yellow", soft_wrap=True)
        for adjustment in prepared.adjustments:
            err.print(f"Note: {adjustment}", soft_wrap=True)
    return choice, prepared


def extension_source(
    ref: str, provider: str | None, base_url: str | None, model: str | None
) -> tuple[str, str | None, str | None, str | None]:
    """The job `--extend` names, and unless told otherwise its provider, base URL and model."""
    with Journal.open_default() as journal:
        entry = journal.resolve(ref)
    if entry is None:
        return ref, provider, base_url, model
    if provider is None and base_url is None:
        needs_url = get_provider(entry.provider).key_env_var is not None
        provider, base_url = entry.provider, entry.base_url if needs_url else None
    return entry.id, provider, base_url, model or entry.job.model


def save_video(
    provider: Provider, job: Job, path: Path, journal: Journal, display: Display, *, force: bool
) -> tuple[Path, int]:
    saved = jobs.download(
        provider,
        job,
        journal,
        path,
        force=force,
        on_start=lambda total: display.download_started(job, path, total),
        on_bytes=display.download_advanced,
    )
    display.download_finished()
    return saved


def emit(
    job: Job,
    *,
    json_mode: bool,
    quiet: bool,
    path: Path | None = None,
    size: int | None = None,
    started: float | None = None,
    adjustments: list[str] | None = None,
) -> None:
    """A finished command's result: the JSON document, or the path (else the id) and a summary."""
    if json_mode:
        print_json(
            job_document(
                job, path=None if path is None else str(path), size=size, adjustments=adjustments
            )
        )
        return
    print_result(str(path) if path is not None else job.id)
    if not quiet:
        elapsed = None if started is None else time.monotonic() - started
        console(sys.stderr).print(summary(job, path, size, elapsed), soft_wrap=True)


def failure(jobs: list[Job]) -> JobFailed:
    first = jobs[0]
    reason = first.error.message if first.error else "no reason given"
    code = f" [{first.error.code}]" if first.error and first.error.code else ""
    return JobFailed(jobs, f"Job {first.id} {first.status.value}: {reason}{code}")


def interrupted(job_ids: list[str], *, output: str | None, download: bool) -> Interrupted:
    return Interrupted(
        f"Stopped waiting for {', '.join(job_ids)}; the job keeps running at the provider.",
        hint=f"Resume with: {wait_command(job_ids, output=output, download=download)}",
    )


def with_resume_hint(
    error: FramecastError, job_ids: list[str], *, output: str | None, download: bool
) -> FramecastError:
    error.hint = f"Job(s) still running: {', '.join(job_ids)}. Resume with: " + wait_command(
        job_ids, output=output, download=download
    )
    return error
