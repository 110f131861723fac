"""`framecast profile ...` and `framecast config show`: named settings in the config file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from framecast.cli import options
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
MASK = "********"


def _path(ctx: typer.Context, config_file: Path | None) -> Path:
    from framecast import config

    root = ctx.find_root().obj or {}
    return config_file or root.get("config") or config.default_path()


def _named(ctx: typer.Context, config_file: Path | None) -> bool:
    """The config file was named with --config (so it must exist, except to be created)."""
    root = ctx.find_root().obj or {}
    return (config_file or root.get("config")) is not None


def _masked(settings: dict[str, Any]) -> dict[str, Any]:
    from framecast.config import KEYS

    return {
        key: _shown(key, value) if not KEYS[key].secret else MASK for key, value in settings.items()
    }


def _shown(key: str, value: Any) -> Any:
    """A setting as it may be printed: credentials inside a URL are masked too."""
    from framecast.untrusted import mask_url

    return mask_url(value) if key == "base_url" and isinstance(value, str) else value


@profile_app.command("list")
def list_profiles(
    ctx: typer.Context, config_file: options.ConfigFile = None, json_mode: options.Json = False
) -> None:
    """List the profiles in the config file; the default is marked."""
    import sys

    from framecast import config
    from framecast.ui import console, print_json

    loaded = config.load(_path(ctx, config_file), must_exist=_named(ctx, config_file))
    for name in sorted(loaded.profiles):
        default = name == loaded.default_profile
        if json_mode:
            print_json(
                {"name": name, "default": default, "settings": _masked(loaded.profiles[name])}
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
    config_file: options.ConfigFile = None,
    json_mode: options.Json = False,
) -> None:
    """Print one profile as TOML (stored keys masked)."""
    import tomli_w

    from framecast import config
    from framecast.ui import print_json

    named = _named(ctx, config_file)
    settings = _masked(config.load(_path(ctx, config_file), must_exist=named).profile(name))
    if json_mode:
        print_json({"name": name, "settings": settings})
    else:
        typer.echo(tomli_w.dumps({"profiles": {name: settings}}), nl=False)


@profile_app.command("save")
def save_profile(
    ctx: typer.Context,
    name: ProfileName,
    provider: options.Provider = None,
    base_url: options.BaseUrl = None,
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env", help="The environment variable that holds the key.", show_default=False
        ),
    ] = None,
    api_key: options.ApiKey = None,
    store_key: Annotated[
        bool,
        typer.Option(
            "--store-key", help="Really store --api-key in the file (made private, 0600)."
        ),
    ] = False,
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
    param: options.Param = None,
    output: options.Output = None,
    timeout: options.Timeout = None,
    poll_interval: Annotated[
        float | None,
        typer.Option(
            "--poll-interval", min=0, help="Fixed seconds between polls.", show_default=False
        ),
    ] = None,
    poll_min: Annotated[
        float | None,
        typer.Option("--poll-min", min=0, help="Shortest wait between polls.", show_default=False),
    ] = None,
    poll_max: Annotated[
        float | None,
        typer.Option("--poll-max", min=0, help="Longest wait between polls.", show_default=False),
    ] = None,
    max_cost: Annotated[
        float | None,
        typer.Option("--max-cost", min=0, help="Budget cap per run, in USD.", show_default=False),
    ] = None,
    allow_unpriced: Annotated[
        bool | None,
        typer.Option("--allow-unpriced", help="With max_cost, run what cannot be priced."),
    ] = None,
    write_info_json: options.WriteInfoJson = None,
    progress: options.Progress = None,
    default: Annotated[
        bool, typer.Option("--default", help="Also make it the default_profile.")
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Start the profile afresh instead of updating it.")
    ] = False,
    config_file: options.ConfigFile = None,
) -> None:
    """Save generate settings as a profile, keeping everything else in the file as it is.

    Updates the profile's given keys (all of them with --replace). Keys are best
    named by variable (--api-key-env); a raw --api-key is stored only with
    --store-key, and the file is then made private (0600).
    """
    import sys
    from urllib.parse import urlsplit

    from framecast import config
    from framecast.cli.common import request_flags
    from framecast.errors import UsageError
    from framecast.inputs import check_settings
    from framecast.ui import console

    err = console(sys.stderr)
    path = _path(ctx, config_file)
    given = {
        key: value
        for key, value in {**locals(), **request_flags(param, metadata)}.items()
        if key in config.KEYS and value not in (None, [], {})
    }
    if api_key is not None and not store_key:
        raise UsageError(
            "Refusing to store a raw API key in the config file.",
            hint="Name its variable with --api-key-env instead, or store it with --store-key.",
        )
    credentials_in_url = base_url is not None and "@" in urlsplit(base_url).netloc
    if credentials_in_url and not store_key:
        raise UsageError(
            "Refusing to store credentials that are inside --base-url in the config file.",
            hint="Store them anyway with --store-key (the file is then made private).",
        )
    if not given and not default:
        raise UsageError(
            "Nothing to save: give the settings as generate flags, e.g. --model sora-2."
        )
    check_settings(given)
    loaded = config.load(path)
    settings = {} if replace else dict(loaded.profiles.get(name, {}))
    for key, value in given.items():
        settings[key] = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
    ordered = {key: settings[key] for key in config.KEYS if key in settings}
    holds_secret = "api_key" in ordered or "@" in urlsplit(str(ordered.get("base_url", ""))).netloc
    config.save_profile(path, name, ordered, private=holds_secret)
    if default:
        config.set_default(path, name)
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
    ctx: typer.Context, name: ProfileName, config_file: options.ConfigFile = None
) -> None:
    """Remove a profile, keeping everything else in the file as it is."""
    import sys

    from framecast import config
    from framecast.ui import console

    path = _path(ctx, config_file)
    config.delete_profile(path, name)
    console(sys.stderr).print(f"Deleted profile {name} from {path}.", soft_wrap=True)


@profile_app.command("path")
def profile_path(ctx: typer.Context, config_file: options.ConfigFile = None) -> None:
    """Print where the config file is (it need not exist yet)."""
    typer.echo(str(_path(ctx, config_file)))


@config_app.command("show")
def show_config(
    ctx: typer.Context,
    profile: options.Profile = None,
    config_file: options.ConfigFile = None,
    json_mode: options.Json = False,
) -> None:
    """Print the effective settings and where each one came from (secrets masked)."""
    import os
    import sys

    from framecast import config
    from framecast.errors import ConfigError
    from framecast.settings import choose_provider, resolve, select_profile
    from framecast.ui import console, print_json, settings_table

    root = ctx.find_root().obj or {}
    path = config_file or root.get("config")
    settings = resolve(
        {}, profile=profile or root.get("profile"), config_path=path, config_named=path is not None
    )
    rows: list[tuple[str, Any, str]] = []
    _, profile_origin = select_profile(profile or root.get("profile"), os.environ, settings.config)
    rows.append(
        (
            "config_file",
            str(settings.config.path),
            "exists" if settings.config.exists else "not created yet",
        )
    )
    rows.append(("profile", settings.profile, profile_origin))
    try:
        choice = choose_provider(settings)
    except ConfigError as error:
        rows.append(("provider", None, error.message))
    else:
        rows.append(("provider", choice.name, choice.origins.get("provider", "")))
        rows.append(
            (
                "base_url",
                _shown("base_url", choice.base_url) or "(the provider's default)",
                choice.origins.get("base_url", ""),
            )
        )
        rows.append(
            ("api_key", MASK if choice.api_key else None, choice.origins.get("api_key", ""))
        )
    shown = {"provider", "base_url", "api_key"}
    for key in config.KEYS:
        if key in shown or settings.origin(key) is None:
            continue
        value = settings.get(key)
        shown_value = MASK if config.KEYS[key].secret else _shown(key, value)
        rows.append((key, shown_value, settings.origin(key) or ""))
    if json_mode:
        print_json({key: {"value": value, "source": source} for key, value, source in rows})
    else:
        settings_table(console(sys.stdout), rows)
