"""`framecast generate`: submit jobs, follow them, save the MP4s."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from framecast.cli import params
from framecast.cli.completion import complete_jobs

Extend = Annotated[
    str | None,
    typer.Option(
        "--extend",
        metavar="ID",
        help="Continue a finished job (id or @last) with a new segment described by PROMPT "
        "(on NanoGPT, with an extend model); without a PROMPT, a NanoGPT Midjourney run's "
        "video --index.",
        show_default=False,
        autocompletion=complete_jobs,
    ),
]
# Optional only with --extend: a NanoGPT Midjourney run continues without one (extending.py).
ExtendablePrompt = Annotated[
    str | None,
    typer.Argument(
        metavar="PROMPT",
        help="What the video should show; - reads it from stdin. Left out with --extend, "
        "a NanoGPT Midjourney run is continued as it is (see --index).",
        show_default=False,
    ),
]
NoWait = Annotated[bool, typer.Option("--no-wait", help="Submit, print the job id(s) and exit.")]
Again = Annotated[
    bool,
    typer.Option(
        "--again",
        help="Submit even if the same request is already running or has an unknown outcome.",
    ),
]


@params.takes("request", "connection", "run")
def generate(
    ctx: typer.Context,
    prompt: ExtendablePrompt = None,
    *,
    extend: Extend = None,
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
    """Submit a video job, show its progress and save the MP4 when it is done.

    Every job is recorded in the local journal before it is sent, so an
    interrupted or timed-out run can be resumed with `framecast wait`.

    Examples:

    \b
      framecast generate "a paper boat on a rainy street" --provider emulator -o boat.mp4
      framecast generate "a capybara in a hot spring" -m sora-2 -s 8 --size 1280x720
      framecast generate "a slow pan" -i first-frame.png --max-cost 1.50 --json
      framecast generate "it starts to snow" --extend @last -o "{prompt_slug}.mp4"
      framecast generate "a storm at sea" --no-wait -q    # prints the id; then `wait`
    """
    import time

    from framecast import runs
    from framecast.cli import common
    from framecast.extending import segment_prompt
    from framecast.targets import extension_source

    started, shown = time.monotonic(), common.Shown.of(json_mode, quiet, print_field, fields)
    source = None if extend is None else extension_source(extend, given)
    text, settings = segment_prompt(prompt, source, common.settings_for(ctx, given))
    note = common.notes(err := common.stderr(), quiet=quiet)
    plan = runs.plan(text, settings, note)
    n = plan.prepared.request.n
    runs.check_output(settings.run.output, to_stdout_ok=shown.to_stdout_ok, jobs_count=n)
    display = common.display_for(settings, err, quiet=quiet, notes_only=no_wait)
    with common.known_jobs_on_failure(shown, display, plan.adjustments):
        how = runs.Submission(
            wait=not no_wait,
            extend=source,
            again=again,
            force=force,
            cancel_on_interrupt=cancel_on_interrupt,
            on_saved=common.info_json_writer(settings.run.write_info_json),
        )
        outcome = runs.generate(plan, display, note, how)
    if no_wait:
        common.print_submitted(outcome.submitted, shown, settings.run.output, plan.adjustments)
        return
    common.emit_all(outcome.tracked, shown, started=started, adjustments=plan.adjustments)
    outcome.raise_for_failures()
