"""Routing, authentication and error envelopes of the emulated API.

The OpenAI-shaped API is served under both `/openai/v1` (Lumenfall's
OpenAI-compatible prefix) and `/v1` (its native prefix, and OpenAI's own);
NanoGPT's under `/api`; and signed output URLs under `/media/...`, which take
no API key. Lumenfall's request history and balance are native, so under `/v1`
only. Faults (faults.py) are injected here, from the active plan or from a
request's own `X-Emulator-Faults` header.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from framecast import catalog
from framecast.emulator import faults
from framecast.emulator.assets import AssetApi
from framecast.emulator.disrupt import disrupt, error_response
from framecast.emulator.history import RequestHistory
from framecast.emulator.nanogpt import NanoGptApi
from framecast.emulator.store import JobStore
from framecast.emulator.videos import EmulatorConfig, VideoApi
from framecast.emulator.wire import ApiError, Request, Response

OPENAI = ("/openai/v1", "/v1")  # Lumenfall's OpenAI-compatible prefix, and its (and OpenAI's) own
NANOGPT = ("/api",)
LUMENFALL = ("/v1",)
FAULT_HEADER = "x-emulator-faults"

Handler = Callable[..., Response]


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the emulator saw it; credentials are noted, never kept."""

    method: str
    path: str
    had_authorization: bool
    content_type: str = ""
    query: str = ""
    had_api_key: bool = False  # NanoGPT's x-api-key header
    range: str = ""  # the Range header, for checking resumed downloads


