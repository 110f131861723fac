"""Serve an EmulatorApp on a loopback socket (`framecast emulator`).

One thread runs a selector loop that accepts, reads, parses, calls the app and
writes for every connection. The standard library's thread-per-connection server
spent 130-250 µs of CPU per status request around an app that needs ~35 µs:
email.parser for the headers and, with 50 keep-alive clients, GIL hand-offs at
~7 context switches a request. This loop spends ~85-95 µs all told, so it answers
about twice as many requests a second at under half the p99 latency (measured by
tests/benchmarks/bench_emulator_server.py). The app is quick (a render takes tens
of milliseconds at most) and never calls back into this server, so running it
inline holds the other connections up only briefly.

Injected faults that live below HTTP are carried out for real here: a reset
closes the socket with SO_LINGER 0 (an RST, as a crashed peer or a middlebox
sends), a cut body stops half-way, and a slow answer really waits (on a timer,
so other connections go on being served meanwhile).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import selectors
import socket
import struct
import sys
import threading
import time
import traceback
from http import HTTPStatus

from framecast.emulator.app import EmulatorApp
from framecast.emulator.wire import ApiError, Request, Response

_MAX_BODY = 64 * 1024 * 1024
_MAX_HEAD = 64 * 1024  # request line plus headers, as the standard library's line limit
_MAX_HEADERS = 100
_RECV_SIZE = 256 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_LOGGED_PATH = 200  # longer paths are shortened in the log

_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE


class _BadRequest(Exception):
    """A request this server answers itself, and then hangs up on."""

    def __init__(self, status: int, message: str, method: str = "-", target: str = "-") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        # For the log line, once the request line could be read.
        self.method = method
        self.path = target.split("?", 1)[0]


class _Head:
    """A parsed request line and headers, waiting for its body."""

    __slots__ = ("headers", "keep_alive", "length", "method", "target")

    def __init__(
        self, method: str, target: str, headers: dict[str, str], keep_alive: bool, length: int
    ) -> None:
        self.method = method
        self.target = target
        self.headers = headers
        self.keep_alive = keep_alive
        self.length = length


class _Connection:
    """What the loop knows of one client connection between its events."""

    __slots__ = (
        "closed",
        "eof",
        "events",
        "head",
        "inbuf",
        "log",
        "out",
        "sock",
        "started",
        "then_close",
        "waiting",
    )

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = bytearray()
        self.head: _Head | None = None  # parsed, its body still to come
        self.out: memoryview | None = None  # the rest of an answer the socket did not take yet
        self.then_close = False  # hang up once `out` is written
        self.waiting = False  # a slow answer is on the timer
        self.eof = False  # the client sent FIN
        self.closed = False
        self.events = 0  # what the selector watches for now (0: not registered)
        self.started = 0.0  # perf_counter when the current request's first byte came
        # (method, path, status, fault) of the answer being written, logged once it is out.
        self.log: tuple[str, str, int | None, str | None] | None = None


def _find_head_end(buffer: bytearray) -> tuple[int, int]:
    """(end of the head, start of the body), or (-1, -1) while the blank line has not come."""
    end = buffer.find(b"\r\n\r\n")
    bare = buffer.find(b"\n\n", 0, None if end < 0 else end)  # clients that send bare LFs
    if bare >= 0:
        return bare, bare + 2
    return (end, end + 4) if end >= 0 else (-1, -1)


def _parse_head(raw: bytes) -> _Head:
    """The request line and headers; _BadRequest for what the stdlib server also refused."""
    lines = raw.decode("latin-1").split("\n")
    words = lines[0].rstrip("\r").split()
    if len(words) != 3:
        raise _BadRequest(400, "Bad request line.")
    method, target, version = words
    major, dot, minor = version.removeprefix("HTTP/").partition(".")
    if not (version.startswith("HTTP/") and dot and major.isdigit() and minor.isdigit()):
        raise _BadRequest(400, "Bad request version.", method, target)
    if major != "1":
        raise _BadRequest(505, f"HTTP version {major}.{minor} is not supported.", method, target)
    if len(lines) > _MAX_HEADERS + 1:
        raise _BadRequest(431, "Too many headers.", method, target)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name[0] in " \t":
            raise _BadRequest(400, "Bad header line.", method, target)
        headers[name.strip().lower()] = value.strip()  # a repeated header keeps its last value
    connection = headers.get("connection", "").lower()
    # HTTP/1.1 keeps a connection open unless told otherwise; 1.0 closes it unless asked not to.
    keep_alive = "close" not in connection if minor != "0" else "keep-alive" in connection
    if "transfer-encoding" in headers:
        raise _BadRequest(411, "Send the request body with a Content-Length.", method, target)
    raw_length = headers.get("content-length", "0") or "0"
    if not raw_length.isdigit():
        raise _BadRequest(400, "Bad Content-Length.", method, target)
    length = int(raw_length)
    if length > _MAX_BODY:
        raise _BadRequest(413, "Request body too large.", method, target)
    return _Head(method.upper(), target, headers, keep_alive, length)


def _render(method: str, answer: Response, keep_alive: bool) -> bytes:
    """Status line, headers and body in one piece: one write, so Nagle never holds it back."""
    kind = answer.disruption
    body = b"" if method == "HEAD" else answer.body
    lines = [f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, '')}"]
    lines += [f"{name}: {value}" for name, value in answer.headers]
    if kind == "cut-nolength":
        # Without a length the body ends at EOF, so the short body reads as complete.
        lines.append("Connection: close")
        body = body[: len(body) // 2]
    else:
        lines.append(f"Content-Length: {len(answer.body)}")
        if not keep_alive:
            lines.append("Connection: close")
    if kind == "cut":
        body = body[: len(body) // 2]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _loggable(path: str) -> str:
    """A path as it may appear in the log: no control characters, not too long."""
    if not path.isprintable():
        path = path.encode("unicode_escape").decode("ascii")
    return path if len(path) <= _LOGGED_PATH else path[:_LOGGED_PATH] + "…"


class EmulatorServer:
    # Clients hammering it in parallel (retry storms, concurrency tests) must not be refused:
    # the stdlib default of 5 drops SYNs when 50 connect at once, costing each a 1 s retransmit.
    request_queue_size = 128

    def __init__(
        self, app: EmulatorApp, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
    ) -> None:
        self.app = app
        self.verbose = verbose
        self.stopping = threading.Event()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # create_server sets SO_REUSEADDR, which on Linux still refuses a port in use.
        self.socket = socket.create_server(
            (host, port), family=family, backlog=self.request_queue_size
        )
        self.socket.setblocking(False)
        self.server_address: tuple[str, int] = self.socket.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.socket, _READ)
        # stop() from another thread writes a byte here to wake a loop blocked in select().
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._selector.register(self._wake_read, _READ)
        self._connections: set[_Connection] = set()
        self._timers: list[tuple[float, int, _Connection, bytes]] = []  # slow answers due
        self._order = itertools.count()  # breaks ties between timers due at the same time
        self._quit = False
        self._idle = threading.Event()  # set while no thread is in serve_forever
        self._idle.set()
        self._closed = False

    @property
    def origin(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    # -- running -------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve until shutdown() or stop() (or an exception such as KeyboardInterrupt)."""
        self._idle.clear()
        try:
            while not self._quit:
                timeout = None
                if self._timers:
                    timeout = max(0.0, self._timers[0][0] - time.monotonic())
                for key, events in self._selector.select(timeout):
                    if key.fileobj is self.socket:
                        self._accept()
                    elif key.fileobj is self._wake_read:
                        with contextlib.suppress(OSError):
                            self._wake_read.recv(4096)
                    else:
                        self._event(key.data, events)
                self._fire_timers()
        finally:
            self._idle.set()

    def start_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="framecast-emulator", daemon=True)
        thread.start()
        return thread

    def interrupt(self) -> None:
        """Make serve_forever return once the work in hand is done (and logged).

        Safe in a signal handler on the loop's own thread, where shutdown() would wait
        for itself.
        """
        self._quit = True
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")

    def shutdown(self) -> None:
        """Make serve_forever return, and wait until it has."""
        self.interrupt()
        self._idle.wait()

    def server_close(self) -> None:
        """Close the listening socket and every connection (call once the loop is stopped)."""
        if self._closed:
            return
        self._closed = True
        for connection in list(self._connections):
            self._close(connection)
        self._timers.clear()
        self._selector.close()
        for sock in (self.socket, self._wake_read, self._wake_write):
            sock.close()

    def stop(self) -> None:
        # Slow answers still on the timer are dropped with their connections, not waited for.
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self.app.close()

    # -- the loop's work -----------------------------------------------------

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. out of file descriptors: the rest wait in the backlog
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = _Connection(sock)
            self._connections.add(connection)
            self._watch(connection)

    def _event(self, connection: _Connection, events: int) -> None:
        if connection.closed:  # closed earlier in this same round of events
            return
        try:
            if events & _WRITE and connection.out is not None:
                self._flush(connection)
            elif events & _READ:
                self._receive(connection)
            self._advance(connection)
        except Exception:  # a bug here must cost one connection, never the whole server
            traceback.print_exc(file=sys.stderr)
            self._close(connection)

    def _receive(self, connection: _Connection) -> None:
        try:
            data = connection.sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset by the client
            self._close(connection)
            return
        if not data:
            connection.eof = True
            return
        if not connection.inbuf and connection.head is None:
            connection.started = time.perf_counter()
        connection.inbuf += data

    def _advance(self, connection: _Connection) -> None:
        """Answer every complete request in the buffer, one at a time, then watch for more."""
        while not (connection.closed or connection.waiting or connection.out is not None):
            try:
                taken = self._take_request(connection)
            except _BadRequest as bad:
                connection.head = None
                method, path = bad.method, bad.path
                code = HTTPStatus(bad.status).phrase.lower().replace(" ", "_")
                error = ApiError(bad.status, bad.message, code=code).response()
                self._send(
                    connection,
                    _render(method, error, False),
                    (method, path, bad.status, None),
                    True,
                )
                break
            if taken is None:
                break
            self._handle(connection, *taken)
        if connection.closed:
            return
        if connection.eof and connection.out is None and not connection.waiting:
            self._close(connection)  # whatever is left in the buffer can never complete
            return
        self._watch(connection)

    def _take_request(self, connection: _Connection) -> tuple[_Head, bytes] | None:
        buffer = connection.inbuf
        head = connection.head
        if head is None:
            while buffer[:2] == b"\r\n":  # stray CRLFs between requests are allowed
                del buffer[:2]
            end, body_start = _find_head_end(buffer)
            if end < 0:
                if len(buffer) > _MAX_HEAD:
                    raise _BadRequest(431, "Request line or headers too long.")
                return None
            if end > _MAX_HEAD:
                raise _BadRequest(431, "Request line or headers too long.")
            head = _parse_head(bytes(buffer[:end]))
            del buffer[:body_start]
            connection.head = head
            if head.length > len(buffer) and head.headers.get("expect", "").lower() == (
                "100-continue"
            ):
                with contextlib.suppress(OSError):  # at worst the client sends after a pause
                    connection.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        if len(buffer) < head.length:
            return None
        body = bytes(buffer[: head.length])
        del buffer[: head.length]
        connection.head = None
        return head, body

    def _handle(self, connection: _Connection, head: _Head, body: bytes) -> None:
        host = head.headers.get("host") or self.origin.removeprefix("http://")
        request = Request.build(head.method, head.target, head.headers, body, f"http://{host}")
        try:
            answer = self.app.handle(request)
        except Exception:  # the app answers its own errors; this is a safety net
            traceback.print_exc(file=sys.stderr)
            answer = ApiError(500, "The emulator hit an internal error.").response()
        log = (request.method, request.path, answer.status or None, answer.fault)
        kind = answer.disruption
        if kind == "reset":
            self._log(connection, (request.method, request.path, None, answer.fault))
            self._close(connection, reset=True)
            return
        data = _render(request.method, answer, head.keep_alive)
        then_close = not head.keep_alive or kind in ("cut", "cut-nolength")
        if kind == "slow" and answer.delay > 0:
            connection.waiting = True
            connection.then_close = then_close
            connection.log = log
            heapq.heappush(
                self._timers,
                (time.monotonic() + answer.delay, next(self._order), connection, data),
            )
            self._watch(connection)  # nothing to read or write until the timer fires
            return
        self._send(connection, data, log, then_close)

    def _fire_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, connection, data = heapq.heappop(self._timers)
            if connection.closed:
                continue
            connection.waiting = False
            try:
                self._send(connection, data, connection.log, connection.then_close)
                self._advance(connection)
            except Exception:
                traceback.print_exc(file=sys.stderr)
                self._close(connection)

    def _send(
        self,
        connection: _Connection,
        data: bytes,
        log: tuple[str, str, int | None, str | None] | None,
        then_close: bool,
    ) -> None:
        connection.out = memoryview(data)
        connection.log = log
        connection.then_close = then_close
        self._flush(connection)

    def _flush(self, connection: _Connection) -> None:
        """Write what the socket takes now; the rest waits for it to be writable."""
        out = connection.out
        assert out is not None
        try:
            while out:
                out = out[connection.sock.send(out) :]
        except (BlockingIOError, InterruptedError):
            connection.out = out
            return
        except OSError:  # the client gave up (e.g. its read timeout fired on a slow answer)
            connection.then_close = True
        connection.out = None
        if connection.log is not None:  # logged even if undelivered: one line per request
            self._log(connection, connection.log)
            connection.log = None
        if connection.then_close:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_WR)
            self._close(connection)
        elif connection.inbuf:  # the next request (pipelined) started arriving already
            connection.started = time.perf_counter()

    def _watch(self, connection: _Connection) -> None:
        """Watch for what the connection needs next: to write, to read, or (on a timer) neither."""
        if connection.closed:
            return
        wanted = 0 if connection.waiting else _WRITE if connection.out is not None else _READ
        if wanted == connection.events:
            return
        if connection.events == 0:
            self._selector.register(connection.sock, wanted, connection)
        elif wanted == 0:
            self._selector.unregister(connection.sock)
        else:
            self._selector.modify(connection.sock, wanted, connection)
        connection.events = wanted

    def _close(self, connection: _Connection, *, reset: bool = False) -> None:
        if connection.closed:
            return
        connection.closed = True
        self._connections.discard(connection)
        if connection.events:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(connection.sock)
            connection.events = 0
        if reset:
            # Not every platform takes SO_LINGER; a plain close still drops the connection.
            with contextlib.suppress(OSError):
                connection.sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
        connection.sock.close()

    def _log(self, connection: _Connection, entry: tuple[str, str, int | None, str | None]) -> None:
        """With --verbose, one line per request on stderr: method, path, status, fault, time.

        Never the query string (signed URLs carry their signatures there) nor any header.
        """
        if not self.verbose:
            return
        method, path, status, fault = entry
        elapsed = (time.perf_counter() - connection.started) * 1000
        line = f"{_loggable(method)} {_loggable(path)} {status if status is not None else '-'}"
        if fault is not None:
            line += f" (fault {fault})"
        sys.stderr.write(f"{line} {elapsed:.1f}ms\n")
        sys.stderr.flush()
