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
TASK_EXTEND_PREFIX = "midjourney"  # runs that POST /generate-video/extend continues
# The extend model for a run of each model (seed 003 and NanoGPT's extend page).
EXTEND_MODELS = {
    "veo-3.1": "veo3-1-extend",
    "veo3-1-video": "veo3-1-extend",
    "veo-3.1-fast": "veo3-1-fast-extend",
    "veo3-1-fast-video": "veo3-1-fast-extend",
    "wan-wavespeed-25": "wan-wavespeed-25-extend",
}


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
    )

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key}

    def submit(self, request: JobRequest) -> list[Job]:
        answer = self.http.request("POST", "generate-video", json=request_body(request))
        return [self._accepted(mapping(answer.data), request)]

    def extend(self, job_id: str, request: JobRequest) -> list[Job]:
        """Continue a finished run, in whichever of NanoGPT's two flows its model takes.

        Midjourney runs continue through POST /generate-video/extend {runId, index}
        (`--param index=N`, 0-3), which NanoGPT documents for them only. Any other run
        is extended by an extend model (seed 003: `veo3-1-extend`, ...) through
        POST /generate-video, with the finished run's video as `videoUrl`.
        """
        source = self.get(job_id)
        model = source.model or request.model or ""
        if model.startswith(TASK_EXTEND_PREFIX):
            body = {"runId": job_id, "index": request.params.get("index", 0)}
            answer = self.http.request("POST", "generate-video/extend", json=body)
            return [self._accepted(mapping(answer.data), request)]
        chosen = request.model if request.model and request.model.endswith("-extend") else None
        extender = chosen or EXTEND_MODELS.get(model)
        if extender is None:
            raise UsageError(
                f"nanogpt extends {model or 'this'} run only with an extend model.",
                hint="Name one with --model, e.g. --model wan-wavespeed-25-extend.",
            )
        if source.status is not JobStatus.COMPLETED or not source.output_url:
            raise UsageError(f"{job_id} has not finished, so it has no video to extend yet.")
        body = {"model": extender, "prompt": request.prompt, "videoUrl": source.output_url}
        answer = self.http.request("POST", "generate-video", json=body)
        extended = replace(request, model=extender, seconds=None)
        return [self._accepted(mapping(answer.data), extended)]

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
            # Check back halfway through the time it expects to need.
            poll_after=None if not remaining else max(1.0, remaining / 2),
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
            modes = tuple(
                m
                for m, key in (("t2v", "text_to_video"), ("i2v", "image_to_video"))
                if caps.get(key)
            )
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
                    source=self.name,
                )
            )
        return models


def _timestamp(value: Any) -> float | None:
    return timestamp(value)
