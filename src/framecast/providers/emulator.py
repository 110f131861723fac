"""The built-in emulator, in-process: no key, no port, no network.

It speaks Lumenfall's dialect (dry runs, native n, idempotency, webhooks) and
also serves OpenAI's /content endpoint for thumbnails and spritesheets. Its
jobs live in framecast's data directory, so a job submitted with `--no-wait`
can be waited on or downloaded by a later run.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import httpx

from framecast.http import RetryPolicy
from framecast.providers.lumenfall import LumenfallProvider
from framecast.providers.openai import OpenAIProvider

JOB_SECONDS_ENV = "FRAMECAST_EMULATOR_JOB_SECONDS"
DEFAULT_JOB_SECONDS = 3.0


class EmulatorProvider(LumenfallProvider):
    name = "emulator"
    batch_concurrency = 16  # in-process, and nobody's account
    key_env_var: ClassVar[str | None] = None
    base_url_env_var: ClassVar[str | None] = None
    # .invalid never resolves (RFC 6761): a request can only ever reach the transport.
    default_base_url = "http://emulator.framecast.invalid/openai/v1"
    default_model: ClassVar[str | None] = "sora-2"
    # Lumenfall's, plus the OpenAI /content endpoint for thumbnails and spritesheets.
    capabilities = replace(
        LumenfallProvider.capabilities, variants=("video", "thumbnail", "spritesheet")
    )

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        state_dir: Path | None = None,
    ) -> None:
        if transport is None:
            transport = _in_process_transport(state_dir)
        super().__init__(
            base_url=None, api_key=None, transport=transport, retry=retry, timeout=timeout
        )

    # The emulator also serves OpenAI's /videos/extensions and /content endpoints.
    extend = OpenAIProvider.extend
    asset = OpenAIProvider.asset


def _in_process_transport(state_dir: Path | None) -> httpx.BaseTransport:
    from framecast.emulator import EmulatorApp, EmulatorConfig
    from framecast.emulator.transport import EmulatorTransport
    from framecast.paths import data_dir

    raw = os.environ.get(JOB_SECONDS_ENV)
    try:
        job_seconds = float(raw) if raw else DEFAULT_JOB_SECONDS
    except ValueError:
        job_seconds = DEFAULT_JOB_SECONDS
    config = EmulatorConfig(job_seconds=max(0.0, job_seconds), require_auth=False)
    state = (state_dir or data_dir()) / "emulator.sqlite3"
    return EmulatorTransport(EmulatorApp(config, state_path=state))
