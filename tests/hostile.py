"""A hostile OpenAI-Videos-shaped server on loopback: it answers whatever a test scripts.

Each route is a function of the request that returns (status, headers, body), so a
test can hand framecast ids that climb out of folders, text full of terminal
escapes, enormous bodies, echoed keys or redirects, and then look at what
framecast sent (`seen`, with the raw request path as it came off the wire).
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    raw_path: str
    headers: dict[str, str]
    body: bytes


# A body is bytes, or an iterable of chunks written as they come (with their own
# Content-Length header), so a route can stall or stop half-way.
Answer = tuple[int, dict[str, str], bytes | Iterable[bytes]]
Route = Callable[[Received], Answer]


def json_answer(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"content-type": "application/json", **(headers or {})},
        json.dumps(payload).encode(),
    )


def video(job_id: str, status: str = "completed", **fields: Any) -> dict[str, Any]:
    """A video object; `fields` override or add anything."""
    return {
        "id": job_id,
        "object": "video",
        "status": status,
        "model": "sora-2",
        "progress": 100 if status == "completed" else 10,
        "created_at": int(time.time()),
        "seconds": "4",
        "size": "720x1280",
        **fields,
    }


@dataclass
class Hostile:
    routes: list[tuple[str, re.Pattern[str], Route]] = field(default_factory=list)
    seen: list[Received] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    scheme: str = "http"

    def route(self, method: str, pattern: str, answer: Route) -> None:
        """Answer `method` on paths matching `pattern` (a regex over the raw path, no query)."""
        self.routes.insert(0, (method, re.compile(pattern), answer))

    @property
    def origin(self) -> str:
        assert self.server is not None
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def answer(self, received: Received) -> Answer:
        path = received.raw_path.split("?", 1)[0]
        for method, pattern, route in self.routes:
            if method == received.method and pattern.fullmatch(path):
                return route(received)
        return json_answer({"error": {"message": f"no route for {path}"}}, 404)

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


# A self-signed certificate for 127.0.0.1 (valid until 2126), made for these tests with
# `openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -subj /CN=127.0.0.1
# -addext subjectAltName=IP:127.0.0.1 -addext basicConstraints=critical,CA:TRUE`.
# A client trusts it through SSL_CERT_FILE; its key protects nothing but loopback tests.
TLS_CERT = Path(__file__).parent / "data" / "loopback-tls.crt"
TLS_KEY = Path(__file__).parent / "data" / "loopback-tls.key"


def start(*, tls: bool = False) -> Hostile:
    """The server on a free loopback port; with `tls`, it speaks HTTPS (TLS_CERT)."""
    hostile = Hostile(scheme="https" if tls else "http")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            received = Received(
                self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
            )
            hostile.seen.append(received)
            status, headers, payload = hostile.answer(received)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if isinstance(payload, bytes):
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            self.end_headers()
            try:
                for chunk in payload:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except OSError:
                pass  # the client went away (killed on purpose)
            self.close_connection = True

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS_CERT, TLS_KEY)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    # A client killed on purpose mid-answer is expected here, not worth a traceback.
    server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    hostile.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return hostile
