"""`framecast generate`: submit jobs, follow them, save the MP4s."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from framecast.cli import options

if TYPE_CHECKING:
    from framecast.domain import Job


def generate(
    prompt: options.Prompt,
    model: options.Model = None,
    seconds: options.Seconds = None,
    size: options.Size = None,
    aspect_ratio: options.AspectRatio = None,
    resolution: options.Resolution = None,
    n: options.Count = 1,
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
    timeout: options.Timeout = options.DEFAULT_TIMEOUT,
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
        bool,
        typer.Option(
            "--allow-unpriced",
            help="With --max-cost, submit even when the request cannot be priced.",
        ),
    ] = False,
    force: options.Force = False,
    json_mode: options.Json = False,
    quiet: options.Quiet = False,
) -> None:
    """Submit a video job, show its progress and save the MP4 when it is done.

    Every job is recorded in the local journal before waiting starts, so an
    interrupted or timed-out run can be resumed with `framecast wait`.
    """
    import os
    import shlex
    import sys
    import time
    from pathlib import Path

    from framecast import jobs, saving
    from framecast.cli.common import (
        emit,
        extension_source,
        failure,
        interrupted,
        prepared_request,
        save_video,
        with_resume_hint,
    )
    from framecast.domain import JobStatus
    from framecast.errors import ProviderError, WaitTimeout
    from framecast.journal import Journal
    from framecast.report import job_document
    from framecast.settings import poll_policy
    from framecast.ui import Display, console, make_display, print_json

    started = time.monotonic()
    err = console(sys.stderr)
    source = None
    if extend is not None:
        source, provider, base_url, model = extension_source(extend, provider, base_url, model)
    choice, prepared = prepared_request(prompt, locals(), err, quiet=quiet)
    policy = poll_policy(os.environ)
    several = prepared.request.n > 1
    if not no_wait and output is not None:
        saving.check_writable(
            saving.target_path(output, "job", "mp4", index=1 if several else None)
        )
    adjustments = [str(a) for a in prepared.adjustments]

    with Journal.open_default() as journal, choice.open() as api:
        if max_cost is not None:
            estimate = jobs.estimate(
                api,
                prepared,
                on_fallback=lambda e: err.print(
                    f"Dry run unavailable ({e.message}); using the table."
                ),
            )
            jobs.check_budget(estimate, max_cost, allow_unpriced=allow_unpriced)
            if not quiet and estimate.total is not None:
                total = f"{estimate.total:.2f} {estimate.currency}"
                err.print(f"Estimated {total} ({estimate.describe_source()}).")
        display: Display = Display()
        deadline = None if timeout == 0 else started + timeout
        saved: dict[str, tuple[Path, int]] = {}
        submitted = jobs.submit(api, prepared, journal, extend=source)
        ids = [job.id for job in submitted]
        # From here on the jobs exist and are paid for: every way out names them.
        try:
            if no_wait:
                _print_submitted(submitted, adjustments, json_mode=json_mode, quiet=quiet)
                return
            display = make_display(err, quiet=quiet)
            for job in submitted:
                display.update(job)
            finals = jobs.wait(
                [(api, job) for job in submitted],
                journal,
                policy=policy,
                deadline=deadline,
                on_update=display.update,
                on_trouble=display.trouble,
            )
            for index, job in enumerate(finals, start=1):
                if job.status is not JobStatus.COMPLETED:
                    continue
                path = saving.target_path(output, job.id, "mp4", index=index if several else None)
                try:
                    saved[job.id] = save_video(api, job, path, journal, display, force=force)
                except ProviderError as error:
                    error.hint = "The job is done; fetch it again with: " + shlex.join(
                        ["framecast", "download", job.id, *(["-o", output] if output else [])]
                    )
                    raise
        except WaitTimeout as error:
            display.close()
            if json_mode:
                for pending in error.jobs:
                    print_json(job_document(pending, adjustments=adjustments))
            raise with_resume_hint(
                error, [j.id for j in error.jobs], output=output, download=True
            ) from None
        except KeyboardInterrupt:
            display.close()
            raise interrupted(ids, output=output, download=True) from None
        finally:
            display.close()
    for job in finals:
        file: Path | None = None
        nbytes: int | None = None
        if job.id in saved:
            file, nbytes = saved[job.id]
        emit(
            job,
            json_mode=json_mode,
            quiet=quiet,
            path=file,
            size=nbytes,
            started=started,
            adjustments=adjustments,
        )
    failed = [job for job in finals if job.status is not JobStatus.COMPLETED]
    if failed:
        raise failure(failed)


def _print_submitted(
    submitted: list[Job], adjustments: list[str], *, json_mode: bool, quiet: bool
) -> None:
    import sys

    from framecast.report import job_document
    from framecast.ui import console, print_json

    for job in submitted:
        if json_mode:
            print_json(job_document(job, adjustments=adjustments))
        else:
            typer.echo(job.id)
    if not quiet and not json_mode:
        ids = " ".join(job.id for job in submitted)
        console(sys.stderr).print(f"Submitted. Follow with: framecast wait {ids}", soft_wrap=True)
