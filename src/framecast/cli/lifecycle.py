"""`framecast cancel`, `delete` and `remix`: stopping, removing and remixing jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from framecast.cli import params
from framecast.cli.completion import complete_jobs
from framecast.cli.generate import Again, NoWait
from framecast.cli.track import JobRefs

if TYPE_CHECKING:
    from framecast.domain import Job
    from framecast.lifecycle import Done

SourceRef = Annotated[
    str,
    typer.Argument(
        metavar="ID", help="The completed job: its id, or @last / @N.", autocompletion=complete_jobs
    ),
]
Yes = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Delete without asking (needed when stdin is no terminal)."),
]


@params.takes("connection")
def cancel(
    ctx: typer.Context, ids: JobRefs, *, json_mode: params.Json = False, **given: Any
) -> None:
    """Cancel running jobs at their provider; the journal records them as cancelled.

    Lumenfall and OpenAI-compatible servers cancel with DELETE /videos/{id} (an
    OpenAI server stops a job by deleting it). A job already cancelled is fine; a
    finished one is refused (delete it instead). NanoGPT cannot cancel. Each job
    gets one line, or with --json one object (id, provider, status, result,
    deleted, message). Exit 0 when every job is cancelled; else the code of the
    first that was not: 2 refused, 3 configuration, 4 or 5 the provider.

    Examples:

    \b
      framecast cancel @last
      framecast cancel video_1 video_2 --json
    """
    from framecast import lifecycle
    from framecast.cli import common

    _show(lifecycle.cancel(ids, common.settings_for(ctx, given)), json_mode)


@params.takes("connection")
def delete(
    ctx: typer.Context,
    ids: JobRefs,
    *,
    yes: Yes = False,
    json_mode: params.Json = False,
    **given: Any,
) -> None:
    """Delete finished jobs and their stored videos at the provider; local files are kept.

    Asks first on a terminal; elsewhere (a script, a pipe) it needs --yes. A job
    still running is refused (cancel it first). The journal records when each was
    deleted. NanoGPT cannot delete. Each job gets one line, or with --json one
    object (id, provider, status, result, deleted, message). Exit 0 when every job
    is deleted; else the code of the first that was not: 2 refused or not
    confirmed, 3 configuration, 4 or 5 the provider.

    Examples:

    \b
      framecast delete @last
      framecast delete @2 @3 --yes --json
    """
    import sys

    from framecast import lifecycle
    from framecast.cli import common
    from framecast.errors import UsageError

    if not yes and not sys.stdin.isatty():
        raise UsageError(
            "delete asks before deleting, and stdin is not a terminal; nothing was sent.",
            hint="Pass --yes to delete without asking.",
        )
    settings = common.settings_for(ctx, given)
    _show(lifecycle.delete(ids, settings, confirm=(lambda jobs: True) if yes else _ask), json_mode)


@params.takes(
    "connection",
    names=(
        "output",
        "timeout",
        "progress",
        "heartbeat",
        "write_info_json",
        "max_cost",
        "max_daily_cost",
        "allow_unpriced",
    ),
)
def remix(
    ctx: typer.Context,
    ref: SourceRef,
    prompt: params.Prompt,
    *,
    no_wait: NoWait = False,
    again: Again = False,
    cancel_on_interrupt: params.CancelOnInterrupt = False,
    force: params.Force = False,
    json_mode: params.Json = False,
    fields: params.Fields = None,
    quiet: params.Quiet = False,
    print_field: params.Print = None,
    **given: Any,
) -> None:
    """Remix a completed job with a new PROMPT, and save the new video as generate does.

    The remix is made at the job's provider, of its model and length (the OpenAI
    Videos remix, through Lumenfall and OpenAI-compatible servers). It is journaled
    before it is sent; output options and exit codes are generate's.

    Examples:

    \b
      framecast remix @last "the same street at night" -o night.mp4
      framecast remix @last "in watercolour" --no-wait -q    # prints the id; then `wait`
    """
    import time

    from framecast import lifecycle, runs
    from framecast.cli import common

    started, shown = time.monotonic(), common.Shown.of(json_mode, quiet, print_field, fields)
    settings = common.settings_for(ctx, given)
    note = common.notes(err := common.stderr(), quiet=quiet)
    runs.check_output(settings.run.output, to_stdout_ok=shown.to_stdout_ok, jobs_count=1)
    display = common.display_for(settings, err, quiet=quiet, notes_only=no_wait)
    with common.known_jobs_on_failure(shown, display):
        how = runs.Submission(
            wait=not no_wait,
            again=again,
            force=force,
            cancel_on_interrupt=cancel_on_interrupt,
            on_saved=common.info_json_writer(settings.run.write_info_json),
        )
        outcome = lifecycle.remix(ref, runs.read_prompt(prompt), settings, display, note, how)
    if no_wait:
        common.print_submitted(outcome.submitted, shown, settings.run.output)
        return
    common.emit_all(outcome.tracked, shown, started=started)
    outcome.raise_for_failures()


def _ask(jobs: list[Job]) -> bool:
    """The one question `delete` asks on a terminal: on stderr, so stdout keeps only results
    (click's prompt would write a space to stdout)."""
    import sys

    named = ", ".join(f"{job.id} ({job.provider})" for job in jobs)
    sys.stderr.write(
        f"Delete {named} and the stored video(s) at the provider? Local files are kept. [y/N]: "
    )
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _show(done: list[Done], json_mode: bool) -> None:
    """Each job's outcome on stdout (refusals and failures on stderr too); then the exit code
    of the first job that was not done."""
    from framecast.cli.app import report
    from framecast.lifecycle import first_failure
    from framecast.results import print_json, print_result

    for item in done:
        if json_mode:
            print_json(item.document())
        elif item.error is None:
            print_result(item.message)
        if item.error is not None:
            report(item.error.message, item.error.hint)
    failure = first_failure(done)
    if failure is not None:
        raise typer.Exit(int(failure.exit_code))
