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
) -> None:
    """Show a job's current state, or (with no id) a table of recent jobs from the journal."""
    import sys
    import time

    from framecast.cli.output import emit
    from framecast.journal import Journal
    from framecast.report import job_document
    from framecast.ui import console, job_details, jobs_table, print_json

    err = console(sys.stderr)
    field = None if print_field is None else print_field.value
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
                    print_json(
                        job_document(entry.job, path=entry.output_path, size=entry.output_bytes)
                    )
            if not (json_mode or field) and entries:
                jobs_table(console(sys.stdout), entries)
            elif not entries:
                err.print("No jobs in the journal yet. Submit one with `framecast generate`.")
            return
        # Only asking a provider needs the HTTP stack; listing the journal does not.
        from framecast import jobs
        from framecast.cli.common import close_all, resolve_targets, settings_for
        from framecast.report import expiry_warning

        settings = settings_for(ctx, locals(), profile, config_file)
        targets = resolve_targets(ids, journal, settings)
        try:
            for target in targets:
                job = jobs.refresh(target.provider, target.job.id, journal)
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
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
) -> None:
    """Block until the jobs finish; a finished job returns at once. Exit 6 if any failed."""
    import sys
    import time

    from framecast import jobs
    from framecast.cli.common import (
        check_output,
        close_all,
        deliver,
        failure,
        interrupted,
        resolve_targets,
        settings_for,
        with_resume_hint,
    )
    from framecast.cli.output import emit
    from framecast.domain import JobStatus
    from framecast.errors import WaitTimeout
    from framecast.journal import Journal
    from framecast.report import job_document
    from framecast.settings import poll_policy
    from framecast.ui import console, make_display, print_json

    started = time.monotonic()
    settings = settings_for(ctx, locals(), profile, config_file)
    field = None if print_field is None else print_field.value
    # A profile's default output saves only when asked to (--download or -o).
    out = output if output is not None else (settings.get("output") if download else None)
    save = download or output is not None
    check_output(out if save else None, json_mode=json_mode, print_field=field, jobs_count=len(ids))
    policy = poll_policy(settings)
    wait_for = settings.get("timeout")
    err = console(sys.stderr)
    with Journal.open_default() as journal:
        targets = resolve_targets(ids, journal, settings)
        display = make_display(err, quiet=quiet, mode=settings.get("progress"))
        results: list[tuple[Path | None, int | None]] = []
        try:
            # What the journal already knows to be finished is not asked again.
            open_targets = [t for t in targets if not (t.entry is not None and t.job.finished)]
            finished = jobs.wait(
                [(t.provider, t.job) for t in open_targets],
                journal,
                policy=policy,
                deadline=None if not wait_for else started + wait_for,
                refresh_first=True,
                on_update=display.update,
                on_trouble=display.trouble,
            )
            for target, job in zip(open_targets, finished, strict=True):
                target.job = job
            polled = {id(t) for t in open_targets}
            for target in targets:
                if not (save and target.job.status is JobStatus.COMPLETED):
                    results.append((None, None))
                    continue
                if id(target) not in polled:
                    # Known finished from the journal: its signed link may be stale by now.
                    target.job = jobs.refresh(target.provider, target.job.id, journal)
                results.append(
                    deliver(
                        target.provider,
                        target.job,
                        journal,
                        display,
                        output=out,
                        force=force,
                        several=len(targets) > 1,
                        entry=target.entry,
                        info_json=bool(settings.get("write_info_json")),
                    )
                )
        except WaitTimeout as error:
            display.close()
            if json_mode:
                for pending in error.jobs:
                    print_json(job_document(pending))
            ids_left = [j.id for j in error.jobs]
            raise with_resume_hint(error, ids_left, output=output, download=download) from None
        except KeyboardInterrupt:
            display.close()
            raise interrupted(
                [t.job.id for t in targets], output=output, download=download
            ) from None
        finally:
            display.close()
            close_all(targets)
    for target, (saved, size) in zip(targets, results, strict=True):
        emit(
            target.job,
            json_mode=json_mode,
            quiet=quiet,
            path=saved,
            size=size,
            started=started,
            print_field=field,
        )
    failed = [t.job for t in targets if t.job.status is not JobStatus.COMPLETED]
    if failed:
        raise failure(failed)


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
) -> None:
    """Save a finished job's video, thumbnail or spritesheet; never overwrites without --force."""
    import sys
    import time

    from framecast import jobs
    from framecast.cli.common import (
        check_output,
        close_all,
        deliver,
        failure,
        resolve_targets,
        settings_for,
    )
    from framecast.cli.output import emit
    from framecast.domain import JobStatus
    from framecast.errors import UsageError
    from framecast.journal import Journal
    from framecast.ui import console, make_display

    started = time.monotonic()
    settings = settings_for(ctx, locals(), profile, config_file)
    field = None if print_field is None else print_field.value
    out = settings.get("output")
    check_output(out, json_mode=json_mode, print_field=field, jobs_count=1)
    with Journal.open_default() as journal:
        targets = resolve_targets([ref], journal, settings)
        target = targets[0]
        display = make_display(console(sys.stderr), quiet=quiet, mode=settings.get("progress"))
        try:
            # Ask afresh: output URLs are signed and expire.
            job = jobs.refresh(target.provider, target.job.id, journal)
            if job.finished and job.status is not JobStatus.COMPLETED:
                raise failure([job])
            if job.status is not JobStatus.COMPLETED:
                raise UsageError(
                    f"Job {job.id} is {job.status.value}; there is nothing to download yet.",
                    hint=f"Wait for it and save it with: framecast wait {job.id} --download",
                )
            saved, size = deliver(
                target.provider,
                job,
                journal,
                display,
                output=out,
                force=force,
                entry=target.entry,
                info_json=bool(settings.get("write_info_json")),
                variant=variant.value,
            )
        finally:
            display.close()
            close_all(targets)
    emit(
        job,
        json_mode=json_mode,
        quiet=quiet,
        path=saved,
        size=size,
        started=started,
        print_field=field,
    )
