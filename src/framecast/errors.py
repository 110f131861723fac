"""framecast's one exception tree, and the exit code each branch ends the process with.

    FramecastError
     ├── UsageError               2  bad flags or input; nothing was sent
     ├── ConfigError              3  no provider configured, missing key
     │    └── AuthError           3  the provider refused the credentials (401, 403)
     ├── ProviderError               an exchange with the provider went wrong
     │    ├── RequestRejected     4  the provider refused the request (other 4xx)
     │    │    └── WebhookRejected    a webhook delivery whose signature or timestamp fails
     │    └── ProviderUnavailable 5  5xx, an unreadable answer, or the network
     │         ├── SubmissionUnknown   a submission whose outcome is unknown: the job may exist
     │         └── BadDownload         what arrived is not the asset that was asked for
     ├── JobFailed                6  the job finished as failed, cancelled or expired
     ├── WaitTimeout              7  the deadline passed with the job still running
     ├── BudgetExceeded           8  the estimate is above --max-cost (or unknown); nothing sent
     ├── LocalIOError             9  a local file or the journal could not be read or written
     └── Interrupted            130  Ctrl-C (143 for SIGTERM); the job keeps running

Anything else is a bug (exit 1); a bare Ctrl-C also exits 130. The CLI maps these in one
place (`framecast.cli.app`). Messages say what happened and what to do next. Once a job
exists, whatever ends the run carries a note naming it and the command that resumes it
(`BaseException.add_note`), which the funnel prints after the message.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
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
    LOCAL_IO = 9
    INTERRUPTED = 130
    TERMINATED = 143


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.ERROR: "unexpected error (a bug; rerun with --traceback and report it)",
    ExitCode.USAGE: "bad usage, invalid input, or a thing the provider cannot do; nothing was sent",
    ExitCode.CONFIG: "configuration or authentication problem",
    ExitCode.REJECTED: "rejected: a request by the provider (4xx), or a webhook that fails",
    ExitCode.UNAVAILABLE: "provider or network failure",
    ExitCode.JOB_FAILED: "the job finished as failed (or cancelled or expired)",
    ExitCode.TIMEOUT: "timed out waiting; the job is still running (id and resume command printed)",
    ExitCode.BUDGET: "refused: over --max-cost or --max-daily-cost, or unpriced; nothing sent",
    ExitCode.LOCAL_IO: "local I/O error (disk full, permission, journal); the file is named",
    ExitCode.INTERRUPTED: "interrupted; the job keeps running (id and resume command printed)",
    ExitCode.TERMINATED: "terminated (SIGTERM); as 130",
}


@dataclass(frozen=True, slots=True)
class Resume:
    """Jobs that exist at a provider when a run ends, and the command that picks them up."""

    job_ids: tuple[str, ...]
    verb: str = "wait"  # wait | download | sync
    output: str | None = None
    download: bool = False
    variant: str | None = None
    settle: bool = False  # other submissions of the run have an unknown outcome

    def command(self) -> str:
        words = ["framecast", self.verb, *self.job_ids]
        if self.output is not None:
            words += ["-o", self.output]
        elif self.download and self.verb == "wait":
            words.append("--download")
        if self.variant and self.variant != "video":
            words += ["--variant", self.variant]
        return shlex.join(words)

    def sentence(self) -> str:
        if self.verb == "sync":
            return "Find out whether it was created with: framecast sync"
        ids = ", ".join(self.job_ids)
        text = f"Job(s) {ids} exist at the provider. Resume with: {self.command()}"
        if self.settle:
            text += " (and settle the submission(s) of unknown outcome with: framecast sync)"
        return text


class FramecastError(Exception):
    exit_code = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.resume: Resume | None = None  # set once jobs exist, so every way out names them
        self.known_jobs: list[Job] = []  # the jobs that exist, for --json and --print


class UsageError(FramecastError):
    exit_code = ExitCode.USAGE


class AlreadySubmitted(UsageError):
    """The same request is journaled already (in flight, or made): nothing was sent."""

    def __init__(self, message: str, *, hint: str | None = None, job_id: str) -> None:
        super().__init__(message, hint=hint)
        self.job_id = job_id  # the journal entry's id (a local- id while it is being sent)


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
        # The request reached the server, which may have acted on it (a submission:
        # the job may exist) although no usable answer came back.
        self.may_have_acted = False
        self.retry_after: float | None = None  # seconds the server asked to be left alone

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


class WebhookRejected(RequestRejected):
    """A webhook delivery that is not what the provider signed, or not from now (exit 4)."""


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
    """Ctrl-C (or SIGTERM) while jobs were running: they carry on at the provider."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str, *, hint: str | None = None, signal: str = "SIGINT") -> None:
        super().__init__(message, hint=hint)
        if signal == "SIGTERM":
            self.exit_code = ExitCode.TERMINATED


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be so that both leave the same way (exit 143)."""


class SubmissionUnknown(ProviderUnavailable):
    """The submission may or may not have created a (billed) job; the journal says `unknown`."""


class BadDownload(ProviderUnavailable):
    """The bytes that arrived are not the asset asked for (an HTML page, a cut body, ...)."""


class LocalIOError(FramecastError):
    """A file of the user's or of framecast's own could not be read or written."""

    exit_code = ExitCode.LOCAL_IO

    @classmethod
    def from_os(cls, error: OSError, *, action: str, path: object = None) -> LocalIOError:
        """One line naming the file and the operating system's reason."""
        where = path if path is not None else error.filename
        reason = error.strerror or str(error) or type(error).__name__
        target = f" {where}" if where is not None else ""
        return cls(f"Could not {action}{target}: {reason}.")


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
