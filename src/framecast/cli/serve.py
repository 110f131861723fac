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
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log each request to stderr.")
    ] = False,
) -> None:
    """Serve the emulated video APIs until interrupted; prints the base URL on stdout.

    The OpenAI Videos API is served under /v1 and /openai/v1 (as Lumenfall does).
    Point framecast at it with: --provider openai --base-url URL (any key works).
    """
    import sys

    from framecast.emulator import EmulatorApp, EmulatorConfig
    from framecast.emulator.server import EmulatorServer
    from framecast.ui import console

    config = EmulatorConfig(
        job_seconds=job_seconds,
        expires_after=expires_seconds,
        api_key=api_key,
        media_base_url=media_url.rstrip("/") if media_url else None,
    )
    try:
        server = EmulatorServer(EmulatorApp(config), host, port, verbose=verbose)
    except OSError as exc:
        from framecast.errors import UsageError

        raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    typer.echo(f"{server.origin}/v1")
    sys.stdout.flush()
    err = console(sys.stderr)
    err.print(
        f"framecast emulator on {server.origin} (also {server.origin}/openai/v1); Ctrl-C stops it."
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
