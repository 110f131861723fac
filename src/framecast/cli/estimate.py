"""`framecast estimate`: what a `generate` would cost, without creating a job."""

from __future__ import annotations

import typer

from framecast.cli import options


def estimate(
    ctx: typer.Context,
    prompt: options.Prompt,
    model: options.Model = None,
    seconds: options.Seconds = None,
    size: options.Size = None,
    aspect_ratio: options.AspectRatio = None,
    resolution: options.Resolution = None,
    n: options.Count = None,
    image: options.Image = None,
    video: options.Video = None,
    negative_prompt: options.NegativePrompt = None,
    seed: options.Seed = None,
    audio: options.Audio = None,
    webhook_url: options.WebhookUrl = None,
    metadata: options.Metadata = None,
    user: options.User = None,
    idempotency_key: options.IdempotencyKey = None,
    param: options.Param = None,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    json_mode: options.Json = False,
) -> None:
    """Price a request (same flags as generate) without creating a job.

    Where the provider can price a request itself (Lumenfall's dry run), it is
    asked; otherwise the bundled price table answers, with its date and sources.
    Inputs that could not be priced are listed.
    """
    import sys

    from framecast import jobs
    from framecast.cli.common import prepared_request, request_flags, settings_for
    from framecast.report import estimate_document
    from framecast.ui import console, estimate_table, print_json

    err = console(sys.stderr)
    settings = settings_for(
        ctx, {**locals(), **request_flags(param, metadata)}, profile, config_file
    )
    choice, prepared = prepared_request(
        prompt, settings, err, quiet=False, idempotency_key=idempotency_key
    )
    with choice.open() as api:
        result = jobs.estimate(
            api,
            prepared,
            on_fallback=lambda e: err.print(f"Dry run unavailable ({e.message}); using the table."),
        )
    adjustments = [str(a) for a in prepared.adjustments]
    if json_mode:
        print_json(
            estimate_document(
                result, provider=choice.name, n=prepared.request.n, adjustments=adjustments
            )
        )
    else:
        estimate_table(console(sys.stdout), result, provider=choice.name, n=prepared.request.n)
