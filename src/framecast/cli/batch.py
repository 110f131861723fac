"""`framecast batch`: many jobs from one file, submitted, followed and saved together."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from framecast.cli import params


class BatchFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    toml = "toml"


BatchFile = Annotated[
    Path,
    typer.Argument(
        metavar="FILE",
        help="JSONL (one object per line), CSV (a header row of keys) or TOML ([[job]] "
        "tables): a prompt and any request option per row.",
        show_default=False,
    ),
]
Format = Annotated[
    BatchFormat | None,
    typer.Option(
        "--format", help="The file's format (default: from its name).", show_default=False
    ),
]
Shard = Annotated[
    str | None,
    typer.Option(
        "--shard",
        metavar="K/N",
        help="Run only the K-th of N stable parts of the rows (one per CI machine).",
        show_default=False,
    ),
]
Concurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        "-j",
        min=1,
        max=1000,
        help="Jobs running at once (default: the provider's, 4; the emulator's 16).",
        show_default=False,
    ),
]
SkipInvalid = Annotated[
    bool, typer.Option("--skip-invalid", help="Run the valid rows; report the invalid ones.")
]
RetryFailed = Annotated[
    bool,
    typer.Option(
        "--retry-failed", help="Submit again the rows whose job failed in an earlier run."
    ),
]
NoWait = Annotated[
    bool, typer.Option("--no-wait", help="Submit every row (journaled) and exit; collect later.")
]
Json = Annotated[
    bool,
    typer.Option("--json", help="One JSON object per row on stdout (JSON Lines) as rows finish."),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr.")]


@params.takes("request", "connection", "run", without=("idempotency_key", "extend_index", "n"))
def batch(
    ctx: typer.Context,
    file: BatchFile,
    *,
    form: Format = None,
    concurrency: Concurrency = None,
    shard: Shard = None,
    skip_invalid: SkipInvalid = False,
    retry_failed: RetryFailed = False,
    no_wait: NoWait = False,
    force: params.Force = False,
    json_mode: Json = False,
    quiet: Quiet = False,
    **given: Any,
) -> None:
    """Run every row of FILE as a job: submit, follow, and save each video as it finishes.

    Each row has a `prompt` and any request option by its flag's name (model,
    seconds, size, image, ...), over the flags given here, the environment and the
    profile. The whole file is checked first; nothing is sent if a row is bad.
    One result line per row on stdout as it finishes (--json: JSON Lines), a
    summary on stderr; exit 0 when every row succeeded, 6 when some failed.
    Running the same file again skips rows already made or running.

    Examples:

    \b
      framecast batch prompts.jsonl --provider emulator -o "clips/{row}-{prompt_slug}.{ext}"
      framecast batch prompts.csv -m sora-2 --max-cost 20 --json > results.jsonl
      framecast batch prompts.toml --shard 2/4 --json     # one of four CI machines
      framecast batch prompts.jsonl --retry-failed         # again, only the failed rows
    """
    import time

    from framecast import batches
    from framecast.batchrun import summary
    from framecast.batchview import BatchView
    from framecast.cli import common

    started = time.monotonic()
    batches.check_output_usage(given.get("output"))
    settings = common.settings_for(ctx, given)
    err = common.stderr()
    run = settings.run
    view = BatchView(
        err, json_mode=json_mode, quiet=quiet, mode=run.progress, heartbeat=run.heartbeat
    )
    how = batches.BatchRequest(
        path=file,
        form=form.value if form else None,
        shard=shard,
        skip_invalid=skip_invalid,
        concurrency=concurrency,
        wait=not no_wait,
        retry_failed=retry_failed,
        force=force,
        on_saved=common.info_json_writer(run.write_info_json),
    )
    try:
        report = batches.run(how, settings, view, view.note)
    finally:
        view.close()
    if not quiet:
        err.print(summary(report, time.monotonic() - started), soft_wrap=True)
    batches.raise_for_outcome(report)
