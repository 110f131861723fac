"""Delivering a finished job: where its asset goes, and saving or streaming it there.

The run (jobrun.py) decides when; this module knows how: the target path from
`-o`, a file already saved that still verifies, the download itself (download.py),
and the journal's record of where the video went.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from framecast import download, verify
from framecast.domain import Job, JobStatus
from framecast.errors import UsageError
from framecast.journal import Entry, Journal
from framecast.saving import STDOUT, target_path
from framecast.tracked import Tracked

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import httpx

    from framecast.errors import ProviderUnavailable
    from framecast.providers.base import Provider, Variant


class Events(Protocol):
    """What a run reports as it goes; the display implements it."""

    def update(self, job: Job) -> None: ...

    def trouble(self, job: Job, error: ProviderUnavailable) -> None: ...

    def note(self, text: str) -> None: ...

    def download_started(self, job: Job, path: Path, total: int | None) -> None: ...

    def download_advanced(self, count: int) -> None: ...

    def download_finished(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """What to do with a finished job's asset."""

    output: str | None = None  # -o: a file, a directory, a template, or "-" (sink)
    save: bool = True  # False: only wait (wait without --download)
    force: bool = False
    variant: Variant = "video"
    sink: BinaryIO | None = None  # where "-o -" writes
    on_saved: Callable[[Job, Path, int], None] | None = None  # e.g. the .info.json sidecar


class _AssetSource:
    """A finished job's asset for download.py; a refused signed link is renewed once asked."""

    def __init__(
        self, tracked: Tracked, variant: Variant, renew: Callable[[Provider, str], Job]
    ) -> None:
        self.tracked = tracked
        self.variant = variant
        self._renew = renew

    def open(self, headers: dict[str, str]) -> AbstractContextManager[httpx.Response]:
        return self.tracked.provider.open_asset(self.tracked.job, self.variant, headers=headers)

    def renew(self) -> bool:
        provider = self.tracked.provider
        if provider.asset(self.tracked.job, self.variant).authenticated:
            return False  # not a signed link: asking again would give the same URL
        self.tracked.job = self._renew(provider, self.tracked.job.id)
        return self.tracked.job.status is JobStatus.COMPLETED


def deliver(
    item: Tracked,
    delivery: Delivery,
    *,
    journal: Journal,
    events: Events,
    renew: Callable[[Provider, str], Job],
    several: bool,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Save (or stream) a completed job's asset as `delivery` says; the video is journaled."""
    job, provider = item.job, item.provider
    source = _AssetSource(item, delivery.variant, renew)
    progress = download.Progress(on_bytes=events.download_advanced)
    if delivery.output == STDOUT:
        if delivery.sink is None:
            raise UsageError("-o - needs somewhere to write.")
        progress.on_start = lambda total: events.download_started(job, Path("-"), total)
        item.size = download.stream_to(
            source, delivery.sink, variant=delivery.variant, progress=progress, sleep=sleep
        )
        events.download_finished()
        return
    video = delivery.variant == "video"
    named = job if video else replace(job, id=f"{job.id}-{delivery.variant}")
    path = target_path(
        delivery.output,
        named,
        "mp4" if video else "webp",
        several=several,
        index=item.index,
        row=item.row,
    )
    if video and not delivery.force and already_saved(item.entry, path):
        item.path, item.size = path, item.entry.output_bytes if item.entry else None
        if delivery.on_saved is not None and item.size is not None:
            # The copy already there is the delivery: its sidecar is still asked for.
            delivery.on_saved(item.job, path, item.size)
        return
    progress.on_start = lambda total: events.download_started(job, path, total)
    key = download.partial_key(provider.name, provider.base_url, job.id, delivery.variant)
    item.path, item.size = download.save(
        source,
        path,
        key=key,
        variant=delivery.variant,
        force=delivery.force,
        progress=progress,
        sleep=sleep,
    )
    events.download_finished()
    if video and item.path != path and not delivery.force:
        twin = journal.get(provider.name, provider.base_url, job.id)
        if already_saved(twin, path) and twin is not None and twin.output_bytes == item.size:
            # Another run saved this very job at the target while this one downloaded it
            # too (two runs of one batch, two downloads of one id): one copy, not two.
            item.path.unlink(missing_ok=True)
            item.path = path
    if video:
        journal.set_output(job, provider.base_url, item.path, item.size)
    if delivery.on_saved is not None and video:
        delivery.on_saved(item.job, item.path, item.size)


def already_saved(entry: Entry | None, path: Path) -> bool:
    """The journal says this exact file is this job's complete download, and it verifies."""
    if entry is None or entry.output_path is None or entry.output_bytes is None:
        return False
    saved = Path(entry.output_path)
    try:
        return (
            saved == path.absolute()
            and saved.is_file()
            and saved.stat().st_size == entry.output_bytes
            and verify.problem(saved, "video") is None
        )
    except OSError:
        return False
