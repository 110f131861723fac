"""`framecast generate`: submit jobs, follow them, save the MP4s."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from framecast.cli import options

if TYPE_CHECKING:
    from framecast.domain import Job


def generate(
    ctx: typer.Context,
    prompt: options.Prompt,
    model: options.Model = None,
    seconds: options.Seconds = None,
    size: options.Size = None,
    aspect_ratio: options.AspectRatio = None,
    resolution: options.Resolution = None,
    n: options.Count = None,
    image: options.Image = None,
    video: options.Video = None,
    negative_prompt: options.NegativePrompt = None,
    seed: options.Seed = None,
    audio: options.Audio = None,
    webhook_url: options.WebhookUrl = None,
    metadata: options.Metadata = None,
    user: options.User = None,
    idempotency_key: options.IdempotencyKey = None,
    param: options.Param = None,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    output: options.Output = None,
    extend: Annotated[
        str | None,
        typer.Option(
            "--extend",
            metavar="ID",
            help="Continue a finished job (id or @last) with a new segment described by PROMPT.",
            show_default=False,
        ),
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Submit, print the job id(s) and exit.")
    ] = False,
    timeout: options.Timeout = None,
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost",
            min=0,
            help="Refuse (exit 8) if the estimate is above this, in USD.",
            show_default=False,
        ),
    ] = None,
    allow_unpriced: Annotated[
        bool | None,
        typer.Option(
            "--allow-unpriced",
            help="With --max-cost, submit even when the request cannot be priced.",
        ),
    ] = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Submit even if the same request is already running or has an unknown outcome.",
        ),
    ] = False,
    cancel_on_interrupt: options.CancelOnInterrupt = False,
    write_info_json: options.WriteInfoJson = None,
    progress: options.Progress = None,
    force: options.Force = False,
    json_mode: options.Json = False,
    quiet: options.Quiet = False,
    print_field: options.Print = None,
    max_retries: options.MaxRetries = None,
    max_retry_wait: options.MaxRetryWait = None,
    allow_insecure_http: options.AllowInsecureHttp = None,
) -> None:
    """Submit a video job, show its progress and save the MP4 when it is done.

    Every job is recorded in the local journal before waiting starts, so an
    interrupted or timed-out run can be resumed with `framecast wait`.
    """
    import sys
    import time

    from framecast import jobs, saving
    from framecast.cli.common import (
        check_output,
        extension_source,
        info_json_writer,
        prepared_request,
        request_flags,
        settings_for,
    )
    from framecast.cli.output import emit
    from framecast.domain import JobStatus
    from framecast.errors import FramecastError, WaitTimeout
    from framecast.jobrun import Delivery, JobRun, Tracked, job_failed
    from framecast.journal import Journal
    from framecast.report import job_document
    from framecast.settings import poll_policy
    from framecast.ui import Display, NotesOnly, console, make_display, print_json

    started = time.monotonic()
    err = console(sys.stderr)
    flags = {**locals(), **request_flags(param, metadata)}
    source = None
    if extend is not None:
        source, flags["provider"], flags["base_url"], flags["model"] = extension_source(
            extend, provider, base_url, model
        )
    settings = settings_for(ctx, flags, profile, config_file)
    choice, prepared = prepared_request(
        prompt, settings, err, quiet=quiet, idempotency_key=idempotency_key
    )
    field = None if print_field is None else print_field.value
    out = settings.get("output")
    several = prepared.request.n > 1
    check_output(out, json_mode=json_mode, print_field=field, jobs_count=prepared.request.n)
    policy = poll_policy(settings)
    if not no_wait and out not in (None, saving.STDOUT):
        probe = saving.target_path(
            out, _placeholder(prepared.request.model), "mp4", index=1 if several else None
        )
        saving.check_writable(probe)
    adjustments = [str(a) for a in prepared.adjustments]

    with Journal.open_default() as journal, choice.open() as api:
        cap = settings.get("max_cost")
        if cap is not None:
            estimate = jobs.estimate(
                api,
                prepared,
                on_fallback=lambda e: err.print(
                    f"Dry run unavailable ({e.message}); using the table."
                ),
            )
            jobs.check_budget(estimate, cap, allow_unpriced=bool(settings.get("allow_unpriced")))
            if not quiet and estimate.total is not None:
                total = f"{estimate.total:.2f} {estimate.currency}"
                err.print(f"Estimated {total} ({estimate.describe_source()}).")
        display = (
            Display()
            if quiet
            else NotesOnly(err)
            if no_wait
            else make_display(err, mode=settings.get("progress"))
        )
        run = JobRun(
            journal,
            display,
            policy=policy,
            timeout=settings.get("timeout"),
            cancel_on_interrupt=cancel_on_interrupt,
        )
        try:
            submitted = run.submit(api, prepared, extend=source, again=again, output=out)
            if no_wait:
                _print_submitted(
                    submitted, adjustments, json_mode=json_mode, quiet=quiet, print_field=field
                )
                return
            delivery = Delivery(
                output=out,
                force=force,
                sink=sys.stdout.buffer if out == saving.STDOUT else None,
                on_saved=info_json_writer(bool(settings.get("write_info_json"))),
            )
            tracked = [
                Tracked(api, job, index=i if several else None, confirmed=True)
                for i, job in enumerate(submitted, start=1)
            ]
            finals = run.follow(tracked, delivery)
        except FramecastError as error:
            # Scripts get the jobs that exist even when the run fails.
            display.close()
            shown = error.jobs if isinstance(error, WaitTimeout) else error.known_jobs
            for job in shown:
                if field:
                    emit(job, json_mode=False, quiet=True, print_field=field)
                elif json_mode:
                    print_json(job_document(job, adjustments=adjustments))
            raise
        finally:
            display.close()
    for item in finals:
        emit(
            item.job,
            json_mode=json_mode,
            quiet=quiet,
            path=item.path,
            size=item.size,
            started=started,
            adjustments=adjustments,
            print_field=field,
        )
    failed = [t.job for t in finals if t.job.status is not JobStatus.COMPLETED]
    if failed:
        raise job_failed(failed)


def _placeholder(model: str | None) -> Job:
    """A stand-in job for checking where output will go before the real one exists."""
    from framecast.domain import Job, JobStatus

    return Job(id="job", provider="provider", status=JobStatus.QUEUED, model=model)


def _print_submitted(
    submitted: list[Job],
    adjustments: list[str],
    *,
    json_mode: bool,
    quiet: bool,
    print_field: str | None,
) -> None:
    import sys

    from framecast.cli.output import emit
    from framecast.report import job_document
    from framecast.ui import console, print_json

    for job in submitted:
        if print_field:
            emit(job, json_mode=False, quiet=True, print_field=print_field)
        elif json_mode:
            print_json(job_document(job, adjustments=adjustments))
        else:
            typer.echo(job.id)
    if not quiet and not json_mode and not print_field:
        ids = " ".join(job.id for job in submitted)
        console(sys.stderr).print(f"Submitted. Follow with: framecast wait {ids}", soft_wrap=True)
