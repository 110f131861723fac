"""`framecast models`: what each model can make, and what it costs per second."""

from __future__ import annotations

from typing import Annotated

import typer

from framecast.cli import options


def models(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Argument(metavar="[MODEL]", help="Show one model in detail.", show_default=False),
    ] = None,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the provider again instead of using the cache.")
    ] = False,
    json_mode: options.Json = False,
) -> None:
    """List models with their modes, durations and price per second, or show one model.

    Without a provider this works offline from framecast's bundled table. With one,
    its live listing (cached for a day) says which models it offers.
    """
    import difflib
    import sys

    from framecast import catalog, listing
    from framecast.cli.common import settings_for
    from framecast.errors import UsageError
    from framecast.report import model_document
    from framecast.settings import choose_provider
    from framecast.ui import console, model_details, models_table, print_json

    err = console(sys.stderr)
    settings = settings_for(ctx, locals(), profile, config_file)
    table = catalog.bundled()
    shown = list(table.models.values())
    origin = f"framecast table, as of {table.as_of}"
    if settings.get("provider") or settings.get("base_url"):
        choice = choose_provider(settings)
        with choice.open() as api:
            live, origin = listing.live(
                api, refresh=refresh, on_warning=lambda m: err.print(f"Warning: {m}")
            )
        if live:
            table = table.merged(live)
            shown = listing.offered(table, live)
    if model is not None:
        found = table.find(model)
        if found is None:
            close = difflib.get_close_matches(model, list(table.models), n=3)
            raise UsageError(
                f"Unknown model {model!r}.",
                hint=f"Did you mean: {', '.join(close)}?"
                if close
                else "List them with: framecast models",
            )
        if json_mode:
            print_json(model_document(found))
        else:
            model_details(console(sys.stdout), found)
        return
    if json_mode:
        for entry in shown:
            print_json(model_document(entry))
    else:
        models_table(console(sys.stdout), shown)
    err.print(f"Source: {origin}.", soft_wrap=True)
