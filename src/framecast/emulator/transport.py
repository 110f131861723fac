"""An httpx transport that answers from an in-process EmulatorApp (no socket, no port).

Injected faults below HTTP become what httpx raises for them over a real socket:
a reset is RemoteProtocolError, a slow answer the client would give up on is
ReadTimeout (raised at once: the client's own timeout says it would have fired),
a cut body raises RemoteProtocolError mid-read, and a body cut without a length
simply arrives short.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from framecast.emulator.app import EmulatorApp
from framecast.emulator.wire import Request


class _CutStream(httpx.SyncByteStream):
    """Half of the body, then the connection drops."""

    def __init__(self, body: bytes, request: httpx.Request) -> None:
        self._body = body
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        half = len(self._body) // 2
        if half:
            yield self._body[:half]
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {half} bytes, expected {len(self._body)})",
            request=self._request,
        )


class EmulatorTransport(httpx.BaseTransport):
    def __init__(self, app: EmulatorApp) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = f"{url.scheme}://{url.netloc.decode('ascii')}"
        target = url.raw_path.decode("ascii")
        emu_request = Request.build(
            request.method, target, dict(request.headers), request.read(), origin
        )
        answer = self.app.handle(emu_request)
        kind = answer.disruption
        if kind == "reset":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if kind == "slow":
            timeout = request.extensions.get("timeout", {}).get("read")
            # A client willing to wait longer would simply get the answer late.
            if timeout is not None and answer.delay >= timeout:
                raise httpx.ReadTimeout("The read operation timed out", request=request)
        if kind == "cut":
            headers = [*answer.headers, ("content-length", str(len(answer.body)))]
            return httpx.Response(
                answer.status,
                headers=headers,
                stream=_CutStream(answer.body, request),
                request=request,
            )
        if kind == "cut-nolength":
            # Given a stream rather than content, httpx adds no Content-Length.
            return httpx.Response(
                answer.status,
                headers=[*answer.headers, ("connection", "close")],
                stream=httpx.ByteStream(answer.body[: len(answer.body) // 2]),
                request=request,
            )
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )

    def close(self) -> None:
        self.app.close()
