"""NanoGPT's video API: its own asynchronous shape, not OpenAI's.

Submit with POST /generate-video (JSON; `x-api-key`), which answers {runId,
status: "pending", cost (the pre-charge), paymentSource, remainingBalance}.
Poll GET /video/status?requestId=. The docs show a nested answer with an
upper-case `data.status` and the URL at `data.output.video.url`; the OpenAPI
file a flat one with a lower-case `status`, `videoUrl`, `progress` and
`estimatedTimeRemaining`. Both are read. There is no WxH size: shape goes as
aspect_ratio (orientation for Sora and Wan) plus a resolution token; durations
go as strings, `seconds` for Sora models and `duration` otherwise. Local files
go inline as data URLs, up to 4 MB.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from framecast import catalog
from framecast.catalog import ModelInfo, Price
from framecast.domain import Job, JobError, JobRequest, JobStatus, normalise_status
from framecast.errors import ProviderUnavailable, UsageError
from framecast.normalise import tier_megapixels
from framecast.providers.base import Asset, Capabilities, Listing, Provider, Variant
from framecast.providers.openai import answered_id, mapping, number, text, timestamp
from framecast.untrusted import is_job_id

RESOLUTION_TOKENS = ("480p", "580p", "720p", "1080p", "1792x1024", "2k", "4k")
ORIENTED_FAMILIES = ("sora", "wan")  # these take orientation instead of aspect_ratio
SORA_SECONDS = (4, 8, 12)  # seed 003: "Sora-specific duration selector"
TASK_EXTEND_PREFIX = "midjourney"  # runs that POST /generate-video/extend continues
TASK_EXTEND_INDEXES = range(4)  # "index (0-3)": one of the four videos a Midjourney run makes
# The models that extend a source video with a prompt (seed 003, NanoGPT's extend page).
EXTEND_MODEL_IDS = (
    "veo3-1-extend",
    "veo3-1-fast-extend",
    "wan-wavespeed-25-extend",
    "wan-wavespeed-22-spicy-extend",
    "bytedance-seedance-v1.5-pro-extend",
)
# The extend model for a run of each model, when --model names the run's own model.
EXTEND_MODELS = {
    "veo-3.1": "veo3-1-extend",
    "veo3-1-video": "veo3-1-extend",
    "veo-3.1-fast": "veo3-1-fast-extend",
    "veo3-1-fast-video": "veo3-1-fast-extend",
    "wan-wavespeed-25": "wan-wavespeed-25-extend",
}


def _extend_model(model: str | None) -> str:
    """The extend model for --model: one itself, or the one for the run's own model."""
    name = model or ""
    if name in EXTEND_MODEL_IDS or name.endswith("-extend"):
        return name
    if name in EXTEND_MODELS:
        return EXTEND_MODELS[name]
    raise UsageError(
        f"{name or 'This model'} is not an extend model: nanogpt extends a video with a "
        f"prompt through one of {', '.join(EXTEND_MODEL_IDS)}.",
        hint="Name one with --model, e.g. --model veo3-1-extend; a Midjourney run continues "
        "without a PROMPT (--index 0-3).",
    )


def resolution_token(tier: str) -> str:
    """NanoGPT's nearest resolution token for a tier (1K -> 720p, 4K -> 4k)."""
    lowered = tier.lower()
    if lowered in RESOLUTION_TOKENS:
        return lowered
    wanted = tier_megapixels(tier)
    if wanted is None:
        return lowered

    def distance(token: str) -> float:
        megapixels = tier_megapixels(token)
        assert megapixels is not None
        return abs(megapixels - wanted) / wanted

    return min(RESOLUTION_TOKENS, key=distance)


