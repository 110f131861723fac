"""What `status ID` does: each job as its provider reports it now, recorded in the journal.

Kept apart from runs.py (submitting, waiting, downloading) so that a status check, which
scripts run in loops, loads neither the request checks nor the download machinery.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from framecast.errors import FramecastError
from framecast.journal import Entry, Journal
from framecast.report import expiry_warning, iso
from framecast.targets import close_all, resolve_targets

if TYPE_CHECKING:
    from framecast.domain import Job
    from framecast.settings import Settings


def refresh(
    refs: Sequence[str], settings: Settings, on_error: Callable[[FramecastError], None]
) -> Iterator[tuple[Job, Entry | None, str | None]]:
    """Each job, its journal entry, and a word about its output link expiring. One job
    that cannot be shown does not hide the others: later failures go to `on_error` and
    the first is raised at the end."""
    failures: list[FramecastError] = []
    with Journal.open_default() as journal:
        targets = resolve_targets(refs, journal, settings)
        try:
            for target in targets:
                deleted = None if target.entry is None else target.entry.deleted_at
                if deleted is not None:
                    # The provider no longer has it: the journal's last view is all there is.
                    when = iso(deleted) or "earlier"
                    yield target.job, target.entry, f"Deleted at the provider at {when}."
                    continue
                try:
                    job = target.provider.get(target.job.id)
                    journal.update(job, target.provider.base_url)
                except FramecastError as error:
                    if failures:
                        on_error(error)
                    failures.append(error)
                    continue
                yield job, target.entry, expiry_warning(job, time.time())
        finally:
            close_all(targets)
    if failures:
        raise failures[0]
