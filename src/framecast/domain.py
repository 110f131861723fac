"""Pure data shared by every layer: requests, jobs and their normalised status."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED}
)

# Every provider's vocabulary (see apis.md §6), compared case-insensitively.
_VOCABULARY = {
    "queued": JobStatus.QUEUED,
    "pending": JobStatus.QUEUED,
    "in_queue": JobStatus.QUEUED,
    "submitted": JobStatus.QUEUED,
    "in_progress": JobStatus.IN_PROGRESS,
    "processing": JobStatus.IN_PROGRESS,
    "generating": JobStatus.IN_PROGRESS,
    "delivering": JobStatus.IN_PROGRESS,
    "running": JobStatus.IN_PROGRESS,
    "started": JobStatus.IN_PROGRESS,
    "completed": JobStatus.COMPLETED,
    "succeeded": JobStatus.COMPLETED,
    "success": JobStatus.COMPLETED,
    "done": JobStatus.COMPLETED,
    "failed": JobStatus.FAILED,
    "failure": JobStatus.FAILED,
    "error": JobStatus.FAILED,
    "cancelled": JobStatus.CANCELLED,
    "canceled": JobStatus.CANCELLED,
    "expired": JobStatus.EXPIRED,
}


def normalise_status(raw: object) -> JobStatus | None:
    """The normalised status for a provider's value, or None when it is not one we know."""
    if not isinstance(raw, str):
        return None
    return _VOCABULARY.get(raw.strip().lower().replace("-", "_").replace(" ", "_"))


@dataclass(frozen=True, slots=True)
class JobError:
    code: str | None
    message: str


@dataclass(frozen=True, slots=True)
class JobRequest:
    """What the user asked for, in framecast's terms; providers translate it."""

    prompt: str
    model: str | None = None
    seconds: int | None = None
    size: str | None = None  # WIDTHxHEIGHT, W:H or "auto"
    aspect_ratio: str | None = None
    resolution: str | None = None  # a tier: 720p, 1K, ...
    n: int = 1
    images: tuple[str, ...] = ()  # local paths, https URLs or data: URIs
    video: str | None = None  # a source video (video-to-video, extend)
    negative_prompt: str | None = None
    seed: int | None = None
    audio: bool | None = None
    webhook_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    idempotency_key: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # passthrough fields
    # Which of a run's videos an extend without a prompt continues (NanoGPT, 0-3).
    extend_index: int | None = None

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready copy for the journal; never holds credentials or file contents."""
        record = asdict(self)
        record["images"] = [i if not i.startswith("data:") else "data:..." for i in self.images]
        if self.video and self.video.startswith("data:"):
            record["video"] = "data:..."
        return record


@dataclass(frozen=True, slots=True)
class Job:
    """A provider's job as framecast sees it at one moment."""

    id: str
    provider: str
    status: JobStatus
    model: str | None = None
    progress: int | None = None
    prompt: str | None = None
    seconds: int | None = None
    size: str | None = None
    created_at: float | None = None
    completed_at: float | None = None
    expires_at: float | None = None
    output_url: str | None = None
    error: JobError | None = None
    cost: float | None = None  # final, as the provider reports it
    cost_estimate: float | None = None
    currency: str | None = None
    raw_status: str | None = None  # the provider's own word, kept when it was unknown
    poll_after: float | None = None  # the provider's hint, in seconds
    eta: float | None = None  # seconds the provider expects the job still needs (not a hint)
    executed_model: str | None = None  # what a gateway actually ran (e.g. openai/sora-2)
    upstream: str | None = None  # the provider a gateway routed the job to
    balance: float | None = None  # the account balance a provider reported after charging
    payment_source: str | None = None  # what it charged (NanoGPT: USD or XNO)
    server_id: str | None = None  # another id this answer used for the job (kept as an alias)

    @property
    def finished(self) -> bool:
        return self.status.terminal

    def carried(self, before: Job) -> Job:
        """This view, with what an earlier view of the same job said and this one leaves out
        (NanoGPT's status answer names no prompt, length, pre-charge or balance)."""
        missing = {
            name: getattr(before, name)
            for name in _DESCRIBED
            if getattr(self, name) is None and getattr(before, name) is not None
        }
        return replace(self, **missing) if missing else self


# What describes a job rather than where it stands: kept from view to view.
_DESCRIBED = (
    "model",
    "prompt",
    "seconds",
    "size",
    "created_at",
    "cost_estimate",
    "currency",
    "balance",
    "payment_source",
    "executed_model",
    "upstream",
)