def request_body(request: JobRequest) -> dict[str, Any]:
    model = request.model or ""
    body: dict[str, Any] = {"model": model, "prompt": request.prompt}
    if request.seconds is not None:
        body["seconds" if model.startswith("sora") else "duration"] = str(request.seconds)
    info = catalog.get(model)
    option = info.option(request.size) if info and request.size else None
    ratio = option.aspect_ratio if option else request.aspect_ratio
    tier = option.resolution if option else request.resolution
    if ratio:
        if model.startswith(ORIENTED_FAMILIES):
            body["orientation"] = "portrait" if ratio in ("9:16", "2:3", "3:4") else "landscape"
        else:
            body["aspect_ratio"] = ratio
    if tier:
        body["resolution"] = resolution_token(tier)
    if request.size and option is None and request.size != "auto":
        body["size"] = request.size  # an unknown model: NanoGPT's `size` preset, as given
    images = list(request.images)
    if len(images) == 1:
        body["imageDataUrl" if images[0].startswith("data:") else "imageUrl"] = images[0]
    elif images:
        body["referenceImages"] = images
    if request.video:
        body["videoDataUrl" if request.video.startswith("data:") else "videoUrl"] = request.video
    extras = {
        "negative_prompt": request.negative_prompt,
        "seed": request.seed,
        "generateAudio": request.audio,
    }
    body.update({k: v for k, v in extras.items() if v is not None})
    return body | request.params


