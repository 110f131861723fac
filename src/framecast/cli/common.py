"""What the commands share between parsing their flags and rendering their results."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from framecast.cli.params import PrintField, parsed

if TYPE_CHECKING:
    from rich.console import Console

    from framecast.domain import Job
    from framecast.errors import FramecastError
    from framecast.settings import Settings
    from framecast.tracked import Tracked
    from framecast.ui import Display


@dataclass(frozen=True, slots=True)
class Shown:
    """How a command prints its results on stdout."""

    json: bool = False
    quiet: bool = False
    print_field: str | None = None
    fields: tuple[str, ...] | None = None

    @classmethod
    def of(
        cls,
        json_mode: bool = False,
        quiet: bool = False,
        print_field: PrintField | None = None,
        fields: str | None = None,
        *,
        any_view: bool = False,
    ) -> Shown:
        """`any_view`: --fields also picks columns (status); elsewhere it needs --json."""
        chosen = None
        if not any_view:
            fields_need_json(json_mode, fields)
        if fields is not None:
            from framecast.cli.status_view import parse_fields

            chosen = parse_fields(fields)
        field = None if print_field is None else print_field.value
        return cls(json_mode, quiet, field, chosen)

    @property
    def to_stdout_ok(self) -> bool:
        """Nothing else is printed on stdout, so `-o -` may put a video there."""
        return not (self.json or self.print_field)


def fields_need_json(json_mode: bool, fields: str | None) -> None:
    """--fields picks JSON keys; without --json it would be ignored, so it is refused."""
    if fields is not None and not json_mode:
        from framecast.errors import UsageError

        raise UsageError("--fields picks the keys of --json output; add --json.")


def pick(document: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """`--fields a,b` for a document that is not a job's: those keys, in that order."""
    from framecast.errors import UsageError

    if fields is None:
        return document

    names = [name.strip() for name in fields.split(",") if name.strip()]
    unknown = [name for name in names if name not in document]
    if unknown or not names:
        raise UsageError(
            f"--fields: unknown field {unknown[0]!r}." if unknown else "--fields is empty.",
            hint=f"Valid fields: {', '.join(document)}.",
        )
    return {name: document[name] for name in names}


def settings_for(ctx: typer.Context, given: Mapping[str, Any]) -> Settings:
    """Resolve a command's settings from its flags; --profile and --config may also come
    before the command."""
    from framecast.settings import resolve

    root = ctx.find_root().obj or {}
    named = given.get("config_file") or root.get("config")
    return resolve(
        parsed(given),
        profile=given.get("profile") or root.get("profile"),
        config_path=named,
        config_named=named is not None,  # a file named with --config must exist
    )


def stderr() -> Console:
    from framecast.ui import console

    return console(sys.stderr)


def notes(err: Console, *, quiet: bool = False) -> Callable[[str], None]:
    """Where a run's notes for people go: stderr, or nowhere with --quiet."""

    def note(text: str) -> None:
        if not quiet or text.startswith("Warning:"):
            style = "yellow" if text.startswith("Warning:") else None
            err.print(text, style=style, soft_wrap=True)

    return note


def display_for(
    settings: Settings, err: Console, *, quiet: bool, notes_only: bool = False
) -> Display:
    """The progress display; `notes_only` when nothing is followed (generate --no-wait)."""
    from framecast.ui import NotesOnly, make_display

    if notes_only and not quiet:
        return NotesOnly(err)
    run = settings.run
    return make_display(err, quiet=quiet, mode=run.progress, heartbeat=run.heartbeat)


def check_config_named(ctx: typer.Context, given: Mapping[str, Any]) -> None:
    """A config file named with --config must exist, even for a command that reads none."""
    named = given.get("config_file") or (ctx.find_root().obj or {}).get("config")
    if named is not None:
        from framecast.config import load

        load(named, must_exist=True)


def error_line() -> Callable[[FramecastError], None]:
    """One more error, after the first (which ends the command), in the same style, on a
    stderr console made only when there is one to show."""
    from framecast.cli.app import error_text

    def show(error: FramecastError) -> None:
        stderr().print(error_text(error.message), soft_wrap=True, markup=False)

    return show


def info_json_writer(enabled: bool) -> Callable[[Job, Path, int], None] | None:
    """`--write-info-json`: the job's document beside each saved video."""
    if not enabled:
        return None
    from framecast import saving
    from framecast.report import job_document

    def write(job: Job, path: Path, size: int) -> None:
        saving.write_info_json(path, job_document(job, path=str(path), size=size))

    return write


@contextmanager
def known_jobs_on_failure(
    shown: Shown, display: Display, adjustments: list[str] | None = None
) -> Iterator[None]:
    """Scripts get the jobs that exist even when the run fails (--json, --print)."""
    from framecast.errors import FramecastError, WaitTimeout

    try:
        yield
    except FramecastError as error:
        display.close()
        jobs = error.jobs if isinstance(error, WaitTimeout) else error.known_jobs
        for job in jobs:
            if shown.print_field or shown.json:
                emit(job, shown, adjustments=adjustments)
        raise
    finally:
        display.close()


def emit(
    job: Job,
    shown: Shown,
    *,
    path: Path | None = None,
    size: int | None = None,
    started: float | None = None,
    adjustments: list[str] | None = None,
) -> None:
    from framecast.cli import output

    output.emit(
        job,
        json_mode=shown.json and not shown.print_field,
        quiet=shown.quiet or bool(shown.print_field),
        path=path,
        size=size,
        started=started,
        adjustments=adjustments,
        print_field=shown.print_field,
        fields=shown.fields,
    )


def emit_all(
    tracked: list[Tracked],
    shown: Shown,
    *,
    started: float | None = None,
    adjustments: list[str] | None = None,
) -> None:
    """Each followed job's result, in the order they were asked for."""
    for item in tracked:
        emit(
            item.job,
            shown,
            path=item.path,
            size=item.size,
            started=started,
            adjustments=adjustments,
        )


def print_submitted(
    submitted: list[Job], shown: Shown, output: str | None, adjustments: list[str] | None = None
) -> None:
    """A run that did not wait (--no-wait): each job's id (or --json, --print), and on stderr
    the command that follows them."""
    for job in submitted:
        if shown.print_field or shown.json:
            emit(job, shown, adjustments=adjustments)
        else:
            typer.echo(job.id)
    if not shown.quiet and not shown.json and not shown.print_field:
        import shlex

        ids = " ".join(job.id for job in submitted)
        save = "" if output is None else f" --download -o {shlex.quote(output)}"
        stderr().print(f"Submitted. Follow with: framecast wait {ids}{save}", soft_wrap=True)
