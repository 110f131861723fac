"""NanoGPT's video API, under /api: submit, status in both documented shapes, extend, models.

Sources: seed 003 (NanoGPT's generate-video page) and ../shared/reference/apis.md
section 2. The models are NanoGPT's own (nanogpt_models.py).

- POST /api/generate-video: JSON. `seconds` for Sora models must be one of the
  strings "4", "8", "12"; `duration` for the others is a string of seconds ("5",
  or "5s" as in the Veo2 example) or a bare integer (NanoGPT's own extend example
  sends `"duration": 5`). Shape comes from `aspect_ratio` (or `orientation` on the
  models that take it) plus a `resolution` token, each checked against the model.
  "Unknown keys are ignored", but a media field the model does not take is
  refused, as the page warns. Extend models need `prompt` plus a source video
  (`videoUrl`, `videoDataUrl`, `videoAttachmentId`; `video` on select models) of
  at most 120 s. Answers 202 {runId, id, status: "pending", model, cost,
  paymentSource, remainingBalance, prechargeLabel}; `cost` is the pre-charge,
  refunded if the run fails.
- GET /api/video/status?requestId= (or runId=): the docs' nested shape
  (`data.status` in upper case, `data.output.video.url`, final `data.cost`, and
  for a failed run an `error` object) or the OpenAPI file's flat shape (`status`
  in lower case, `videoUrl`, `error` as a string, `progress`,
  `estimatedTimeRemaining`). A job answers in the shape its submission asked for
  with the passthrough field `emulator_status_shape` (default: the server's).
- POST /api/generate-video/extend {runId | taskId, index 0-3}: the task-based
  extend, for Midjourney runs only (see `extend`).
- GET /api/v1/video-models?detailed=true: the table, with per-second prices.
- GET /api/generate-video/recover?model=&limit=&conversationUUID=: recent runs,
  newest first, as `{"data": [{runId, id, model, status, createdAt, conversationUUID}]}`.

Errors use the guide's envelope {"error": {"message", "type"}} (plus
`refundMessage` where a refund applies), for every error on /api paths:
disrupt.error_response renders them all through NanoError.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import threading
import time
from typing import Any

from framecast.emulator import nanogpt_models, validation
from framecast.emulator.forms import Form, read_form
from framecast.emulator.nanogpt_models import NanoModel
from framecast.emulator.store import VideoRecord
from framecast.emulator.videos import VideoApi, lifecycle
from framecast.emulator.wire import ApiError, Request, Response

SHAPES = ("nested", "flat")
STARTING_BALANCE = 100.0
MAX_DATA_URL_BYTES = 4 * 1000 * 1000  # the guide: source videos as data URLs "max 4 MB"
_NESTED = {"queued": "IN_QUEUE", "in_progress": "IN_PROGRESS", "completed": "COMPLETED",
           "failed": "FAILED", "cancelled": "CANCELED"}  # fmt: skip
_FLAT = {"queued": "queued", "in_progress": "processing", "completed": "completed",
         "failed": "failed", "cancelled": "cancelled"}  # fmt: skip
# The recover docs show only "completed"; the other states take the lower-case words of
# the submit answer's status enum (pending, processing, completed, failed), plus
# "cancelled" as the flat status shape spells it. A choice: the docs list no others.
_RECOVER = {"queued": "pending", "in_progress": "processing", "completed": "completed",
            "failed": "failed", "cancelled": "cancelled"}  # fmt: skip
RECOVER_LIMIT = 50
_ORIENTATION = {"landscape": "16:9", "portrait": "9:16"}
# The guide names CONTENT_POLICY_VIOLATION, PRO_REQUIRED, INSUFFICIENT_BALANCE and
# RATE_LIMITED; the rest are the emulator's words for errors the guide gives no type.
# Types follow from the status because disrupt.error_response rebuilds every /api error
# from its status and message alone.
_TYPES = {
    400: "INVALID_REQUEST",
    401: "AUTHENTICATION_ERROR",
    402: "INSUFFICIENT_BALANCE",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    410: "GONE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    502: "UPSTREAM_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
# Not a documented type either: the docs' failed example is a content-policy rejection.
FAILED_TYPE = "GENERATION_FAILED"
ASKED_TO_FAIL = "The emulator was asked to fail this job."
DRAWN_FAILURE = "The job failed (the emulator's failure rate drew it)."
FRIENDLY_FAILURE = "The video could not be generated. Please try again."
_MEDIA_PATH = re.compile(r"/media/(?P<id>[^/?#]+)/video\.[a-z0-9]+")
_TASK_EXTEND_REFUSES = ("video", "videoUrl", "videoDataUrl", "videoAttachmentId")


def error_type(status: int) -> str:
    return _TYPES.get(status, "SERVER_ERROR" if status >= 500 else "INVALID_REQUEST")


class NanoError(ApiError):
    """NanoGPT's video error envelope: {"error": {"message", "type"}, "refundMessage"?}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        refund: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(status, message, type=type or error_type(status), headers=headers)
        self.refund = refund

    def response(self) -> Response:
        payload: dict[str, Any] = {"error": {"message": self.message, "type": self.type}}
        if self.refund is not None:
            payload["refundMessage"] = self.refund
        return Response.json(self.status, payload, self.headers)


