"""How a finished command reports a job on stdout: one field, a JSON document, or its path."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from framecast.domain import Job
from framecast.report import job_document
from framecast.ui import console, print_json, print_result, summary


def emit(
    job: Job,
    *,
    json_mode: bool,
    quiet: bool,
    path: Path | None = None,
    size: int | None = None,
    started: float | None = None,
    adjustments: list[str] | None = None,
    print_field: str | None = None,
) -> None:
    """A finished command's result: one field, the JSON document, or the path (else the id)."""
    if print_field:
        value = {
            "id": job.id,
            "path": None if path is None else str(path),
            "url": job.output_url,
            "status": job.status.value,
            "cost": job.cost,
        }[print_field]
        print_result("" if value is None else str(value))
        return
    if json_mode:
        print_json(
            job_document(
                job, path=None if path is None else str(path), size=size, adjustments=adjustments
            )
        )
        return
    if path is not None or size is None:
        print_result(str(path) if path is not None else job.id)
    if not quiet:
        elapsed = None if started is None else time.monotonic() - started
        console(sys.stderr).print(summary(job, path, size, elapsed), soft_wrap=True)
