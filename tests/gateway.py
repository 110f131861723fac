"""A stand-in for a LiteLLM (1.106) proxy in front of an OpenAI-Videos-compatible upstream.

Real gateways change what passes through them, and a client that trusts every
answer to be the upstream's own breaks on them. This stand-in reproduces the
LiteLLM behaviours that do that, so tests can prove framecast survives them:

- ids are wrapped in base64 with the provider and model (LiteLLM issue #33423
  shows the format), and the answer to a retrieve wraps the id a second time;
  the doubly wrapped id cannot be routed back (500);
- query parameters are not forwarded (`?variant=thumbnail` yields the MP4);
- video objects lose every field but the core ones (no `progress`, `output`...);
- a multipart `input_reference` sent as a text field is refused with
  FastAPI's 422, because the proxy declares that field as an upload.

Only the loopback interface is used: the gateway listens on 127.0.0.1 and
forwards to the upstream it is given.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

_PREFIX = "litellm:custom_llm_provider:openai;model_id:;video_id:"
_MAX_BODY = 64 * 1024 * 1024

# The fields LiteLLM's VideoObject keeps; everything else the upstream sends is dropped.
_VIDEO_FIELDS = ("id", "object", "status", "created_at", "model", "seconds", "size", "error")
_LIST_FIELDS = ("object", "data", "has_more", "first_id", "last_id")

_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"/v1/videos"), "create"),
    ("GET", re.compile(r"/v1/videos"), "list"),
    ("GET", re.compile(r"/v1/videos/(?P<video_id>[^/]+)"), "retrieve"),
    ("DELETE", re.compile(r"/v1/videos/(?P<video_id>[^/]+)"), "delete"),
    ("GET", re.compile(r"/v1/videos/(?P<video_id>[^/]+)/content"), "content"),
    ("POST", re.compile(r"/v1/videos/(?P<video_id>[^/]+)/remix"), "remix"),
)


def encode_id(upstream_id: str) -> str:
    """The id LiteLLM hands out for an upstream id."""
    return "video_" + base64.b64encode((_PREFIX + upstream_id).encode()).decode()


def decode_id(gateway_id: str) -> str | None:
    """The upstream id inside a LiteLLM id, or None if it is not one."""
    if not gateway_id.startswith("video_"):
        return None
    try:
        text = base64.b64decode(gateway_id.removeprefix("video_"), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return text.removeprefix(_PREFIX) if text.startswith(_PREFIX) else None


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """One request as the gateway received it; credentials are noted, never kept."""

    method: str
    path: str
    query: str
    had_authorization: bool
    content_type: str  # without parameters such as the multipart boundary


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, payload: Any) -> _Answer:
        return cls(status, json.dumps(payload).encode())


def _internal_error(message: str) -> _Answer:
    return _Answer.json(
        500, {"error": {"message": message, "type": "internal_server_error", "code": "500"}}
    )


def _text_input_reference(content_type: str, body: bytes) -> bool:
    """Whether a multipart body carries `input_reference` as a text field, not a file."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return False
    return any(
        part.get_param("name", header="content-disposition") == "input_reference"
        and part.get_filename() is None
        for part in message.iter_parts()
    )


def _video(view: dict[str, Any], video_id: str) -> dict[str, Any]:
    kept = {k: view[k] for k in _VIDEO_FIELDS if k in view}
    kept["id"] = video_id
    return kept


