"""`framecast status`, `wait` and `download`: following jobs that were already submitted."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from framecast.cli import params
from framecast.cli.completion import complete_jobs

if TYPE_CHECKING:
    from framecast.cli.common import Shown

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


@params.takes("connection")
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
    *,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="How many recent jobs to list.")
    ] = 20,
    json_mode: params.Json = False,
    fields: params.StatusFields = None,
    print_field: params.Print = None,
    **given: Any,
) -> None:
    """Show jobs' current state, or (with no id) the recent jobs in the journal.

    On a terminal: a table, or a job's details. Piped: tab-separated values
    with a header line (one `field<TAB>value` line per field for one job), never
    cut. --json prints one object per job; --fields picks the columns or keys.

    Examples:

    \b
      framecast status                          # recent jobs, offline
      framecast status @last                    # ask the provider about the last job
      framecast status --fields id,status,url | cut -f3
      framecast status @1 @2 --json --fields id,status,progress
    """
    import sys

    from framecast.cli import common, status_view

    shown = common.Shown.of(json_mode, print_field=print_field, fields=fields, any_view=True)
    if not ids:
        common.check_config_named(ctx, given)  # a mistyped --config is an error, even offline
        _recent(limit, shown)
        return
    from framecast.refresh import refresh

    settings = common.settings_for(ctx, given)
    # No console is made unless there is something to say on stderr: scripts run
    # `status ID --json` in loops, and Rich is the largest import it would otherwise add.
    for job, entry, warning in refresh(ids, settings, on_error=common.error_line()):
        status_view.show_job(
            job, entry, json_mode=shown.json, fields=shown.fields, print_field=shown.print_field
        )
        if warning:
            common.stderr().print(warning, soft_wrap=True)
    sys.stdout.flush()


def _recent(limit: int, shown: Shown) -> None:
    """`status` with no id: the journal's recent jobs, offline."""
    from framecast.cli import common, status_view
    from framecast.journal import Journal

    err = common.stderr()
    with Journal.open_default() as journal:
        entries, unknown = journal.recent(limit), journal.unknown()
    status_view.show_entries(
        entries, json_mode=shown.json, fields=shown.fields, print_field=shown.print_field
    )
    if not entries:
        err.print("No jobs in the journal yet. Submit one with `framecast generate`.")
    if unknown:
        err.print(
            f"Warning: {len(unknown)} submission(s) have an unknown outcome: a job may "
            "exist and may be billed. Run `framecast sync` to find out.",
            style="bold yellow",
            soft_wrap=True,
        )


@params.takes("connection", names=("timeout", "output", "progress", "heartbeat", "write_info_json"))
def wait(
    ctx: typer.Context,
    ids: JobRefs,
    *,
    download: Annotated[
        bool, typer.Option("--download", "-d", help="Save each completed video (as -o does).")
    ] = False,
    force: params.Force = False,
    json_mode: params.Json = False,
    fields: params.Fields = None,
    quiet: params.Quiet = False,
    print_field: params.Print = None,
    cancel_on_interrupt: params.CancelOnInterrupt = False,
    **given: Any,
) -> None:
    """Block until the jobs finish; a finished job returns at once. Exit 6 if any failed.

    Examples:

    \b
      framecast wait @last                      # prints the id when it is done
      framecast wait @last -d -o clips/         # ... and saves the MP4 there
      framecast wait job_1 job_2 --json --timeout 600
    """
    import time

    from framecast import runs
    from framecast.cli import common

    started, shown = time.monotonic(), common.Shown.of(json_mode, quiet, print_field, fields)
    # A profile's default output saves only when asked to (--download or -o).
    save = download or given.get("output") is not None
    settings = common.settings_for(ctx, given)
    out = settings.run.output if save else None
    runs.check_output(out, to_stdout_ok=shown.to_stdout_ok, jobs_count=len(ids))
    display = common.display_for(settings, common.stderr(), quiet=quiet)
    with common.known_jobs_on_failure(shown, display):
        outcome = runs.follow(
            ids,
            settings,
            display,
            output=out,
            save=save,
            force=force,
            cancel_on_interrupt=cancel_on_interrupt,
            on_saved=common.info_json_writer(settings.run.write_info_json),
        )
    common.emit_all(outcome.tracked, shown, started=started)
    outcome.raise_for_failures()


@params.takes("connection", names=("output", "progress", "write_info_json"))
def download(
    ctx: typer.Context,
    ref: Annotated[
        str,
        typer.Argument(metavar="ID", help="Job id, or @last / @N.", autocompletion=complete_jobs),
    ],
    *,
    variant: Annotated[
        VariantChoice,
        typer.Option("--variant", help="Which asset: the MP4, a thumbnail or a spritesheet."),
    ] = VariantChoice.video,
    force: params.Force = False,
    json_mode: params.Json = False,
    fields: params.Fields = None,
    quiet: params.Quiet = False,
    print_field: params.Print = None,
    **given: Any,
) -> None:
    """Save a finished job's video, thumbnail or spritesheet; never overwrites without --force.

    Examples:

    \b
      framecast download @last                  # ./<id>.mp4
      framecast download @2 -o "{prompt_slug}.mp4" --write-info-json
      framecast download @last --variant thumbnail -o thumb.webp
      framecast download @last -o - | ffplay -  # the MP4 on stdout
    """
    import time

    from framecast import runs
    from framecast.cli import common

    started, shown = time.monotonic(), common.Shown.of(json_mode, quiet, print_field, fields)
    settings = common.settings_for(ctx, given)
    runs.check_output(settings.run.output, to_stdout_ok=shown.to_stdout_ok, jobs_count=1)
    display = common.display_for(settings, common.stderr(), quiet=quiet)
    try:
        target = runs.fetch(
            ref,
            settings,
            display,
            variant=variant.value,
            force=force,
            on_saved=common.info_json_writer(settings.run.write_info_json),
        )
    finally:
        display.close()
    common.emit(target.job, shown, path=target.path, size=target.size, started=started)