class EmulatorApp:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        state_path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.store = JobStore(state_path)
        self.videos = VideoApi(self.store, self.config, clock)
        self.seen: deque[Seen] = deque(maxlen=2000)
        self._lock = threading.Lock()
        self._plan = faults.FaultPlan.parse(self.config.faults, self.config.fault_seed)
        v = self.videos
        assets = AssetApi(v)
        nano = NanoGptApi(v, self.config.nanogpt_status_shape)
        history = RequestHistory(v)
        self._routes: list[tuple[str, re.Pattern[str], Handler, tuple[str, ...]]] = [
            (
                "GET",
                re.compile(r"/media/(?P<video_id>[^/]+)/(?P<variant>[a-z]+)\.[a-z0-9]+"),
                assets.media,
                (),
            ),
            ("POST", re.compile(r"/videos"), history.recorded(v.create), OPENAI),
            ("GET", re.compile(r"/videos"), v.list, OPENAI),
            ("POST", re.compile(r"/videos/characters"), assets.create_character, OPENAI),
            (
                "GET",
                re.compile(r"/videos/characters/(?P<character_id>[^/]+)"),
                assets.get_character,
                OPENAI,
            ),
            ("POST", re.compile(r"/videos/edits"), history.recorded(v.edit), OPENAI),
            ("POST", re.compile(r"/videos/extensions"), history.recorded(v.extend), OPENAI),
            ("GET", re.compile(r"/videos/(?P<video_id>[^/]+)"), v.retrieve, OPENAI),
            ("DELETE", re.compile(r"/videos/(?P<video_id>[^/]+)"), v.delete, OPENAI),
            ("GET", re.compile(r"/videos/(?P<video_id>[^/]+)/content"), assets.content, OPENAI),
            (
                "POST",
                re.compile(r"/videos/(?P<video_id>[^/]+)/remix"),
                history.recorded(v.remix),
                OPENAI,
            ),
            ("GET", re.compile(r"/webhooks/secret"), v.webhook_secret, OPENAI),
            ("GET", re.compile(r"/models"), self.list_models, OPENAI),
            ("GET", re.compile(r"/models/(?P<model_id>.+)"), self.get_model, OPENAI),
            ("GET", re.compile(r"/requests"), history.list, LUMENFALL),
            ("GET", re.compile(r"/requests/(?P<request_id>[^/]+)"), history.get, LUMENFALL),
            ("GET", re.compile(r"/balance"), history.balance, LUMENFALL),
            ("POST", re.compile(r"/generate-video"), nano.generate, NANOGPT),
            ("POST", re.compile(r"/generate-video/extend"), nano.extend, NANOGPT),
            ("GET", re.compile(r"/video/status"), nano.status, NANOGPT),
            ("GET", re.compile(r"/generate-video/recover"), nano.recover, NANOGPT),
            ("GET", re.compile(r"/v1/video-models"), nano.models, NANOGPT),
        ]

    def close(self) -> None:
        self.store.close()

    def inject(self, spec: str, seed: int = 0) -> None:
        """Replace the active fault plan (its counters start afresh); ValueError if SPEC is bad."""
        self._plan = faults.FaultPlan.parse(spec, seed)

    def jobs_created(self) -> int:
        """How many jobs this app created, in any dialect (replays and dry runs create none)."""
        return self.store.added

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.seen.append(
                Seen(
                    request.method,
                    request.path,
                    "authorization" in request.headers,
                    request.headers.get("content-type", "").split(";")[0],
                    "&".join(f"{k}={v[-1]}" for k, v in request.query.items() if k != "signature"),
                    "x-api-key" in request.headers,
                    request.headers.get("range", ""),
                )
            )
        try:
            rule = self._fault_for(request)
        except ValueError as error:
            return error_response(
                request, ApiError(400, f"Bad X-Emulator-Faults header: {error}.", code="bad_faults")
            )
        if rule is None:
            return self._answer(request)
        return disrupt(rule, request, self._answer)

    def _fault_for(self, request: Request) -> faults.Rule | None:
        target = faults.classify(request.method, request.path)
        plan = self._plan
        spec = request.headers.get(FAULT_HEADER)
        if spec is not None:
            rule = plan.pick_once(faults.parse(spec), target)
            if rule is not None:
                return rule
        return plan.pick(target)

    def _answer(self, request: Request) -> Response:
        try:
            return self._dispatch(request)
        except ApiError as error:
            return error.response()
        except Exception:  # a bug in the emulator must still answer like a server
            traceback.print_exc(file=sys.stderr)
            return ApiError(
                500,
                "The emulator hit an internal error.",
                type="server_error",
                code="internal_error",
            ).response()

    def _dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path in ("/", "/health"):
            return Response.json(200, {"status": "ok", "service": "framecast emulator"})
        allowed: list[str] = []
        for method, pattern, handler, prefixes in self._routes:
            match = None
            for prefix in prefixes or ("",):
                if prefix == "" or path.startswith(prefix + "/"):
                    match = pattern.fullmatch(path[len(prefix) :])
                    if match:
                        break
            if match is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            if prefixes:
                self._authorise(request)
            return handler(request, **match.groupdict())
        if allowed:
            raise ApiError(
                405,
                f"Method {request.method} is not allowed here.",
                headers=[("allow", ", ".join(sorted(set(allowed))))],
            )
        raise ApiError(404, f"Unknown path {request.path}.", code="not_found")

    def _authorise(self, request: Request) -> None:
        if not self.config.require_auth:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        # NanoGPT also takes its key as x-api-key.
        token = token or request.headers.get("x-api-key", "").strip()
        if not token:
            raise ApiError(
                401,
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
                type="authentication_error",
                code="invalid_api_key",
            )
        if self.config.api_key is not None and token != self.config.api_key:
            raise ApiError(
                401,
                "Incorrect API key provided.",
                type="authentication_error",
                code="invalid_api_key",
            )

    def list_models(self, request: Request) -> Response:
        data = [
            {"id": m.id, "object": "model", "created": 1759708800, "owned_by": m.creator}
            for m in catalog.models().values()
        ]
        return Response.json(200, {"object": "list", "data": data})

    def get_model(self, request: Request, model_id: str) -> Response:
        info = catalog.get(model_id)
        if info is None:
            raise ApiError(404, f"The model '{model_id}' does not exist.", code="model_not_found")
        return Response.json(
            200, {"id": info.id, "object": "model", "created": 1759708800, "owned_by": info.creator}
        )
