"""`framecast emulator`: serve the built-in emulator on a loopback socket."""

from __future__ import annotations

from typing import Annotated

import typer


def emulator(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port; 0 picks a free one.")
    ] = 0,
    job_seconds: Annotated[
        float, typer.Option("--job-seconds", min=0, help="How long each emulated job takes.")
    ] = 3.0,
    expires_seconds: Annotated[
        float, typer.Option("--expires-seconds", min=0, help="How long output URLs stay valid.")
    ] = 3600.0,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help="Accept only this key (default: any non-empty key).",
            show_default=False,
        ),
    ] = None,
    media_url: Annotated[
        str | None,
        typer.Option(
            "--media-url",
            help="Origin for output URLs, e.g. http://localhost:PORT (default: as addressed).",
            show_default=False,
        ),
    ] = None,
    faults: Annotated[
        str,
        typer.Option(
            "--faults",
            metavar="SPEC",
            help=(
                "Inject faults: comma-separated [TARGET:]FAULT[=ARG][*TIMES|%PERCENT][+SKIP], "
                "TARGET create|status|content|list|any, FAULT 429|500|502|503|reset-before|"
                "reset-after|slow|cut|cut-nolength|malformed|html|fail|expire. "
                "E.g. create:reset-after,status:429=2*3."
            ),
            show_default=False,
        ),
    ] = "",
    fault_seed: Annotated[
        int, typer.Option("--fault-seed", metavar="N", help="Seed for %PERCENT fault draws.")
    ] = 0,
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect",
            metavar="lumenfall|openai",
            help="lumenfall: Lumenfall's gateway (converts sizes and lengths, adds output.url, "
            "cost metadata, dry runs); openai: the official OpenAI spec, strictly.",
        ),
    ] = "lumenfall",
    seed: Annotated[
        int, typer.Option("--seed", metavar="N", help="Seed for each job's timeline.")
    ] = 0,
    timeline: Annotated[
        str,
        typer.Option(
            "--timeline",
            metavar="realistic|steady",
            help="realistic: a queue wait, lengths spread around --job-seconds, progress that "
            "stalls and jumps; steady: exactly --job-seconds, progress rising evenly.",
        ),
    ] = "realistic",
    failure_rate: Annotated[
        float,
        typer.Option(
            "--failure-rate", min=0.0, max=1.0, metavar="R", help="Share of jobs that fail (0-1)."
        ),
    ] = 0.0,
    poll_hint: Annotated[
        str | None,
        typer.Option(
            "--poll-hint",
            metavar="off|fixed|honest",
            help="openai-poll-after-ms on unfinished jobs: none, a fixed 2 s, or the true time "
            "left (default: fixed for --dialect openai, off for lumenfall).",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Log each request to stderr (method, path, status, fault)."
        ),
    ] = False,
) -> None:
    """Serve the emulated video APIs until interrupted; prints the base URL on stdout.

    The OpenAI Videos API is served under /v1 and /openai/v1 (as Lumenfall does; only
    /v1 with --dialect openai), NanoGPT's under /api. Point framecast at it with:
    --provider openai --base-url URL (any key works unless --api-key is given).
    A request's own X-Emulator-Faults: SPEC header injects faults into it alone.

    Examples:

    \b
      framecast emulator --port 8080 --job-seconds 5 &
      OPENAI_API_KEY=any framecast generate "x" --provider openai --base-url http://127.0.0.1:8080/v1
      framecast emulator --dialect openai --api-key sk-test --poll-hint honest -v
    """
    import signal
    import sys

    from framecast.emulator import EmulatorApp, EmulatorConfig
    from framecast.emulator.server import EmulatorServer
    from framecast.errors import UsageError
    from framecast.ui import console

    config = EmulatorConfig(
        job_seconds=job_seconds,
        expires_after=expires_seconds,
        api_key=api_key,
        media_base_url=media_url.rstrip("/") if media_url else None,
        faults=faults,
        fault_seed=fault_seed,
        dialect=dialect,
        timeline=timeline,
        seed=seed,
        failure_rate=failure_rate,
        poll_hint=poll_hint,
    )
    try:
        app = EmulatorApp(config)
    except ValueError as exc:
        raise UsageError(f"Invalid option: {exc}.") from None
    try:
        server = EmulatorServer(app, host, port, verbose=verbose)
    except OSError as exc:
        app.close()
        raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    typer.echo(f"{server.origin}/v1")
    sys.stdout.flush()
    err = console(sys.stderr)
    also = "" if config.strict else f" (also {server.origin}/openai/v1)"
    err.print(
        f"framecast emulator ({dialect} dialect) on {server.origin}{also}; Ctrl-C stops it.",
        markup=False,
        soft_wrap=True,  # one line even when stderr is a file, so the URLs stay whole
    )

    def stop(signum: int, frame: object) -> None:
        server.interrupt()

    # Ctrl-C and SIGTERM (kill, a CI runner, a container stop) let the request in hand
    # finish and be logged, rather than breaking into it.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.stop()