def _invalid(message: str) -> NanoError:
    return NanoError(400, message)


def _listed(values: tuple[Any, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _seconds(form: Form, model: NanoModel) -> int:
    """The clip length asked for: Sora's `seconds` strictly as a string, `duration` leniently."""
    name = model.duration_field
    raw = form.fields.get(name)
    if raw is None and name == "seconds":
        # Sora's selector is `seconds`; the generic `duration` is read when it is absent.
        name, raw = "duration", form.fields.get("duration")
    if raw is None:
        return model.default_seconds
    value: int | None = None
    if isinstance(raw, str):
        # Sora's selector is exactly "4", "8" or "12"; "5s" is the Veo2 example's form.
        text = raw.strip() if name == "seconds" else raw.strip().removesuffix("s")
        value = int(text) if text.isdigit() else None
    elif isinstance(raw, int) and not isinstance(raw, bool) and name == "duration":
        value = raw  # NanoGPT's own extend example sends `"duration": 5`
    elif name == "seconds" and isinstance(raw, int | float) and not isinstance(raw, bool):
        raise _invalid(
            f"seconds must be a string for {model.id}: one of "
            f"{_listed(tuple(repr(str(d)) for d in model.durations))}; got the number {raw}."
        )
    if value is None or value not in model.durations:
        raise _invalid(
            f"Invalid {name} '{raw}' for {model.id}; supported: {_listed(model.durations)}."
        )
    return value


def _pro(form: Form) -> bool:
    return any(form.fields.get(name) in (True, "true") for name in ("pro_mode", "pro"))


def _shape(form: Form, model: NanoModel, pro: bool) -> tuple[int, int, str]:
    """(width, height, resolution token) from size, aspect_ratio or orientation, resolution."""
    size = form.fields.get("size")
    if model.sized and size is not None:
        presets = model.presets()
        preset = presets.get(str(size).strip().lower())
        if preset is None:
            raise _invalid(
                f"Invalid size '{size}' for {model.id}; supported: {_listed(tuple(presets))}."
            )
        ratio, resolution = preset
    else:
        ratio = _ratio(form, model)
        resolution = _resolution(form, model)
    if resolution in model.pro_only and not pro:
        raise _invalid(f"{resolution} on {model.id} needs pro mode: send pro_mode: true.")
    width, height = nanogpt_models.dimensions(ratio, resolution)
    return width, height, resolution


def _ratio(form: Form, model: NanoModel) -> str:
    ratio = form.fields.get("aspect_ratio")
    if ratio is not None:
        if ratio == "auto":
            return model.default_ratio
        if ratio not in model.aspect_ratios:
            raise _invalid(
                f"Invalid aspect_ratio '{ratio}' for {model.id}; "
                f"supported: {_listed(model.aspect_ratios)}."
            )
        return str(ratio)
    orientation = form.fields.get("orientation")
    # Only Sora and Wan take orientation [seed]; to the rest it is an unknown key, ignored.
    if orientation is None or not model.orientation:
        return model.default_ratio
    if orientation not in _ORIENTATION:
        raise _invalid("orientation must be landscape or portrait.")
    return _ORIENTATION[orientation]


def _resolution(form: Form, model: NanoModel) -> str:
    raw = form.fields.get("resolution")
    if raw is None:
        return model.default_resolution
    token = raw.strip().lower() if isinstance(raw, str) else None
    if token not in model.resolutions:
        raise _invalid(
            f"Invalid resolution '{raw}' for {model.id}; supported: {_listed(model.resolutions)}."
        )
    return token


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme in ("https", "http") and bool(rest) and not rest.startswith("/")


def _data_url(value: Any, kind: str) -> bytes | None:
    """The bytes of a base64 data URL of `kind` (image, video, audio); None if not one."""
    if not isinstance(value, str) or not value.startswith(f"data:{kind}/"):
        return None
    head, sep, data = value.partition(",")
    if not sep or not head.endswith(";base64"):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def _kind(field: str) -> str:
    for kind, fields in (
        ("image", (*nanogpt_models.IMAGE_FIELDS, "swapImage")),
        ("video", (*nanogpt_models.VIDEO_FIELDS, "targetVideo")),
    ):
        if field in fields:
            return kind
    return "audio"


def _check_value(field: str, value: Any) -> None:
    kind = _kind(field)
    if field.endswith("AttachmentId"):
        ok = isinstance(value, str) and bool(value.strip())
        shown = "a library attachment id"
    elif field.endswith("DataUrl"):
        ok = _data_url(value, kind) is not None
        shown = f"a base64 data URL of {'an' if kind == 'image' else 'a'} {kind}"
    elif field.endswith("Url"):
        ok = _is_url(value)
        shown = "an https URL"
    elif field in ("referenceImages", "referenceVideos"):
        items = value if isinstance(value, list) else []
        ok = bool(items) and all(_is_url(v) or _data_url(v, kind) is not None for v in items)
        shown = "a non-empty list of URLs or data URLs"
    else:
        ok = _is_url(value) or _data_url(value, kind) is not None
        shown = "a URL or a data URL"
    if not ok:
        raise _invalid(f"{field} must be {shown}.")


def _check_media(form: Form, model: NanoModel) -> dict[str, Any]:
    """The media fields sent, each checked: taken by the model, and well formed."""
    sent = {
        f: form.fields[f] for f in nanogpt_models.MEDIA_FIELDS if form.fields.get(f) is not None
    }
    for field, value in sent.items():
        if field not in model.media:
            accepted = sorted(model.media) or ["none"]
            raise _invalid(
                f"{model.id} does not take {field}; send only the media fields it expects "
                f"({', '.join(accepted)})."
            )
        _check_value(field, value)
    kinds = {_kind(field) for field in sent}
    if model.needs == "image" and "image" not in kinds:
        raise _invalid(
            f"{model.name} requires an input image. Please select an image to generate a video."
        )
    if model.needs == "video" and not any(f in sent for f in nanogpt_models.SOURCE_VIDEO_FIELDS):
        # `video` goes unmentioned even where taken: the page says to prefer videoUrl.
        fields = [f for f in nanogpt_models.SOURCE_VIDEO_FIELDS if f in model.media - {"video"}]
        raise _invalid(f"{model.id} needs a source video: send {' or '.join(fields)}.")
    return sent


def mp4_seconds(data: bytes) -> float | None:
    """A MP4/MOV file's length from its movie header (moov/mvhd); None if it has none."""
    moov = _box(data, b"moov")
    mvhd = None if moov is None else _box(moov, b"mvhd")
    if mvhd is None or len(mvhd) < 20:
        return None
    if mvhd[0] == 1:
        if len(mvhd) < 32:
            return None
        timescale, duration = struct.unpack(">IQ", mvhd[20:32])
    else:
        timescale, duration = struct.unpack(">II", mvhd[12:20])
    return duration / timescale if timescale else None


def _box(data: bytes, kind: bytes) -> bytes | None:
    """The payload of the first box of `kind` among the boxes `data` is made of."""
    at = 0
    while at + 8 <= len(data):
        size, found = struct.unpack(">I4s", data[at : at + 8])
        header = 8
        if size == 1 and at + 16 <= len(data):
            size, header = struct.unpack(">Q", data[at + 8 : at + 16])[0], 16
        elif size == 0:
            size = len(data) - at
        if size < header:
            return None
        if found == kind:
            return data[at + header : at + size]
        at += size
    return None


class NanoGptApi:
    def __init__(self, videos: VideoApi, default_shape: str = "nested") -> None:
        self.videos = videos
        self.store = videos.store
        self.default_shape = default_shape
        self._lock = threading.Lock()
        # NanoGPT runs count their own plans, so their timelines do not shift with
        # the other dialect's traffic; the nth run of a seed replays the same.
        self._drawn = 0
        # Pre-charges of runs still going; settled ones either stay spent or are
        # refunded (failed and cancelled runs: "Refunds are automatic when the job fails").
        self._open: dict[str, tuple[VideoRecord, float]] = {}
        self._settled = 0.0

    # -- jobs ----------------------------------------------------------------

    def _record(
        self,
        form: Form,
        model: str,
        prompt: str,
        seconds: int,
        dims: tuple[int, int],
        price: float,
        **extra: Any,
    ) -> VideoRecord:
        outcome, job_seconds, fps = validation.emulator_controls(form)
        shape = form.fields.get("emulator_status_shape", self.default_shape)
        if shape not in SHAPES:
            raise _invalid("emulator_status_shape must be nested or flat.")
        nominal = self.videos.config.job_seconds if job_seconds is None else job_seconds
        with self._lock:
            index = self._drawn
            self._drawn += 1
        plan, drawn = self.videos.timeline.draw(index, nominal, outcome, job_seconds is not None)
        record = VideoRecord(
            id=validation.new_id("vid"),
            created_at=self.videos.clock(),
            model=model,
            prompt=prompt,
            seconds=seconds,
            width=dims[0],
            height=dims[1],
            fps=str(fps),
            job_seconds=plan.ends,
            outcome=drawn,
            price_per_second=price,
            expires_after=self.videos.config.expires_after,
            plan=plan.to_json(),
            extra={
                "dialect": "nanogpt",
                "status_shape": shape,
                # What the status may tell of time left: the nominal length, never the plan.
                "nominal_seconds": nominal,
                "failure": DRAWN_FAILURE if drawn != outcome else ASKED_TO_FAIL,
                **_conversation(form),
                **extra,
            },
        )
        self.store.add(record)
        return record

    def _charge(self, record: VideoRecord) -> tuple[float, float]:
        """(cost, remaining balance) once `record`'s pre-charge is taken."""
        cost = _cost(record)
        with self._lock:
            now = self.videos.clock()
            for run_id, (held, amount) in list(self._open.items()):
                status, _, finished = lifecycle(held, now)
                if finished is not None:
                    del self._open[run_id]
                    self._settled += amount if status == "completed" else 0.0
            self._open[record.id] = (record, cost)
            spent = self._settled + sum(amount for _, amount in self._open.values())
        return cost, round(STARTING_BALANCE - spent, 6)

    def _accepted(self, record: VideoRecord, **more: Any) -> Response:
        cost, remaining = self._charge(record)
        return Response.json(202, {
            "runId": record.id,
            "id": record.id,
            "status": "pending",
            "model": record.model,
            "cost": cost,
            "paymentSource": "USD",
            "remainingBalance": remaining,
            "prechargeLabel": f"{record.seconds}s video",
            **more,
        })  # fmt: skip

    def _run(self, run_id: str) -> VideoRecord:
        record = self.store.get(run_id)
        if record is None or record.extra.get("dialect") != "nanogpt":
            raise NanoError(404, f"Video run {run_id} not found.")
        return record

    # -- submitting ----------------------------------------------------------

    def generate(self, request: Request) -> Response:
        form = read_form(request)
        name = form.fields.get("model")
        if not isinstance(name, str) or not name:
            raise _invalid("model is required.")
        model = nanogpt_models.find(name)
        if model is None:
            raise _invalid(f"Unknown video model '{name}'. See /api/v1/video-models.")
        prompt = form.fields.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _invalid("prompt is required for text-to-video and edit models.")
        sent = _check_media(form, model)
        if model.voice:
            _check_voice(form)
        source = self._source_seconds(sent, request) if model.needs == "video" else None
        if model.extend and source is not None and source > nanogpt_models.MAX_SOURCE_SECONDS:
            raise _invalid(
                f"The source video is {source:g} s long; extend takes sources of at most "
                f"{nanogpt_models.MAX_SOURCE_SECONDS} seconds."
            )
        if model.follows_source:
            seconds = model.default_seconds if source is None else max(1, round(source))
        else:
            seconds = _seconds(form, model)
        pro = _pro(form)
        width, height, resolution = _shape(form, model, pro)
        record = self._record(
            form, model.id, prompt, seconds, (width, height), model.price_at(resolution, pro)
        )
        return self._accepted(record)

    def _source_seconds(self, sent: dict[str, Any], request: Request) -> float | None:
        """The source video's length, where it can be known.

        A data URL is decoded and its MP4 movie header read (over 4 MB is refused, as
        the guide's limit). A URL to this emulator's own media is its run's length.
        Other URLs are not fetched (the emulator reaches nothing beyond itself) and
        library attachments do not exist here: neither can be measured, so both pass.
        """
        field = next(f for f in nanogpt_models.SOURCE_VIDEO_FIELDS if f in sent)
        value = sent[field]
        data = _data_url(value, "video")
        if data is not None:
            if len(data) > MAX_DATA_URL_BYTES:
                raise NanoError(
                    413, f"{field} is {len(data) / 1e6:.1f} MB; the limit is 4 MB. Use videoUrl."
                )
            return mp4_seconds(data)
        match = _MEDIA_PATH.search(value) if _is_url(value) else None
        record = None if match is None else self.store.get(match["id"])
        return None if record is None else float(record.seconds)

    def extend(self, request: Request) -> Response:
        """The task-based extend: a Midjourney run continued, one of its 4 videos by index.

        Strict where the docs are explicit: the video-extend page, the guide and seed
        003 all say this flow is for Midjourney and takes no video fields, and name
        POST /generate-video with an extend model for everything else. A client that
        sends another model's run here would fail against NanoGPT, so it fails here.
        """
        form = read_form(request)
        for field in _TASK_EXTEND_REFUSES:
            if form.fields.get(field) is not None:
                raise _invalid(
                    f"/api/generate-video/extend does not accept {field}. To extend a source "
                    "video, POST /api/generate-video with an extend model (e.g. veo3-1-extend) "
                    "and videoUrl."
                )
        source_id = form.fields.get("runId") or form.fields.get("taskId")
        if not isinstance(source_id, str) or not source_id:
            raise _invalid("runId (or taskId) is required.")
        index = form.fields.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 3:
            raise _invalid("index must be an integer from 0 to 3.")
        source = self._run(source_id)
        model = nanogpt_models.find(source.model)
        if model is None or not model.task_extend:
            raise _invalid(
                f"Run {source_id} is a {source.model} run; /api/generate-video/extend extends "
                "midjourney-video runs only. Use POST /api/generate-video with an extend model "
                "(e.g. veo3-1-extend) and the video's URL as videoUrl."
            )
        status, _, _ = lifecycle(source, self.videos.clock())
        if status != "completed":
            raise _invalid(f"Run {source_id} is {status}; only completed runs can be extended.")
        added = model.extension_seconds
        record = self._record(
            form,
            source.model,
            source.prompt,
            source.seconds + added,
            (source.width, source.height),
            source.price_per_second or model.price,
            extended_from=source.id,
            index=index,
        )
        # The extend page's example answer adds these to the standard fields.
        return self._accepted(
            record,
            success=True,
            taskId=record.id,
            message=f"Extending video {index + 1} by {added} seconds...",
            eta=round(record.extra["nominal_seconds"]),
        )

    # -- reading -------------------------------------------------------------

    def status(self, request: Request) -> Response:
        run_id = request.arg("requestId") or request.arg("runId")
        if not run_id:
            raise _invalid("requestId (or runId) is required.")
        record = self._run(run_id)
        now = self.videos.clock()
        status, progress, finished = lifecycle(record, now)
        url = None
        if status == "completed" and finished is not None:
            url = self.videos.video_object(record, request)["output"]["url"]
        failure = str(record.extra.get("failure", ASKED_TO_FAIL))
        if record.extra.get("status_shape") == "flat":
            # An estimate from the nominal length, as a service would give one: the run's
            # true (drawn) length is not known to it, so it is not told either.
            nominal = float(record.extra.get("nominal_seconds", 0.0))
            estimate = max(0.0, nominal - (now - record.created_at))
            return Response.json(200, {
                "requestId": record.id,
                "status": _FLAT[status],
                "videoUrl": url,
                "error": failure if status == "failed" else None,
                "createdAt": _iso(record.created_at),
                "completedAt": None if finished is None else _iso(finished),
                "progress": progress,
                "estimatedTimeRemaining": None if finished is not None else round(estimate),
            })  # fmt: skip
        data: dict[str, Any] = {"status": _NESTED[status], "requestId": record.id}
        if status == "in_progress":
            data["details"] = "Video is being generated"
        if url is not None:
            data["output"] = {"video": {"url": url}}
            data["cost"] = _cost(record)
        if status == "failed":
            data.update(
                error={"message": failure, "type": FAILED_TYPE},
                isNSFWError=False,
                userFriendlyError=FRIENDLY_FAILURE,
                refundMessage=f"The pre-charge of ${_cost(record):.2f} was refunded.",
            )
        return Response.json(200, {"requestId": record.id, "model": record.model, "data": data})

    def recover(self, request: Request) -> Response:
        raw = request.arg("limit") or "10"
        if not raw.isdigit() or int(raw) < 1:
            raise _invalid(f"limit must be an integer from 1 to {RECOVER_LIMIT}.")
        # "max 50": a larger limit is clamped rather than refused (a choice; the docs say neither).
        limit = min(RECOVER_LIMIT, int(raw))
        model = request.arg("model")
        conversation = request.arg("conversationUUID")
        data: list[dict[str, Any]] = []
        for record in self.store.newest():
            if len(data) == limit:
                break
            if (
                record.extra.get("dialect") != "nanogpt"
                or (model and record.model != model)
                or (conversation and record.extra.get("conversationUUID") != conversation)
            ):
                continue
            status, _, _ = lifecycle(record, self.videos.clock())
            data.append({
                "runId": record.id,
                "id": record.id,
                "model": record.model,
                "status": _RECOVER[status],
                "createdAt": _iso_ms(record.created_at),
                # null for a run submitted without one (a choice; the docs show only a set one).
                "conversationUUID": record.extra.get("conversationUUID"),
            })  # fmt: skip
        return Response.json(200, {"data": data})

    def models(self, request: Request) -> Response:
        detailed = (request.arg("detailed") or "true").lower() != "false"
        data = [
            _listing(model) if detailed else {"id": model.id, "object": "model"}
            for model in nanogpt_models.nanogpt_models().values()
        ]
        meta = {"count": len(data), "generated_at": _iso_ms(time.time())}
        return Response.json(200, {"object": "list", "data": data, "meta": meta})


def _listing(model: NanoModel) -> dict[str, Any]:
    """One model as /api/v1/video-models?detailed=true describes it (apis.md 2.6).

    The docs leave `pricing` beyond `currency`, and `supported_parameters`, open;
    these fields are the emulator's.
    """
    pricing: dict[str, Any] = {"currency": "USD", "per_second": model.price}
    if model.resolution_prices:
        pricing["per_second_by_resolution"] = dict(model.resolution_prices)
    if model.pro_prices:
        pricing["per_second_pro"] = dict(model.pro_prices)
    return {
        "id": model.id,
        "object": "model",
        "name": model.name,
        "description": f"{model.name} by {model.creator}",
        "architecture": {
            "modality": "video",
            "input_modalities": ["text", *model.inputs],
            "output_modalities": ["video"],
        },
        "pricing": pricing,
        "capabilities": {
            "video_generation": True,
            "text_to_video": model.text,
            "image_to_video": "image" in model.inputs,
            "audio_generation": model.audio,
            "video_extension": model.extend or model.task_extend,
        },
        "supported_parameters": {
            model.duration_field: [str(d) for d in model.durations],
            "durations": list(model.durations),
            "aspect_ratios": list(model.aspect_ratios),
            "orientation": ["landscape", "portrait"] if model.orientation else [],
            "resolutions": list(model.resolutions),
            "media_fields": sorted(model.media),
            "requires": model.needs,
            "outputs": model.outputs,
        },
    }


def _check_voice(form: Form) -> None:
    """kling-lipsync-t2v's voice fields [seed]: voice_id required, the others ranged."""
    voice = form.fields.get("voice_id")
    if not isinstance(voice, str) or not voice.strip():
        raise _invalid("voice_id is required for kling-lipsync-t2v.")
    language = form.fields.get("voice_language")
    if language is not None and language not in ("en", "zh"):
        raise _invalid("voice_language must be en or zh.")
    speed = form.fields.get("voice_speed")
    if speed is not None and (
        isinstance(speed, bool) or not isinstance(speed, int | float) or not 0.8 <= speed <= 2.0
    ):
        raise _invalid("voice_speed must be a number from 0.8 to 2.0.")


def _cost(record: VideoRecord) -> float:
    return round((record.price_per_second or 0.0) * record.seconds, 6)


def _conversation(form: Form) -> dict[str, str]:
    """The run's conversationUUID, kept so recover can filter by it."""
    value = form.fields.get("conversationUUID")
    return {"conversationUUID": value} if isinstance(value, str) and value else {}


def _iso_ms(timestamp: float) -> str:
    """The recover docs' createdAt form, with milliseconds: 2025-01-17T12:34:56.000Z."""
    return _iso(timestamp).removesuffix("Z") + f".{int(timestamp * 1000) % 1000:03d}Z"


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
