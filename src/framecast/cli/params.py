"""Typer parameters: the settings' flags derived from framecast.options, and the few flags
only the command line has (output format, config file, profile)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from framecast.cli.completion import complete_models, complete_profiles

if TYPE_CHECKING:
    # The settings' declarations load when a command takes them (see takes), not for the
    # root's own flags: `framecast --version` needs none of them.
    from framecast.options import Option

F = TypeVar("F", bound=Callable[..., Any])

_COMPLETERS = {"models": complete_models, "profiles": complete_profiles}
_TYPES: dict[str, Any] = {
    "str": str | None,
    "int": int | None,
    "number": float | None,
    "bool": bool | None,
    # Lists and tables are typed as repeated flags (KEY=VALUE for tables).
    "list": list[str] | None,
    "strings": list[str] | None,
    "table": list[str] | None,
}


def _parameter(option: Option) -> inspect.Parameter:
    info = typer.Option(
        *option.flags,
        help=option.help,
        show_default=False,
        min=option.minimum,
        max=option.maximum,
        metavar=option.metavar,
        autocompletion=_COMPLETERS.get(option.complete or ""),
    )
    return inspect.Parameter(
        option.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[_TYPES[option.kind], info],
    )


Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        "-p",
        help="Use this profile from the config file. Env: FRAMECAST_PROFILE.",
        show_default=False,
        autocompletion=complete_profiles,
    ),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file (default: config.toml in the user config dir). Env: FRAMECAST_CONFIG.",
        show_default=False,
    ),
]
_ALWAYS = (
    inspect.Parameter("profile", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Profile),
    inspect.Parameter(
        "config_file", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigFile
    ),
)


def takes(
    *groups: str,
    names: Collection[str] = (),
    without: Collection[str] = (),
    profile_save: bool = False,
    selectable: bool = True,
) -> Callable[[F], F]:
    """Give a command the flags of the settings `groups` (and of single settings `names`),
    but not those in `without`, plus --profile and --config; their values arrive in the
    command's `**given`.

    `profile_save`: the flags of every stored setting, including those only a profile
    takes (the poll intervals, api_key_env); otherwise those stay out of the command line.
    `selectable`: the command takes --profile (saving one does not).
    """

    def add(command: F) -> F:
        from framecast.options import GROUPS, options_of

        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        leading = [p for p in own if p.kind is not p.KEYWORD_ONLY]
        trailing = [p for p in own if p.kind is p.KEYWORD_ONLY]
        chosen = [
            option
            for cls in GROUPS.values()
            for option in options_of(cls)
            if (option.group in groups or option.name in names)
            and option.name not in without
            and option.flags
            and (option.stored if profile_save else option.scope == "all")
        ]
        extra = [_parameter(option) for option in chosen]
        command.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*leading, *extra, *trailing, *(_ALWAYS if selectable else _ALWAYS[1:])]
        )
        return command

    return add


def parsed(given: Mapping[str, Any]) -> dict[str, Any]:
    """The flags' values by setting name, KEY=VALUE lists turned into tables."""
    from framecast.options import declared

    values: dict[str, Any] = {}
    for name, option in declared().items():
        value = given.get(name)
        if option.kind in ("strings", "table") and value:
            # inputs.py loads only when a table was given (not for `status ID --json`).
            from framecast.inputs import parse_metadata, parse_params

            value = (parse_metadata if option.kind == "strings" else parse_params)(value)
        if option.kind in ("strings", "table", "list") and not value:
            value = None
        values[name] = value
    return values


class PrintField(StrEnum):
    id = "id"
    path = "path"
    url = "url"
    status = "status"
    cost = "cost"


Json = Annotated[
    bool, typer.Option("--json", help="Print one JSON object per job on stdout (JSON Lines).")
]
Fields = Annotated[
    str | None,
    typer.Option(
        "--fields",
        metavar="NAME,...",
        help="With --json, only these fields of each job, e.g. id,status,path.",
        show_default=False,
    ),
]
StatusFields = Annotated[
    str | None,
    typer.Option(
        "--fields",
        metavar="NAME,...",
        help="Only these fields of each job, e.g. id,status,url: the JSON keys, the TSV "
        "columns when piped, or the table's columns.",
        show_default=False,
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the saved path (or the id); no progress.")
]
Print = Annotated[
    PrintField | None,
    typer.Option(
        "--print", help="Print only this field of each job, one line per job.", show_default=False
    ),
]
Force = Annotated[
    bool, typer.Option("--force", help="Overwrite an existing file instead of picking a new name.")
]
CancelOnInterrupt = Annotated[
    bool,
    typer.Option(
        "--cancel-on-interrupt",
        help="On Ctrl-C or SIGTERM, cancel the running jobs at the provider (where it can).",
    ),
]
Prompt = Annotated[
    str, typer.Argument(metavar="PROMPT", help="What the video should show; - reads it from stdin.")
]
