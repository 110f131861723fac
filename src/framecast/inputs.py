"""Turning what the user typed into a JobRequest, rejecting bad input before anything is sent."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from framecast import sizes
from framecast.domain import JobRequest
from framecast.errors import UsageError
from framecast.options import RequestSettings

URL_PREFIXES = ("https://", "http://", "data:")
MAX_IDEMPOTENCY_KEY = 256
MAX_PROMPT = 32000  # the OpenAI Videos API's limit; longer is refused before it is paid for


def parse_params(pairs: Iterable[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; a value that parses as JSON is sent as that JSON value."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--param {pair!r} is not KEY=VALUE.")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def parse_metadata(pairs: Iterable[str]) -> dict[str, str]:
    """KEY=VALUE pairs, kept as strings (providers take string-to-string metadata)."""
    metadata: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--metadata {pair!r} is not KEY=VALUE.")
        metadata[key.strip()] = value
    return metadata


_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")


def _is_image(head: bytes) -> bool:
    return head.startswith(_IMAGE_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def check_media(flag: str, value: str, *, image: bool = False) -> str:
    """A URL as given, or a local file that exists, can be read and (for images) is one."""
    if value.startswith(URL_PREFIXES):
        return value
    path = Path(value).expanduser()
    if path.is_dir():
        raise UsageError(f"{flag} {value!r} is a directory, not a file.")
    if path.exists() and not path.is_file():
        raise UsageError(f"{flag} {value!r} is not a regular file (a device, pipe or socket).")
    if not path.is_file():
        raise UsageError(f"{flag} {value!r}: no such file (give a path or an https URL).")
    try:
        with open(path, "rb") as file:
            head = file.read(16)
    except OSError as error:
        raise UsageError(f"{flag} {value!r} cannot be read: {error.strerror or error}.") from None
    if image and not _is_image(head):
        raise UsageError(f"{flag} {value!r} is not an image (PNG, JPEG, GIF or WebP).")
    return str(path)


def check_settings(values: Mapping[str, Any]) -> None:
    """Values about to be saved in a profile, refused now rather than on every later run."""
    from framecast.options import PROGRESS_MODES
    from framecast.providers import get_provider

    if values.get("provider") is not None:
        get_provider(str(values["provider"]))
    seconds = values.get("seconds")
    if seconds is not None and seconds <= 0:
        raise UsageError(f"--seconds {seconds}: the duration must be a positive number of seconds.")
    if values.get("size") is not None:
        try:
            sizes.normalise(str(values["size"]))
        except ValueError as exc:
            raise UsageError(f"--size {exc}.") from None
    if values.get("progress") is not None and values["progress"] not in PROGRESS_MODES:
        raise UsageError(f"--progress {values['progress']!r}: choose {', '.join(PROGRESS_MODES)}.")
    for key in ("base_url", "webhook_url"):
        if values.get(key) is not None:
            check_url(f"--{key.replace('_', '-')}", str(values[key]))
    output = values.get("output")
    if isinstance(output, str) and "{" in output:
        from framecast.domain import Job, JobStatus
        from framecast.saving import render_template

        render_template(output, Job(id="job", provider="p", status=JobStatus.QUEUED), "mp4", 1)


def check_url(flag: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{flag} {value!r} is not an http(s) URL.")
    return value


def build_request(prompt: str, given: RequestSettings) -> JobRequest:
    """The request the settings describe, each value checked; every request setting that
    JobRequest has a field for is carried over by name."""
    # Only an extend that continues a run by --index goes without a prompt (extending.py).
    if given.extend_index is not None and prompt.strip():
        raise UsageError(
            "--index means nothing with a PROMPT: a prompt extends the source video with an "
            "extend model.",
            hint="Drop --index, or drop the PROMPT to continue a Midjourney run by --index.",
        )
    if not prompt.strip() and given.extend_index is None:
        raise UsageError("The prompt is empty.")
    if len(prompt) > MAX_PROMPT:
        raise UsageError(
            f"The prompt is {len(prompt):,} characters; the video APIs take at most {MAX_PROMPT:,}."
        )
    if given.seconds is not None and given.seconds <= 0:
        raise UsageError(
            f"--seconds {given.seconds}: the duration must be a positive number of seconds."
        )
    key = given.idempotency_key
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise UsageError(f"--idempotency-key must be 1 to {MAX_IDEMPOTENCY_KEY} characters.")
    values = {f.name: getattr(given, f.name) for f in dataclasses.fields(given)}
    # Empty strings mean "not given", as a missing flag does.
    values = {name: None if value == "" else value for name, value in values.items()}
    if given.size is not None:
        try:
            values["size"] = sizes.normalise(given.size)
        except ValueError as exc:
            raise UsageError(f"--size {exc}.") from None
    values["images"] = tuple(check_media("--image", i, image=True) for i in values.pop("image"))
    if given.video is not None:
        values["video"] = check_media("--video", given.video)
    if given.webhook_url is not None:
        values["webhook_url"] = check_url("--webhook-url", given.webhook_url)
    values["metadata"] = dict(given.metadata or {})
    values["params"] = dict(given.params or {})
    return JobRequest(prompt=prompt, **values)
