"""`framecast estimate`: what a `generate` would cost, without creating a job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from framecast.cli import params

if TYPE_CHECKING:
    from collections.abc import Callable

    from framecast.settings import Settings


# An idempotency key only matters to a submission, and estimate submits nothing.
@params.takes(
    "request", "connection", names=("strict",), without=("idempotency_key", "extend_index")
)
def estimate(
    ctx: typer.Context,
    prompt: params.Prompt,
    *,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print the estimate as one JSON object on stdout.")
    ] = False,
    fields: Annotated[
        str | None,
        typer.Option(
            "--fields",
            metavar="NAME,...",
            help="With --json, only these keys, e.g. model,total,currency.",
            show_default=False,
        ),
    ] = None,
    **given: Any,
) -> None:
    """Price a request (same flags as generate), or a batch file, without creating a job.

    Where the provider can price a request itself (Lumenfall's dry run), it is
    asked; otherwise the bundled price table answers, with its date and sources.
    With no provider configured, the table prices it offline. Inputs that could
    not be priced are listed. A PROMPT that names a .jsonl, .csv or .toml file
    prices every row of that batch, and the total.

    Examples:

    \b
      framecast estimate "a storm at sea" -m sora-2 -s 12
      framecast estimate "a storm at sea" -m sora-2-pro --size 1792x1024 --n 2 --json
      framecast estimate "a storm at sea" --provider lumenfall -m veo-3.1   # its dry run
      framecast estimate prompts.jsonl -m sora-2          # a batch: per row and total
    """
    import sys

    from framecast import runs
    from framecast.cli import common
    from framecast.report import estimate_document
    from framecast.results import print_json
    from framecast.ui import console, estimate_table

    common.fields_need_json(json_mode, fields)
    settings = common.settings_for(ctx, given)
    note = common.notes(common.stderr())
    if _batch_file(prompt):
        _estimate_batch(prompt, settings, note, json_mode=json_mode, fields=fields)
        return
    priced = runs.price(runs.read_prompt(prompt), settings, note)
    n, prepared = priced.prepared.request.n, priced.prepared
    if json_mode:
        document = estimate_document(
            priced.estimate, provider=priced.provider, n=n, adjustments=prepared.adjustments,
            requested=prepared.requested, conversions=prepared.conversions,
        )  # fmt: skip
        print_json(common.pick(document, fields))
    else:
        asked = prepared.asked or prepared.request
        estimate_table(
            console(sys.stdout),
            priced.estimate,
            provider=priced.provider,
            n=n,
            asked_seconds=asked.seconds,
        )


def _batch_file(prompt: str) -> bool:
    """A PROMPT naming an existing batch file prices that batch."""
    from pathlib import Path

    from framecast.batchfile import SUFFIXES

    path = Path(prompt)
    return path.suffix.lower() in SUFFIXES and path.is_file()


def _estimate_batch(
    name: str,
    settings: Settings,
    note: Callable[[str], None],
    *,
    json_mode: bool,
    fields: str | None,
) -> None:
    import sys
    from pathlib import Path

    from framecast import batches
    from framecast.cli import common
    from framecast.report import batch_estimate_document
    from framecast.results import print_json
    from framecast.ui import batch_estimate_table, console

    cost = batches.price(batches.BatchRequest(path=Path(name)), settings, note)
    if json_mode:
        print_json(common.pick(batch_estimate_document(cost, cost.provider), fields))
    else:
        batch_estimate_table(console(sys.stdout), cost, provider=cost.provider)
