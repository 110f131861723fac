"""Model listings: the bundled table, with a provider's live listing merged over it.

Live listings are cached (platformdirs' cache dir, or FRAMECAST_CACHE_DIR) for a
day (FRAMECAST_MODELS_TTL seconds); `--refresh` asks again. When the provider
cannot be reached, a stale cache is better than nothing, and the bundled table
is the last resort.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framecast import catalog
from framecast.catalog import Catalog, InputPrice, ModelInfo, Price, SizeOption
from framecast.errors import ProviderUnavailable

if TYPE_CHECKING:
    from framecast.providers.base import Provider
    from framecast.settings import Settings

CACHE_DIR_ENV = "FRAMECAST_CACHE_DIR"
TTL_ENV = "FRAMECAST_MODELS_TTL"
DEFAULT_TTL = 24 * 3600.0
# Bumped when what a listing is read into changes (2: every mode a provider reports, not
# only text- and image-to-video), so a cache written before is fetched again, not trusted.
CACHE_FORMAT = 2


def cache_dir() -> Path:
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("framecast", appauthor=False)


def ttl() -> float:
    raw = os.environ.get(TTL_ENV)
    try:
        return float(raw) if raw else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


def _cache_file(provider: str, base_url: str) -> Path:
    digest = hashlib.sha256(base_url.encode()).hexdigest()[:12]
    return cache_dir() / f"models-{provider}-{digest}.json"


def _model_from(raw: dict[str, Any]) -> ModelInfo:
    return ModelInfo(
        **{
            **raw,
            "modes": tuple(raw["modes"]),
            "durations": tuple(raw["durations"]),
            "aliases": tuple(raw["aliases"]),
            "sizes": tuple(SizeOption(**s) for s in raw["sizes"]),
            "prices": tuple(Price(**{**p, "sizes": tuple(p["sizes"])}) for p in raw["prices"]),
            "inputs": tuple(InputPrice(**p) for p in raw["inputs"]),
        }
    )


def _read(path: Path) -> tuple[float, list[ModelInfo]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
            return None
        return float(data["fetched_at"]), [_model_from(m) for m in data["models"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, models: list[ModelInfo]) -> None:
    """The cache is the user's alone (0600 in a 0700 folder); failing to write it is harmless."""
    from framecast.paths import private_dir, private_file

    document = json.dumps(
        {"format": CACHE_FORMAT, "fetched_at": time.time(), "models": [asdict(m) for m in models]}
    )
    part = path.with_name(path.name + ".part")
    try:
        private_dir(path.parent)
        private_file(part)
        part.write_text(document, "utf-8")
        os.replace(part, path)
    except OSError:
        with contextlib.suppress(OSError):
            part.unlink()


def live(
    api: Provider,
    *,
    refresh: bool = False,
    on_warning: Callable[[str], None] = lambda message: None,
) -> tuple[list[ModelInfo], str]:
    """The provider's listing (cached), and a phrase saying where it came from."""
    path = _cache_file(api.name, api.base_url)
    cached = None if refresh else _read(path)
    if cached is not None and time.time() - cached[0] < ttl():
        return cached[1], f"{api.name} listing, cached {_age(cached[0])} ago"
    try:
        models = api.list_models()
    except ProviderUnavailable as error:
        stale = _read(path)
        if stale is not None:
            age = _age(stale[0])
            on_warning(
                f"{api.name} is unreachable ({error.message}); using its listing from {age} ago."
            )
            return stale[1], f"{api.name} listing, cached {_age(stale[0])} ago"
        on_warning(f"{api.name} is unreachable ({error.message}); showing framecast's table only.")
        return [], "framecast table only"
    _write(path, models)
    return models, f"{api.name} listing, just fetched"


def cached_catalog(provider: str, base_url: str) -> Catalog:
    """The bundled table with a fresh cached listing over it; no network."""
    cached = _read(_cache_file(provider, base_url))
    if cached is None or time.time() - cached[0] >= ttl():
        return catalog.bundled()
    return catalog.bundled().merged(cached[1])


def offered(models: Catalog, listing: list[ModelInfo]) -> list[ModelInfo]:
    """What a provider offers: its listed models that are known to make video.

    A listing without capabilities (an OpenAI-style /models) names text and image
    models too; those count only when the table knows them as video models.
    """
    shown = []
    for entry in listing:
        known = models.find(entry.id)
        if known is not None:
            shown.append(known)
        elif entry.modes:
            shown.append(entry)
    return list({m.id: m for m in shown}.values())


def _age(fetched_at: float) -> str:
    seconds = max(0.0, time.time() - fetched_at)
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def for_settings(
    settings: Settings, *, refresh: bool, on_warning: Callable[[str], None]
) -> tuple[Catalog, list[ModelInfo], str]:
    """`models`: the table, the models to show and where they came from: the bundled table,
    or with a provider selected, the models its live listing (cached) says it offers."""
    from framecast.settings import choose_provider

    table = catalog.bundled()
    shown = list(table.models.values())
    origin = f"framecast table, as of {table.as_of}"
    if settings.connection.provider or settings.connection.base_url:
        with choose_provider(settings).open() as api:
            found, origin = live(api, refresh=refresh, on_warning=on_warning)
        if found:
            table = table.merged(found)
            shown = offered(table, found)
    return table, shown, origin


def closest(table: Catalog, name: str) -> ModelInfo:
    """The model called `name`, or a usage error naming the nearest ones."""
    import difflib

    from framecast.errors import UsageError

    found = table.find(name)
    if found is None:
        close = difflib.get_close_matches(name, list(table.models), n=3)
        raise UsageError(
            f"Unknown model {name!r}.",
            hint=f"Did you mean: {', '.join(close)}?"
            if close
            else "List them with: framecast models",
        )
    return found
