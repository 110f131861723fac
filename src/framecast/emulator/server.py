"""Serve an EmulatorApp on a loopback socket (`framecast emulator`).

The standard library server answers a keep-alive client only ~23 times a second
unless Nagle's algorithm is off and each response goes out in one write, so the
handler does both (see performance-facts.md).

Injected faults that live below HTTP are carried out for real here: a reset
closes the socket with SO_LINGER 0 (an RST, as a crashed peer or a middlebox
sends), a cut body stops half-way, and a slow answer really waits.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from framecast.emulator.app import EmulatorApp
from framecast.emulator.wire import Request, Response

_MAX_BODY = 64 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: EmulatorServer

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > _MAX_BODY:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("host") or self.server.origin.removeprefix("http://")
        request = Request.build(
            self.command, self.path, dict(self.headers.items()), body, f"http://{host}"
        )
        answer = self.server.app.handle(request)
        self.server.note(request.method, request.path, answer.status or None, answer.fault)
        try:
            self._send(answer)
        except OSError:  # the client gave up (e.g. its read timeout fired on a slow answer)
            self.close_connection = True

    def _send(self, answer: Response) -> None:
        kind = answer.disruption
        if kind == "reset":
            self._reset()
            return
        # A server stopping mid-wait answers at once rather than holding its thread.
        if kind == "slow" and self.server.stopping.wait(answer.delay):
            self.close_connection = True
            return
        body = b"" if self.command == "HEAD" else answer.body
        reason = (
            HTTPStatus(answer.status).phrase
            if answer.status in HTTPStatus._value2member_map_
            else ""
        )
        lines = [f"HTTP/1.1 {answer.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in answer.headers]
        if kind == "cut-nolength":
            # Without a length the body ends at EOF, so the short body reads as complete.
            lines.append("Connection: close")
            body = body[: len(body) // 2]
        else:
            lines.append(f"Content-Length: {len(answer.body)}")
        if kind == "cut":
            body = body[: len(body) // 2]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)
        self.wfile.flush()
        if kind in ("cut", "cut-nolength"):
            self.close_connection = True

    def _reset(self) -> None:
        self.close_connection = True
        # Not every platform takes SO_LINGER; a plain close still drops the connection.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The socket really closes only once rfile, which holds a reference, is closed too.
        self.rfile.close()
        self.connection.close()

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Only send_error's answers come through here; _serve notes its own.
        path = self.path.split("?", 1)[0] if hasattr(self, "path") else "-"
        status = int(code) if isinstance(code, int) else None
        self.server.note(getattr(self, "command", None) or "-", path, status, None)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Clients hammering it in parallel (retry storms, concurrency tests) must not be refused.
    request_queue_size = 128

    def __init__(
        self, app: EmulatorApp, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
    ) -> None:
        self.app = app
        self.verbose = verbose
        self.stopping = threading.Event()
        self._log_lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def origin(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def note(self, method: str, path: str, status: int | None, fault: str | None) -> None:
        """With --verbose, one line per request on stderr: method, path, status, fault."""
        if not self.verbose:
            return
        line = f"{method} {path} {status if status is not None else '-'}"
        if fault is not None:
            line += f" (fault {fault})"
        with self._log_lock:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="framecast-emulator", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self.app.close()
