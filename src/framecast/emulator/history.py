"""Lumenfall's native request history and balance, under /v1 only (not /openai/v1).

- GET /v1/requests?limit=&created_after=&created_before=&key_id=&status=&summary=:
  newest first, `{"object": "list", "data": [item...], "has_more": bool}`, plus
  `summary: {count, total_cost, currency}` over every match with `summary=true`
  (the filters Lumenfall's agent skill documents; the summary's shape is a choice).
- GET /v1/requests/{request_id}: the item itself.
- GET /v1/balance: `{"object": "balance", "billing_type": "prepaid",
  "available": {"amount": <dollars>, "currency": "usd"}}`.

Every video create (and remix, edit, extension) through either OpenAI prefix is
recorded: `completed` once accepted, `upstream_failure` (or `cancelled`) once all
its jobs have failed (or were cancelled), `rejected` with its error for a 4xx, and
dry runs as `estimated` with the estimate as their cost. Items name the key's id
(`lmnfl_<key_id>.<secret>`), never the key. Like the real items, they do
not name the video the request made: a client that lost a create's answer can
learn that the request landed, not which job it started.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from framecast.emulator.disrupt import lumenfall_code
from framecast.emulator.forms import read_form
from framecast.emulator.store import VideoRecord
from framecast.emulator.videos import VideoApi, finishes_at
from framecast.emulator.wire import ApiError, Request, Response

STARTING_BALANCE = 100.0
STATUSES = ("completed", "rejected", "upstream_failure", "cancelled")
Handler = Callable[..., Response]


def iso(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _instant(raw: str, param: str) -> float:
    """Unix seconds or ISO 8601 (UTC when no offset is given)."""
    try:
        return float(raw)
    except ValueError:
        pass
    # An unescaped `+` in a query string arrives as a space.
    text = raw.strip().replace(" ", "+")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(
            400,
            f"'{param}' must be an ISO 8601 time or Unix seconds, not {raw!r}.",
            param=param,
            code="invalid_value",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _job_cost(record: VideoRecord) -> float | None:
    if record.price_per_second is None:
        return None
    return round(record.price_per_second * record.seconds, 6)


def _requested_model(request: Request) -> str | None:
    try:
        name = read_form(request).fields.get("model")
    except ApiError:
        return None
    return name if isinstance(name, str) else None


def _key_id(request: Request) -> str | None:
    """The key's id, from a `lmnfl_<key_id>.<secret>` key; the secret is never kept."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.startswith("lmnfl_") or "." not in token:
        return None
    return token.removeprefix("lmnfl_").split(".", 1)[0] or None


def _settled(entry: dict[str, Any], now: float) -> dict[str, Any]:
    """The item as of `now`: an accepted request whose jobs all failed upstream, or were
    cancelled, ends as `upstream_failure` or `cancelled`, and costs nothing."""
    item = dict(entry["item"])
    # Each job as [finishes_at, outcome, cost, video id]; entries made before jobs
    # could be cancelled hold the first three only.
    jobs = entry["jobs"]
    if item["status"] != "completed" or not jobs or any(job[0] > now for job in jobs):
        return item
    outcomes = {job[1] for job in jobs}
    if outcomes == {"failed"}:
        item.update(
            status="upstream_failure",
            cost=0.0,
            error_code="UPSTREAM_ERROR",
            error_message="The provider failed to generate the video.",
        )
    elif outcomes == {"cancelled"}:
        item.update(status="cancelled", cost=0.0)
    return item


