"""Resolving settings from flags and the environment.

Every value is taken from the first of these that gives one:

1. a command-line flag;
2. an environment variable;
3. a built-in default.

(Profiles slot in between 2 and 3 when they arrive.)

Environment variables read here:

- FRAMECAST_PROVIDER: the provider name;
- <PROVIDER>_BASE_URL / <PROVIDER>_API_KEY as each provider declares them
  (OPENAI_BASE_URL, OPENAI_API_KEY);
- FRAMECAST_POLL_INTERVAL: a fixed poll interval in seconds (tests use a small one);
- FRAMECAST_MAX_RETRIES: retries of a failed request (default 3).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from framecast.errors import ConfigError, UsageError
from framecast.polling import PollPolicy
from framecast.providers import available_providers, get_provider

if TYPE_CHECKING:
    from framecast.providers.base import Provider

PROVIDER_ENV = "FRAMECAST_PROVIDER"
POLL_INTERVAL_ENV = "FRAMECAST_POLL_INTERVAL"
MAX_RETRIES_ENV = "FRAMECAST_MAX_RETRIES"
OPENAI_SHUTDOWN = "2026-09-24"


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    name: str
    base_url: str | None  # None: the provider's default
    api_key: str | None = field(default=None, repr=False)
    max_retries: int = 3

    def open(self) -> Provider:
        cls = get_provider(self.name)
        return cls(base_url=self.base_url, api_key=self.api_key, max_retries=self.max_retries)


def _number(env: Mapping[str, str], name: str, kind: type[float] | type[int]) -> float | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number.") from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r} must not be negative.")
    return value


def max_retries(env: Mapping[str, str]) -> int:
    value = _number(env, MAX_RETRIES_ENV, int)
    return 3 if value is None else int(value)


def poll_policy(env: Mapping[str, str]) -> PollPolicy:
    return PollPolicy(fixed=_number(env, POLL_INTERVAL_ENV, float))


def choose_provider(
    *,
    provider: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ProviderChoice:
    env = os.environ if env is None else env
    name = provider or env.get(PROVIDER_ENV)
    if not name:
        if api_key or env.get("OPENAI_API_KEY"):
            name = "openai"
        else:
            raise ConfigError(
                "No provider is configured.",
                hint=(
                    "Set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server), pass "
                    "--provider NAME with its key, or try it offline with --provider emulator. "
                    f"Providers: {', '.join(available_providers())}."
                ),
            )
    cls = get_provider(name)
    if cls.key_env_var is None and base_url:
        raise UsageError(
            f"--base-url does not apply to --provider {name}.",
            hint="To reach a served `framecast emulator`, use --provider openai --base-url URL.",
        )
    url = base_url or (env.get(cls.base_url_env_var) if cls.base_url_env_var else None) or None
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"Base URL {url!r} is not an http(s) URL.")
    key = api_key or (env.get(cls.key_env_var) if cls.key_env_var else None) or None
    if cls.key_env_var is not None and not key:
        raise ConfigError(
            f"The {name} provider needs an API key.",
            hint=f"Set {cls.key_env_var} or pass --api-key.",
        )
    return ProviderChoice(name, url, key, max_retries(env))


def for_journaled_job(
    provider: str,
    base_url: str,
    *,
    api_key: str | None = None,
    env: Mapping[str, str] | None = None,
) -> ProviderChoice:
    """The provider a journaled job was submitted to, with today's credentials for it."""
    env = os.environ if env is None else env
    cls = get_provider(provider)
    key = api_key or (env.get(cls.key_env_var) if cls.key_env_var else None) or None
    if cls.key_env_var is not None and not key:
        raise ConfigError(
            f"This job was submitted to {provider} at {base_url}, which needs an API key.",
            hint=f"Set {cls.key_env_var} or pass --api-key.",
        )
    return ProviderChoice(
        provider, None if cls.key_env_var is None else base_url, key, max_retries(env)
    )


def openai_sunset_warning(choice: ProviderChoice) -> str | None:
    """OpenAI announced the end of its Sora API; say so when talking to OpenAI's own host."""
    if choice.name != "openai":
        return None
    host = urlsplit(choice.base_url or get_provider("openai").default_base_url).hostname or ""
    if host == "api.openai.com" or host.endswith(".openai.com"):
        return (
            f"OpenAI announced that its Sora video API shuts down on {OPENAI_SHUTDOWN}; "
            "gateways such as Lumenfall serve sora-2 through the same API."
        )
    return None
