"""NanoGPT's video API, under /api: submit, status in both documented shapes, extend, models.

- POST /api/generate-video: JSON; `duration` (or `seconds` for Sora models) as a
  string; shape from `aspect_ratio` / `orientation` + `resolution` (no WxH size);
  images as `imageUrl` / `imageDataUrl`, videos as `videoUrl` / `videoDataUrl`.
  Answers 202 {runId, id, status: "pending", model, cost, paymentSource,
  remainingBalance}; `cost` is the pre-charge.
- GET /api/video/status?requestId= (or runId=): the docs' nested shape
  (`data.status` in upper case, `data.output.video.url`, final `data.cost`) or the
  OpenAPI file's flat shape (`status` in lower case, `videoUrl`, `progress`,
  `estimatedTimeRemaining`). A job answers in the shape its submission asked for
  with the passthrough field `emulator_status_shape` (default: the server's).
- POST /api/generate-video/extend {runId | taskId, index 0-3}: a new job continuing
  a finished one.
- GET /api/v1/video-models?detailed=true: the catalog, with per-second prices.
- GET /api/generate-video/recover?model=&limit=&conversationUUID=: recent runs,
  newest first, as `{"data": [{runId, id, model, status, createdAt, conversationUUID}]}`.

Errors use the OpenAPI file's `{"error": <status>, "message": ...}` envelope, and
insufficient balance the legacy `{"error": "...", "status": 402}` one.
"""

from __future__ import annotations

import time
from typing import Any

from framecast.emulator import convert, models, validation
from framecast.emulator.forms import Form, read_form
from framecast.emulator.models import Model
from framecast.emulator.store import VideoRecord
from framecast.emulator.videos import VideoApi, lifecycle
from framecast.emulator.wire import ApiError, Request, Response

SHAPES = ("nested", "flat")
STARTING_BALANCE = 100.0
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


class NanoError(ApiError):
    """NanoGPT's OpenAPI error envelope: {"error": <status>, "message": "..."}."""

    def response(self) -> Response:
        return Response.json(self.status, {"error": self.status, "message": self.message})


def _seconds(form: Form, model: Model) -> int:
    name = "seconds" if model.id.startswith("sora") else "duration"
    raw = form.fields.get(name, form.fields.get("duration"))
    if raw is None:
        return model.default_seconds
    text = str(raw).strip().removesuffix("s")
    if not text.isdigit() or int(text) not in model.durations:
        allowed = ", ".join(str(d) for d in model.durations)
        raise NanoError(400, f"Invalid {name} '{raw}' for {model.id}; supported: {allowed}.")
    return int(text)


def _dimensions(form: Form, model: Model) -> tuple[int, int]:
    ratio = form.fields.get("aspect_ratio")
    orientation = form.fields.get("orientation")
    if ratio is None and isinstance(orientation, str):
        if orientation not in _ORIENTATION:
            raise NanoError(400, "orientation must be landscape or portrait.")
        ratio = _ORIENTATION[orientation]
    tier = form.fields.get("resolution")
    fields = {
        "aspect_ratio": ratio if isinstance(ratio, str) else None,
        "resolution": tier if isinstance(tier, str) else None,
    }
    try:
        size, _ = convert.size_of(fields, model)
    except ApiError as error:
        raise NanoError(400, error.message) from None
    return size.width, size.height


def _media(form: Form, kind: str) -> int:
    """How many inputs of a kind (image/video) came as URL or data URL; checks their form."""
    count = 0
    for suffix, prefixes in (("Url", ("https://", "http://")), ("DataUrl", (f"data:{kind}/",))):
        value = form.fields.get(kind + suffix)
        if value is None:
            continue
        if not isinstance(value, str) or not value.startswith(prefixes):
            raise NanoError(
                400, f"{kind}{suffix} is not a valid {'URL' if suffix == 'Url' else 'data URL'}."
            )
        count += 1
    return count


