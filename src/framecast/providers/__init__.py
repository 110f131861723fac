"""The provider registry: built-ins by name, plus the `framecast.providers` entry-point group."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from framecast.errors import UsageError

if TYPE_CHECKING:
    from framecast.providers.base import Provider

# Imported on first use, so a command only pays for the provider it talks to.
BUILTIN = {
    "lumenfall": ("framecast.providers.lumenfall", "LumenfallProvider"),
    "nanogpt": ("framecast.providers.nanogpt", "NanoGptProvider"),
    "openai": ("framecast.providers.openai", "OpenAIProvider"),
    "emulator": ("framecast.providers.emulator", "EmulatorProvider"),
}
ENTRY_POINT_GROUP = "framecast.providers"


def _plugins() -> dict[str, object]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN}


def available_providers() -> list[str]:
    return sorted({*BUILTIN, *_plugins()})


def get_provider(name: str) -> type[Provider]:
    if name in BUILTIN:
        module, attr = BUILTIN[name]
        cls: type[Provider] = getattr(import_module(module), attr)
        return cls
    plugin = _plugins().get(name)
    if plugin is None:
        raise UsageError(
            f"Unknown provider {name!r}.",
            hint=f"Choose one of: {', '.join(available_providers())}.",
        )
    loaded: type[Provider] = plugin.load()  # type: ignore[attr-defined]
    return loaded
