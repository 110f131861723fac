"""`framecast status`, `wait` and `download`: following jobs that were already submitted."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from framecast.cli import options
from framecast.cli.completion import complete_jobs

if TYPE_CHECKING:
    from pathlib import Path

JobRefs = Annotated[
    list[str],
    typer.Argument(
        metavar="ID...",
        help="Job ids, or @last / @N (the Nth most recent job in the journal).",
        autocompletion=complete_jobs,
    ),
]


class VariantChoice(StrEnum):
    video = "video"
    thumbnail = "thumbnail"
    spritesheet = "spritesheet"


def status(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ID]...",
            help="Job ids or @last / @N; none lists recent jobs.",
            autocompletion=complete_jobs,
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many recent jobs to list.")
    ] = 20,
    json_mode: options.Json = False,
    print_field: options.Print = None,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    max_retries: options.MaxRetries = None,
    max_retry_wait: options.MaxRetryWait = None,
    allow_insecure_http: options.AllowInsecureHttp = None,
) -> None:
    """Show a job's current state, or (with no id) a table of recent jobs from the journal."""
    import sys
    import time

    from framecast.cli.output import emit
    from framecast.journal import Journal
    from framecast.report import entry_document, job_document
    from framecast.ui import console, job_details, jobs_table, print_json

    err = console(sys.stderr)
    field = None if print_field is None else print_field.value
    named = config_file or (ctx.find_root().obj or {}).get("config")
    if named is not None and not ids:
        from framecast.config import load

        load(named, must_exist=True)  # a mistyped --config is an error, even offline
    with Journal.open_default() as journal:
        if not ids:
            entries = journal.recent(limit)
            for entry in entries if (json_mode or field) else ():
                if field:
                    emit(
                        entry.job,
                        json_mode=False,
                        quiet=True,
                        print_field=field,
                        path=_path(entry.output_path),
                    )
                else:
                    print_json(entry_document(entry))
            if not (json_mode or field) and entries:
                jobs_table(console(sys.stdout), entries)
            elif not entries:
                err.print("No jobs in the journal yet. Submit one with `framecast generate`.")
            unknown = journal.unknown()
            if unknown:
                err.print(
                    f"Warning: {len(unknown)} submission(s) have an unknown outcome: a job may "
                    "exist and may be billed. Run `framecast sync` to find out.",
                    style="bold yellow",
                    soft_wrap=True,
                )
            return
        # Only asking a provider needs the HTTP stack; listing the journal does not.
        from framecast.cli.common import close_all, resolve_targets, settings_for
        from framecast.errors import FramecastError
        from framecast.jobrun import JobRun
        from framecast.report import expiry_warning
        from framecast.ui import Display

        settings = settings_for(ctx, locals(), profile, config_file)
        targets = resolve_targets(ids, journal, settings)
        run = JobRun(journal, Display())
        failures: list[FramecastError] = []
        try:
            for target in targets:
                try:
                    job = run.refresh(target.provider, target.job.id)
                except FramecastError as error:
                    # One job that cannot be shown does not hide the others.
                    if failures:
                        err.print(f"{type(error).__name__}: {error.message}", soft_wrap=True)
                    failures.append(error)
                    continue
                path = target.entry.output_path if target.entry else None
                size = target.entry.output_bytes if target.entry else None
                if field:
                    emit(job, json_mode=False, quiet=True, print_field=field, path=_path(path))
                elif json_mode:
                    print_json(job_document(job, path=path, size=size))
                else:
                    job_details(console(sys.stdout), job, path)
                warning = expiry_warning(job, time.time())
                if warning:
                    err.print(warning)
        finally:
            close_all(targets)
        if failures:
            raise failures[0]


def _path(text: str | None) -> Path | None:
    from pathlib import Path

    return None if text is None else Path(text)


