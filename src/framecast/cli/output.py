"""How a finished command reports a job on stdout: one field, a JSON document, or its path."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from framecast.domain import Job
from framecast.report import job_document, select
from framecast.results import print_json, print_result, value_text
from framecast.ui import console, summary


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
    fields: tuple[str, ...] | None = None,
) -> None:
    """A finished command's result: one field, the JSON document (only `fields` of it, when
    given), or the path (else the id)."""
    document = job_document(
        job, path=None if path is None else str(path), size=size, adjustments=adjustments
    )
    if print_field:
        print_result(value_text(select(document, (print_field,))[print_field]))
        return
    if json_mode:
        print_json(select(document, fields) if fields else document)
        return
    if path is not None or size is None:
        print_result(str(path) if path is not None else job.id)
    if not quiet:
        elapsed = None if started is None else time.monotonic() - started
        console(sys.stderr).print(summary(job, path, size, elapsed), soft_wrap=True)