class NanoGptProvider(Provider):
    name = "nanogpt"
    key_env_var: ClassVar[str | None] = "NANOGPT_API_KEY"
    base_url_env_var: ClassVar[str | None] = "NANOGPT_BASE_URL"
    default_base_url = "https://nano-gpt.com/api"
    default_model: ClassVar[str | None] = None
    lookup_cap: ClassVar[int] = 50  # /generate-video/recover answers at most 50 runs
    capabilities = Capabilities(
        modes=("t2v", "i2v", "v2v"),
        uploads=False,
        native_n=False,
        dry_run=False,
        webhooks=False,
        idempotency=False,
        cancel=False,
        output="url",
        variants=("video",),
        data_uri_limit=4 * 1000 * 1000,  # the guide's limit for API uploads
        labels=False,  # seed 003 documents neither metadata nor an end-user field
        extend_by_index=True,  # POST /generate-video/extend {runId, index} (seed 003)
    )

    @classmethod
    def offered(cls, model: ModelInfo) -> ModelInfo:
        """Sora through NanoGPT takes `seconds` of "4", "8" or "12" (seed 003)."""
        if not model.id.startswith("sora-"):
            return model
        durations = tuple(d for d in model.durations if d in SORA_SECONDS)
        if not durations:
            return model
        default = model.default_seconds if model.default_seconds in durations else durations[0]
        return replace(model, durations=durations, default_seconds=default)

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key}

    def submit(self, request: JobRequest) -> list[Job]:
        answer = self.http.request("POST", "generate-video", json=request_body(request))
        return [self._accepted(mapping(answer.data), request)]

    def extend(self, job_id: str, request: JobRequest) -> list[Job]:
        """Continue a finished run, in one of NanoGPT's two extend flows (seed 003).

        Without a prompt: POST /generate-video/extend {runId, index}, which continues
        video `request.extend_index` (0-3) of a Midjourney run as it is; NanoGPT offers
        this flow for Midjourney runs only. With a prompt: POST /generate-video with an
        extend model (`veo3-1-extend`, ...), the prompt, and the finished run's video
        as `videoUrl`, as NanoGPT's own status answer gives it.
        """
        if not request.prompt.strip():
            return self._continue(job_id, request)
        if request.extend_index is not None:
            raise UsageError("--index means nothing with a prompt; drop one of them.")
        if request.video is not None:
            raise UsageError(
                "--extend sends the run's own video as the source; --video would be dropped."
            )
        extender = _extend_model(request.model)
        source = self._finished(job_id)
        extended = replace(request, model=extender, video=source.output_url)
        answer = self.http.request("POST", "generate-video", json=request_body(extended))
        return [self._accepted(mapping(answer.data), extended)]

    def _continue(self, job_id: str, request: JobRequest) -> list[Job]:
        """The task-based extend: one of a Midjourney run's videos, continued as it is."""
        index = 0 if request.extend_index is None else request.extend_index
        if index not in TASK_EXTEND_INDEXES:
            raise UsageError(f"--index {index}: a Midjourney run has four videos, 0 to 3.")
        if "index" in request.params:
            raise UsageError("Give the video to continue as --index 0-3, not as -P index.")
        source = self._finished(job_id)
        if not (source.model or "").startswith(TASK_EXTEND_PREFIX):
            raise UsageError(
                f"Without a prompt, nanogpt continues Midjourney runs only; {job_id} is a "
                f"{source.model or 'different'} run.",
                hint=f'Describe what happens next: framecast generate "PROMPT" --extend {job_id} '
                f"--model EXTEND_MODEL (one of {', '.join(EXTEND_MODEL_IDS)}).",
            )
        body = request.params | {"runId": job_id, "index": index}
        answer = self.http.request("POST", "generate-video/extend", json=body)
        return [self._accepted(mapping(answer.data), replace(request, model=source.model))]

    def _finished(self, job_id: str) -> Job:
        """The run to extend, as NanoGPT reports it now: finished, with its video's URL."""
        source = self.get(job_id)
        if source.status is not JobStatus.COMPLETED or not source.output_url:
            raise UsageError(f"{job_id} has not finished, so it has no video to extend yet.")
        return source

    def _accepted(self, payload: dict[str, Any], request: JobRequest | None) -> Job:
        job_id, _ = answered_id(self.name, {"id": payload.get("runId", payload.get("id"))}, None)
        return Job(
            id=job_id,
            provider=self.name,
            status=normalise_status(payload.get("status")) or JobStatus.QUEUED,
            model=text(payload.get("model")) or (request.model if request else None),
            prompt=request.prompt if request else None,
            seconds=request.seconds if request else None,
            cost_estimate=number(payload.get("cost")),
            currency="USD",
            balance=number(payload.get("remainingBalance")),
            payment_source=text(payload.get("paymentSource")),
        )

    def get(self, job_id: str) -> Job:
        payload = mapping(
            self.http.request("GET", "video/status", params={"requestId": job_id}).data
        )
        nested = payload.get("data")
        if isinstance(nested, dict):
            return self._nested(job_id, payload, nested)
        return self._flat(job_id, payload)

    def _status(self, raw: Any) -> tuple[JobStatus, str | None]:
        status = normalise_status(raw)
        return (status, None) if status else (JobStatus.IN_PROGRESS, str(raw))

    def _nested(self, job_id: str, payload: dict[str, Any], data: dict[str, Any]) -> Job:
        status, raw = self._status(data.get("status"))
        message = text(data.get("userFriendlyError")) or text(data.get("error"))
        error_object = mapping(data.get("error"))
        if error_object:
            message = text(error_object.get("message")) or message
        _, alias = answered_id(self.name, {"id": payload.get("requestId")}, job_id)
        return Job(
            id=job_id,
            server_id=alias,
            provider=self.name,
            status=status,
            raw_status=raw,
            model=text(payload.get("model")),
            output_url=text(mapping(mapping(data.get("output")).get("video")).get("url")),
            error=None
            if message is None
            else JobError("nsfw" if data.get("isNSFWError") else None, message),
            cost=number(data.get("cost")) if status is JobStatus.COMPLETED else None,
            currency="USD",
        )

    def _flat(self, job_id: str, payload: dict[str, Any]) -> Job:
        status, raw = self._status(payload.get("status"))
        remaining = number(payload.get("estimatedTimeRemaining"))
        progress = number(payload.get("progress"))
        message = text(payload.get("error")) or text(mapping(payload.get("error")).get("message"))
        _, alias = answered_id(self.name, {"id": payload.get("requestId")}, job_id)
        return Job(
            id=job_id,
            server_id=alias,
            provider=self.name,
            status=status,
            raw_status=raw,
            progress=None if progress is None else int(progress),
            created_at=_timestamp(payload.get("createdAt")),
            completed_at=_timestamp(payload.get("completedAt")),
            output_url=text(payload.get("videoUrl")),
            error=None
            if message is None or status is not JobStatus.FAILED
            else JobError(None, message),
            # An estimate, not a request to wait: the poller forecasts from it (forecast.py).
            eta=remaining,
        )

    def lookup(self, since: float, *, limit: int = 200) -> Listing | None:
        """Recent runs (GET /generate-video/recover, at most 50), newest first, back to `since`."""
        wanted = min(self.lookup_cap, limit)
        page = mapping(
            self.http.request("GET", "generate-video/recover", params={"limit": str(wanted)}).data
        )
        items = page.get("data")
        if not isinstance(items, list):
            raise ProviderUnavailable(f"{self.name} answered its recent runs without a list.")
        found = []
        older = False
        for raw in items:
            item = mapping(raw)
            run_id = item.get("runId", item.get("id"))
            if not is_job_id(run_id):
                continue
            status, raw_status = self._status(item.get("status"))
            created = _timestamp(item.get("createdAt"))
            if created is not None and created < since:
                older = True
                continue
            found.append(
                Job(
                    id=str(run_id),
                    provider=self.name,
                    status=status,
                    raw_status=raw_status,
                    model=text(item.get("model")),
                    created_at=created,
                )
            )
        return Listing(found, complete=older or len(items) < wanted)

    def asset(self, job: Job, variant: Variant) -> Asset:
        if variant != "video":
            raise UsageError(f"{self.name} delivers the video only, not a {variant}.")
        if not job.output_url:
            raise ProviderUnavailable(
                f"Job {job.id} is {job.status.value} but carries no video URL."
            )
        return Asset(job.output_url, authenticated=False)

    def list_models(self) -> list[ModelInfo]:
        listing = mapping(
            self.http.request("GET", "v1/video-models", params={"detailed": "true"}).data
        )
        seen = datetime.now().strftime("%Y-%m-%d")
        models = []
        for raw in listing.get("data", []):
            item = mapping(raw)
            if not isinstance(item.get("id"), str):
                continue
            caps = mapping(item.get("capabilities"))
            params = mapping(item.get("supported_parameters"))
            pricing = mapping(item.get("pricing"))
            per_second = number(pricing.get("per_second"))
            modes = listed_modes(item)
            durations = tuple(int(d) for d in params.get("durations", []) if number(d) is not None)
            prices: tuple[Price, ...] = ()
            if per_second is not None:
                currency = text(pricing.get("currency")) or "USD"
                prices = (Price(per_second, currency, f"{self.base_url}/v1/video-models", seen),)
            models.append(
                ModelInfo(
                    id=item["id"],
                    name=text(item.get("name")) or item["id"],
                    creator="",
                    modes=modes,
                    durations=durations,
                    default_seconds=None,
                    sizes=(),
                    default_size=None,
                    prices=prices,
                    audio="optional" if caps.get("audio_generation") is True else None,
                    source=self.name,
                )
            )
        return models