def wait(
    ctx: typer.Context,
    ids: JobRefs,
    timeout: options.Timeout = None,
    download: Annotated[
        bool, typer.Option("--download", "-d", help="Save each completed video (as -o does).")
    ] = False,
    output: options.Output = None,
    write_info_json: options.WriteInfoJson = None,
    progress: options.Progress = None,
    force: options.Force = False,
    json_mode: options.Json = False,
    quiet: options.Quiet = False,
    print_field: options.Print = None,
    cancel_on_interrupt: options.CancelOnInterrupt = False,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    max_retries: options.MaxRetries = None,
    max_retry_wait: options.MaxRetryWait = None,
    allow_insecure_http: options.AllowInsecureHttp = None,
) -> None:
    """Block until the jobs finish; a finished job returns at once. Exit 6 if any failed."""
    import sys
    import time

    from framecast.cli.common import (
        check_output,
        close_all,
        info_json_writer,
        resolve_targets,
        settings_for,
    )
    from framecast.cli.output import emit
    from framecast.domain import Job, JobStatus
    from framecast.errors import FramecastError, WaitTimeout
    from framecast.jobrun import Delivery, JobRun, job_failed
    from framecast.journal import Journal
    from framecast.report import job_document
    from framecast.saving import STDOUT, is_template, target_path
    from framecast.settings import poll_policy
    from framecast.ui import console, make_display, print_json

    started = time.monotonic()
    settings = settings_for(ctx, locals(), profile, config_file)
    field = None if print_field is None else print_field.value
    # A profile's default output saves only when asked to (--download or -o).
    out = output if output is not None else (settings.get("output") if download else None)
    save = download or output is not None
    check_output(out if save else None, json_mode=json_mode, print_field=field, jobs_count=len(ids))
    if save and len(ids) > 1 and out not in (None, STDOUT) and not is_template(out):
        # Several jobs into one file is refused before anything is asked.
        target_path(out, Job(id="job", provider="p", status=JobStatus.QUEUED), "mp4", several=True)
    policy = poll_policy(settings)
    err = console(sys.stderr)
    with Journal.open_default() as journal:
        targets = resolve_targets(ids, journal, settings)
        display = make_display(err, quiet=quiet, mode=settings.get("progress"))
        run = JobRun(
            journal,
            display,
            policy=policy,
            timeout=settings.get("timeout"),
            cancel_on_interrupt=cancel_on_interrupt,
        )
        delivery = Delivery(
            output=out,
            save=save,
            force=force,
            sink=sys.stdout.buffer if out == STDOUT else None,
            on_saved=info_json_writer(bool(settings.get("write_info_json"))),
        )
        try:
            run.follow(targets, delivery, refresh_first=True)
        except FramecastError as error:
            display.close()
            shown = error.jobs if isinstance(error, WaitTimeout) else error.known_jobs
            for job in shown:
                if field:
                    emit(job, json_mode=False, quiet=True, print_field=field)
                elif json_mode:
                    print_json(job_document(job))
            raise
        finally:
            display.close()
            close_all(targets)
    for target in targets:
        emit(
            target.job,
            json_mode=json_mode,
            quiet=quiet,
            path=target.path,
            size=target.size,
            started=started,
            print_field=field,
        )
    failed = [t.job for t in targets if t.job.status is not JobStatus.COMPLETED]
    if failed:
        raise job_failed(failed)


def download(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(metavar="ID", help="Job id, or @last / @N.", autocompletion=complete_jobs),
    ],
    output: options.Output = None,
    variant: Annotated[
        VariantChoice,
        typer.Option("--variant", help="Which asset: the MP4, a thumbnail or a spritesheet."),
    ] = VariantChoice.video,
    write_info_json: options.WriteInfoJson = None,
    progress: options.Progress = None,
    force: options.Force = False,
    json_mode: options.Json = False,
    quiet: options.Quiet = False,
    print_field: options.Print = None,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    max_retries: options.MaxRetries = None,
    max_retry_wait: options.MaxRetryWait = None,
    allow_insecure_http: options.AllowInsecureHttp = None,
) -> None:
    """Save a finished job's video, thumbnail or spritesheet; never overwrites without --force."""
    import sys
    import time

    from framecast.cli.common import (
        check_output,
        close_all,
        info_json_writer,
        resolve_targets,
        settings_for,
    )
    from framecast.cli.output import emit
    from framecast.jobrun import Delivery, JobRun
    from framecast.journal import Journal
    from framecast.saving import STDOUT
    from framecast.ui import console, make_display

    started = time.monotonic()
    settings = settings_for(ctx, locals(), profile, config_file)
    field = None if print_field is None else print_field.value
    out = settings.get("output")
    check_output(out, json_mode=json_mode, print_field=field, jobs_count=1)
    with Journal.open_default() as journal:
        targets = resolve_targets([ref], journal, settings)
        display = make_display(console(sys.stderr), quiet=quiet, mode=settings.get("progress"))
        run = JobRun(journal, display, timeout=settings.get("timeout"))
        delivery = Delivery(
            output=out,
            force=force,
            variant=variant.value,
            sink=sys.stdout.buffer if out == STDOUT else None,
            on_saved=info_json_writer(bool(settings.get("write_info_json"))),
        )
        try:
            target = run.fetch(targets[0], delivery)
        finally:
            display.close()
            close_all(targets)
    emit(
        target.job,
        json_mode=json_mode,
        quiet=quiet,
        path=target.path,
        size=target.size,
        started=started,
        print_field=field,
    )
