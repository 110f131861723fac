"""The Typer application, and the one place where errors become exit codes."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from framecast import __version__
from framecast.cli import params
from framecast.errors import (
    EXIT_CODE_MEANINGS,
    ExitCode,
    FramecastError,
    LocalIOError,
    Resume,
    Terminated,
)

TRACEBACK_ENV = "FRAMECAST_TRACEBACK"
BROKEN_PIPE = 141  # 128 + SIGPIPE, as the shell reports a reader that went away

# "\b" keeps Click from re-wrapping the table into one paragraph.
EPILOG = "Exit codes:\n\n\b\n" + "\n".join(
    f"{int(code):>3}  {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items()
)


def error_text(message: str) -> str:
    """Every error framecast prints starts the same way, whatever raised it."""
    return f"framecast: error: {message}"


def report(
    message: str,
    hint: str | None = None,
    *,
    resume: Resume | None = None,
    notes: list[str] | None = None,
) -> None:
    """`framecast: error: ...` on stderr, `hint: ...` when there is a next step, and the jobs
    that exist."""
    from framecast.ui import console

    err = console(sys.stderr)
    err.print(error_text(message), style="bold red", soft_wrap=True)
    if hint:
        err.print(f"hint: {hint}", soft_wrap=True)
    if resume is not None:
        err.print(resume.sentence(), soft_wrap=True)
    for note in notes or ():
        err.print(note, soft_wrap=True)


def _usage_error(error: Exception) -> typer.Exit | None:
    """Click's own usage errors (bad flag values, unknown options) in framecast's one style."""
    if getattr(error, "exit_code", None) != ExitCode.USAGE or not hasattr(error, "format_message"):
        return None
    ctx = getattr(error, "ctx", None)
    hint = f"see '{ctx.command_path} --help'." if ctx is not None else None
    report(_sentence(error.format_message()), hint)
    return typer.Exit(int(ExitCode.USAGE))


class FramecastGroup(TyperGroup):
    """Runs every command through the error funnel."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except typer.TyperException as error:
            usage = _usage_error(error)
            if usage is None:
                raise
            raise usage from None

    def invoke(self, ctx: Any) -> Any:  # typer's own Context type is private
        try:
            return super().invoke(ctx)
        except FramecastError as error:
            report(error.message, error.hint, resume=error.resume)
            raise typer.Exit(int(error.exit_code)) from None
        except KeyboardInterrupt as stop:
            signal_name = "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C"
            report(f"interrupted by {signal_name}.", notes=_notes(stop))
            code = ExitCode.TERMINATED if isinstance(stop, Terminated) else ExitCode.INTERRUPTED
            raise typer.Exit(int(code)) from None
        except (typer.Exit, typer.Abort):
            raise
        except typer.TyperException as error:
            usage = _usage_error(error)
            if usage is None:
                raise
            raise usage from None
        except BrokenPipeError:
            # The reader went away (`| head -1`): nothing is wrong and nobody is listening.
            # stdout goes to /dev/null so that Python's own flush at exit stays quiet too.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(BROKEN_PIPE) from None
        except OSError as error:
            # A file that cannot be read or written is the machine's state, not a bug.
            failure = LocalIOError.from_os(error, action="use")
            report(failure.message, notes=_notes(error))
            raise typer.Exit(int(failure.exit_code)) from None
        except Exception as error:
            if ctx.params.get("traceback") or os.environ.get(TRACEBACK_ENV):
                raise
            report(
                f"unexpected error: {str(error) or 'no details'}",
                "This is a bug in framecast. Rerun as `framecast --traceback COMMAND ...` "
                "(or with FRAMECAST_TRACEBACK=1) and report what it prints.",
                notes=_notes(error),
            )
            raise typer.Exit(int(ExitCode.ERROR)) from None


