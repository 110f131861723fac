"""framecast: submit, track and download AI video-generation jobs from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framecast.domain import Job, JobError, JobRequest, JobStatus
    from framecast.errors import ExitCode, FramecastError

__version__ = "0.1.0"

__all__ = [
    "ExitCode",
    "FramecastError",
    "Job",
    "JobError",
    "JobRequest",
    "JobStatus",
    "__version__",
]

# The public names load on first use (PEP 562): every run imports this package for
# __version__, and `framecast --version` needs nothing else from it.
_HOMES = {
    "Job": "framecast.domain",
    "JobError": "framecast.domain",
    "JobRequest": "framecast.domain",
    "JobStatus": "framecast.domain",
    "ExitCode": "framecast.errors",
    "FramecastError": "framecast.errors",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'framecast' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
