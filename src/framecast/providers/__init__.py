"""The provider registry: built-ins by name, plus the `framecast.providers` entry-point group.

Each built-in is declared here with the environment variables its class reads, so
that `--help` can name every provider and its variables without importing any
provider module (tests/test_provider_help.py checks the two agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from framecast.errors import UsageError

if TYPE_CHECKING:
    from framecast.providers.base import Provider


@dataclass(frozen=True, slots=True)
class Builtin:
    """Where a built-in provider's class lives, and what --help says of it."""

    module: str
    attr: str
    about: str  # what it talks to, for --provider's help
    key_env_var: str | None  # the class's own key_env_var
    base_url_env_var: str | None  # the class's own base_url_env_var


# Imported on first use, so a command only pays for the provider it talks to.
BUILTIN = {
    "lumenfall": Builtin(
        "framecast.providers.lumenfall",
        "LumenfallProvider",
        "Lumenfall's gateway",
        "LUMENFALL_API_KEY",
        "LUMENFALL_BASE_URL",
    ),
    "nanogpt": Builtin(
        "framecast.providers.nanogpt",
        "NanoGptProvider",
        "NanoGPT's video API",
        "NANOGPT_API_KEY",
        "NANOGPT_BASE_URL",
    ),
    "openai": Builtin(
        "framecast.providers.openai",
        "OpenAIProvider",
        "any OpenAI-compatible server",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    ),
    "emulator": Builtin(
        "framecast.providers.emulator",
        "EmulatorProvider",
        "in-process, offline",
        None,
        None,
    ),
}
ENTRY_POINT_GROUP = "framecast.providers"


def _plugins() -> dict[str, object]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN}


def available_providers() -> list[str]:
    return sorted({*BUILTIN, *_plugins()})


def get_provider(name: str) -> type[Provider]:
    if name in BUILTIN:
        builtin = BUILTIN[name]
        cls: type[Provider] = getattr(import_module(builtin.module), builtin.attr)
        return cls
    plugin = _plugins().get(name)
    if plugin is None:
        raise UsageError(
            f"Unknown provider {name!r}.",
            hint=f"Choose one of: {', '.join(available_providers())}.",
        )
    loaded: type[Provider] = plugin.load()  # type: ignore[attr-defined]
    return loaded


# -- what --provider, --base-url and --api-key say (cli help, no provider imported) --------


def provider_help() -> str:
    named = ", ".join(f"{name} ({builtin.about})" for name, builtin in BUILTIN.items())
    return f"Provider name: {named}, or an installed plugin's. Env: FRAMECAST_PROVIDER."


def base_url_help() -> str:
    names = ", ".join(b.base_url_env_var for b in BUILTIN.values() if b.base_url_env_var)
    return f"API base URL (e.g. a served emulator's). Env: the provider's own: {names}."


def api_key_help() -> str:
    names = ", ".join(b.key_env_var for b in BUILTIN.values() if b.key_env_var)
    keyless = ", ".join(name for name, b in BUILTIN.items() if b.key_env_var is None)
    unneeded = f"; no key for {keyless}" if keyless else ""
    return f"API key. Prefer the environment ({names}{unneeded}): flags show up in process lists."
