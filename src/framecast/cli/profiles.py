"""`framecast profile ...` and `framecast config show`: named settings in the config file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from framecast.cli import params
from framecast.cli.completion import complete_profiles

profile_app = typer.Typer(
    help="Named profiles of generate settings, kept in the config file.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
config_app = typer.Typer(
    help="The configuration framecast would use.", no_args_is_help=True, rich_markup_mode=None
)

ProfileName = Annotated[
    str, typer.Argument(metavar="NAME", help="Profile name.", autocompletion=complete_profiles)
]


def _path(ctx: typer.Context, config_file: Path | None) -> Path:
    from framecast import config

    root = ctx.find_root().obj or {}
    return config_file or root.get("config") or config.default_path()


def _named(ctx: typer.Context, config_file: Path | None) -> bool:
    """The config file was named with --config (so it must exist, except to be created)."""
    root = ctx.find_root().obj or {}
    return (config_file or root.get("config")) is not None


@profile_app.command("list")
def list_profiles(
    ctx: typer.Context,
    config_file: params.ConfigFile = None,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print one JSON object per profile on stdout.")
    ] = False,
) -> None:
    """List the profiles in the config file; the default is marked.

    Examples:

    \b
      framecast profile list
      framecast profile list --json | jq -r 'select(.default).name'
    """
    import sys

    from framecast import config, profiles
    from framecast.results import print_json
    from framecast.ui import console

    loaded = config.load(_path(ctx, config_file), must_exist=_named(ctx, config_file))
    for name in sorted(loaded.profiles):
        default = name == loaded.default_profile
        if json_mode:
            print_json(
                {
                    "name": name,
                    "default": default,
                    "settings": profiles.masked(loaded.profiles[name]),
                }
            )
        else:
            typer.echo(f"{name} (default)" if default else name)
    if not loaded.profiles and not json_mode:
        console(sys.stderr).print(
            f"No profiles in {loaded.path} yet. Create one with: framecast profile save NAME ..."
        )


@profile_app.command("show")
def show_profile(
    ctx: typer.Context,
    name: ProfileName,
    config_file: params.ConfigFile = None,
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print the profile as one JSON object on stdout.")
    ] = False,
) -> None:
    """Print one profile as TOML (stored keys masked).

    Examples:

    \b
      framecast profile show fast
      framecast profile show fast --json
    """
    import tomli_w

    from framecast import config, profiles
    from framecast.results import print_json

    named = _named(ctx, config_file)
    loaded = config.load(_path(ctx, config_file), must_exist=named)
    settings = profiles.masked(loaded.profile(name))
    if json_mode:
        print_json({"name": name, "settings": settings})
    else:
        typer.echo(tomli_w.dumps({"profiles": {name: settings}}), nl=False)


@profile_app.command("save")
@params.takes("request", "connection", "run", profile_save=True, selectable=False)
def save_profile(
    ctx: typer.Context,
    name: ProfileName,
    *,
    store_key: Annotated[
        bool,
        typer.Option(
            "--store-key", help="Really store --api-key in the file (made private, 0600)."
        ),
    ] = False,
    default: Annotated[
        bool, typer.Option("--default", help="Also make it the default_profile.")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Start the profile afresh instead of updating it.")
    ] = False,
    **given: Any,
) -> None:
    """Save generate settings as a profile, keeping everything else in the file as it is.

    Updates the profile's given keys (all of them with --replace). Keys are best
    named by variable (--api-key-env); a raw --api-key is stored only with
    --store-key, and the file is then made private (0600).

    Examples:

    \b
      framecast profile save fast --provider lumenfall -m grok-imagine-video -s 6 --default
      framecast profile save final -m sora-2-pro --size 1792x1024 -o "clips/{prompt_slug}.mp4"
      framecast -p fast generate "a red kite over the dunes"
    """
    from framecast import profiles
    from framecast.cli.common import stderr
    from framecast.cli.params import parsed

    path = _path(ctx, given.get("config_file"))
    values = profiles.given_values(parsed(given))
    profiles.save(path, name, values, replace=replace, store_key=store_key, default=default)
    err = stderr()
    if store_key:
        err.print(
            f"Warning: the API key is stored in plain text in {path} (now readable by you only). "
            "Prefer --api-key-env.",
            style="yellow",
            soft_wrap=True,
        )
    err.print(f"Saved profile {name} to {path}.", soft_wrap=True)
    typer.echo(str(path))


@profile_app.command("delete")
def delete_profile(
    ctx: typer.Context, name: ProfileName, config_file: params.ConfigFile = None
) -> None:
    """Remove a profile, keeping everything else in the file as it is.

    Examples:

    \b
      framecast profile delete draft
      framecast --config ci/framecast.toml profile delete old
    """
    import sys

    from framecast import config
    from framecast.ui import console

    path = _path(ctx, config_file)
    with config.locked(path):
        config.delete_profile(path, name)
    console(sys.stderr).print(f"Deleted profile {name} from {path}.", soft_wrap=True)


@profile_app.command("path")
def profile_path(ctx: typer.Context, config_file: params.ConfigFile = None) -> None:
    """Print where the config file is (it need not exist yet).

    Examples:

    \b
      framecast profile path
      $EDITOR "$(framecast profile path)"
    """
    typer.echo(str(_path(ctx, config_file)))


@config_app.command("show")
def show_config(
    ctx: typer.Context,
    profile: params.Profile = None,
    config_file: params.ConfigFile = None,
    json_mode: Annotated[
        bool,
        typer.Option("--json", help="Print the settings as one JSON object on stdout."),
    ] = False,
) -> None:
    """Print the effective settings and where each one came from (secrets masked).

    Examples:

    \b
      framecast config show
      framecast -p fast config show --json
    """
    import sys

    from framecast.cli.common import settings_for
    from framecast.results import print_json
    from framecast.settings import explain
    from framecast.ui import console, settings_table

    settings = settings_for(ctx, {"profile": profile, "config_file": config_file})
    rows = explain(settings, profile or (ctx.find_root().obj or {}).get("profile"))
    if json_mode:
        print_json({key: {"value": value, "source": source} for key, value, source in rows})
    else:
        settings_table(console(sys.stdout), rows)
