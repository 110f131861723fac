"""The OpenAI Videos API in two dialects: create, poll, list, delete, remix, edit, extend.

- `lumenfall` (the default): as Lumenfall's gateway serves it. Creates answer
  202 (200 for an idempotent replay), the object echoes the `seconds` and `size`
  asked for, and carries `output.url` (a signed media URL that needs no API key)
  and `metadata` with the route and the cost (`cost_estimate` while running,
  `cost` once completed). Seed 004 documents no `progress`, so none is sent.
- `openai`: exactly the official OpenAPI subset: 200 on create, `progress`, the
  four documented statuses only, and no fields the spec does not define (the
  video is fetched from `/videos/{id}/content`).

`DELETE /videos/{id}` differs too. Lumenfall's agent skill documents it as "cancel
an in-flight video job": an unfinished job stops, reads `cancelled` (cost 0) from
then on, its webhook fires `video.cancelled` at once, and the answer is the video
object; a finished one is deleted with its assets, answering `video.deleted`.
The OpenAI spec's DELETE deletes, whatever the job's state (no `cancelled` there).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from framecast.emulator import lumenfall, models, timeline, validation
from framecast.emulator.forms import Form, read_form
from framecast.emulator.media import signed_path
from framecast.emulator.store import JobStore, VideoRecord
from framecast.emulator.webhooks import RETRY_DELAYS, WebhookSender, check_target
from framecast.emulator.wire import ApiError, Request, Response

DIALECTS = ("lumenfall", "openai")


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
    dialect: str = "lumenfall"  # or "openai": the official spec, strictly
    timeline: str = "realistic"  # or "steady" (see timeline.py)
    seed: int = 0  # seeds each job's timeline
    failure_rate: float = 0.0  # the share of jobs that fail on their own
    poll_hint: str | None = None  # off | fixed | honest; None: the dialect's own (see hint)

    @property
    def strict(self) -> bool:
        return self.dialect == "openai"

    @property
    def hint(self) -> str:
        # OpenAI's server sends openai-poll-after-ms (its SDK reads it); Lumenfall documents none.
        return self.poll_hint or ("fixed" if self.strict else "off")


def plan_of(record: VideoRecord) -> timeline.Plan:
    if record.plan is None:
        return timeline.steady(record.job_seconds, record.outcome)
    return timeline.Plan.from_json(record.plan)


def finishes_at(record: VideoRecord) -> float:
    if record.cancelled_at is not None:
        return record.cancelled_at
    return record.created_at + plan_of(record).ends


def lifecycle(record: VideoRecord, now: float) -> tuple[str, int, float | None]:
    """(status, progress, finished_at) of a job at time `now`."""
    plan = plan_of(record)
    if record.cancelled_at is not None and now >= record.cancelled_at:
        # Stopped where it was: the progress it had made, and no further.
        _, progress = plan.status(record.cancelled_at - record.created_at, record.outcome)
        return "cancelled", progress, record.cancelled_at
    status, progress = plan.status(now - record.created_at, record.outcome)
    finished = record.created_at + plan.ends if now - record.created_at >= plan.ends else None
    return status, progress, finished


class VideoApi:
    def __init__(
        self, store: JobStore, config: EmulatorConfig, clock: Callable[[], float] = time.time
    ) -> None:
        if config.dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}")
        if config.hint not in timeline.POLL_HINTS:
            raise ValueError(f"poll hint must be one of {', '.join(timeline.POLL_HINTS)}")
        self.store = store
        self.config = config
        self.clock = clock
        self.timeline = timeline.Timeline(config.timeline, config.seed, config.failure_rate)
        self.webhooks = WebhookSender(store.webhook_secret, config.webhook_retry_delays)
        self._creating = threading.RLock()  # held across a key's check and its jobs
        self._deleting = threading.Lock()  # a job's state is read and changed as one step
        self._drawn = 0  # jobs planned so far: the nth job of a seed gets the nth plan

    # -- views ---------------------------------------------------------------

    def video_object(
        self, record: VideoRecord, request: Request, *, new: bool = False
    ) -> dict[str, Any]:
        """The video object; `new` answers a create, which is always queued (seed 000)."""
        status, progress, finished = lifecycle(record, self.clock())
        if new:
            status, progress, finished = "queued", 0, None
        expires_at = None if finished is None else int(finished + record.expires_after)
        error = None
        if status == "failed":
            error = {
                "code": "generation_failed",
                "message": "The emulator was asked to fail this job.",
            }
        view: dict[str, Any] = {
            "id": record.id,
            "object": "video",
            "created_at": int(record.created_at),
            "completed_at": None if finished is None else int(finished),
            "expires_at": expires_at if status == "completed" else None,
            "status": status,
            "model": record.model,
            "prompt": record.prompt,
            "seconds": record.asked_seconds or str(record.seconds),
            "size": record.asked_size or record.size,
        }
        if self.config.strict:
            return view | {
                "progress": progress,
                "remixed_from_video_id": record.remixed_from,
                "error": error,
            }
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
        if status == "completed" and expires_at is not None:
            metadata["cost"] = cost
            origin = self.config.media_base_url or request.origin
            path = signed_path(self.store.signing_key, record.id, "video", expires_at)
            output = {"url": origin + path}
        elif status in ("failed", "cancelled"):
            metadata["cost"] = 0.0
        else:
            metadata["cost_estimate"] = cost
        if record.remixed_from is not None:
            view["remixed_from_video_id"] = record.remixed_from
        return view | {"output": output, "error": error, "metadata": metadata}

    def _poll_hint(self, record: VideoRecord) -> list[tuple[str, str]]:
        now = self.clock()
        status, _, _ = lifecycle(record, now)
        if status not in ("queued", "in_progress"):
            return []
        hint = timeline.poll_hint(self.config.hint, plan_of(record), now - record.created_at)
        return [] if hint is None else [("openai-poll-after-ms", str(hint))]

    def existing(self, video_id: str, *, missing: int = 404) -> VideoRecord:
        record = self.store.get(video_id)
        if record is None or record.extra.get("dialect") == "nanogpt":
            raise ApiError(
                missing, f"Video with id '{video_id}' not found.", code="video_not_found"
            )
        return record

    # -- creating ------------------------------------------------------------

    def _record(
        self,
        form: Form,
        made: validation.Create,
        price: float | None,
        remixed_from: str | None = None,
        webhook_url: str | None = None,
    ) -> VideoRecord:
        outcomes = ("completed", "failed") if self.config.strict else validation.OUTCOMES
        outcome, job_seconds, fps = validation.emulator_controls(form, outcomes=outcomes)
        extra = {} if self.config.strict else validation.passthrough(form)
        metadata = form.fields.get("metadata")
        if isinstance(metadata, dict) and not self.config.strict:
            extra["metadata"] = metadata
        nominal = self.config.job_seconds if job_seconds is None else job_seconds
        with self._creating:
            index = self._drawn
            self._drawn += 1
        plan, outcome = self.timeline.draw(index, nominal, outcome, job_seconds is not None)
        record = VideoRecord(
            id=validation.new_id(),
            created_at=self.clock(),
            model=made.model_name,
            prompt=made.prompt,
            seconds=made.seconds,
            width=made.size.width,
            height=made.size.height,
            fps=str(fps),
            job_seconds=plan.ends,
            outcome=outcome,
            price_per_second=price,
            expires_after=self.config.expires_after,
            references=made.references,
            remixed_from=remixed_from,
            extra=extra,
            asked_size=made.asked_size,
            asked_seconds=made.asked_seconds,
            plan=plan.to_json(),
            webhook_url=webhook_url,
        )
        self.store.add(record)
        return record

    def create(self, request: Request) -> Response:
        form = read_form(request)
        if self.config.strict:
            made = validation.check_openai(form)
            record = self._record(form, made, made.model.price_at(made.size))
            view = self.video_object(record, request, new=True)
            return Response.json(200, view, self._poll_hint(record))
        made = validation.check_lumenfall(form)
        n = lumenfall.count_of(form)
        price = made.model.price_at(made.size)
        if (request.arg("dryRun") or "").lower() in ("true", "1"):
            return Response.json(200, lumenfall.dry_run(made.model, made.seconds, n, price))
        key = lumenfall.idempotency_key(form, request)
        url = form.fields.get("webhook_url")
        webhook = None if url is None else check_target(url)
        with self._creating:
            known = None if key is None else self.store.replay(key)
            if known is not None:
                # A repeated key answers 200 with the jobs it already created, as Lumenfall does.
                replayed = [r for r in map(self.store.get, known) if r is not None]
                return Response.json(200, self._created(replayed, request, new=False))
            records = [self._record(form, made, price, webhook_url=webhook) for _ in range(n)]
            if key is not None:
                self.store.remember(key, [r.id for r in records])
        if webhook is not None:
            for record in records:
                self._schedule_webhook(record, webhook, request)
        return Response.json(202, self._created(records, request), self._poll_hint(records[0]))

    def _created(self, records: list[VideoRecord], request: Request, *, new: bool = True) -> Any:
        """One video object, or for n > 1 a list page of them."""
        views = [self.video_object(r, request, new=new) for r in records]
        return views[0] if len(views) == 1 else {"object": "list", "data": views}

    def _schedule_webhook(
        self, record: VideoRecord, url: str, request: Request, *, cancelled: bool = False
    ) -> None:
        """The job's final event, when it ends as planned; or at once, when it was cancelled."""

        def event() -> dict[str, Any] | None:
            current = self.store.get(record.id)
            if current is None or (current.cancelled_at is not None and not cancelled):
                return None  # deleted since, or cancelled: that sent its own event
            view = self.video_object(current, request)
            data = {k: view.get(k) for k in ("id", "model", "status", "output", "error")}
            return {
                "type": f"video.{view['status']}",
                "data": {"object": "video.generation", **data},
            }

        delay = 0.0 if cancelled else finishes_at(record) - self.clock()
        self.webhooks.schedule(url, delay, event)

    def webhook_secret(self, request: Request) -> Response:
        return Response.json(200, {"key": self.store.webhook_secret})

    def _completed_source(self, video_id: str, action: str, missing: int = 404) -> VideoRecord:
        source = self.existing(video_id, missing=missing)
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
        model = models.find(source.model) or models.lumenfall_models()[validation.DEFAULT_MODEL]
        size = model.size(source.size) or model.default
        made = validation.Create(
            prompt, model, source.model, size, seconds, size.text, str(seconds), 0
        )
        record = self._record(form, made, source.price_per_second, remixed_from)
        status = 200 if self.config.strict else 202
        view = self.video_object(record, request, new=True)
        return Response.json(status, view, self._poll_hint(record))

    def remix(self, request: Request, video_id: str) -> Response:
        form = read_form(request)
        source = self._completed_source(video_id, "remix")
        prompt = validation.prompt_of(form)
        return self._derive(request, source, prompt, form, source.seconds, source.id)

    def _source_of(self, form: Form, action: str) -> VideoRecord:
        # The spec documents no 404 here: an unknown source video is a 400 in the strict dialect.
        missing = 400 if self.config.strict else 404
        ref = form.fields.get("video")
        if isinstance(ref, str):
            ref = _json_object(ref, "video")
        if isinstance(ref, dict):
            if set(ref) != {"id"} or not isinstance(ref["id"], str) or not ref["id"]:
                raise validation.invalid("video", "'video' must be an object with a string 'id'.")
            return self._completed_source(ref["id"], action, missing)
        if ref is None and form.uploads.get("video"):
            for upload in form.uploads["video"]:
                validation.check_video_upload(upload)
            # An uploaded clip: the emulator renders its answer at the default shape.
            model = models.lumenfall_models()[validation.DEFAULT_MODEL]
            return VideoRecord(
                id="upload",
                created_at=self.clock(),
                model=model.id,
                prompt="",
                seconds=model.default_seconds,
                width=model.default.width,
                height=model.default.height,
                fps="24",
                job_seconds=0,
                outcome="completed",
                price_per_second=model.price,
                expires_after=self.config.expires_after,
            )
        if ref is not None:
            raise validation.invalid(
                "video", "'video' must be a file or {\"id\": ...}.", "invalid_type"
            )
        raise validation.invalid(
            "video",
            "Missing required parameter: 'video' (an upload or {\"id\": ...}).",
            "missing_required_parameter",
        )

    def edit(self, request: Request) -> Response:
        form = read_form(request)
        prompt = validation.prompt_of(form)
        source = self._source_of(form, "edit")
        return self._derive(request, source, prompt, form, source.seconds, None)

    def extend(self, request: Request) -> Response:
        form = read_form(request)
        prompt = validation.prompt_of(form)
        if "seconds" not in form.fields:
            raise validation.invalid(
                "seconds", "Missing required parameter: 'seconds'.", "missing_required_parameter"
            )
        if self.config.strict:
            added = validation.openai_seconds(form) or 0
        else:
            added = validation.integer(form.fields["seconds"], "seconds")
            lengths = models.EXTENSION_SECONDS
            if added not in lengths:
                values = ", ".join(f"'{s}'" for s in lengths)
                raise validation.invalid(
                    "seconds", f"Invalid value: '{added}'. Supported values are: {values}."
                )
        source = self._source_of(form, "extend")
        # The extended video's `seconds` is the stitched total.
        return self._derive(request, source, prompt, form, source.seconds + added, None)

    # -- reading -------------------------------------------------------------

    def retrieve(self, request: Request, video_id: str) -> Response:
        record = self.existing(video_id)
        return Response.json(200, self.video_object(record, request), self._poll_hint(record))

    def delete(self, request: Request, video_id: str) -> Response:
        """Lumenfall: cancel an unfinished job, delete a finished one. OpenAI: delete."""
        with self._deleting:
            record = self.existing(video_id)
            status, _, _ = lifecycle(record, self.clock())
            if self.config.strict or status not in ("queued", "in_progress"):
                self.store.delete(video_id)
                return Response.json(
                    200, {"id": video_id, "object": "video.deleted", "deleted": True}
                )
            record.cancelled_at = self.clock()
            self.store.update(record)
        self.store.settle_request_job(record.id, record.cancelled_at, "cancelled")
        if record.webhook_url is not None:
            self._schedule_webhook(record, record.webhook_url, request, cancelled=True)
        return Response.json(200, self.video_object(record, request))

    def list(self, request: Request) -> Response:
        order = request.arg("order", "desc")
        if order not in ("asc", "desc"):
            raise validation.invalid("order", "'order' must be 'asc' or 'desc'.")
        raw_limit = request.arg("limit", "20")
        if not raw_limit.isdigit() or not 0 <= int(raw_limit) <= 100:
            raise validation.invalid("limit", "'limit' must be an integer between 0 and 100.")
        after = request.arg("after")
        if after is not None and self.store.get(after) is None:
            raise validation.invalid("after", f"No video found with id '{after}' to page after.")
        records, has_more = self.store.page(
            after, int(raw_limit), order == "desc", videos_only=True
        )
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
        raise validation.invalid(param, f"'{param}' is not valid JSON.") from None
