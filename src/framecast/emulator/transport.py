"""An httpx transport that answers from an in-process EmulatorApp (no socket, no port)."""

from __future__ import annotations

import httpx

from framecast.emulator.app import EmulatorApp
from framecast.emulator.wire import Request


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
        return httpx.Response(
            answer.status, headers=answer.headers, content=answer.body, request=request
        )

    def close(self) -> None:
        self.app.close()
