"""Turning what the user typed into a JobRequest, rejecting bad input before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from framecast import sizes
from framecast.domain import JobRequest
from framecast.errors import UsageError

URL_PREFIXES = ("https://", "http://", "data:")


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


def check_image(image: str) -> str:
    if image.startswith(URL_PREFIXES):
        return image
    path = Path(image).expanduser()
    if not path.is_file():
        raise UsageError(f"--image {image!r}: no such file (give a path or an https:// URL).")
    return str(path)


def build_request(
    prompt: str,
    *,
    model: str | None = None,
    seconds: int | None = None,
    size: str | None = None,
    images: Iterable[str] = (),
    negative_prompt: str | None = None,
    params: Iterable[str] = (),
) -> JobRequest:
    if not prompt.strip():
        raise UsageError("The prompt is empty.")
    if seconds is not None and seconds <= 0:
        raise UsageError(f"--seconds {seconds}: the duration must be a positive number of seconds.")
    if size is not None:
        try:
            size = sizes.normalise(size)
        except ValueError as exc:
            raise UsageError(f"--size {exc}.") from None
    return JobRequest(
        prompt=prompt,
        model=model or None,
        seconds=seconds,
        size=size,
        images=tuple(check_image(i) for i in images),
        negative_prompt=negative_prompt or None,
        params=parse_params(params),
    )
