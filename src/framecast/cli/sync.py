"""`framecast sync`: reconcile the journal with what the providers actually hold."""

from __future__ import annotations

from typing import Annotated

import typer

from framecast.cli import options


def sync(
    ctx: typer.Context,
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
    json_mode: options.Json = False,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key: options.ApiKey = None,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    max_retries: options.MaxRetries = None,
    max_retry_wait: options.MaxRetryWait = None,
    allow_insecure_http: options.AllowInsecureHttp = None,
) -> None:
    """Find out what became of submissions with an unknown outcome; import unjournaled jobs.

    Each provider with unknown entries (and the one selected, if any) is asked
    for its recent jobs: the OpenAI Videos list, NanoGPT's recent runs,
    Lumenfall's request history. Unknown entries are matched by model, prompt
    and time; one with no match in a complete listing created nothing and is
    dropped. One line per finding on stdout (--json: one object each).
    """
    import sys

    from framecast.cli.common import settings_for
    from framecast.errors import ConfigError
    from framecast.journal import Entry, Journal
    from framecast.reconcile import Report, reconcile
    from framecast.settings import choose_provider, for_journaled_job
    from framecast.ui import console, print_json, print_result

    settings = settings_for(ctx, locals(), profile, config_file)
    err = console(sys.stderr)
    report = Report()
    with Journal.open_default() as journal:
        unknown = journal.unknown()
        groups: dict[tuple[str, str], list[Entry]] = {}
        for entry in unknown:
            groups.setdefault((entry.provider, entry.base_url), []).append(entry)
        selected = None
        if settings.get("provider") or settings.get("api_key"):
            try:
                selected = choose_provider(settings)
            except ConfigError:
                if not groups:
                    raise
        choices = [for_journaled_job(name, url, settings) for name, url in groups]
        if selected is not None:
            choices.append(selected)
        if not choices:
            err.print("Nothing to reconcile: no submission has an unknown outcome.")
            return
        done: set[tuple[str, str]] = set()
        for choice in choices:
            with choice.open() as api:
                key = (api.name, api.base_url)
                if key in done:
                    continue
                done.add(key)
                entries = [e for e in unknown if (e.provider, e.base_url) == key]
                report.findings += reconcile(
                    journal,
                    api,
                    entries,
                    import_jobs=import_jobs,
                    replay=replay,
                    limit=limit,
                ).findings
    for finding in report.findings:
        job = finding.job
        if json_mode:
            print_json(
                {
                    "finding": finding.kind,
                    "provider": finding.provider,
                    "submission": finding.entry,
                    "id": job.id if job else None,
                    "status": job.status.value if job else None,
                    "detail": finding.detail or None,
                }
            )
            continue
        if finding.kind == "resolved" and job is not None:
            print_result(
                f"{finding.entry} -> {job.id} ({job.status.value}) {finding.detail}".strip()
            )
        elif finding.kind == "imported" and job is not None:
            print_result(f"imported {job.id} ({job.status.value}, {job.model or 'unknown model'})")
        elif finding.kind == "no_lookup":
            err.print(finding.detail, soft_wrap=True)
        else:
            print_result(f"{finding.entry}: {finding.kind.replace('_', ' ')}: {finding.detail}")
    left = report.of("unresolved")
    if left and not json_mode:
        err.print(f"{len(left)} submission(s) still have an unknown outcome.", soft_wrap=True)
