"""The OpenAI Videos API as Lumenfall serves it: create, poll, list, delete, remix, edit, extend.

Lumenfall's additions are served too: `output.url` (a signed media URL that
needs no API key), and `metadata` with the provider and the cost
(`cost_estimate` while running, `cost` once completed).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framecast.emulator import lumenfall, validation
from framecast.emulator.forms import Form, read_form
from framecast.emulator.media import signed_path
from framecast.emulator.store import JobStore, VideoRecord
from framecast.emulator.webhooks import RETRY_DELAYS, WebhookSender, check_target
from framecast.emulator.wire import ApiError, Request, Response

_QUEUED_SHARE = 0.15  # the first 15% of a job's time is spent queued
_FAILS_AT = 0.6  # failed and cancelled jobs end 60% of the way through


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    job_seconds: float = 3.0
    expires_after: float = 3600.0
    require_auth: bool = True
    api_key: str | None = None  # when set, only this key is accepted
    media_base_url: str | None = None  # origin of output.url; default: the request's own
    webhook_retry_delays: tuple[float, ...] = RETRY_DELAYS
    nanogpt_status_shape: str = "nested"  # or "flat": the two documented /api/video/status shapes
    faults: str = ""  # a fault-injection SPEC (see faults.py)
    fault_seed: int = 0  # seeds the SPEC's %PERCENT draws


def finishes_at(record: VideoRecord) -> float:
    share = 1.0 if record.outcome == "completed" else _FAILS_AT
    return record.created_at + record.job_seconds * share


def lifecycle(record: VideoRecord, now: float) -> tuple[str, int, float | None]:
    """(status, progress, finished_at) of a job at time `now`."""
    duration = record.job_seconds
    elapsed = now - record.created_at
    if now >= finishes_at(record):
        progress = 100 if record.outcome == "completed" else round(_FAILS_AT * 100)
        return record.outcome, progress, finishes_at(record)
    queued_for = duration * _QUEUED_SHARE
    if elapsed < queued_for:
        return "queued", 0, None
    running = (elapsed - queued_for) / (duration - queued_for)
    return "in_progress", min(99, max(1, int(running * 100))), None


class VideoApi:
    def __init__(
        self, store: JobStore, config: EmulatorConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.config = config
        self.clock = clock
        self.webhooks = WebhookSender(store.webhook_secret, config.webhook_retry_delays)
        self._creating = threading.Lock()

    # -- views ---------------------------------------------------------------

    def video_object(self, record: VideoRecord, request: Request) -> dict[str, Any]:
        status, progress, finished = lifecycle(record, self.clock())
        cost = (
            None
            if record.price_per_second is None
            else round(record.price_per_second * record.seconds, 6)
        )
        metadata: dict[str, Any] = {
            **record.extra.get("metadata", {}),
            "model": record.model,
            "executed_model": f"emulator/{record.model}",
            "provider": "emulator",
            "provider_name": "framecast emulator",
            "cost_currency": "USD",
        }
        output = None
        error = None
        expires_at = None
        if status == "completed" and finished is not None:
            expires_at = int(finished + record.expires_after)
            metadata["cost"] = cost
            origin = self.config.media_base_url or request.origin
            output = {
                "url": origin + signed_path(self.store.signing_key, record.id, "video", expires_at)
            }
        elif status in ("failed", "cancelled"):
            metadata["cost"] = 0.0
            if status == "failed":
                error = {
                    "code": "generation_failed",
                    "message": "The emulator was asked to fail this job.",
                }
        else:
            metadata["cost_estimate"] = cost
        return {
            "id": record.id,
            "object": "video",
            "created_at": int(record.created_at),
            "completed_at": None if finished is None else int(finished),
            "expires_at": expires_at,
            "status": status,
            "model": record.model,
            "progress": progress,
            "prompt": record.prompt,
            "seconds": str(record.seconds),
            "size": record.size,
            "remixed_from_video_id": record.remixed_from,
            "error": error,
            "output": output,
            "metadata": metadata,
        }

    def _poll_hint(self, record: VideoRecord) -> list[tuple[str, str]]:
        status, _, _ = lifecycle(record, self.clock())
        if status not in ("queued", "in_progress"):
            return []
        remaining = record.created_at + record.job_seconds - self.clock()
        return [("openai-poll-after-ms", str(int(min(2000, max(100, remaining * 250)))))]

    def existing(self, video_id: str) -> VideoRecord:
        record = self.store.get(video_id)
        if record is None:
            raise ApiError(404, f"Video with id '{video_id}' not found.", code="video_not_found")
        return record

    # -- creating ------------------------------------------------------------

    def _record(
        self,
        form: Form,
        prompt: str,
        model_id: str,
        seconds: int,
        size: tuple[int, int],
        price: float | None,
        references: int = 0,
        remixed_from: str | None = None,
    ) -> VideoRecord:
        outcome, job_seconds, fps = validation.emulator_controls(form)
        extra = validation.passthrough(form)
        metadata = form.fields.get("metadata")
        if isinstance(metadata, dict):
            extra["metadata"] = metadata
        record = VideoRecord(
            id=validation.new_id(),
            created_at=self.clock(),
            model=model_id,
            prompt=prompt,
            seconds=seconds,
            width=size[0],
            height=size[1],
            fps=str(fps),
            job_seconds=self.config.job_seconds if job_seconds is None else job_seconds,
            outcome=outcome,
            price_per_second=price,
            expires_after=self.config.expires_after,
            references=references,
            remixed_from=remixed_from,
            extra=extra,
        )
        self.store.add(record)
        return record

    def create(self, request: Request) -> Response:
        form = read_form(request)
        prompt, model, seconds, size, references = validation.check_create(form)
        n = lumenfall.count_of(form)
        price = model.price_for(f"{size[0]}x{size[1]}")
        per_second = None if price is None else price.per_second
        if (request.arg("dryRun") or "").lower() in ("true", "1"):
            return Response.json(200, lumenfall.dry_run(model, seconds, n, per_second))
        key = lumenfall.idempotency_key(form, request)
        url = form.fields.get("webhook_url")
        webhook = None if url is None else check_target(url)
        with self._creating:
            known = None if key is None else self.store.replay(key)
            if known is not None:
                # A repeated key answers 200 with the jobs it already created, as Lumenfall does.
                replayed = [r for r in map(self.store.get, known) if r is not None]
                return Response.json(200, self._created(replayed, request))
            records = [
                self._record(form, prompt, model.id, seconds, size, per_second, references)
                for _ in range(n)
            ]
            if key is not None:
                self.store.remember(key, [r.id for r in records])
        if webhook is not None:
            for record in records:
                self._schedule_webhook(record, webhook, request)
        return Response.json(202, self._created(records, request), self._poll_hint(records[0]))

    def _created(self, records: list[VideoRecord], request: Request) -> Any:
        """One video object, or for n > 1 a list page of them."""
        views = [self.video_object(r, request) for r in records]
        return views[0] if len(views) == 1 else {"object": "list", "data": views}

    def _schedule_webhook(self, record: VideoRecord, url: str, request: Request) -> None:
        def event() -> dict[str, Any]:
            view = self.video_object(record, request)
            data = {k: view[k] for k in ("id", "model", "status", "output", "error")}
            return {
                "type": f"video.{view['status']}",
                "data": {"object": "video.generation", **data},
            }

        self.webhooks.schedule(url, finishes_at(record) - self.clock(), event)

    def webhook_secret(self, request: Request) -> Response:
        return Response.json(200, {"key": self.store.webhook_secret})

    def _completed_source(self, video_id: str, action: str) -> VideoRecord:
        source = self.existing(video_id)
        status, _, _ = lifecycle(source, self.clock())
        if status != "completed":
            raise ApiError(
                400,
                f"Only completed videos can be used to {action}; this one is {status}.",
                code="invalid_state",
            )
        return source

    def _derive(
        self,
        request: Request,
        source: VideoRecord,
        prompt: str,
        form: Form,
        seconds: int,
        remixed_from: str | None,
    ) -> Response:
        record = self._record(
            form,
            prompt,
            source.model,
            seconds,
            (source.width, source.height),
            source.price_per_second,
            remixed_from=remixed_from,
        )
        return Response.json(202, self.video_object(record, request))

    def remix(self, request: Request, video_id: str) -> Response:
        form = read_form(request)
        source = self._completed_source(video_id, "remix")
        return self._derive(
            request, source, validation.prompt_of(form), form, source.seconds, source.id
        )

    def _source_of(self, form: Form, action: str) -> VideoRecord:
        ref = form.fields.get("video")
        if isinstance(ref, str) and ref.lstrip().startswith("{"):
            ref = _json_object(ref, "video")
        if isinstance(ref, dict) and isinstance(ref.get("id"), str):
            return self._completed_source(ref["id"], action)
        if form.uploads.get("video"):
            # An uploaded clip: the emulator renders its answer at the default shape.
            model = validation.model_of(Form())
            dims = validation.size_of(Form(), model)
            return VideoRecord(
                id="upload",
                created_at=self.clock(),
                model=model.id,
                prompt="",
                seconds=validation.default_seconds(model),
                width=dims[0],
                height=dims[1],
                fps="24",
                job_seconds=0,
                outcome="completed",
                price_per_second=model.prices[0].per_second if model.prices else None,
                expires_after=self.config.expires_after,
            )
        raise ApiError(
            400,
            "Missing required parameter: 'video' (an upload or {\"id\": ...}).",
            param="video",
            code="missing_required_parameter",
        )

    def edit(self, request: Request) -> Response:
        form = read_form(request)
        prompt = validation.prompt_of(form)
        source = self._source_of(form, "edit")
        return self._derive(request, source, prompt, form, source.seconds, None)

    def extend(self, request: Request) -> Response:
        form = read_form(request)
        prompt = validation.prompt_of(form)
        source = self._source_of(form, "extend")
        if "seconds" not in form.fields:
            raise ApiError(
                400,
                "Missing required parameter: 'seconds'.",
                param="seconds",
                code="missing_required_parameter",
            )
        extra = validation.integer(form.fields["seconds"], "seconds")
        if extra not in (4, 8, 12, 16, 20):
            raise ApiError(
                400,
                f"Invalid value: '{extra}'. Supported values are: '4', '8', '12', '16' and '20'.",
                param="seconds",
                code="invalid_value",
            )
        # The extended video's `seconds` is the stitched total.
        return self._derive(request, source, prompt, form, source.seconds + extra, None)

    # -- reading -------------------------------------------------------------

    def retrieve(self, request: Request, video_id: str) -> Response:
        record = self.existing(video_id)
        return Response.json(200, self.video_object(record, request), self._poll_hint(record))

    def delete(self, request: Request, video_id: str) -> Response:
        self.existing(video_id)
        self.store.delete(video_id)
        return Response.json(200, {"id": video_id, "object": "video.deleted", "deleted": True})

    def list(self, request: Request) -> Response:
        order = request.arg("order") or "desc"
        if order not in ("asc", "desc"):
            raise ApiError(
                400, "'order' must be 'asc' or 'desc'.", param="order", code="invalid_value"
            )
        raw_limit = request.arg("limit") or "20"
        if not raw_limit.isdigit() or not 0 <= int(raw_limit) <= 100:
            raise ApiError(
                400,
                "'limit' must be an integer between 0 and 100.",
                param="limit",
                code="invalid_value",
            )
        after = request.arg("after")
        if after is not None and self.store.get(after) is None:
            raise ApiError(
                400,
                f"No video found with id '{after}' to page after.",
                param="after",
                code="invalid_value",
            )
        records, has_more = self.store.page(after, int(raw_limit), order == "desc")
        data = [self.video_object(r, request) for r in records]
        return Response.json(
            200,
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": has_more,
            },
        )


def _json_object(text: str, param: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ApiError(
            400, f"'{param}' is not valid JSON.", param=param, code="invalid_value"
        ) from None
