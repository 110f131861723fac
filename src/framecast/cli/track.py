"""`framecast status`, `wait` and `download`: following jobs that were already submitted."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from framecast.cli import options

if TYPE_CHECKING:
    from pathlib import Path

    from framecast.journal import Entry

JobRefs = Annotated[
    list[str],
    typer.Argument(
        metavar="ID...", help="Job ids, or @last / @N (the Nth most recent job in the journal)."
    ),
]


class VariantChoice(StrEnum):
    video = "video"
    thumbnail = "thumbnail"
    spritesheet = "spritesheet"


def _already_saved(entry: Entry | None, path: Path) -> bool:
    """The journal says this exact file is this job's complete download."""
    from pathlib import Path

    if entry is None or entry.output_path is None or entry.output_bytes is None:
        return False
    saved = Path(entry.output_path)
    return (
        saved == path.absolute() and saved.is_file() and saved.stat().st_size == entry.output_bytes
    )


def status(
    ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="[ID]...", help="Job ids or @last / @N; none lists recent jobs."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many recent jobs to list.")
    ] = 20,
    json_mode: options.Json = False,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
) -> None:
    """Show a job's current state, or (with no id) a table of recent jobs from the journal."""
    import sys
    import time

    from framecast.journal import Journal
    from framecast.report import job_document
    from framecast.ui import console, job_details, jobs_table, print_json

    err = console(sys.stderr)
    with Journal.open_default() as journal:
        if not ids:
            entries = journal.recent(limit)
            if json_mode:
                for entry in entries:
                    print_json(
                        job_document(entry.job, path=entry.output_path, size=entry.output_bytes)
                    )
            elif entries:
                jobs_table(console(sys.stdout), entries)
            else:
                err.print("No jobs in the journal yet. Submit one with `framecast generate`.")
            return
        # Only asking a provider needs the HTTP stack; listing the journal does not.
        from framecast import jobs
        from framecast.cli.common import Flags, close_all, resolve_targets
        from framecast.report import expiry_warning

        targets = resolve_targets(ids, journal, Flags(provider, base_url, api_key))
        try:
            for target in targets:
                job = jobs.refresh(target.provider, target.job.id, journal)
                path = target.entry.output_path if target.entry else None
                size = target.entry.output_bytes if target.entry else None
                if json_mode:
                    print_json(job_document(job, path=path, size=size))
                else:
                    job_details(console(sys.stdout), job, path)
                warning = expiry_warning(job, time.time())
                if warning:
                    err.print(warning)
        finally:
            close_all(targets)


def wait(
    ids: JobRefs,
    timeout: options.Timeout = options.DEFAULT_TIMEOUT,
    download: Annotated[
        bool, typer.Option("--download", "-d", help="Save each completed video (as -o does).")
    ] = False,
    output: options.Output = None,
    force: options.Force = False,
    json_mode: options.Json = False,
    quiet: options.Quiet = False,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
) -> None:
    """Block until the jobs finish; a finished job returns at once. Exit 6 if any failed."""
    import os
    import sys
    import time

    from framecast import jobs, saving
    from framecast.cli.common import (
        Flags,
        close_all,
        emit,
        failure,
        interrupted,
        resolve_targets,
        save_video,
        with_resume_hint,
    )
    from framecast.domain import JobStatus
    from framecast.errors import WaitTimeout
    from framecast.journal import Journal
    from framecast.report import job_document
    from framecast.settings import poll_policy
    from framecast.ui import console, make_display, print_json

    started = time.monotonic()
    save = download or output is not None
    several = len(ids) > 1
    err = console(sys.stderr)
    with Journal.open_default() as journal:
        targets = resolve_targets(ids, journal, Flags(provider, base_url, api_key))
        display = make_display(err, quiet=quiet)
        try:
            # What the journal already knows to be finished is not asked again.
            open_targets = [t for t in targets if not (t.entry is not None and t.job.finished)]
            polled = {id(t) for t in open_targets}
            finished = jobs.wait(
                [(t.provider, t.job) for t in open_targets],
                journal,
                policy=poll_policy(os.environ),
                deadline=None if timeout == 0 else started + timeout,
                refresh_first=True,
                on_update=display.update,
                on_trouble=display.trouble,
            )
            for target, job in zip(open_targets, finished, strict=True):
                target.job = job
            results: list[tuple[Path | None, int | None]] = []
            for target in targets:
                job = target.job
                if not (save and job.status is JobStatus.COMPLETED):
                    results.append((None, None))
                    continue
                path = saving.target_path(output, job.id, "mp4", several=several)
                if not force and _already_saved(target.entry, path):
                    assert target.entry is not None
                    results.append((path, target.entry.output_bytes))
                    continue
                if id(target) not in polled:
                    # Known finished from the journal: its signed link may be stale by now.
                    target.job = jobs.refresh(target.provider, job.id, journal)
                results.append(
                    save_video(target.provider, target.job, path, journal, display, force=force)
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
        emit(target.job, json_mode=json_mode, quiet=quiet, path=saved, size=size, started=started)
    failed = [t.job for t in targets if t.job.status is not JobStatus.COMPLETED]
    if failed:
        raise failure(failed)


def download(
    ref: Annotated[str, typer.Argument(metavar="ID", help="Job id, or @last / @N.")],
    output: options.Output = None,
    variant: Annotated[
        VariantChoice,
        typer.Option("--variant", help="Which asset: the MP4, a thumbnail or a spritesheet."),
    ] = VariantChoice.video,
    force: options.Force = False,
    json_mode: options.Json = False,
    quiet: options.Quiet = False,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
) -> None:
    """Save a finished job's video, thumbnail or spritesheet; never overwrites without --force."""
    import sys
    import time

    from framecast import jobs, saving
    from framecast.cli.common import Flags, close_all, emit, failure, resolve_targets
    from framecast.domain import JobStatus
    from framecast.errors import UsageError
    from framecast.journal import Journal
    from framecast.ui import console, make_display

    started = time.monotonic()
    with Journal.open_default() as journal:
        targets = resolve_targets([ref], journal, Flags(provider, base_url, api_key))
        target = targets[0]
        display = make_display(console(sys.stderr), quiet=quiet)
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
            name = job.id if variant is VariantChoice.video else f"{job.id}-{variant.value}"
            ext = "mp4" if variant is VariantChoice.video else "png"
            path = saving.target_path(output, name, ext)
            if variant is VariantChoice.video and not force and _already_saved(target.entry, path):
                assert target.entry is not None
                saved, size = path, target.entry.output_bytes or 0
            else:
                saved, size = jobs.download(
                    target.provider,
                    job,
                    journal,
                    path,
                    variant=variant.value,
                    force=force,
                    on_start=lambda total: display.download_started(job, path, total),
                    on_bytes=display.download_advanced,
                )
                display.download_finished()
        finally:
            display.close()
            close_all(targets)
    emit(job, json_mode=json_mode, quiet=quiet, path=saved, size=size, started=started)
