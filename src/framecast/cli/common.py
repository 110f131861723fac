"""Pieces the job commands share: finding jobs, showing results, resume hints."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from framecast import jobs, listing, saving
from framecast.config import KEYS
from framecast.domain import Job, JobStatus
from framecast.errors import FramecastError, Interrupted, JobFailed, UsageError
from framecast.inputs import build_request, parse_metadata, parse_params
from framecast.journal import Entry, Journal
from framecast.providers import get_provider
from framecast.providers.base import Provider
from framecast.report import job_document, wait_command
from framecast.settings import (
    ProviderChoice,
    Settings,
    choose_provider,
    for_journaled_job,
    openai_sunset_warning,
    resolve,
)
from framecast.ui import Display

if TYPE_CHECKING:
    from rich.console import Console

    from framecast.providers.base import Variant


@dataclass(slots=True)
class Target:
    """A job named on the command line, with the provider that answers for it."""

    provider: Provider
    job: Job
    entry: Entry | None  # None: not in the journal


def settings_for(
    ctx: typer.Context, flags: dict[str, Any], profile: str | None, config_file: Path | None
) -> Settings:
    """Resolve a command's settings; --profile/--config may also come before the command."""
    root = ctx.find_root().obj or {}
    return resolve(
        {key: value for key, value in flags.items() if key in KEYS},
        profile=profile or root.get("profile"),
        config_path=config_file or root.get("config"),
    )


def request_flags(param: list[str] | None, metadata: list[str] | None) -> dict[str, Any]:
    """The repeatable KEY=VALUE flags as the tables profiles hold."""
    return {
        "params": parse_params(param or ()) or None,
        "metadata": parse_metadata(metadata or ()) or None,
    }


def resolve_targets(refs: list[str], journal: Journal, settings: Settings) -> list[Target]:
    """Providers for each reference; journaled jobs go back to where they were submitted."""
    opened: dict[tuple[str, str | None], Provider] = {}
    targets: list[Target] = []

    def provider_for(choice: ProviderChoice) -> Provider:
        key = (choice.name, choice.base_url)
        if key not in opened:
            opened[key] = choice.open()
        return opened[key]

    explicit = "flag" in (settings.origin("provider"), settings.origin("base_url"))
    for ref in refs:
        entry = journal.resolve(ref)
        if entry is not None and not explicit:
            choice = for_journaled_job(entry.provider, entry.base_url, settings)
            targets.append(Target(provider_for(choice), entry.job, entry))
            continue
        provider = provider_for(choose_provider(settings))
        job_id = entry.id if entry is not None else ref
        known = journal.get(provider.name, provider.base_url, job_id)
        placeholder = Job(id=job_id, provider=provider.name, status=JobStatus.QUEUED)
        targets.append(Target(provider, known.job if known else placeholder, known))
    return targets


def close_all(targets: list[Target]) -> None:
    for provider in {id(t.provider): t.provider for t in targets}.values():
        provider.close()


def prepared_request(
    prompt: str,
    settings: Settings,
    err: Console,
    *,
    quiet: bool,
    idempotency_key: str | None = None,
) -> tuple[ProviderChoice, jobs.Prepared]:
    """The provider and the checked, normalised request the settings describe."""
    text = sys.stdin.read() if prompt == "-" else prompt
    get = settings.get
    request = build_request(
        text,
        model=get("model"),
        seconds=get("seconds"),
        size=get("size"),
        aspect_ratio=get("aspect_ratio"),
        resolution=get("resolution"),
        n=get("n", 1),
        images=get("image") or (),
        video=get("video"),
        negative_prompt=get("negative_prompt"),
        seed=get("seed"),
        audio=get("audio"),
        webhook_url=get("webhook_url"),
        metadata=get("metadata"),
        user=get("user"),
        idempotency_key=idempotency_key,
        params=get("params"),
    )
    choice = choose_provider(settings)
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


def already_saved(entry: Entry | None, path: Path) -> bool:
    """The journal says this exact file is this job's complete download."""
    if entry is None or entry.output_path is None or entry.output_bytes is None:
        return False
    saved = Path(entry.output_path)
    return (
        saved == path.absolute() and saved.is_file() and saved.stat().st_size == entry.output_bytes
    )


def deliver(
    provider: Provider,
    job: Job,
    journal: Journal,
    display: Display,
    *,
    output: str | None,
    force: bool = False,
    index: int | None = None,
    several: bool = False,
    entry: Entry | None = None,
    info_json: bool = False,
    variant: Variant = "video",
) -> tuple[Path | None, int]:
    """Save a finished job's asset where `-o` says (or stream it to stdout for `-o -`)."""
    progress = {
        "on_start": lambda total: display.download_started(job, Path(output or job.id), total),
        "on_bytes": display.download_advanced,
    }
    if output == saving.STDOUT:
        size = saving.stream_out(
            lambda: provider.open_asset(job, variant), sys.stdout.buffer, **progress
        )
        display.download_finished()
        return None, size
    named = job if variant == "video" else replace(job, id=f"{job.id}-{variant}")
    path = saving.target_path(
        output, named, "mp4" if variant == "video" else "png", several=several, index=index
    )
    if variant == "video" and not force and entry is not None and already_saved(entry, path):
        return path, entry.output_bytes or 0
    progress["on_start"] = lambda total: display.download_started(job, path, total)
    saved, size = jobs.download(
        provider, job, journal, path, variant=variant, force=force, **progress
    )
    display.download_finished()
    if info_json and variant == "video":
        saving.write_info_json(saved, job_document(job, path=str(saved), size=size))
    return saved, size


def check_output(
    output: str | None, *, json_mode: bool, print_field: str | None, jobs_count: int
) -> None:
    """`-o -` puts video bytes on stdout, so nothing else may go there."""
    if output != saving.STDOUT:
        if output is not None and saving.is_template(output):
            saving.render_template(
                output, Job(id="job", provider="p", status=JobStatus.QUEUED), "mp4", 1
            )
        return
    if json_mode or print_field:
        raise UsageError(
            "-o - writes the video to stdout; it cannot be combined with --json or --print."
        )
    if jobs_count > 1:
        raise UsageError("-o - streams one video; ask for one job at a time.")


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
