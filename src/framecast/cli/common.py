"""Pieces the job commands share: finding jobs, showing results, resume hints."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from framecast import jobs, listing, saving
from framecast.config import KEYS
from framecast.domain import Job, JobStatus
from framecast.errors import UsageError
from framecast.inputs import build_request, parse_metadata, parse_params
from framecast.jobrun import Tracked
from framecast.journal import Journal
from framecast.providers import get_provider
from framecast.providers.base import Provider
from framecast.report import job_document
from framecast.settings import (
    ProviderChoice,
    Settings,
    choose_provider,
    for_journaled_job,
    openai_sunset_warning,
    resolve,
)
from framecast.untrusted import is_job_id, shown_id

if TYPE_CHECKING:
    from rich.console import Console


def settings_for(
    ctx: typer.Context, flags: dict[str, Any], profile: str | None, config_file: Path | None
) -> Settings:
    """Resolve a command's settings; --profile/--config may also come before the command."""
    root = ctx.find_root().obj or {}
    named = config_file or root.get("config")
    return resolve(
        {key: value for key, value in flags.items() if key in KEYS},
        profile=profile or root.get("profile"),
        config_path=named,
        config_named=named is not None,  # a file named with --config must exist
    )


def request_flags(param: list[str] | None, metadata: list[str] | None) -> dict[str, Any]:
    """The repeatable KEY=VALUE flags as the tables profiles hold."""
    return {
        "params": parse_params(param or ()) or None,
        "metadata": parse_metadata(metadata or ()) or None,
    }


def resolve_targets(refs: list[str], journal: Journal, settings: Settings) -> list[Tracked]:
    """Providers for each reference; journaled jobs go back to where they were submitted."""
    opened: dict[tuple[str, str | None], Provider] = {}
    targets: list[Tracked] = []

    def provider_for(choice: ProviderChoice) -> Provider:
        key = (choice.name, choice.base_url)
        if key not in opened:
            opened[key] = choice.open()
        return opened[key]

    explicit = "flag" in (settings.origin("provider"), settings.origin("base_url"))
    for ref in refs:
        if not ref.startswith("@") and not is_job_id(ref):
            raise UsageError(
                f"{shown_id(ref)} is not a job id.",
                hint="Job ids are letters, digits and . _ - : = + ~; or use @last / @N.",
            )
        entry = journal.resolve(ref)
        if entry is not None and entry.pending:
            raise UsageError(
                f"{ref} is a submission whose outcome is not known yet ({entry.state}).",
                hint="Run `framecast sync` to find out whether it created a job.",
            )
        if entry is not None and not explicit:
            choice = for_journaled_job(entry.provider, entry.base_url, settings)
            targets.append(Tracked(provider_for(choice), entry.job, entry))
            continue
        provider = provider_for(choose_provider(settings))
        job_id = entry.id if entry is not None else ref
        known = journal.get(provider.name, provider.base_url, job_id)
        placeholder = Job(id=job_id, provider=provider.name, status=JobStatus.QUEUED)
        targets.append(Tracked(provider, known.job if known else placeholder, known))
    return targets


def close_all(targets: list[Tracked]) -> None:
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


def info_json_writer(enabled: bool) -> Callable[[Job, Path, int], None] | None:
    """`--write-info-json`: the job's document beside each saved video."""
    if not enabled:
        return None

    def write(job: Job, path: Path, size: int) -> None:
        saving.write_info_json(path, job_document(job, path=str(path), size=size))

    return write


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
