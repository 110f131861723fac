"""Resolving settings. Every value is taken from the first of these that gives one:

1. a command-line flag;
2. an environment variable: FRAMECAST_<KEY> (FRAMECAST_MODEL, FRAMECAST_OUTPUT, ...),
   and for the base URL and key the provider's own (OPENAI_BASE_URL, LUMENFALL_API_KEY,
   or the variable a profile names in `api_key_env`);
3. the selected profile: --profile, else FRAMECAST_PROFILE, else the file's
   `default_profile`;
4. a built-in default.

Tables (`params`, `metadata`) merge key by key in the same order. `max_retries`
(FRAMECAST_MAX_RETRIES, default 3) sets how often a failed request is retried, and
`max_retry_wait` (default 60 s) the longest wait between attempts honoured.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from framecast import config
from framecast.config import Config
from framecast.errors import ConfigError, UsageError
from framecast.http import RetryPolicy
from framecast.options import (
    GROUPS,
    ConnectionSettings,
    Option,
    RequestSettings,
    RunSettings,
    declared,
)
from framecast.providers import available_providers, get_provider
from framecast.untrusted import is_loopback_host, mask_url, strip_userinfo

if TYPE_CHECKING:
    from framecast.polling import PollPolicy
    from framecast.providers.base import Provider

PROVIDER_ENV = "FRAMECAST_PROVIDER"
OPENAI_SHUTDOWN = "2026-09-24"
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class Settings:
    """The settings of one run, typed and frozen; `origins` says where each given one came
    from ("flag", "env NAME", "profile NAME", "profile+flag")."""

    request: RequestSettings
    connection: ConnectionSettings
    run: RunSettings
    profile: str | None = None
    config: Config = field(default_factory=lambda: Config(Path("config.toml"), False))
    origins: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(repr=False, default_factory=dict)

    def effective(self) -> Iterator[tuple[Option, Any, str]]:
        """Each setting that a flag, the environment or the profile set, and each built-in
        default that says something (not empty, not off): option, value, origin."""
        for name, option in declared().items():
            value = getattr(getattr(self, option.group), name)
            if name in self.origins:
                yield option, value, self.origins[name]
            elif value not in (None, False, ()):
                yield option, value, "default"


def _from_env(option: Option, raw: str, name: str) -> Any:
    kind = option.kind
    try:
        if kind == "int":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r}: expected {'a whole number' if kind == 'int' else 'a number'}."
        ) from None
    if kind == "bool":
        if raw.strip().lower() in _TRUE:
            return True
        if raw.strip().lower() in _FALSE:
            return False
        raise ConfigError(f"{name}={raw!r}: expected true or false.")
    if option.choices and raw not in option.choices:
        raise ConfigError(f"{name}={raw!r}: expected one of {', '.join(option.choices)}.")
    return raw


def select_profile(
    flag: str | None, env: Mapping[str, str], loaded: Config
) -> tuple[str | None, str]:
    if flag:
        return flag, "flag"
    if env.get(config.PROFILE_ENV):
        return env[config.PROFILE_ENV], f"env {config.PROFILE_ENV}"
    if loaded.default_profile:
        return loaded.default_profile, f"default_profile in {loaded.path.name}"
    return None, "none"


def _table(
    option: Option, given: Any, chosen: Mapping[str, Any], name: str | None
) -> tuple[Any, str | None]:
    """Tables merge key by key, the flag's keys over the profile's."""
    stored = chosen.get(option.name) or {}
    merged = {**stored, **(given or {})}
    if not merged:
        return None, None
    origin = "flag" if not stored else f"profile {name}" if not given else "profile+flag"
    return merged, origin


def _in_range(option: Option, value: Any, origin: str) -> Any:
    """Numbers are finite and within the declared limits, wherever they came from: NaN would
    pass every comparison (a budget cap of NaN refuses nothing)."""
    if option.kind not in ("int", "number") or isinstance(value, bool):
        return value
    low, high = option.minimum, option.maximum
    bad = not math.isfinite(value) or (low is not None and value < low)
    bad = bad or (high is not None and value > high)
    if not bad:
        return value
    limits = " and ".join(
        part
        for part in (
            f"at least {low:g}" if low is not None else "",
            f"at most {high:g}" if high is not None else "",
        )
        if part
    )
    kind = "a whole number" if option.kind == "int" else "a finite number"
    message = f"{option.flag} {value!r}: expected {kind}{' ' + limits if limits else ''}"
    if origin == "flag":
        raise UsageError(message + ".")
    raise ConfigError(f"{message} (from {origin}).")


def _typed(option: Option, value: Any) -> Any:
    if option.kind == "list":
        return tuple(value)
    if option.kind == "number":
        return float(value)
    return value


def resolve(
    flags: Mapping[str, Any],
    *,
    profile: str | None = None,
    config_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    config_named: bool = False,
) -> Settings:
    """The settings of one run, from `flags` (option name to value; None when not given);
    `config_named`: the config file was named on the command line, so it must exist."""
    env = os.environ if env is None else env
    loaded = config.load(config_path, must_exist=config_named)
    name, _ = select_profile(profile, env, loaded)
    chosen = loaded.profile(name) if name else {}
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, option in declared().items():
        given = flags.get(key)
        if option.kind in ("strings", "table"):
            value, origin = _table(option, given, chosen, name)
        elif given is not None and given not in ([], ()):
            if option.kind == "str" and option.stored and not str(given).strip():
                raise UsageError(f"{option.flag} is empty; give a value or leave it out.")
            if option.choices and given not in option.choices:
                raise UsageError(f"{option.flag} {given!r}: choose {', '.join(option.choices)}.")
            value, origin = given, "flag"
        elif option.env_var and env.get(option.env_var, "") != "":
            variable = option.env_var
            value, origin = _from_env(option, env[variable], variable), f"env {variable}"
        elif option.stored and key in chosen:
            value, origin = chosen[key], f"profile {name}"
        else:
            continue
        if origin is not None:
            values[key], origins[key] = _typed(option, _in_range(option, value, origin)), origin
    groups = {
        group: cls(**{f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values})
        for group, cls in GROUPS.items()
    }
    return Settings(
        request=groups["request"],
        connection=groups["connection"],
        run=groups["run"],
        profile=name,
        config=loaded,
        origins=origins,
        env=env,
    )


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    name: str
    base_url: str | None  # None: the provider's default
    api_key: str | None = field(default=None, repr=False)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    origins: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None  # seconds for each answer; None: the HTTP layer's default
    kind: type[Provider] | None = field(default=None, repr=False)  # looked up once, here

    @property
    def provider_class(self) -> type[Provider]:
        return self.kind or get_provider(self.name)

    def open(self) -> Provider:
        cls = self.provider_class
        return cls(
            base_url=self.base_url, api_key=self.api_key, retry=self.retry, timeout=self.timeout
        )


def retry_policy(settings: Settings) -> RetryPolicy:
    defaults = RetryPolicy()
    given = settings.connection
    retries = defaults.max_retries if given.max_retries is None else given.max_retries
    longest = defaults.max_wait if given.max_retry_wait is None else given.max_retry_wait
    if retries < 0 or longest <= 0:
        raise UsageError(
            "max_retries must be 0 or more, and max_retry_wait a positive number of seconds."
        )
    return RetryPolicy(max_retries=retries, max_wait=float(longest))


def request_timeout(settings: Settings) -> float | None:
    value = settings.connection.request_timeout
    if value is not None and value <= 0:
        raise UsageError("request_timeout must be a positive number of seconds.")
    return None if value is None else float(value)


def check_base_url(url: str) -> None:
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise UsageError(f"Base URL {mask_url(url)!r} is not an http(s) URL.")


def check_key_transport(name: str, url: str, settings: Settings) -> None:
    """Refuse to send a key in clear text across a network unless told to."""
    parts = urlsplit(url)
    if parts.scheme != "http" or is_loopback_host(parts.hostname):
        return
    if settings.connection.allow_insecure_http:
        return
    raise ConfigError(
        f"The {name} base URL {mask_url(url)} is plain http to a host off this machine: "
        "the API key would cross the network unencrypted.",
        hint="Use https, or pass --allow-insecure-http (profile key allow_insecure_http) "
        "if this network is trusted.",
    )


def poll_policy(settings: Settings) -> PollPolicy:
    from framecast.polling import PollPolicy  # only commands that wait poll

    defaults, run = PollPolicy(), settings.run
    policy = PollPolicy(
        fixed=run.poll_interval,
        minimum=defaults.minimum if run.poll_min is None else run.poll_min,
        maximum=defaults.maximum if run.poll_max is None else run.poll_max,
    )
    if (
        policy.minimum <= 0
        or policy.maximum < policy.minimum
        or (policy.fixed is not None and policy.fixed < 0)
    ):
        raise ConfigError("Poll intervals must be positive, with poll_min no larger than poll_max.")
    return policy


def choose_provider(settings: Settings) -> ProviderChoice:
    env = settings.env
    name = settings.connection.provider
    origins = {"provider": settings.origins.get("provider", "")}
    if not name:
        if settings.connection.api_key or env.get("OPENAI_API_KEY"):
            name, origins["provider"] = "openai", "default (OPENAI_API_KEY is set)"
        else:
            raise ConfigError(
                "No provider is configured.",
                hint=(
                    "Set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server), pass "
                    "--provider NAME with its key, choose a profile with --profile, or try it "
                    "offline with --provider emulator. "
                    f"Providers: {', '.join(available_providers())}."
                ),
            )
    cls = get_provider(name)
    url, origins["base_url"] = _base_url(settings, cls)
    if cls.key_env_var is None and url is not None:
        raise UsageError(
            f"--base-url does not apply to --provider {name}.",
            hint="To reach a served `framecast emulator`, use --provider openai --base-url URL.",
        )
    if cls.key_env_var is None and settings.origins.get("api_key") == "flag":
        raise UsageError(f"--api-key does not apply to --provider {name}: it needs no key.")
    if url is not None:
        check_base_url(url)
    key, origins["api_key"] = _api_key(settings, cls)
    if cls.key_env_var is not None and not key:
        variable = settings.connection.api_key_env or cls.key_env_var
        raise ConfigError(
            f"The {name} provider needs an API key.", hint=f"Set {variable} or pass --api-key."
        )
    if key and cls.key_env_var is not None:
        check_key_transport(name, url or cls.default_base_url, settings)
    return ProviderChoice(
        name, url, key, retry_policy(settings), origins, request_timeout(settings), cls
    )


def _base_url(settings: Settings, cls: type[Provider]) -> tuple[str | None, str]:
    origin = settings.origins.get("base_url")
    if origin == "flag":
        return settings.connection.base_url, "flag"
    if cls.base_url_env_var and settings.env.get(cls.base_url_env_var):
        return settings.env[cls.base_url_env_var], f"env {cls.base_url_env_var}"
    if origin is not None:
        return settings.connection.base_url, origin
    return None, "default"


def _api_key(settings: Settings, cls: type[Provider]) -> tuple[str | None, str]:
    given = settings.connection
    if settings.origins.get("api_key") == "flag":
        return given.api_key, "flag"
    variable = given.api_key_env or cls.key_env_var
    if variable and settings.env.get(variable):
        return settings.env[variable], f"env {variable}"
    if given.api_key:
        return given.api_key, settings.origins.get("api_key", "")
    return None, "not set"


def for_journaled_job(provider: str, base_url: str, settings: Settings) -> ProviderChoice:
    """The provider a journaled job was submitted to, with today's credentials for it."""
    cls = get_provider(provider)
    key, origin = _api_key(settings, cls)
    if cls.key_env_var is not None and not key:
        raise ConfigError(
            f"This job was submitted to {provider} at {base_url}, which needs an API key.",
            hint=f"Set {settings.connection.api_key_env or cls.key_env_var} or pass --api-key.",
        )
    url = None if cls.key_env_var is None else base_url
    if url is not None:
        # The journal keeps base URLs without credentials; today's settings may hold them.
        configured, _ = _base_url(settings, cls)
        if configured is not None and strip_userinfo(configured).rstrip("/") == url.rstrip("/"):
            url = configured
        if key:
            check_key_transport(provider, url, settings)
    return ProviderChoice(
        provider,
        url,
        key,
        retry_policy(settings),
        {"api_key": origin},
        request_timeout(settings),
        cls,
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


def explain(settings: Settings, profile_flag: str | None) -> list[tuple[str, Any, str]]:
    """`config show`: each effective setting, its value (secrets masked) and its source."""
    from framecast.profiles import MASK, shown

    _, profile_origin = select_profile(profile_flag, settings.env, settings.config)
    exists = "exists" if settings.config.exists else "not created yet"
    rows: list[tuple[str, Any, str]] = [
        ("config_file", str(settings.config.path), exists),
        ("profile", settings.profile, profile_origin),
    ]
    try:
        choice = choose_provider(settings)
    except ConfigError as error:
        rows.append(("provider", settings.connection.provider, error.message))
    else:
        origins = choice.origins
        url = shown("base_url", choice.base_url) or "(the provider's default)"
        rows += [
            ("provider", choice.name, origins.get("provider", "")),
            ("base_url", url, origins.get("base_url", "")),
            ("api_key", MASK if choice.api_key else None, origins.get("api_key", "")),
        ]
    for option, value, origin in settings.effective():
        if option.name not in ("provider", "base_url", "api_key"):
            rows.append((option.name, shown(option.name, value), origin))
    return rows
