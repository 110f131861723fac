"""The Typer application, and the one place where errors become exit codes."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from framecast import __version__
from framecast.cli import options
from framecast.errors import EXIT_CODE_MEANINGS, ExitCode, FramecastError

TRACEBACK_ENV = "FRAMECAST_TRACEBACK"

# "\b" keeps Click from re-wrapping the table into one paragraph.
EPILOG = "Exit codes:\n\n\b\n" + "\n".join(
    f"{int(code):>3}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items()
)


def report(kind: str, message: str, hint: str | None = None) -> None:
    """`ClassName: message` on stderr, and the next step when there is one."""
    from framecast.ui import console

    err = console(sys.stderr)
    err.print(f"{kind}: {message}", style="bold red", soft_wrap=True)
    if hint:
        err.print(hint, soft_wrap=True)


class FramecastGroup(TyperGroup):
    """Runs every command through the error funnel."""

    def invoke(self, ctx: Any) -> Any:  # typer's own Context type is private
        try:
            return super().invoke(ctx)
        except FramecastError as error:
            report(type(error).__name__, error.message, error.hint)
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt:
            report("Interrupted", "stopped by Ctrl-C.")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as error:
            if ctx.params.get("traceback") or os.environ.get(TRACEBACK_ENV):
                raise
            report(
                type(error).__name__,
                str(error) or "unexpected error",
                "This is a bug in framecast. Rerun with --traceback and report what it prints.",
            )
            raise typer.Exit(int(ExitCode.ERROR)) from None


app = typer.Typer(
    name="framecast",
    cls=FramecastGroup,
    help=(
        "Submit, track and download AI video-generation jobs: Lumenfall, NanoGPT and any "
        "server that speaks the OpenAI Videos API, plus a built-in emulator (--provider emulator)."
    ),
    epilog=EPILOG,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_show_locals=False,  # locals can hold API keys
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"framecast {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the full traceback of an unexpected error.")
    ] = False,
) -> None:
    """Submit, track and download AI video-generation jobs."""
    ctx.obj = {"profile": profile, "config": config_file}


def _register() -> None:
    from framecast.cli import estimate, generate, models, profiles, serve, track

    app.command(epilog=EPILOG)(generate.generate)
    app.command(epilog=EPILOG)(track.status)
    app.command(epilog=EPILOG)(track.wait)
    app.command(epilog=EPILOG)(track.download)
    app.command(epilog=EPILOG)(estimate.estimate)
    app.command(epilog=EPILOG)(models.models)
    app.add_typer(profiles.profile_app, name="profile")
    app.add_typer(profiles.config_app, name="config")
    app.command(name="emulator")(serve.emulator)


_register()


def main() -> None:
    # The same name however it is started (`python -m framecast` too), so help and
    # shell completion (_FRAMECAST_COMPLETE) behave alike.
    app(prog_name="framecast")
