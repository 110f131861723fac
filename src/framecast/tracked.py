"""A job a run follows, with the provider that answers for it: what a job reference
resolves to (targets.py), and what a run waits on and delivers (jobrun.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from framecast.domain import Job
    from framecast.journal import Entry
    from framecast.providers.base import Provider


@dataclass(slots=True)
class Tracked:
    """A job this run follows, the provider that answers for it, and what became of it."""

    provider: Provider
    job: Job
    entry: Entry | None = None
    index: int | None = None  # numbers the videos of one request in file names
    row: int | None = None  # a batch's row number, for {row} in file names
    path: Path | None = None
    size: int | None = None
    confirmed: bool = False  # the provider has answered for this job (it exists)

    def __post_init__(self) -> None:
        self.confirmed = self.confirmed or self.entry is not None
