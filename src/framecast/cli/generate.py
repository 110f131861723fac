"""`framecast generate`: submit a job, follow it, save the MP4."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from framecast.cli import options


def generate(
    prompt: Annotated[
        str,
        typer.Argument(metavar="PROMPT", help="What the video should show; - reads it from stdin."),
    ],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model id, e.g. sora-2.", show_default=False)
    ] = None,
    seconds: Annotated[
        int | None, typer.Option("--seconds", "-s", help="Duration in seconds.", show_default=False)
    ] = None,
    size: Annotated[
        str | None,
        typer.Option("--size", help="WIDTHxHEIGHT (1280x720) or W:H (16:9).", show_default=False),
    ] = None,
    image: Annotated[
        list[str] | None,
        typer.Option(
            "--image",
            "-i",
            help="Reference image: a path or an https URL. Repeatable.",
            show_default=False,
        ),
    ] = None,
    negative_prompt: Annotated[
        str | None,
        typer.Option("--negative-prompt", help="What the video should avoid.", show_default=False),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-P",
            help="Extra request field KEY=VALUE (JSON values are parsed). Repeatable.",
            show_default=False,
        ),
    ] = None,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    output: options.Output = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Submit, print the job id and exit.")
    ] = False,
    timeout: options.Timeout = options.DEFAULT_TIMEOUT,
    force: options.Force = False,
    json_mode: options.Json = False,
    quiet: options.Quiet = False,
) -> None:
    """Submit a video job, show its progress and save the MP4 when it is done.

    The job is recorded in the local journal before waiting starts, so an
    interrupted or timed-out run can be resumed with `framecast wait`.
    """
    import os
    import shlex
    import time

    from framecast import jobs, saving
    from framecast.cli.common import emit, failure, interrupted, with_resume_hint
    from framecast.domain import JobStatus
    from framecast.errors import ProviderError, WaitTimeout
    from framecast.inputs import build_request
    from framecast.journal import Journal
    from framecast.report import job_document
    from framecast.settings import choose_provider, openai_sunset_warning, poll_policy
    from framecast.ui import Display, console, make_display, print_json

    started = time.monotonic()
    text = sys.stdin.read() if prompt == "-" else prompt
    request = build_request(
        text,
        model=model,
        seconds=seconds,
        size=size,
        images=image or (),
        negative_prompt=negative_prompt,
        params=param or (),
    )
    choice = choose_provider(provider=provider, base_url=base_url, api_key=api_key)
    policy = poll_policy(os.environ)
    err = console(sys.stderr)
    warning = openai_sunset_warning(choice)
    if warning and not quiet:
        err.print(f"Warning: {warning}", style="yellow", soft_wrap=True)
    if not no_wait and output is not None:
        saving.check_writable(saving.target_path(output, "job", "mp4"))

    with Journal.open_default() as journal, choice.open() as api:
        job = jobs.submit(api, request, journal)
        if no_wait:
            if json_mode:
                print_json(job_document(job))
            else:
                typer.echo(job.id)
                if not quiet:
                    err.print(f"Submitted. Follow it with: framecast wait {job.id}", soft_wrap=True)
            return
        display: Display = Display()
        deadline = None if timeout == 0 else started + timeout
        try:
            display = make_display(err, quiet=quiet)
            display.update(job)
            (job,) = jobs.wait(
                [(api, job)],
                journal,
                policy=policy,
                deadline=deadline,
                on_update=display.update,
                on_trouble=display.trouble,
            )
            if job.status is not JobStatus.COMPLETED:
                display.close()
                if json_mode:
                    print_json(job_document(job))
                raise failure([job])
            path = saving.target_path(output, job.id, "mp4")
            try:
                saved, nbytes = jobs.download(
                    api,
                    job,
                    journal,
                    path,
                    force=force,
                    on_start=lambda total: display.download_started(job, path, total),
                    on_bytes=display.download_advanced,
                )
            except ProviderError as error:
                error.hint = "The job is done; fetch it again with: " + shlex.join(
                    ["framecast", "download", job.id, *(["-o", output] if output else [])]
                )
                raise
            display.download_finished()
        except WaitTimeout as error:
            display.close()
            if json_mode:
                for pending in error.jobs:
                    print_json(job_document(pending))
            raise with_resume_hint(error, [job.id], output=output, download=True) from None
        except KeyboardInterrupt:
            display.close()
            raise interrupted([job.id], output=output, download=True) from None
        finally:
            display.close()
    emit(job, json_mode=json_mode, quiet=quiet, path=saved, size=nbytes, started=started)