# What /v1/video-models says a model does, in framecast's mode words. The docs name the
# capabilities text_to_video and image_to_video and the input modalities; the other
# flags are read as NanoGPT words its `mode` field (reference-to-video, video-edit) and
# its "video extension support". A model that takes a video input takes --video.
_MODE_FLAGS = (
    ("t2v", ("text_to_video",)),
    ("i2v", ("image_to_video",)),
    ("r2v", ("reference_to_video",)),
    ("v2v", ("video_to_video", "video_edit", "video_editing")),
    ("extend", ("video_extension", "video_extend")),
)
_MODE_INPUTS = {"image": "i2v", "video": "v2v"}


def listed_modes(item: dict[str, Any]) -> tuple[str, ...]:
    """Every mode a /v1/video-models entry reports, from its capabilities and inputs."""
    caps = mapping(item.get("capabilities"))
    flags = {key.replace("-", "_").lower() for key, on in caps.items() if on is True}
    inputs = mapping(item.get("architecture")).get("input_modalities")
    kinds = {str(kind).lower() for kind in inputs} if isinstance(inputs, list) else set()
    found = {mode for mode, keys in _MODE_FLAGS if flags & set(keys)}
    found |= {mode for kind, mode in _MODE_INPUTS.items() if kind in kinds}
    return tuple(mode for mode, _ in _MODE_FLAGS if mode in found)


def _timestamp(value: Any) -> float | None:
    return timestamp(value)
