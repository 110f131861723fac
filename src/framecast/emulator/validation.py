"""Validation of create requests, as the real service does it, into a VideoRecord.

Every rejection is a 400 (404 for an unknown model, as Lumenfall answers) with
the field named in `param`, so clients can test their error paths against it.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from contextvars import ContextVar
from fractions import Fraction
from typing import Any

from framecast import catalog, sizes
from framecast.catalog import ModelInfo
from framecast.emulator.forms import Form, Upload
from framecast.emulator.wire import ApiError
from framecast.errors import UsageError
from framecast.normalise import normalise

DEFAULT_MODEL = "sora-2"
DEFAULT_FPS = Fraction(24)
OUTCOMES = ("completed", "failed", "cancelled")
# Set while a request that drew the `fail` fault is handled: its jobs end as this.
FORCED_OUTCOME: ContextVar[str | None] = ContextVar("FORCED_OUTCOME", default=None)
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")
_KNOWN = {
    "prompt",
    "model",
    "seconds",
    "duration",
    "size",
    "aspect_ratio",
    "input_reference",
    "input_video",
    "negative_prompt",
    "n",
    "metadata",
    "fps",
    "emulator_outcome",
    "emulator_job_seconds",
    "idempotency_key",
    "webhook_url",
    "resolution",
}


def new_id(prefix: str = "video") -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def prompt_of(form: Form, *, limit: int = 32000) -> str:
    prompt = form.fields.get("prompt")
    if prompt is None or (isinstance(prompt, str) and not prompt.strip()):
        raise ApiError(
            400,
            "Missing required parameter: 'prompt'.",
            param="prompt",
            code="missing_required_parameter",
        )
    if not isinstance(prompt, str):
        raise ApiError(
            400,
            "Invalid type for 'prompt': expected a string.",
            param="prompt",
            code="invalid_type",
        )
    if len(prompt) > limit:
        raise ApiError(
            400,
            f"'prompt' is longer than {limit} characters.",
            param="prompt",
            code="string_above_max_length",
        )
    return prompt


def model_of(form: Form) -> ModelInfo:
    name = form.fields.get("model", DEFAULT_MODEL)
    if not isinstance(name, str) or not name:
        raise ApiError(
            400, "Invalid type for 'model': expected a string.", param="model", code="invalid_type"
        )
    # "openai/sora-2" forces a provider on Lumenfall; the model is the part after the slash.
    info = catalog.get(name)
    if info is None:
        raise ApiError(
            404,
            f"The model '{name}' does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    return info


def integer(value: Any, param: str) -> int:
    if isinstance(value, bool):
        raise ApiError(
            400,
            f"Invalid type for '{param}': expected an integer.",
            param=param,
            code="invalid_type",
        )
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ApiError(
        400,
        f"Invalid value for '{param}': {value!r} is not an integer.",
        param=param,
        code="invalid_value",
    )


def default_seconds(model: ModelInfo) -> int:
    if model.default_seconds is not None:
        return model.default_seconds
    return model.durations[0] if model.durations else 4


def seconds_of(form: Form, model: ModelInfo, param: str = "seconds") -> int:
    raw = form.fields.get(param, form.fields.get("duration") if param == "seconds" else None)
    if raw is None:
        return default_seconds(model)
    seconds = integer(raw, param)
    if seconds not in model.durations:
        allowed = ", ".join(f"'{d}'" for d in model.durations)
        raise ApiError(
            400,
            f"Invalid value: '{seconds}'. Supported values for {model.id} are: {allowed}.",
            param=param,
            code="invalid_value",
        )
    return seconds


def size_of(form: Form, model: ModelInfo) -> tuple[int, int]:
    """Lumenfall's matching: WxH must be offered; ratios and tiers map to the nearest."""
    raw = {name: form.fields.get(name) for name in ("size", "aspect_ratio", "resolution")}
    for name, value in raw.items():
        if value is not None and not isinstance(value, str):
            raise ApiError(
                400,
                f"Invalid type for '{name}': expected a string.",
                param=name,
                code="invalid_type",
            )
    size = raw["size"]
    if isinstance(size, str) and size.strip().lower() != "auto":
        dims = sizes.dimensions(size)
        if dims is None and sizes.ratio(size) is None:
            raise ApiError(
                400,
                f"Invalid value: '{size}'. Use WIDTHxHEIGHT or a ratio such as 16:9.",
                param="size",
                code="invalid_value",
            )
        if dims is not None and model.option(f"{dims[0]}x{dims[1]}") is None:
            allowed = ", ".join(f"'{o.size}'" for o in model.sizes)
            raise ApiError(
                400,
                f"Invalid value: '{size}'. Supported sizes for {model.id} are: {allowed}.",
                param="size",
                code="invalid_value",
            )
    try:
        shape = normalise(
            model, size=size, aspect_ratio=raw["aspect_ratio"], resolution=raw["resolution"]
        )
    except UsageError as error:
        param = "resolution" if "resolution" in error.message else "aspect_ratio"
        raise ApiError(
            400,
            error.message.replace("--", "").replace("-", "_", 1),
            param=param,
            code="invalid_value",
        ) from None
    dims = shape.dimensions or sizes.dimensions(model.default_size or "")
    assert dims is not None
    return dims


