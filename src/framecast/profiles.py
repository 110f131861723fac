"""Saving a profile: the checks before a setting is written to the config file for good."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from framecast import config
from framecast.errors import UsageError
from framecast.inputs import check_settings
from framecast.options import stored

MASK = "********"


def given_values(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The stored settings among parsed flags that were actually given."""
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in flags.items()
        if key in stored() and value not in (None, [], {}, ())
    }


def save(
    path: Path,
    name: str,
    given: Mapping[str, Any],
    *,
    replace: bool,
    store_key: bool,
    default: bool,
) -> None:
    """Update profile `name` with the `given` settings (start afresh with `replace`); a raw
    key, or credentials inside a base URL, only with `store_key` (the file is made private)."""
    if given.get("api_key") is not None and not store_key:
        raise UsageError(
            "Refusing to store a raw API key in the config file.",
            hint="Name its variable with --api-key-env instead, or store it with --store-key.",
        )
    if _has_credentials(given.get("base_url")) and not store_key:
        raise UsageError(
            "Refusing to store credentials that are inside --base-url in the config file.",
            hint="Store them anyway with --store-key (the file is then made private).",
        )
    if not given and not default:
        raise UsageError(
            "Nothing to save: give the settings as generate flags, e.g. --model sora-2."
        )
    check_settings(given)
    config.check_name(name)  # before the lock file is made: a refused save writes nothing
    with config.locked(path):
        loaded = config.load(path)
        settings = {} if replace else dict(loaded.profiles.get(name, {}))
        for key, value in given.items():
            merged = {**settings.get(key, {}), **value} if isinstance(value, dict) else value
            settings[key] = merged
        ordered = {key: settings[key] for key in stored() if key in settings}
        private = "api_key" in ordered or _has_credentials(ordered.get("base_url"))
        config.save_profile(path, name, ordered, private=private)
        if default:
            config.set_default(path, name)


def _has_credentials(url: object) -> bool:
    return isinstance(url, str) and "@" in urlsplit(url).netloc


def masked(settings: Mapping[str, Any]) -> dict[str, Any]:
    """A profile as it may be printed: secrets and credentials inside URLs masked."""
    return {key: shown(key, value) for key, value in settings.items()}


def shown(key: str, value: Any) -> Any:
    from framecast.untrusted import mask_url

    option = stored().get(key)
    if option is not None and option.secret:
        return MASK
    return mask_url(value) if key == "base_url" and isinstance(value, str) else value
