"""Options shared by several commands, declared once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from framecast.cli.completion import complete_models, complete_profiles

DEFAULT_TIMEOUT = 1800.0

Provider = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help="Provider name: lumenfall, nanogpt, openai (any OpenAI-compatible server), "
        "emulator (in-process, offline). Env: FRAMECAST_PROVIDER.",
        show_default=False,
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="API base URL (e.g. a served emulator's). Env: the provider's own, e.g. "
        "LUMENFALL_BASE_URL, NANOGPT_BASE_URL, OPENAI_BASE_URL.",
        show_default=False,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="API key. Prefer the environment (LUMENFALL_API_KEY, NANOGPT_API_KEY, "
        "OPENAI_API_KEY): flags show up in process lists.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object per job on stdout.")]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the saved path (or the id); no progress.")
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0,
        help="Seconds to wait before giving up (exit 7); 0 waits forever. Default 1800.",
        show_default=False,
    ),
]
Force = Annotated[
    bool, typer.Option("--force", help="Overwrite an existing file instead of picking a new name.")
]
Output = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        help="File or directory to save to (default: ./<id>.mp4).",
        show_default=False,
    ),
]

# The request, shared by `generate` and `estimate`.
Prompt = Annotated[
    str, typer.Argument(metavar="PROMPT", help="What the video should show; - reads it from stdin.")
]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Model id, e.g. sora-2.",
        show_default=False,
        autocompletion=complete_models,
    ),
]
Seconds = Annotated[
    int | None, typer.Option("--seconds", "-s", help="Duration in seconds.", show_default=False)
]
Size = Annotated[
    str | None,
    typer.Option(
        "--size",
        help="WIDTHxHEIGHT (1280x720) or W:H (16:9); wins over ratio and tier.",
        show_default=False,
    ),
]
AspectRatio = Annotated[
    str | None,
    typer.Option(
        "--aspect-ratio", help="Shape, e.g. 16:9 (nearest supported is used).", show_default=False
    ),
]
Resolution = Annotated[
    str | None,
    typer.Option(
        "--resolution",
        help="Scale tier, e.g. 720p, 1080p, 1K, 4K (nearest supported).",
        show_default=False,
    ),
]
Count = Annotated[
    int | None, typer.Option("--n", min=1, max=4, help="How many videos (1-4).", show_default=False)
]
Image = Annotated[
    list[str] | None,
    typer.Option(
        "--image",
        "-i",
        help="Reference image: a path or an https URL. Repeatable.",
        show_default=False,
    ),
]
Video = Annotated[
    str | None,
    typer.Option(
        "--video", help="Source video (video-to-video, extend): path or URL.", show_default=False
    ),
]
NegativePrompt = Annotated[
    str | None,
    typer.Option("--negative-prompt", help="What the video should avoid.", show_default=False),
]
Seed = Annotated[
    int | None, typer.Option("--seed", help="Seed, for models that take one.", show_default=False)
]
Audio = Annotated[
    bool | None,
    typer.Option(
        "--audio/--no-audio", help="Ask for generated sound (where offered).", show_default=False
    ),
]
WebhookUrl = Annotated[
    str | None,
    typer.Option(
        "--webhook-url", help="URL the provider notifies when the job ends.", show_default=False
    ),
]
Metadata = Annotated[
    list[str] | None,
    typer.Option(
        "--metadata", help="KEY=VALUE string to attach to the job. Repeatable.", show_default=False
    ),
]
User = Annotated[
    str | None,
    typer.Option("--user", help="Your end-user's id (passed to the provider).", show_default=False),
]
IdempotencyKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Resubmitting with the same key returns the same job (where supported).",
        show_default=False,
    ),
]
Param = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        "-P",
        help="Extra request field KEY=VALUE (JSON values are parsed). Repeatable.",
        show_default=False,
    ),
]

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


class PrintField(StrEnum):
    id = "id"
    path = "path"
    url = "url"
    status = "status"
    cost = "cost"


Print = Annotated[
    PrintField | None,
    typer.Option(
        "--print", help="Print only this field of each job, one line per job.", show_default=False
    ),
]
Progress = Annotated[
    str | None,
    typer.Option(
        "--progress",
        help="auto (a bar on a terminal, plain lines otherwise), bar, plain or none. "
        "Env: FRAMECAST_PROGRESS.",
        show_default=False,
    ),
]
WriteInfoJson = Annotated[
    bool | None,
    typer.Option(
        "--write-info-json",
        help="Write NAME.info.json (prompt, model, cost, ...) beside each video.",
    ),
]

# How requests travel: retries, and plain http.
MaxRetries = Annotated[
    int | None,
    typer.Option(
        "--max-retries",
        min=0,
        help="Retries of a failed request (default 3); a POST only when it cannot bill twice. "
        "Env: FRAMECAST_MAX_RETRIES.",
        show_default=False,
    ),
]
MaxRetryWait = Annotated[
    float | None,
    typer.Option(
        "--max-retry-wait",
        min=0,
        help="Longest wait between retries honoured, in seconds (default 60); a server asking "
        "for longer fails at once.",
        show_default=False,
    ),
]
AllowInsecureHttp = Annotated[
    bool | None,
    typer.Option(
        "--allow-insecure-http",
        help="Send the API key over plain http to a host that is not this machine.",
        show_default=False,
    ),
]
CancelOnInterrupt = Annotated[
    bool,
    typer.Option(
        "--cancel-on-interrupt",
        help="On Ctrl-C or SIGTERM, cancel the running jobs at the provider (where it can).",
    ),
]
