"""framecast's one exception tree, and the exit code each branch ends the process with.

    FramecastError
     ├── UsageError               2  bad flags or input; nothing was sent
     ├── ConfigError              3  no provider configured, missing key
     │    └── AuthError           3  the provider refused the credentials (401, 403)
     ├── ProviderError               an exchange with the provider went wrong
     │    ├── RequestRejected     4  the provider refused the request (other 4xx)
     │    └── ProviderUnavailable 5  5xx, an unreadable answer, or the network
     ├── JobFailed                6  the job finished as failed, cancelled or expired
     ├── WaitTimeout              7  the deadline passed with the job still running
     ├── BudgetExceeded           8  the estimate is above --max-cost (or unknown); nothing sent
     └── Interrupted            130  Ctrl-C; the job keeps running

Anything else is a bug (exit 1); a bare Ctrl-C also exits 130. The CLI maps these in one
place (`framecast.cli.app`). Messages say what happened and what to do next.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from framecast.domain import Job


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    CONFIG = 3
    REJECTED = 4
    UNAVAILABLE = 5
    JOB_FAILED = 6
    TIMEOUT = 7
    BUDGET = 8
    INTERRUPTED = 130


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.ERROR: "unexpected error (a bug; rerun with --traceback and report it)",
    ExitCode.USAGE: "bad usage or invalid input; nothing was sent",
    ExitCode.CONFIG: "configuration or authentication problem",
    ExitCode.REJECTED: "request rejected by the provider (4xx)",
    ExitCode.UNAVAILABLE: "provider or network failure",
    ExitCode.JOB_FAILED: "the job finished as failed (or cancelled or expired)",
    ExitCode.TIMEOUT: "timed out waiting; the job is still running (id and resume command printed)",
    ExitCode.BUDGET: "refused: the estimate is above --max-cost or cannot be priced; nothing sent",
    ExitCode.INTERRUPTED: "interrupted; the job keeps running (id and resume command printed)",
}


class FramecastError(Exception):
    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(FramecastError):
    exit_code = ExitCode.USAGE


class ConfigError(FramecastError):
    exit_code = ExitCode.CONFIG


class ProviderError(FramecastError):
    exit_code = ExitCode.UNAVAILABLE

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.body = body

    @classmethod
    def from_response(cls, response: httpx.Response) -> ProviderError:
        """The error a non-2xx answer means, read from any of the envelopes seen in the wild."""
        status = response.status_code
        message, code = _read_envelope(response)
        detail = f"HTTP {status}" + (f" {code}" if code else "") + f": {message}"
        request_id = response.headers.get("x-request-id") or response.headers.get("request-id")
        error_cls: type[ProviderError]
        hint = None
        if status in (401, 403):
            error_cls = AuthError
            hint = "Check the API key for this provider (environment variable or --api-key)."
        elif 400 <= status < 500 and status not in (408, 429):
            error_cls = RequestRejected
        else:
            error_cls = ProviderUnavailable
        text = response.text[:2000] if _is_text(response) else None
        return error_cls(
            detail, status=status, code=code, request_id=request_id, body=text, hint=hint
        )


class AuthError(ConfigError, ProviderError):
    exit_code = ExitCode.CONFIG


class RequestRejected(ProviderError):
    exit_code = ExitCode.REJECTED


class ProviderUnavailable(ProviderError):
    exit_code = ExitCode.UNAVAILABLE


class _AboutJobs(FramecastError):
    """An outcome that concerns particular jobs, which it carries."""

    def __init__(self, jobs: list[Job], message: str) -> None:
        super().__init__(message)
        self.jobs = jobs


class JobFailed(_AboutJobs):
    exit_code = ExitCode.JOB_FAILED


class BudgetExceeded(FramecastError):
    exit_code = ExitCode.BUDGET


class Interrupted(FramecastError):
    """Ctrl-C while jobs were running: they carry on at the provider."""

    exit_code = ExitCode.INTERRUPTED


class WaitTimeout(_AboutJobs):
    exit_code = ExitCode.TIMEOUT


def _is_text(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    return kind.startswith(("application/json", "text/")) or not kind


def _read_envelope(response: httpx.Response) -> tuple[str, str | None]:
    """(message, code) from {"error": {...}}, {"error": "..."}, {"message": ...} or plain text."""
    try:
        payload: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        text = response.text.strip() if _is_text(response) else ""
        return (text[:300] or response.reason_phrase or "no details given"), None
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("type") or "no details given"
            code = error.get("code") or error.get("type")
            return str(message), None if code is None else str(code)
        if isinstance(error, str):
            return str(payload.get("message") or error), payload.get("code") or payload.get(
                "error_code"
            )
        if "message" in payload:
            return str(payload["message"]), payload.get("code") or payload.get("error_code")
    return str(payload)[:300], None