class RequestHistory:
    def __init__(self, videos: VideoApi) -> None:
        self.videos = videos
        self.store = videos.store

    def recorded(self, handler: Handler) -> Handler:
        """`handler`, with each call entered in the history."""

        def record(request: Request, **params: str) -> Response:
            started = self.videos.clock()
            began = time.perf_counter()
            try:
                answer = handler(request, **params)
            except ApiError as error:
                if 400 <= error.status < 500:
                    dry = request.query.get("dryRun", [""])[-1].lower() in ("true", "1")
                    self._add(request, started, began, _requested_model(request), dry, error=error)
                raise
            self._add_answer(request, started, began, answer)
            return answer

        return record

    def _add_answer(self, request: Request, started: float, began: float, answer: Response) -> None:
        payload = json.loads(answer.body)
        if payload.get("estimated") is True:
            cost = payload["total_cost_micros"] / 1_000_000
            self._add(request, started, began, payload.get("model"), True, cost=cost)
            return
        views = payload["data"] if payload.get("object") == "list" else [payload]
        records = [r for r in (self.store.get(v["id"]) for v in views) if r is not None]
        if answer.status == 200:
            # An idempotent replay: nothing new was made or billed.
            self._add(request, started, began, records[0].model if records else None, False, 0.0)
            return
        costs = [_job_cost(r) for r in records]
        total = None if None in costs else round(sum(c or 0.0 for c in costs), 6)
        # What the balance needs to bill each job when it completes; never served.
        # The video id lets a cancellation settle the entry (JobStore.settle_request_job).
        jobs = [[finishes_at(r), r.outcome, c, r.id] for r, c in zip(records, costs, strict=True)]
        model = records[0].model if records else None
        self._add(request, started, began, model, False, total, jobs=jobs)

    def _add(
        self,
        request: Request,
        started: float,
        began: float,
        model: str | None,
        estimated: bool,
        cost: float | None = None,
        *,
        error: ApiError | None = None,
        jobs: list[list[Any]] | None = None,
    ) -> None:
        item = {
            "id": "req_" + secrets.token_hex(12),
            "object": "request",
            "status": "completed" if error is None else "rejected",
            "model": model,
            "endpoint": request.path.removeprefix("/openai"),
            "modality": "video",
            "created_at": iso(started),
            "duration_ms": round((time.perf_counter() - began) * 1000),
            "cost": cost,
            "currency": "usd",
            "error_code": None if error is None else lumenfall_code(error),
            "error_message": None if error is None else error.message,
            "estimated": estimated,
            "key_id": _key_id(request),
        }
        entry = {"item": item, "created": started, "jobs": jobs or []}
        self.store.add_request(str(item["id"]), entry)

    def list(self, request: Request) -> Response:
        raw_limit = request.arg("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
            raise ApiError(
                400,
                "'limit' must be an integer between 1 and 100.",
                param="limit",
                code="invalid_value",
            )
        status = request.arg("status")
        if status is not None and status not in STATUSES:
            raise ApiError(
                400,
                f"'status' must be one of {', '.join(STATUSES)}.",
                param="status",
                code="invalid_value",
            )
        key_id = request.arg("key_id")
        summary = request.arg("summary", "false")
        if summary not in ("true", "false"):
            raise ApiError(
                400, "'summary' must be true or false.", param="summary", code="invalid_value"
            )
        after = request.arg("created_after")
        before = request.arg("created_before")
        low = None if after is None else _instant(after, "created_after")
        high = None if before is None else _instant(before, "created_before")
        # A half-open window, [created_after, created_before), so adjacent windows never overlap.
        now = self.videos.clock()
        matching = []
        for entry in self.store.requests():
            created = entry["created"]
            if (low is not None and created < low) or (high is not None and created >= high):
                continue
            if key_id is not None and entry["item"].get("key_id") != key_id:
                continue
            item = _settled(entry, now)
            if status is None or item["status"] == status:
                matching.append(item)
        limit = int(raw_limit)
        page: dict[str, Any] = {
            "object": "list",
            "data": matching[:limit],
            "has_more": len(matching) > limit,
        }
        if summary == "true":
            # "aggregate cost and count" (Lumenfall's skill); over every match, not one page.
            costs = [item["cost"] for item in matching if item["cost"] is not None]
            page["summary"] = {
                "count": len(matching),
                "total_cost": round(sum(costs), 6),
                "currency": "usd",
            }
        return Response.json(200, page)

    def get(self, request: Request, request_id: str) -> Response:
        entry = self.store.get_request(request_id)
        if entry is None:
            raise ApiError(404, f"Request '{request_id}' not found.", code="request_not_found")
        return Response.json(200, _settled(entry, self.videos.clock()))

    def balance(self, request: Request) -> Response:
        now = self.videos.clock()
        spent = sum(
            job[2]
            for entry in self.store.requests()
            for job in entry["jobs"]
            if job[1] == "completed" and job[0] <= now and job[2] is not None
        )
        amount = round(STARTING_BALANCE - spent, 6)
        return Response.json(
            200,
            {
                "object": "balance",
                "billing_type": "prepaid",
                "available": {"amount": amount, "currency": "usd"},
            },
        )
