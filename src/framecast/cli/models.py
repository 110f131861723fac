"""`framecast models`: what each model can make, and what it costs per second."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from framecast.cli import params


@params.takes("connection")
def models(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Argument(metavar="[MODEL]", help="Show one model in detail.", show_default=False),
    ] = None,
    *,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the provider again instead of using the cache.")
    ] = False,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per model on stdout.")
    ] = False,
    **given: Any,
) -> None:
    """List models with their modes, durations and price per second, or show one model.

    Without a provider this works offline from framecast's bundled table. With one,
    its live listing (cached for a day) says which models it offers.

    Examples:

    \b
      framecast models                          # the bundled table, offline
      framecast models sora-2                   # sizes, lengths and prices of one
      framecast models --provider lumenfall --refresh --json
    """
    import sys

    from framecast import listing
    from framecast.cli import common
    from framecast.report import model_document
    from framecast.results import print_json
    from framecast.ui import console, model_details, models_table

    err = common.stderr()
    settings = common.settings_for(ctx, given)
    table, shown, origin = listing.for_settings(
        settings, refresh=refresh, on_warning=lambda m: err.print(f"Warning: {m}", soft_wrap=True)
    )
    if model is not None:
        found = listing.closest(table, model)
        if json_mode:
            print_json(model_document(found))
        else:
            model_details(console(sys.stdout), found)
        return
    for entry in shown if json_mode else ():
        print_json(model_document(entry))
    if not json_mode:
        models_table(console(sys.stdout), shown)
    err.print(f"Source: {origin}.", soft_wrap=True)
