"""framecast: submit, track and download AI video-generation jobs from the command line."""

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