class NanoGptApi:
    def __init__(self, videos: VideoApi, default_shape: str = "nested") -> None:
        self.videos = videos
        self.store = videos.store
        self.default_shape = default_shape
        self.spent = 0.0

    def _record(
        self, form: Form, model: Model, seconds: int, dims: tuple[int, int], **extra: Any
    ) -> VideoRecord:
        outcome, job_seconds, fps = validation.emulator_controls(form)
        shape = form.fields.get("emulator_status_shape", self.default_shape)
        if shape not in SHAPES:
            raise NanoError(400, "emulator_status_shape must be nested or flat.")
        size = model.size(f"{dims[0]}x{dims[1]}")
        price = None if size is None else model.price_at(size)
        record = VideoRecord(
            id=validation.new_id("vid"),
            created_at=self.videos.clock(),
            model=model.id,
            prompt=str(form.fields.get("prompt") or ""),
            seconds=seconds,
            width=dims[0],
            height=dims[1],
            fps=str(fps),
            job_seconds=self.videos.config.job_seconds if job_seconds is None else job_seconds,
            outcome=outcome,
            price_per_second=price,
            expires_after=self.videos.config.expires_after,
            extra={"dialect": "nanogpt", "status_shape": shape, **extra},
        )
        self.store.add(record)
        return record

    def _accepted(self, record: VideoRecord) -> Response:
        cost = round((record.price_per_second or 0.0) * record.seconds, 6)
        self.spent += cost
        return Response.json(202, {
            "runId": record.id,
            "id": record.id,
            "status": "pending",
            "model": record.model,
            "cost": cost,
            "paymentSource": "USD",
            "remainingBalance": round(STARTING_BALANCE - self.spent, 6),
            "prechargeLabel": f"{record.seconds}s video",
        })  # fmt: skip

    def generate(self, request: Request) -> Response:
        form = read_form(request)
        name = form.fields.get("model")
        if not isinstance(name, str) or not name:
            raise NanoError(400, "model is required.")
        model = models.find(name)
        if model is None:
            raise NanoError(400, f"Unknown video model '{name}'. See /api/v1/video-models.")
        prompt = form.fields.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise NanoError(400, "prompt is required for text-to-video and edit models.")
        images, videos = _media(form, "image"), _media(form, "video")
        if images and "image" not in model.inputs:
            raise NanoError(400, f"{model.id} does not take an image.")
        if videos and "video" not in model.inputs:
            raise NanoError(400, f"{model.id} does not take a source video.")
        return self._accepted(
            self._record(
                form, model, _seconds(form, model), _dimensions(form, model), **_conversation(form)
            )
        )

    def extend(self, request: Request) -> Response:
        form = read_form(request)
        source_id = form.fields.get("runId") or form.fields.get("taskId")
        index = form.fields.get("index")
        if not isinstance(source_id, str):
            raise NanoError(400, "runId (or taskId) is required.")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 3:
            raise NanoError(400, "index must be an integer from 0 to 3.")
        source = self.store.get(source_id)
        if source is None or source.extra.get("dialect") != "nanogpt":
            raise NanoError(404, f"Run {source_id} not found.")
        status, _, _ = lifecycle(source, self.videos.clock())
        if status != "completed":
            raise NanoError(
                400, f"Run {source_id} is {status}; only completed runs can be extended."
            )
        model = models.find(source.model)
        assert model is not None
        form.fields.setdefault("prompt", source.prompt)
        record = self._record(
            form,
            model,
            source.seconds,
            (source.width, source.height),
            extended_from=source.id,
            **_conversation(form),
        )
        return self._accepted(record)

    def status(self, request: Request) -> Response:
        run_id = request.arg("requestId") or request.arg("runId")
        if not run_id:
            raise NanoError(400, "requestId is required.")
        record = self.store.get(run_id)
        if record is None or record.extra.get("dialect") != "nanogpt":
            raise NanoError(404, "Video not found")
        status, progress, finished = lifecycle(record, self.videos.clock())
        url = None
        if status == "completed" and finished is not None:
            view = self.videos.video_object(record, request)
            url = view["output"]["url"]
        cost = (
            round((record.price_per_second or 0.0) * record.seconds, 6)
            if status == "completed"
            else 0.0
        )
        error = "The emulator was asked to fail this job." if status == "failed" else None
        if record.extra.get("status_shape") == "flat":
            remaining = max(0.0, record.created_at + record.job_seconds - self.videos.clock())
            return Response.json(200, {
                "requestId": record.id,
                "status": _FLAT[status],
                "videoUrl": url,
                "error": error,
                "createdAt": _iso(record.created_at),
                "completedAt": None if finished is None else _iso(finished),
                "progress": progress,
                "estimatedTimeRemaining": None if finished is not None else round(remaining),
            })  # fmt: skip
        data: dict[str, Any] = {"status": _NESTED[status], "requestId": record.id}
        if url is not None:
            data["output"] = {"video": {"url": url}}
            data["cost"] = cost
        if error is not None:
            data.update(
                error=error,
                isNSFWError=False,
                userFriendlyError="The video could not be generated.",
            )
        return Response.json(200, {"requestId": record.id, "model": record.model, "data": data})

    def recover(self, request: Request) -> Response:
        raw = request.arg("limit") or "10"
        if not raw.isdigit() or int(raw) < 1:
            raise NanoError(400, f"limit must be an integer from 1 to {RECOVER_LIMIT}.")
        # "max 50": a larger limit is clamped rather than refused (a choice; the docs say neither).
        limit = min(RECOVER_LIMIT, int(raw))
        wanted = request.arg("model")
        known = None if not wanted else models.find(wanted)
        model = known.id if known is not None else wanted
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
        data = []
        for model in models.lumenfall_models().values():
            per_second = model.price
            data.append({
                "id": model.id,
                "object": "model",
                "name": model.name,
                "description": f"{model.name} by {model.creator}",
                "architecture": {
                    "modality": "video",
                    "input_modalities": ["text", *sorted(model.inputs)],
                    "output_modalities": ["video"],
                },
                "pricing": {"currency": "USD", "per_second": per_second},
                "capabilities": {
                    "video_generation": True,
                    "text_to_video": True,
                    "image_to_video": "image" in model.inputs,
                    "audio_generation": model.audio,
                },
                "supported_parameters": {
                    "durations": list(model.durations),
                    "aspect_ratios": sorted({s.ratio for s in model.sizes}),
                    "resolutions": sorted({s.tier for s in model.sizes}),
                },
            })  # fmt: skip
        meta = {"count": len(data), "generated_at": _iso(time.time())}
        return Response.json(200, {"object": "list", "data": data, "meta": meta})


def _conversation(form: Form) -> dict[str, str]:
    """The run's conversationUUID, kept so recover can filter by it."""
    value = form.fields.get("conversationUUID")
    return {"conversationUUID": value} if isinstance(value, str) and value else {}


def _iso_ms(timestamp: float) -> str:
    """The recover docs' createdAt form, with milliseconds: 2025-01-17T12:34:56.000Z."""
    return _iso(timestamp).removesuffix("Z") + f".{int(timestamp * 1000) % 1000:03d}Z"


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