def _sentence(text: str) -> str:
    """Click's messages as framecast's: a capital first letter and a full stop."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _notes(error: BaseException) -> list[str]:
    return [str(note) for note in getattr(error, "__notes__", [])]


def _new_app() -> typer.Typer:
    return typer.Typer(
        name="framecast",
        cls=FramecastGroup,
        help=(
            "Submit, track and download AI video-generation jobs: Lumenfall, NanoGPT and any "
            "server that speaks the OpenAI Videos API, plus a built-in emulator "
            "(--provider emulator)."
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


def root(
    ctx: typer.Context,
    profile: params.Profile = None,
    config_file: params.ConfigFile = None,
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


# Where each command lives: (module in framecast.cli, attribute, a group of subcommands).
_COMMANDS: dict[str, tuple[str, str, bool]] = {
    "generate": ("generate", "generate", False),
    "status": ("track", "status", False),
    "wait": ("track", "wait", False),
    "download": ("track", "download", False),
    "estimate": ("estimate", "estimate", False),
    "batch": ("batch", "batch", False),
    "models": ("models", "models", False),
    "sync": ("sync", "sync", False),
    "cancel": ("lifecycle", "cancel", False),
    "delete": ("lifecycle", "delete", False),
    "remix": ("lifecycle", "remix", False),
    "spend": ("money", "spend", False),
    "balance": ("money", "balance", False),
    "profile": ("profiles", "profile_app", True),
    "config": ("profiles", "config_app", True),
    "webhook": ("webhook", "webhook_app", True),
    "emulator": ("serve", "emulator", False),
}


def _build(only: str | None = None) -> typer.Typer:
    """The application, with every command or (for a fast start) just the one being run,
    whose module alone is imported."""
    import importlib

    built = _new_app()
    built.callback()(root)
    for name, (module, attribute, group) in _COMMANDS.items():
        if only not in (None, name):
            continue
        found = getattr(importlib.import_module(f"framecast.cli.{module}"), attribute)
        if group:
            built.add_typer(found, name=name)
        elif name == "emulator":
            built.command(name=name)(found)  # the exit codes are a client's
        else:
            built.command(epilog=EPILOG)(found)
    return built


COMMANDS = tuple(_COMMANDS)
# Root options that take a value, so the command name is found after them.
_VALUED = ("--profile", "-p", "--config")


def __getattr__(name: str) -> typer.Typer:
    """`app`, the whole application, is built on first use: a run that names its command
    builds only that one (see main)."""
    if name == "app":
        built = _build()
        globals()["app"] = built
        return built
    raise AttributeError(name)


def command_in(argv: list[str]) -> str | None:
    """The command an argument list runs: its name, "" for root options alone
    (--version), or None when the whole app is needed (help, errors)."""
    words = iter(argv)
    for word in words:
        if word in _VALUED:
            next(words, None)
        elif not word.startswith("-"):
            return word if word in COMMANDS else None
    return "" if argv and not {"-h", "--help"} & set(argv) else None


def _leave(signum: int, frame: object) -> None:
    """SIGTERM leaves like Ctrl-C. Only the first signal counts: a second one (a wrapper
    forwarding it to the process group) would cut short the way out that names the jobs."""
    import signal

    # A handler that does nothing, not SIG_IGN: switching to SIG_IGN while a signal is
    # pending can raise "Signal ignored due to race condition" in the middle of the way out.
    signal.signal(signal.SIGINT, _ignore)
    signal.signal(signal.SIGTERM, _ignore)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _ignore(signum: int, frame: object) -> None:
    """Later signals while leaving (see _leave)."""


def main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _leave)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # nohup and `&` mean it
        signal.signal(signal.SIGINT, _leave)
    # Typer turns every registered command into Click objects on each run (about
    # 3 ms a command); a run that names its command gets an app with only that one.
    # Help without a command, errors and shell completion get the whole app.
    name = None if "_FRAMECAST_COMPLETE" in os.environ else command_in(sys.argv[1:])
    # The same name however it is started (`python -m framecast` too), so help and
    # shell completion (_FRAMECAST_COMPLETE) behave alike.
    (_build() if name is None else _build(only=name))(prog_name="framecast")
