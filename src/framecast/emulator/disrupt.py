"""The answer a request gets when a fault rule fires for it (see faults.py).

Error faults answer before the request is handled, so a create that draws one
creates nothing; the others let it be handled first and then spoil the answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from framecast.emulator.faults import ERRORS, Rule
from framecast.emulator.nanogpt import NanoError
from framecast.emulator.validation import FORCED_OUTCOME
from framecast.emulator.wire import ApiError, Request, Response

# Faults the transport carries out, with the name it knows them by.
_TRANSPORT = {"reset-after": "reset", "slow": "slow", "cut": "cut", "cut-nolength": "cut-nolength"}
_ERROR_KINDS = {
    429: ("Rate limit reached; slow down and retry.", "rate_limit_error", "rate_limit_exceeded"),
    500: ("The server had an error processing your request.", "server_error", "internal_error"),
    502: ("Bad gateway: the upstream provider did not answer.", "server_error", "bad_gateway"),
    503: ("The service is temporarily unavailable.", "server_error", "service_unavailable"),
}
# What a misconfigured proxy or captive portal answers in place of the API.
HTML_PAGE = b"<html><body>Service paused</body></html>\n"


# Lumenfall's error codes (docs.lumenfall.ai/api-reference/errors), by HTTP status.
_LUMENFALL_CODES = {
    400: "INVALID_REQUEST",
    401: "AUTHENTICATION_FAILED",
    402: "INSUFFICIENT_BALANCE",
    404: "NOT_FOUND",
    413: "INVALID_REQUEST",
    415: "INVALID_REQUEST",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "ALL_PROVIDERS_EXHAUSTED",
    503: "UPSTREAM_ERROR",
}


def error_response(request: Request, error: ApiError, *, lumenfall: bool = False) -> Response:
    """An error in the envelope of the dialect the request was addressed to.

    `lumenfall`: the server speaks Lumenfall's dialect, whose API answers carry its own
    upper-case codes (an unknown model is MODEL_NOT_FOUND); signed media links do not.
    """
    if request.path.startswith("/api/"):
        answer = NanoError(error.status, error.message).response()
        answer.headers += error.headers
        return answer
    if lumenfall and not request.path.startswith("/media/"):
        error.code = lumenfall_code(error)
    return error.response()


def lumenfall_code(error: ApiError) -> str | None:
    if error.code == "model_not_found":
        return "MODEL_NOT_FOUND"
    return _LUMENFALL_CODES.get(error.status, error.code)


def _injected_error(rule: Rule, request: Request, lumenfall: bool) -> Response:
    status = int(rule.fault)
    message, kind, code = _ERROR_KINDS[status]
    headers = []
    if rule.arg is not None:
        # Retry-After only takes whole seconds; OpenAI's retry-after-ms carries the rest.
        headers = [
            ("retry-after", str(math.ceil(rule.arg))),
            ("retry-after-ms", str(round(rule.arg * 1000))),
        ]
    error = ApiError(status, message, type=kind, code=code, headers=headers)
    return error_response(request, error, lumenfall=lumenfall)


def _expired(request: Request, lumenfall: bool) -> Response:
    if request.path.startswith("/media/"):
        error = ApiError(
            410,
            "This signed link has expired; fetch the video again for a fresh URL.",
            code="url_expired",
        )
    else:
        error = ApiError(404, "The video's assets have expired.", code="video_expired")
    return error_response(request, error, lumenfall=lumenfall)


def _not_json(body: bytes) -> bytes:
    """The real answer cut short, so it cannot parse; a stub where that would still parse."""
    cut = body[: len(body) // 2]
    try:
        json.loads(cut)
    except ValueError:
        return cut
    return b'{"id": "'


def disrupt(
    rule: Rule,
    request: Request,
    handle: Callable[[Request], Response],
    *,
    lumenfall: bool = False,
) -> Response:
    """Answer `request` as `rule` says, calling `handle` when the request is to be handled."""
    fault = rule.fault
    if fault in ERRORS:
        answer = _injected_error(rule, request, lumenfall)
    elif fault == "expire":
        answer = _expired(request, lumenfall)
    elif fault == "reset-before":
        answer = Response(0, disruption="reset")
    elif fault == "fail":
        token = FORCED_OUTCOME.set("failed")
        try:
            answer = handle(request)
        finally:
            FORCED_OUTCOME.reset(token)
    else:
        answer = handle(request)
        if fault == "malformed":
            answer = Response(200, _not_json(answer.body), [("content-type", "application/json")])
        elif fault == "html":
            answer = Response(200, HTML_PAGE, [("content-type", "text/html; charset=utf-8")])
        else:
            answer.disruption = _TRANSPORT[fault]
            answer.delay = (rule.arg or 0.0) if fault == "slow" else 0.0
    answer.fault = rule.label
    return answer
