"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

DEFAULT_TIMEOUT = 1800.0

Provider = Annotated[
    str | None,
    typer.Option(
        "--provider",
        help="Provider name: openai, emulator (in-process, offline). Env: FRAMECAST_PROVIDER.",
        show_default=False,
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="API base URL (e.g. a served emulator's). Env: OPENAI_BASE_URL.",
        show_default=False,
    ),
]
ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="API key. Prefer the environment (OPENAI_API_KEY): flags show up in process lists.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object per job on stdout.")]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only the saved path (or the id); no progress.")
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout", min=0, help="Seconds to wait before giving up (exit 7); 0 waits forever."
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
