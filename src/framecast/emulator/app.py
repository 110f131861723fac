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

from framecast.emulator import faults, models
from framecast.emulator.assets import AssetApi
from framecast.emulator.disrupt import disrupt, error_response
from framecast.emulator.history import RequestHistory
from framecast.emulator.nanogpt import NanoGptApi
from framecast.emulator.recording import Seen, record
from framecast.emulator.store import JobStore
from framecast.emulator.videos import EmulatorConfig, VideoApi
from framecast.emulator.wire import ApiError, Request, Response

LUMENFALL_OPENAI = ("/openai/v1", "/v1")  # Lumenfall's OpenAI-compatible prefix, and its own
STRICT_OPENAI = ("/v1",)  # OpenAI's
NANOGPT = ("/api",)
LUMENFALL = ("/v1",)
FAULT_HEADER = "x-emulator-faults"
_GROUP = re.compile(r"\(\?P<")

Handler = Callable[..., Response]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    prefixes: tuple[str, ...]  # () : served at the root, with no API key
    # A fixed path (`/videos/characters`), which wins over any id pattern it also fits.
    literal: bool


class EmulatorApp:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        state_path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or EmulatorConfig()
        self._plan = faults.FaultPlan.parse(self.config.faults, self.config.fault_seed)
        self.store = JobStore(state_path)
        try:
            self.videos = VideoApi(self.store, self.config, clock)
        except ValueError:
            self.store.close()
            raise
        self.seen: deque[Seen] = deque(maxlen=2000)
        self._lock = threading.Lock()
        self._routes = self._route_table()

    def _route_table(self) -> list[Route]:
        v = self.videos
        assets = AssetApi(v)
        nano = NanoGptApi(v, self.config.nanogpt_status_shape)
        history = RequestHistory(v)
        strict = self.config.strict
        api = STRICT_OPENAI if strict else LUMENFALL_OPENAI
        # The strict dialect is OpenAI's own server: none of Lumenfall's additions.
        recorded = (lambda handler: handler) if strict else history.recorded
        table: list[tuple[str, str, Handler, tuple[str, ...]]] = [
            ("GET", r"/media/(?P<video_id>[^/]+)/(?P<variant>[a-z]+)\.[a-z0-9]+", assets.media, ()),
            ("POST", r"/videos", recorded(v.create), api),
            ("GET", r"/videos", v.list, api),
            ("POST", r"/videos/characters", assets.create_character, api),
            ("GET", r"/videos/characters/(?P<character_id>[^/]+)", assets.get_character, api),
            ("POST", r"/videos/edits", recorded(v.edit), api),
            ("POST", r"/videos/extensions", recorded(v.extend), api),
            ("GET", r"/videos/(?P<video_id>[^/]+)", v.retrieve, api),
            ("DELETE", r"/videos/(?P<video_id>[^/]+)", v.delete, api),
            ("GET", r"/videos/(?P<video_id>[^/]+)/content", assets.content, api),
            ("POST", r"/videos/(?P<video_id>[^/]+)/remix", recorded(v.remix), api),
            ("GET", r"/models", self.list_models, api),
            ("GET", r"/models/(?P<model_id>.+)", self.get_model, api),
            ("POST", r"/generate-video", nano.generate, NANOGPT),
            ("POST", r"/generate-video/extend", nano.extend, NANOGPT),
            ("GET", r"/video/status", nano.status, NANOGPT),
            ("GET", r"/generate-video/recover", nano.recover, NANOGPT),
            ("GET", r"/v1/video-models", nano.models, NANOGPT),
        ]
        if not strict:
            table += [
                ("GET", r"/webhooks/secret", v.webhook_secret, api),
                ("GET", r"/requests", history.list, LUMENFALL),
                ("GET", r"/requests/(?P<request_id>[^/]+)", history.get, LUMENFALL),
                ("GET", r"/balance", history.balance, LUMENFALL),
            ]
        return [
            Route(m, re.compile(p), h, prefixes, _GROUP.search(p) is None)
            for m, p, h, prefixes in table
        ]

    def close(self) -> None:
        self.videos.webhooks.close()
        self.store.close()

    def inject(self, spec: str, seed: int = 0) -> None:
        """Replace the active fault plan (its counters start afresh); ValueError if SPEC is bad."""
        self._plan = faults.FaultPlan.parse(spec, seed)

    def jobs_created(self) -> int:
        """How many jobs this app created, in any dialect (replays and dry runs create none)."""
        return self.store.added

    def handle(self, request: Request) -> Response:
        seen = record(request)
        with self._lock:
            self.seen.append(seen)
        try:
            rule = self._fault_for(request)
        except ValueError as error:
            bad = ApiError(400, f"Bad X-Emulator-Faults header: {error}.", code="bad_faults")
            return error_response(request, bad, lumenfall=not self.config.strict)
        if rule is None:
            return self._answer(request)
        return disrupt(rule, request, self._answer, lumenfall=not self.config.strict)

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
            return error_response(request, error, lumenfall=not self.config.strict)
        except Exception:  # a bug in the emulator must still answer like a server
            traceback.print_exc(file=sys.stderr)
            return error_response(
                request,
                ApiError(
                    500,
                    "The emulator hit an internal error.",
                    type="server_error",
                    code="internal_error",
                ),
                lumenfall=not self.config.strict,
            )

    def _matches(self, path: str) -> list[tuple[Route, dict[str, str]]]:
        found: list[tuple[Route, dict[str, str]]] = []
        for route in self._routes:
            for prefix in route.prefixes or ("",):
                if prefix and not path.startswith(prefix + "/"):
                    continue
                match = route.pattern.fullmatch(path[len(prefix) :])
                if match is not None:
                    found.append((route, match.groupdict()))
                    break
        if any(route.literal for route, _ in found):
            found = [(route, params) for route, params in found if route.literal]
        return found

    def _dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path in ("/", "/health") and request.method in ("GET", "HEAD"):
            return Response.json(200, {"status": "ok", "service": "framecast emulator"})
        found = self._matches(path)
        if not found:
            raise ApiError(404, f"Unknown path {request.path}.", code="not_found")
        # HEAD is GET without the body (the transports drop it).
        method = "GET" if request.method == "HEAD" else request.method
        for route, params in found:
            if route.method == method:
                if route.prefixes:
                    self._authorise(request)
                return route.handler(request, **params)
        methods = sorted({route.method for route, _ in found})
        allow = ", ".join([*methods, *(["HEAD"] if "GET" in methods else []), "OPTIONS"])
        if request.method == "OPTIONS":
            return Response(204, b"", [("allow", allow)])
        raise ApiError(
            405,
            f"Method {request.method} is not allowed on {request.path}; use {', '.join(methods)}.",
            code="method_not_allowed",
            headers=[("allow", allow)],
        )

    def _authorise(self, request: Request) -> None:
        if not self.config.require_auth:
            return
        # OpenAI's spec gives this type for a bad key; Lumenfall's errors page another.
        kind = "invalid_request_error" if self.config.strict else "authentication_error"
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        # NanoGPT also takes its key as x-api-key.
        if request.path.startswith("/api/"):
            token = token or request.headers.get("x-api-key", "").strip()
        if not token:
            raise ApiError(
                401,
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'.",
                type=kind,
                code="invalid_api_key",
            )
        if self.config.api_key is not None and token != self.config.api_key:
            raise ApiError(
                401,
                "Incorrect API key provided.",
                type=kind,
                code="invalid_api_key",
            )

    def list_models(self, request: Request) -> Response:
        data = [
            {"id": m.id, "object": "model", "created": 1759708800, "owned_by": m.creator}
            for m in models.lumenfall_models().values()
        ]
        return Response.json(200, {"object": "list", "data": data})

    def get_model(self, request: Request, model_id: str) -> Response:
        info = models.find(model_id)
        if info is None:
            raise ApiError(404, f"The model '{model_id}' does not exist.", code="model_not_found")
        return Response.json(
            200,
            {"id": model_id, "object": "model", "created": 1759708800, "owned_by": info.creator},
        )
