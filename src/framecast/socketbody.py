"""A large download's body read straight off its socket, past httpx's per-chunk machinery.

httpx hands a body over through h11's receive buffer and three layers of iterators,
copying each chunk on the way; on a fast link that caps a download at about half of
what the socket gives (tests/benchmarks/performance.md: httpx's own streaming loop runs
at ≈ 0.5× curl). Where it is safe, the body's first bytes still come through httpx
(which drains whatever h11 read along with the headers) and the rest is received into
one reused buffer with `recv_into`.

It is safe only for plain HTTP/1.1 bodies of a declared length, with no transfer or
content coding, on httpcore's own socket stream: not an in-process transport, not a
TLS tunnel inside a TLS proxy connection (whose socket carries the outer layer), not
HTTP/2. Anything else is streamed through httpx as before. The connection is closed
afterwards rather than reused: h11 never saw the body end. Nothing here decides what
the bytes are; the caller counts them against the declared length and verifies them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx

# Below this, a body is streamed through httpx: keeping the connection alive is worth
# more than the copying saved. (An emulated clip, ≈ 1.4 MB, is above it: the tests'
# downloads over loopback take this path, cuts, stalls and resumptions included.)
RAW_FROM = 1024 * 1024


def copy(
    response: httpx.Response,
    write: Callable[[memoryview | bytes], object],
    advanced: Callable[[int], None],
    *,
    chunk: int,
) -> None:
    """Pass the body to `write` piece by piece (each piece's size to `advanced`); stops
    early if the server closes the connection. httpx's transport errors, as httpx raises
    them, for whatever breaks."""
    length = _plain_length(response)
    sock = _socket(response) if length is not None and length >= RAW_FROM else None
    if sock is None or length is None:
        for piece in response.iter_bytes():
            write(piece)
            advanced(len(piece))
        return
    # The first piece is everything h11 holds of the body; then its buffer is empty. The
    # iterator is kept: dropping it would close the response, and the socket with it.
    pieces = response.iter_raw()
    first = next(pieces, b"")
    write(first)
    advanced(len(first))
    left = length - len(first)
    timeout = (response.request.extensions.get("timeout") or {}).get("read")
    buffer = memoryview(bytearray(min(chunk, max(left, 1))))
    while left > 0:
        count = _receive(sock, buffer, min(left, len(buffer)), timeout, response.request)
        if not count:
            return  # closed early: the caller finds the bytes short, and resumes
        write(buffer[:count])  # a local write's own OSError stays one (a full disk)
        advanced(count)
        left -= count


def _receive(
    sock: socket.socket,
    buffer: memoryview,
    size: int,
    timeout: float | None,
    request: httpx.Request,
) -> int:
    try:
        sock.settimeout(timeout)
        return sock.recv_into(buffer, size)
    except TimeoutError as error:
        raise httpx.ReadTimeout(str(error) or "timed out", request=request) from None
    except OSError as error:
        raise httpx.ReadError(str(error) or type(error).__name__, request=request) from None


def _plain_length(response: httpx.Response) -> int | None:
    headers = response.headers
    if response.http_version != "HTTP/1.1" or "transfer-encoding" in headers:
        return None
    if headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return None
    length = headers.get("content-length", "")
    return int(length) if length.isascii() and length.isdigit() else None


def _socket(response: httpx.Response) -> socket.socket | None:
    try:
        from httpcore._backends.sync import SyncStream
    except ImportError:  # pragma: no cover - a future httpcore: stream through httpx
        return None
    stream = response.extensions.get("network_stream")
    if type(stream) is not SyncStream:  # an in-process transport, a TLS-in-TLS tunnel, ...
        return None
    sock = stream.get_extra_info("socket")
    return sock if isinstance(sock, socket.socket) else None
