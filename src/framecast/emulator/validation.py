"""Validation of create requests into what a job is made of, per dialect.

- Lumenfall (`check_lumenfall`): lenient where the gateway converts (seconds,
  size, aspect_ratio, resolution; see convert.py), unknown fields passed through,
  an unknown model 404 MODEL_NOT_FOUND (Lumenfall's errors page).
- OpenAI, strict (`check_openai`): exactly the official OpenAPI subset: `seconds`
  a string of "4", "8" or "12", `size` from its enum, a model it names, a prompt
  of 1 to 32000 characters (400 for anything else, unknown models included, as
  OpenAI answers). Fields the spec does not list are ignored: its schemas allow
  them (no `additionalProperties: false`), so refusing them would break the spec.

Every rejection names the field in `param`, so clients can test their error paths.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from framecast.emulator import convert, models
from framecast.emulator.forms import Form, Upload
from framecast.emulator.models import Model, Size
from framecast.emulator.wire import ApiError

DEFAULT_MODEL = "sora-2"
DEFAULT_FPS = Fraction(24)
MAX_PROMPT = 32000
OUTCOMES = ("completed", "failed", "cancelled")
# Set while a request that drew the `fail` fault is handled: its jobs end as this.
FORCED_OUTCOME: ContextVar[str | None] = ContextVar("FORCED_OUTCOME", default=None)
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")
# The emulator's own test hooks, taken in either dialect (no real client sends them).
CONTROLS = ("emulator_outcome", "emulator_job_seconds", "fps")
_LUMENFALL_KNOWN = {
    "prompt", "model", "seconds", "duration", "size", "aspect_ratio", "resolution",
    "input_reference", "input_video", "negative_prompt", "n", "metadata",
    "idempotency_key", "webhook_url", *CONTROLS,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Create:
    """A validated create: what was asked, and what the model will make."""

    prompt: str
    model: Model
    model_name: str  # as the client named it (a snapshot, or provider/slug on Lumenfall)
    size: Size
    seconds: int
    asked_size: str
    asked_seconds: str
    references: int


def new_id(prefix: str = "video") -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def invalid(param: str | None, message: str, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def prompt_of(form: Form, *, limit: int = MAX_PROMPT) -> str:
    prompt = form.fields.get("prompt")
    if prompt is None or (isinstance(prompt, str) and not prompt):
        raise invalid(
            "prompt", "Missing required parameter: 'prompt'.", "missing_required_parameter"
        )
    if not isinstance(prompt, str):
        raise invalid("prompt", "Invalid type for 'prompt': expected a string.", "invalid_type")
    if not prompt.strip():
        raise invalid("prompt", "'prompt' must not be blank.")
    if len(prompt) > limit:
        raise invalid(
            "prompt", f"'prompt' is longer than {limit} characters.", "string_above_max_length"
        )
    return prompt


def integer(value: Any, param: str) -> int:
    if isinstance(value, bool):
        raise invalid(param, f"Invalid type for '{param}': expected an integer.", "invalid_type")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise invalid(param, f"Invalid value for '{param}': {value!r} is not an integer.")


def _model_name(form: Form) -> str:
    name = form.fields.get("model", DEFAULT_MODEL)
    if not isinstance(name, str):
        raise invalid("model", "Invalid type for 'model': expected a string.", "invalid_type")
    if not name:
        raise invalid("model", "'model' must not be empty.")
    return name


def _check_image_url(url: Any) -> None:
    if not isinstance(url, str):
        raise invalid(
            "input_reference", "input_reference.image_url must be a string.", "invalid_type"
        )
    if len(url) > 20_971_520:
        raise invalid("input_reference", "input_reference.image_url is too long.")
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("https", "http") and rest and not rest.startswith("/"):
        return
    if url.startswith("data:image/") and ";base64," in url:
        try:
            base64.b64decode(url.split(",", 1)[1], validate=True)
        except (binascii.Error, ValueError):
            raise invalid(
                "input_reference", "input_reference.image_url holds invalid base64 data."
            ) from None
        return
    raise invalid(
        "input_reference",
        "input_reference.image_url must be an https URL or a base64 data URI of an image.",
    )


def check_video_upload(upload: Upload, param: str = "video") -> None:
    """An uploaded clip must be a video (ISO BMFF or WebM), as the real service decodes it."""
    if upload.data[4:8] != b"ftyp" and not upload.data.startswith(b"\x1a\x45\xdf\xa3"):
        raise invalid(param, f"Invalid file format for '{upload.filename}': upload an MP4 video.")


def _check_upload(upload: Upload) -> None:
    if not upload.data.startswith(_IMAGE_MAGIC):
        raise invalid(
            "input_reference",
            f"Invalid file format for '{upload.filename}': upload a PNG, JPEG, GIF or WebP image.",
        )


def _reference_object(item: dict[str, Any]) -> None:
    if ("image_url" in item) == ("file_id" in item):
        raise invalid(
            "input_reference", "input_reference needs exactly one of 'image_url' or 'file_id'."
        )
    if "image_url" in item:
        _check_image_url(item["image_url"])
    elif not isinstance(item["file_id"], str) or not item["file_id"]:
        raise invalid("input_reference", "input_reference.file_id must be a non-empty string.")


def references_of(form: Form, max_references: int, *, strict: bool = False) -> int:
    raw = form.fields.get("input_reference")
    items = raw if isinstance(raw, list) and not strict else ([] if raw is None else [raw])
    for given in items:
        item = given
        if isinstance(item, str) and (item.lstrip().startswith("{") or strict):
            try:
                item = json.loads(item)
            except json.JSONDecodeError:
                raise invalid(
                    "input_reference", "input_reference is not a valid JSON object."
                ) from None
        if isinstance(item, dict):
            _reference_object(item)
        elif strict:
            raise invalid(
                "input_reference", "input_reference must be an object or a file.", "invalid_type"
            )
        else:
            _check_image_url(item)
    uploads = form.uploads.get("input_reference", [])
    for upload in uploads:
        _check_upload(upload)
    count = len(items) + len(uploads)
    if count > max_references:
        raise invalid(
            "input_reference",
            f"This model accepts at most {max_references} reference image(s); got {count}.",
        )
    return count


def _check_optional(form: Form, model: Model) -> None:
    negative = form.fields.get("negative_prompt")
    if negative is not None and (not isinstance(negative, str) or len(negative) > 5000):
        raise invalid(
            "negative_prompt", "'negative_prompt' must be a string of at most 5000 characters."
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
        raise invalid("metadata", "'metadata' must be an object of string values.")
    video = form.fields.get("input_video")
    if video is not None:
        if "video" not in model.inputs:
            raise invalid("input_video", f"{model.id} does not take an input video.")
        if not isinstance(video, str) or not video.startswith(
            ("https://", "http://", "data:video/")
        ):
            raise invalid("input_video", "'input_video' must be a URL or a data URI of a video.")


def emulator_controls(
    form: Form, *, outcomes: tuple[str, ...] = OUTCOMES
) -> tuple[str, float | None, Fraction]:
    """The emulator's own passthrough fields: outcome, job duration, frame rate."""
    outcome = form.fields.get("emulator_outcome", "completed")
    if outcome not in outcomes:
        raise invalid("emulator_outcome", f"emulator_outcome must be one of {', '.join(outcomes)}.")
    outcome = FORCED_OUTCOME.get() or outcome
    job_seconds: float | None = None
    if "emulator_job_seconds" in form.fields:
        try:
            job_seconds = float(form.fields["emulator_job_seconds"])
        except (TypeError, ValueError):
            job_seconds = -1.0
        if not 0 <= job_seconds <= 86400:
            raise invalid(
                "emulator_job_seconds", "emulator_job_seconds must be a number of seconds."
            )
    fps = DEFAULT_FPS
    if "fps" in form.fields:
        try:
            fps = Fraction(str(form.fields["fps"])).limit_denominator(1001)
        except (ValueError, ZeroDivisionError):
            fps = Fraction(0)
        if not 1 <= fps <= 120:
            raise invalid("fps", "'fps' must be a number between 1 and 120.")
    return outcome, job_seconds, fps


