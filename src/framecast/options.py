"""Every setting framecast takes, declared once, as the typed fields of the settings groups.

A field's name is its attribute, its profile key and (for `stored` settings) the
suffix of its FRAMECAST_<NAME> variable; its type says what it holds; `option()`
adds the flag spelling, the help and the completion. The command line
(cli/params.py), profiles and `config show` (config.py), the resolver
(settings.py) and the completion scripts are all derived from these classes, so a
new option is one field here, plus the code that uses it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from framecast import providers

Kind = Literal["str", "int", "number", "bool", "list", "strings", "table"]
# Where a flag appears: on every command that takes the group, or only on `profile save`.
Scope = Literal["all", "profile"]

PROGRESS_MODES = ("auto", "bar", "plain", "none")
TEMPLATE_HELP = "{id} {model} {provider} {prompt_slug} {index} {created} {ext} ({row} in batches)"


@dataclass(frozen=True, slots=True)
class Option:
    """What the command line, profiles and the resolver need to know about one setting."""

    name: str
    kind: Kind
    flags: tuple[str, ...]  # () : profile and environment only
    help: str
    summary: str  # one line, for profiles and `config show`
    group: str
    default: Any
    stored: bool = True  # may come from a profile and FRAMECAST_<NAME>
    scope: Scope = "all"
    secret: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    metavar: str | None = None
    complete: Literal["models", "profiles"] | None = None

    @property
    def env_var(self) -> str | None:
        """FRAMECAST_<NAME>; tables and lists have none."""
        if not self.stored or self.kind in ("list", "strings", "table"):
            return None
        return f"FRAMECAST_{self.name.upper()}"

    @property
    def flag(self) -> str:
        """How messages name the setting: its long flag, else its profile key."""
        longs = [f.split("/")[0] for f in self.flags if f.startswith("--")]
        return longs[0] if longs else self.name


def option(
    *flags: str,
    help: str,
    summary: str,
    default: Any = None,
    stored: bool = True,
    scope: Scope = "all",
    secret: bool = False,
    choices: tuple[str, ...] = (),
    minimum: float | None = None,
    maximum: float | None = None,
    metavar: str | None = None,
    complete: Literal["models", "profiles"] | None = None,
) -> Any:
    """A settings field with its flag, help and completion (see `Option`)."""
    spec = {
        "flags": flags,
        "help": help,
        "summary": summary,
        "stored": stored,
        "scope": scope,
        "secret": secret,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "metavar": metavar,
        "complete": complete,
    }
    if isinstance(default, list | dict):
        raise TypeError("mutable defaults: use () or None")
    return field(default=default, metadata={"option": spec}, repr=not secret)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSettings:
    """What to make: the request `generate` and `estimate` send."""

    model: str | None = option(
        "--model", "-m", help="Model id, e.g. sora-2.", summary="model id", complete="models"
    )
    seconds: int | None = option(
        "--seconds", "-s", help="Duration in seconds.", summary="duration in seconds"
    )
    size: str | None = option(
        "--size",
        help="WIDTHxHEIGHT (1280x720) or W:H (16:9); wins over ratio and tier.",
        summary="WIDTHxHEIGHT or W:H",
    )
    aspect_ratio: str | None = option(
        "--aspect-ratio",
        help="Shape, e.g. 16:9 (nearest supported is used).",
        summary="shape, e.g. 16:9",
    )
    resolution: str | None = option(
        "--resolution",
        help="Scale tier, e.g. 720p, 1080p, 1K, 4K (nearest supported).",
        summary="scale tier, e.g. 720p",
    )
    n: int = option(
        "--n",
        help="How many videos (1-4).",
        summary="videos per request, 1-4",
        default=1,
        minimum=1,
        maximum=4,
    )
    image: tuple[str, ...] = option(
        "--image",
        "-i",
        help="Reference image: a path or an https URL. Repeatable.",
        summary="reference images (paths or URLs)",
        default=(),
    )
    video: str | None = option(
        "--video",
        help="Source video (video-to-video, extend): path or URL.",
        summary="source video",
    )
    negative_prompt: str | None = option(
        "--negative-prompt", help="What the video should avoid.", summary="what to avoid"
    )
    seed: int | None = option("--seed", help="Seed, for models that take one.", summary="seed")
    audio: bool | None = option(
        "--audio/--no-audio",
        help="Ask for generated sound (where offered).",
        summary="generated sound",
    )
    webhook_url: str | None = option(
        "--webhook-url", help="URL the provider notifies when the job ends.", summary="webhook URL"
    )
    metadata: Mapping[str, str] | None = option(
        "--metadata",
        help="KEY=VALUE string to attach to the job. Repeatable.",
        summary="string metadata attached to jobs",
        metavar="KEY=VALUE",
    )
    user: str | None = option(
        "--user", help="Your end-user's id (passed to the provider).", summary="end-user id"
    )
    params: Mapping[str, Any] | None = option(
        "--param",
        "-P",
        help="Extra request field KEY=VALUE (JSON values are parsed). Repeatable.",
        summary="passthrough request fields",
        metavar="KEY=VALUE",
    )
    # Per run: a profile holding one would fold every later run into the first job.
    idempotency_key: str | None = option(
        "--idempotency-key",
        help="Resubmitting with the same key returns the same job (where supported).",
        summary="idempotency key",
        stored=False,
    )
    # Per run: it names one video of the run --extend continues, and means nothing elsewhere.
    extend_index: int | None = option(
        "--index",
        help="With --extend and no PROMPT: which of the run's videos to continue, 0-3 "
        "(NanoGPT's Midjourney runs make four; default 0).",
        summary="the video of a run that --extend continues without a prompt",
        stored=False,
        minimum=0,
        maximum=3,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionSettings:
    """Where requests go and how they travel."""

    provider: str | None = option(
        "--provider",
        help=providers.provider_help(),
        summary="provider name",
    )
    base_url: str | None = option(
        "--base-url",
        help=providers.base_url_help(),
        summary="API base URL",
    )
    api_key_env: str | None = option(
        "--api-key-env",
        help="The environment variable that holds the key.",
        summary="the environment variable that holds the API key",
        scope="profile",
    )
    api_key: str | None = option(
        "--api-key",
        help=providers.api_key_help(),
        summary="the API key itself (only saved with --store-key)",
        secret=True,
    )
    max_retries: int | None = option(
        "--max-retries",
        help="Retries of a failed request (default 3); a POST only when it cannot bill "
        "twice. Env: FRAMECAST_MAX_RETRIES.",
        summary="retries of a failed request (POSTs only when safe)",
        minimum=0,
    )
    max_retry_wait: float | None = option(
        "--max-retry-wait",
        help="Longest wait between retries honoured, in seconds (default 60); a server "
        "asking for longer fails at once.",
        summary="longest wait between retries honoured, in seconds",
        minimum=0,
    )
    request_timeout: float | None = option(
        "--request-timeout",
        help="Seconds to wait for each answer from the provider (default 60).",
        summary="seconds to wait for each answer from a provider (60)",
        minimum=0.001,
        scope="profile",
    )
    allow_insecure_http: bool = option(
        "--allow-insecure-http",
        help="Send the API key over plain http to a host that is not this machine.",
        summary="send the API key over plain http to a non-loopback host",
        default=False,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    """How a run waits, what it may spend and where it saves."""

    output: str | None = option(
        "--output",
        "-o",
        help="File, directory or template to save to; - writes the video to stdout. "
        f"Template fields: {TEMPLATE_HELP}. Default: ./<id>.mp4.",
        summary="file, directory or template for saved videos",
    )
    timeout: float = option(
        "--timeout",
        help="Seconds to wait before giving up (exit 7); 0 waits forever. Default 1800.",
        summary="seconds to wait; 0 waits forever",
        default=1800.0,
        minimum=0,
    )
    poll_interval: float | None = option(
        "--poll-interval",
        help="Fixed seconds between polls.",
        summary="fixed seconds between polls",
        minimum=0,
        scope="profile",
    )
    poll_min: float | None = option(
        "--poll-min",
        help="Shortest wait between polls.",
        summary="shortest wait between polls",
        minimum=0.001,
        scope="profile",
    )
    poll_max: float | None = option(
        "--poll-max",
        help="Longest wait between polls.",
        summary="longest wait between polls",
        minimum=0.001,
        scope="profile",
    )
    max_cost: float | None = option(
        "--max-cost",
        help="Refuse (exit 8) if the estimate is above this, in USD.",
        summary="refuse runs estimated above this (USD)",
        minimum=0,
    )
    max_daily_cost: float | None = option(
        "--max-daily-cost",
        help="Refuse (exit 8) a submission whose estimate would take today's journaled "
        "spend (local time, estimates included, see `framecast spend`) above this, in the "
        "estimate's currency (USD). Env: FRAMECAST_MAX_DAILY_COST.",
        summary="refuse runs that would take the day's spend above this (USD)",
        minimum=0,
    )
    allow_unpriced: bool = option(
        "--allow-unpriced",
        help="With --max-cost or --max-daily-cost, submit even when the request cannot be priced.",
        summary="with max_cost or max_daily_cost, run requests that cannot be priced",
        default=False,
    )
    strict: bool = option(
        "--strict",
        help="Refuse a length, size, ratio or tier the model does not make as asked, "
        "listing those it does, instead of using the nearest one.",
        summary="refuse values the model does not make as asked",
        default=False,
    )
    progress: str = option(
        "--progress",
        help="auto (a bar on a terminal, plain lines otherwise), bar, plain or none. "
        "Env: FRAMECAST_PROGRESS.",
        summary="auto, bar, plain or none",
        default="auto",
        choices=PROGRESS_MODES,
    )
    heartbeat: float = option(
        "--heartbeat",
        help="With plain progress, print a status line at least this often, in seconds "
        "(default 30).",
        summary="seconds between plain progress lines while nothing changes",
        default=30.0,
        minimum=0.1,
    )
    write_info_json: bool = option(
        "--write-info-json",
        help="Write NAME.info.json (prompt, model, cost, ...) beside each video.",
        summary="write a .json sidecar beside each video",
        default=False,
    )


GROUPS: dict[str, type] = {
    "request": RequestSettings,
    "connection": ConnectionSettings,
    "run": RunSettings,
}

_KINDS: dict[Any, Kind] = {
    str: "str",
    int: "int",
    float: "number",
    bool: "bool",
    tuple: "list",
}


def _kind(hint: Any) -> Kind:
    if isinstance(hint, types.UnionType):  # X | None: the kind of X
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    base = typing.get_origin(hint) or hint
    if base is Mapping:
        return "strings" if typing.get_args(hint) == (str, str) else "table"
    return _KINDS[base]


@functools.cache  # every command built asks again (--help builds them all)
def options_of(cls: type) -> tuple[Option, ...]:
    """The declarations of one settings group, in field order."""
    hints = typing.get_type_hints(cls)
    group = next(name for name, member in GROUPS.items() if member is cls)
    return tuple(
        Option(
            name=f.name,
            kind=_kind(hints[f.name]),
            group=group,
            default=f.default,
            **f.metadata["option"],
        )
        for f in dataclasses.fields(cls)
    )


@functools.cache
def declared() -> dict[str, Option]:
    """Every setting by name."""
    return {o.name: o for cls in GROUPS.values() for o in options_of(cls)}


def stored() -> dict[str, Option]:
    """The settings a profile may hold, in the order a profile is written: where requests
    go first, then what they ask for, then how a run behaves."""
    ordered = sorted(
        declared().values(), key=lambda o: ("connection", "request", "run").index(o.group)
    )
    return {o.name: o for o in ordered if o.stored}
