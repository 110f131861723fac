"""Lumenfall's gateway: the OpenAI Videos API plus its own extensions.

Sent as JSON, or as multipart when local images are uploaded. On top of
OpenAI's fields: aspect_ratio, resolution, native n (1-4), input_video,
webhook_url, metadata, user and an idempotency key. The key's field name is
not confirmed by the docs, so it goes both as the body field `idempotency_key`
and as an `Idempotency-Key` header. A create answers 202, or 200 when a key
replays an existing job. The finished video is at `output.url`, a signed
media link that needs no key; cost is in `metadata`. `?dryRun=true` prices a
request without running it. `DELETE /videos/{id}` cancels an unfinished job and
deletes a finished one; `POST /videos/{id}/remix` remixes, as OpenAI's does.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar

from framecast.domain import Job, JobRequest
from framecast.errors import ProviderUnavailable, RequestRejected, UsageError
from framecast.http import Answer
from framecast.providers.base import (
    Asset,
    Balance,
    Capabilities,
    CostLine,
    Listing,
    ProviderEstimate,
    Removal,
    Variant,
)
from framecast.providers.openai import (
    URL_PREFIXES,
    OpenAIProvider,
    form_value,
    mapping,
    number,
    text,
    upload,
    video_job,
)


def request_body(request: JobRequest) -> dict[str, Any]:
    """The JSON body of a create request; passthrough params go last and win."""
    references = [
        {"image_url": image} for image in request.images if image.startswith(URL_PREFIXES)
    ]
    body: dict[str, Any] = {
        "prompt": request.prompt,
        "model": request.model,
        "seconds": request.seconds,
        "size": request.size,
        "aspect_ratio": None if request.size else request.aspect_ratio,
        "resolution": None if request.size else request.resolution,
        "n": request.n if request.n > 1 else None,
        "input_reference": (references[0] if len(references) == 1 else references) or None,
        "input_video": request.video,
        "negative_prompt": request.negative_prompt,
        "seed": request.seed,
        "generate_audio": request.audio,
        "webhook_url": request.webhook_url,
        "metadata": request.metadata or None,
        "user": request.user,
        "idempotency_key": request.idempotency_key,
    }
    return {k: v for k, v in body.items() if v is not None} | request.params


class LumenfallProvider(OpenAIProvider):
    name = "lumenfall"
    key_env_var: ClassVar[str | None] = "LUMENFALL_API_KEY"
    base_url_env_var: ClassVar[str | None] = "LUMENFALL_BASE_URL"
    default_base_url = "https://api.lumenfall.ai/openai/v1"
    default_model: ClassVar[str | None] = None  # Lumenfall routes by model: it must be named
    capabilities = Capabilities(
        modes=("t2v", "i2v", "v2v"),
        uploads=True,
        native_n=True,
        dry_run=True,
        webhooks=True,
        idempotency=True,
        cancel=True,
        output="url",
        variants=("video",),
        data_uri_limit=20 * 1024 * 1024,
        converts=True,  # seed 000: seconds, size, aspect_ratio and resolution are "Converted"
        remix=True,
        delete=True,
    )

    def _post(self, request: JobRequest, params: dict[str, str] | None = None) -> Answer:
        body = request_body(request)
        headers = {"idempotency-key": request.idempotency_key} if request.idempotency_key else {}
        local = [image for image in request.images if not image.startswith(URL_PREFIXES)]
        if not local:
            return self.http.request("POST", "videos", json=body, headers=headers, params=params)
        # Uploads go as multipart: every other field as a form value, URLs as strings.
        body.pop("input_reference", None)
        data: dict[str, list[str]] = {key: [form_value(value)] for key, value in body.items()}
        remote = [image for image in request.images if image.startswith(URL_PREFIXES)]
        if remote:
            data["input_reference"] = remote
        files = [("input_reference", upload(path)) for path in local]
        return self.http.request(
            "POST", "videos", data=data, files=files, headers=headers, params=params
        )

    def submit(self, request: JobRequest) -> list[Job]:
        answer = self._post(request)
        payload = answer.data
        # One video object, or (for n > 1) a list of them, bare or in a {"data": [...]} page.
        items = payload if isinstance(payload, list) else mapping(payload).get("data", [payload])
        hint = answer.headers.get("openai-poll-after-ms")
        jobs = [video_job(self.name, item, hint) for item in items if isinstance(item, dict)]
        if not jobs:
            error = ProviderUnavailable(f"{self.name} accepted the request but returned no job.")
            error.may_have_acted = True
            raise error
        return jobs

    def lookup(self, since: float, *, limit: int = 200) -> Listing | None:
        """The OpenAI job list where the gateway serves one; None where it does not."""
        try:
            return super().lookup(since, limit=limit)
        except RequestRejected as error:
            if error.status in (404, 405):
                return None
            raise

    def received(self, since: float, until: float, model: str | None) -> bool | None:
        """Lumenfall's request history (GET /v1/requests, native prefix): was a video
        request for this model recorded in the window? Its items name no video id."""
        native = re.sub(r"/openai/v1$", "/v1", self.base_url)
        params = {
            "limit": "100",
            "created_after": _iso(since),
            "created_before": _iso(until),
        }
        try:
            page = mapping(self.http.request("GET", f"{native}/requests", params=params).data)
        except RequestRejected as error:
            if error.status in (404, 405):
                return None
            raise
        items = page.get("data")
        if not isinstance(items, list):
            raise ProviderUnavailable(f"{self.name}'s request history came without a list.")
        for raw in items:
            item = mapping(raw)
            if item.get("estimated") or "video" not in str(item.get("endpoint", "video")):
                continue
            if model is not None and item.get("model") not in (None, model):
                continue
            if item.get("status") == "rejected":
                continue
            return True
        return False

    def balance(self) -> Balance | None:
        """GET /v1/balance (native prefix): `{object, billing_type, available: {amount,
        currency}}`, the amount in dollars, null for a postpaid account. None where the
        server has no such endpoint. Every value is checked before it is believed."""
        import time

        native = re.sub(r"/openai/v1$", "/v1", self.base_url)
        try:
            payload = self.http.request("GET", f"{native}/balance").data
        except RequestRejected as error:
            if error.status in (404, 405):
                return None
            raise
        available = payload.get("available") if isinstance(payload, dict) else None
        if not isinstance(payload, dict) or not isinstance(available, dict | None):
            raise ProviderUnavailable(f"{self.name} answered with something that is not a balance.")
        raw_amount = mapping(available).get("amount")
        raw_currency = mapping(available).get("currency")
        amount = number(raw_amount)
        currency = "USD" if raw_currency is None else text(raw_currency)  # "in dollars"
        if (raw_amount is not None and amount is None) or abs(amount or 0.0) > 1e12:
            raise ProviderUnavailable(f"{self.name} answered its balance with an unusable amount.")
        if currency is None or not re.fullmatch(r"[A-Za-z]{3,5}", currency):
            raise ProviderUnavailable(f"{self.name} answered its balance in no known currency.")
        billing = text(payload.get("billing_type"))
        if billing is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_ -]{0,31}", billing):
            billing = None  # not a word framecast can show as it is
        return Balance(amount, currency.upper(), billing and billing.lower(), time.time())

    def cancel(self, job_id: str) -> Removal:
        """DELETE cancels an in-flight job (Lumenfall's agent skill) and deletes a finished
        one: a deleted answer means the job finished before the cancel arrived."""
        answer = super().cancel(job_id)
        return replace(answer, raced=answer.deleted)

    def replay(self, request: JobRequest) -> list[Job]:
        if request.idempotency_key is None:
            raise UsageError("This submission carried no idempotency key; it cannot be replayed.")
        return self.submit(request)

    def extend(self, job_id: str, request: JobRequest) -> list[Job]:
        raise UsageError(
            f"{self.name} documents no extend endpoint.",
            hint="Pass the finished video as --video to a model that extends clips.",
        )

    def estimate(self, request: JobRequest) -> ProviderEstimate:
        payload = mapping(self._post(request, params={"dryRun": "true"}).data)
        micros = number(payload.get("total_cost_micros"))
        # An older skill sample reads metadata.cost (USD) instead; accept either.
        total = (
            micros / 1e6
            if micros is not None
            else number(mapping(payload.get("metadata")).get("cost"))
        )
        if total is None:
            raise ProviderUnavailable(f"{self.name}'s dry run gave no total cost.")
        lines = []
        for raw in payload.get("components", []):
            part = mapping(raw)
            quantity = number(part.get("billable_quantity")) or number(part.get("quantity")) or 0.0
            lines.append(
                CostLine(
                    description=text(part.get("type")) or "cost",
                    quantity=quantity,
                    unit=text(part.get("metric")) or "unit",
                    unit_price=number(part.get("unit_price")) or 0.0,
                    total=(number(part.get("total_cost")) or 0.0) / 1e6,
                )
            )
        return ProviderEstimate(
            total=total,
            currency=text(payload.get("currency")) or "USD",
            lines=tuple(lines),
            model=text(payload.get("model")),
            routed_to=text(payload.get("provider")),
        )

    def asset(self, job: Job, variant: Variant) -> Asset:
        if variant != "video":
            raise UsageError(f"{self.name} delivers the video only, not a {variant}.")
        if not job.output_url:
            raise ProviderUnavailable(
                f"Job {job.id} is {job.status.value} but carries no output URL."
            )
        return Asset(job.output_url, authenticated=False)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