def passthrough(form: Form) -> dict[str, Any]:
    """Fields the emulator does not interpret, kept as sent (Lumenfall passes them on)."""
    return {k: v for k, v in form.fields.items() if k not in _LUMENFALL_KNOWN}


def check_lumenfall(form: Form) -> Create:
    prompt = prompt_of(form)
    name = _model_name(form)
    model = models.find(name)
    if model is None:
        raise ApiError(
            404,
            f"The model '{name}' does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )
    made = convert.convert(form.fields, model)
    references = references_of(form, model.max_references)
    if references and "image" not in model.inputs:
        raise invalid("input_reference", f"{model.id} does not take a reference image.")
    _check_optional(form, model)
    return Create(
        prompt,
        model,
        name,
        made.size,
        made.seconds,
        made.asked_size,
        made.asked_seconds,
        references,
    )


def openai_seconds(form: Form, allowed: tuple[str, ...] = models.OPENAI.seconds) -> int | None:
    raw = form.fields.get("seconds")
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise invalid("seconds", "Invalid type for 'seconds': expected a string.", "invalid_type")
    if raw not in allowed:
        values = ", ".join(f"'{s}'" for s in allowed)
        raise invalid("seconds", f"Invalid value: '{raw}'. Supported values are: {values}.")
    return int(raw)


def check_openai(form: Form) -> Create:
    prompt = prompt_of(form)
    name = _model_name(form)
    model = models.find(name) if name in models.OPENAI.models else None
    if model is None:
        values = ", ".join(f"'{m}'" for m in models.OPENAI.models)
        raise invalid("model", f"Invalid value: '{name}'. Supported values are: {values}.")
    seconds = openai_seconds(form) or model.default_seconds
    size_text = form.fields.get("size", model.default_size)
    if not isinstance(size_text, str):
        raise invalid("size", "Invalid type for 'size': expected a string.", "invalid_type")
    size = model.size(size_text) if size_text in models.OPENAI.sizes else None
    if size is None:
        offered = [s for s in models.OPENAI.sizes if model.size(s) is not None]
        values = ", ".join(f"'{s}'" for s in offered)
        raise invalid(
            "size", f"Invalid value: '{size_text}'. Supported sizes for {name} are: {values}."
        )
    references = references_of(form, 1, strict=True)
    return Create(prompt, model, name, size, seconds, size.text, str(seconds), references)