class StandInGateway:
    """A LiteLLM-like proxy on a loopback port; serving starts on construction."""

    def __init__(self, upstream_base_url: str) -> None:
        self.upstream_base_url = upstream_base_url.rstrip("/")
        self.requests: list[GatewayRequest] = []
        self._lock = threading.Lock()
        # trust_env=False: no proxy or .netrc from the environment may take the
        # forwarded request off loopback.
        self._client = httpx.Client(follow_redirects=False, trust_env=False, timeout=30.0)
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}/v1"
        # A short poll interval: close() waits for the next poll, and tests close often.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="stand-in-gateway",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def __enter__(self) -> StandInGateway:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- handling ------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> _Answer:
        split = urlsplit(target)
        content_type = headers.get("content-type", "")
        with self._lock:
            self.requests.append(
                GatewayRequest(
                    method,
                    split.path,
                    split.query,
                    "authorization" in headers,
                    content_type.split(";")[0].strip().lower(),
                )
            )
        path = split.path.rstrip("/") or "/"
        for route_method, pattern, action in _ROUTES:
            match = pattern.fullmatch(path)
            if match is not None and route_method == method:
                return self._route(action, match.groupdict().get("video_id"), headers, body)
        # FastAPI's answer for a route the proxy does not have.
        return _Answer.json(404, {"detail": "Not Found"})

    def _route(
        self, action: str, raw_id: str | None, headers: dict[str, str], body: bytes
    ) -> _Answer:
        content_type = headers.get("content-type", "")
        if (
            action == "create"
            and content_type.lower().startswith("multipart/form-data")
            and _text_input_reference(content_type, body)
        ):
            return _Answer.json(
                422,
                {
                    "detail": [
                        {
                            "loc": ["body", "input_reference"],
                            "msg": "Expected UploadFile, received: <class 'str'>",
                            "type": "value_error",
                        }
                    ]
                },
            )
        path = "/videos"
        if raw_id is not None:
            given = unquote(raw_id)
            upstream_id = decode_id(given)
            if upstream_id is None:
                # LiteLLM passes an id it cannot decode through unchanged.
                upstream_id = given
            elif decode_id(upstream_id) is not None:
                # A retrieve answer's doubly wrapped id: one decoding leaves another
                # wrapper, which names no deployment and no upstream video.
                return _internal_error(
                    "litellm.InternalServerError: could not route video id "
                    f"{given!r}: decoded video_id {upstream_id!r} is not a provider video id"
                )
            path += "/" + quote(upstream_id, safe="")
            if action == "content":
                path += "/content"
            elif action == "remix":
                path += "/remix"
        forwarded: dict[str, str] = {
            name: headers[name] for name in ("authorization", "content-type") if name in headers
        }
        method = {"create": "POST", "remix": "POST", "delete": "DELETE"}.get(action, "GET")
        try:
            # The query string is dropped here on purpose: LiteLLM does not forward it.
            upstream = self._client.request(
                method, self.upstream_base_url + path, headers=forwarded, content=body or None
            )
        except httpx.HTTPError as exc:
            return _internal_error(f"litellm.APIConnectionError: {exc}")
        upstream_type = upstream.headers.get("content-type", "application/octet-stream")
        if action == "content" or not upstream.is_success:
            # Bytes, and upstream error envelopes, go back as they came.
            return _Answer(upstream.status_code, upstream.content, upstream_type)
        try:
            payload = upstream.json()
        except ValueError:
            return _Answer(upstream.status_code, upstream.content, upstream_type)
        return _Answer.json(upstream.status_code, self._rewrite(payload, action))

    def _rewrite(self, payload: Any, action: str) -> Any:
        if not isinstance(payload, dict):
            return payload
        if payload.get("object") == "list":
            page = {k: payload[k] for k in _LIST_FIELDS if k in payload}
            page["data"] = [
                _video(item, encode_id(item["id"]))
                for item in payload.get("data") or []
                if isinstance(item, dict) and isinstance(item.get("id"), str)
            ]
            for cursor in ("first_id", "last_id"):
                if isinstance(page.get(cursor), str):
                    page[cursor] = encode_id(page[cursor])
            return page
        upstream_id = payload.get("id")
        if not isinstance(upstream_id, str):
            return payload
        video_id = encode_id(upstream_id)
        if payload.get("object") != "video":
            return {**payload, "id": video_id}  # e.g. {"object": "video.deleted", ...}
        if action == "retrieve":
            # The bug: the retrieve path wraps the already wrapped id once more.
            video_id = encode_id(video_id)
        return _video(payload, video_id)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without this a keep-alive client waits ~40 ms on every answer (Nagle plus delayed ACK).
    disable_nagle_algorithm = True
    server: _Server

    def _read_body(self) -> bytes | None:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        if length > _MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True  # the unread body would poison the next request
            answer = _internal_error("Request body too large.")
        else:
            headers = {name.lower(): value for name, value in self.headers.items()}
            answer = self.server.gateway.handle(self.command, self.path, headers, body)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)
        self.wfile.flush()

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # tests open many connections at once; the default 5 drops some

    def __init__(self, gateway: StandInGateway) -> None:
        self.gateway = gateway
        super().__init__(("127.0.0.1", 0), _Handler)


def start_gateway(upstream_base_url: str) -> StandInGateway:
    """A gateway in front of `upstream_base_url`, serving from a daemon thread."""
    return StandInGateway(upstream_base_url)