def _check_image_url(url: Any) -> None:
    if not isinstance(url, str):
        raise ApiError(
            400,
            "input_reference.image_url must be a string.",
            param="input_reference",
            code="invalid_type",
        )
    if url.startswith(("https://", "http://")):
        return
    if url.startswith("data:image/") and ";base64," in url:
        try:
            base64.b64decode(url.split(",", 1)[1], validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                400,
                "input_reference.image_url holds invalid base64 data.",
                param="input_reference",
                code="invalid_value",
            ) from None
        return
    raise ApiError(
        400,
        "input_reference.image_url must be an https URL or a base64 data URI of an image.",
        param="input_reference",
        code="invalid_value",
    )


def _check_upload(upload: Upload) -> None:
    if not upload.data.startswith(_IMAGE_MAGIC):
        raise ApiError(
            400,
            f"Invalid file format for '{upload.filename}': upload a PNG, JPEG, GIF or WebP image.",
            param="input_reference",
            code="invalid_value",
        )


def references_of(form: Form, model: ModelInfo) -> int:
    raw = form.fields.get("input_reference")
    items = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    for item in items:
        if isinstance(item, dict):
            if "image_url" in item:
                _check_image_url(item["image_url"])
            elif not isinstance(item.get("file_id"), str):
                raise ApiError(
                    400,
                    "input_reference needs exactly one of 'image_url' or 'file_id'.",
                    param="input_reference",
                    code="invalid_value",
                )
        elif isinstance(item, str) and item.lstrip().startswith("{"):
            try:
                parsed = json.loads(item)
            except json.JSONDecodeError:
                raise ApiError(
                    400, "input_reference is not valid JSON.", param="input_reference"
                ) from None
            _check_image_url(parsed.get("image_url") if isinstance(parsed, dict) else None)
        else:
            _check_image_url(item)
    uploads = form.uploads.get("input_reference", [])
    for upload in uploads:
        _check_upload(upload)
    count = len(items) + len(uploads)
    if count > model.max_references:
        raise ApiError(
            400,
            f"{model.id} accepts at most {model.max_references} reference image(s); got {count}.",
            param="input_reference",
            code="invalid_value",
        )
    return count


def _check_optional(form: Form, model: ModelInfo) -> None:
    negative = form.fields.get("negative_prompt")
    if negative is not None and (not isinstance(negative, str) or len(negative) > 5000):
        raise ApiError(
            400,
            "'negative_prompt' must be a string of at most 5000 characters.",
            param="negative_prompt",
            code="invalid_value",
        )
    metadata = form.fields.get("metadata")
    if isinstance(metadata, str) and form.multipart:
        try:
            metadata = json.loads(metadata)
        except json.JSONDecodeError:
            metadata = None
    if "metadata" in form.fields and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise ApiError(
            400,
            "'metadata' must be an object of string values.",
            param="metadata",
            code="invalid_value",
        )
    video = form.fields.get("input_video")
    if video is not None:
        if "v2v" not in model.modes:
            raise ApiError(
                400,
                f"{model.id} does not take an input video.",
                param="input_video",
                code="invalid_value",
            )
        if not isinstance(video, str) or not video.startswith(
            ("https://", "http://", "data:video/")
        ):
            raise ApiError(
                400,
                "'input_video' must be a URL or a data URI of a video.",
                param="input_video",
                code="invalid_value",
            )


def emulator_controls(form: Form) -> tuple[str, float | None, Fraction]:
    """The emulator's own passthrough fields: outcome, job duration, frame rate."""
    outcome = form.fields.get("emulator_outcome", "completed")
    if outcome not in OUTCOMES:
        raise ApiError(
            400,
            f"emulator_outcome must be one of {', '.join(OUTCOMES)}.",
            param="emulator_outcome",
            code="invalid_value",
        )
    outcome = FORCED_OUTCOME.get() or outcome
    job_seconds: float | None = None
    if "emulator_job_seconds" in form.fields:
        try:
            job_seconds = float(form.fields["emulator_job_seconds"])
        except (TypeError, ValueError):
            job_seconds = -1.0
        if not 0 <= job_seconds <= 86400:
            raise ApiError(
                400,
                "emulator_job_seconds must be a number of seconds.",
                param="emulator_job_seconds",
                code="invalid_value",
            )
    fps = DEFAULT_FPS
    if "fps" in form.fields:
        try:
            fps = Fraction(str(form.fields["fps"])).limit_denominator(1001)
        except (ValueError, ZeroDivisionError):
            fps = Fraction(0)
        if not 1 <= fps <= 120:
            raise ApiError(
                400, "'fps' must be a number between 1 and 120.", param="fps", code="invalid_value"
            )
    return outcome, job_seconds, fps


def passthrough(form: Form) -> dict[str, Any]:
    """Fields the emulator does not interpret, kept as sent (they are accepted, as on Lumenfall)."""
    return {k: v for k, v in form.fields.items() if k not in _KNOWN}


def check_create(form: Form) -> tuple[str, ModelInfo, int, tuple[int, int], int]:
    prompt = prompt_of(form)
    model = model_of(form)
    seconds = seconds_of(form, model)
    size = size_of(form, model)
    references = references_of(form, model)
    _check_optional(form, model)
    return prompt, model, seconds, size, references
