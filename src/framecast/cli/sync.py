"""`framecast sync`: reconcile the journal with what the providers actually hold."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from framecast.cli import params


@params.takes("connection")
def sync(
    ctx: typer.Context,
    *,
    import_jobs: Annotated[
        bool,
        typer.Option(
            "--import/--no-import",
            help="Also journal jobs the provider lists that the journal does not know.",
        ),
    ] = True,
    replay: Annotated[
        bool,
        typer.Option(
            "--replay",
            help="Where the provider deduplicates by key (Lumenfall), re-send an unknown "
            "submission with its idempotency key to get its job (no second charge).",
        ),
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1000, help="Most jobs to read per provider.")
    ] = 200,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per finding on stdout.")
    ] = False,
    **given: Any,
) -> None:
    """Find out what became of submissions with an unknown outcome; import unjournaled jobs.

    Each provider with unknown entries (and the one selected, if any) is asked
    for its recent jobs: the OpenAI Videos list, NanoGPT's recent runs,
    Lumenfall's request history. Unknown entries are matched by model, prompt
    and time; one with no match in a complete listing created nothing and is
    dropped. One line per finding on stdout (--json: one object each).

    Examples:

    \b
      framecast sync                            # after a run said "unknown outcome"
      framecast sync --provider lumenfall --replay
      framecast sync --provider openai --json --limit 50
    """
    from framecast.cli import common
    from framecast.reconcile import reconcile_all
    from framecast.results import print_json, print_result

    settings = common.settings_for(ctx, given)
    err = common.stderr()
    report = reconcile_all(settings, import_jobs=import_jobs, replay=replay, limit=limit)
    if report is None:
        err.print("Nothing to reconcile: no submission has an unknown outcome.")
        return
    for finding in report.findings:
        if json_mode:
            print_json(finding.document())
        elif finding.kind == "no_lookup":
            err.print(finding.detail, soft_wrap=True)
        else:
            print_result(finding.line())
    left = report.of("unresolved")
    if left and not json_mode:
        err.print(f"{len(left)} submission(s) still have an unknown outcome.", soft_wrap=True)
