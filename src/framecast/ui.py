"""Everything framecast shows: results on stdout, progress and messages on stderr.

Consoles are built with markup, highlighting and emoji off, so prompts, file
names and server messages (which often contain [brackets]) print as written,
and every string they render loses control characters and escape sequences
(untrusted.clean), so text from a server or the journal cannot drive the
terminal. rich.progress loads only when a live display is actually drawn.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framecast.domain import Job, JobStatus
from framecast.report import human_bytes, money, status_phrase
from framecast.results import value_text
from framecast.untrusted import clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from framecast.batchplan import BatchPrice
    from framecast.catalog import ModelInfo
    from framecast.errors import ProviderUnavailable
    from framecast.pricing import Estimate


def console(stream: Any) -> Console:
    from rich.console import Console

    class SafeConsole(Console):
        """Every plain string it draws, cells of tables included, is cleaned first."""

        def render_str(self, text: str, **kwargs: Any) -> Any:
            return super().render_str(clean(text), **kwargs)

    return SafeConsole(file=stream, markup=False, highlight=False, emoji=False)


class Display:
    """Receives the core's progress callbacks; this base class shows nothing (--quiet)."""

    def update(self, job: Job) -> None: ...

    def trouble(self, job: Job, error: ProviderUnavailable) -> None: ...

    def note(self, text: str) -> None: ...

    def download_started(self, job: Job, path: Path, total: int | None) -> None: ...

    def download_advanced(self, count: int) -> None: ...

    def download_finished(self) -> None: ...

    def tick(self) -> float | None:
        """Called while the run waits between polls: show what is due now, and say how many
        seconds may pass before the next call (None: no need to be called)."""
        return None

    def close(self) -> None: ...


class NotesOnly(Display):
    """Notes for the person, and nothing else (generate --no-wait)."""

    def __init__(self, err: Console) -> None:
        self.err = err

    def note(self, text: str) -> None:
        self.err.print(f"Note: {text}", soft_wrap=True)


@dataclass(slots=True)
class _Watched:
    """What the plain display remembers of one job: its last view and line, its pace."""

    job: Job
    last_line: float
    first: tuple[float, int] | None = None  # (when, percent) of the first progress seen
    latest: tuple[float, int] | None = None  # (when, percent) the progress last rose


class PlainDisplay(Display):
    """One line per status change, and a heartbeat line at least every `heartbeat` seconds
    while a job runs (status, percent, elapsed, ETA): readable in CI logs, no redrawing,
    never silent long enough to look hung."""

    def __init__(
        self,
        err: Console,
        *,
        heartbeat: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.err = err
        self.heartbeat = heartbeat if heartbeat > 0 else None
        self._clock = clock
        self._started = clock()
        self._watched: dict[str, _Watched] = {}

    def _line(self, text: str) -> None:
        self.err.print(text, soft_wrap=True)

    def _report(self, watched: _Watched, now: float) -> None:
        job = watched.job
        timing = duration(now - self._started)
        eta = _eta(watched, now) if not job.finished else None
        if eta is not None:
            timing += f", ETA {duration(eta)}"
        self._line(f"{job.id}: {status_phrase(job)} ({timing})")
        watched.last_line = now

    def update(self, job: Job) -> None:
        now = self._clock()
        watched = self._watched.get(job.id)
        changed = watched is None or (watched.job.status, watched.job.raw_status) != (
            job.status,
            job.raw_status,
        )
        if watched is None:
            watched = self._watched[job.id] = _Watched(job, now)
        watched.job = job
        if job.progress is not None:
            if watched.first is None or job.progress < watched.first[1]:
                watched.first = watched.latest = (now, job.progress)
            elif watched.latest is None or job.progress > watched.latest[1]:
                watched.latest = (now, job.progress)
        if changed:
            self._report(watched, now)

    def tick(self) -> float | None:
        if self.heartbeat is None:
            return None
        now = self._clock()
        waits: list[float] = []
        for watched in self._watched.values():
            if watched.job.finished:
                continue
            if now - watched.last_line >= self.heartbeat - 1e-9:
                self._report(watched, now)
            waits.append(watched.last_line + self.heartbeat - now)
        return min(waits, default=None)

    def trouble(self, job: Job, error: ProviderUnavailable) -> None:
        self._line(f"{job.id}: could not check on the job ({error.message}); will retry")

    def note(self, text: str) -> None:
        self._line(f"Note: {text}")

    def download_started(self, job: Job, path: Path, total: int | None) -> None:
        size = "" if total is None else f" ({human_bytes(total)})"
        self._line(f"{job.id}: downloading to {path}{size}")


def _eta(watched: _Watched, now: float) -> float | None:
    """Seconds left at the pace seen so far (from the first progress seen to the latest rise);
    None before the progress has moved, or once that pace says it should be done."""
    if watched.first is None or watched.latest is None:
        return None
    (t0, p0), (t1, p1) = watched.first, watched.latest
    if p1 <= p0 or t1 <= t0 or p1 >= 100:
        return None
    left = t1 + (100 - p1) * (t1 - t0) / (p1 - p0) - now
    return left if left >= 0.5 else None


def duration(seconds: float) -> str:
    """6s, 2m05s, 1h02m: elapsed times and ETAs in progress lines."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class LiveDisplay(Display):
    """A live Rich display: a bar per job (status, %, elapsed, ETA), a transfer bar per download."""

    def __init__(self, err: Console) -> None:
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.table import Column

        self._progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn(
                "{task.description}", markup=False, table_column=Column(ratio=2, no_wrap=True)
            ),
            BarColumn(bar_width=None, table_column=Column(ratio=3)),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[transfer]}", markup=False),
            console=err,
            transient=False,
            refresh_per_second=8,
            speed_estimate_period=60,
        )
        self._jobs: dict[str, TaskID] = {}
        self._download: TaskID | None = None
        self._live = True
        self._progress.start()

    def update(self, job: Job) -> None:
        description = f"{job.id} {job.status.value}"
        if job.raw_status:
            description += f" ({job.raw_status})"
        description = clean(description, keep_newlines=False)
        task = self._jobs.get(job.id)
        if task is None:
            task = self._progress.add_task(description, total=100, transfer="")
            self._jobs[job.id] = task
        completed = 100 if job.status is JobStatus.COMPLETED else job.progress
        self._progress.update(task, description=description, completed=completed)
        if job.finished:
            self._progress.stop_task(task)

    def trouble(self, job: Job, error: ProviderUnavailable) -> None:
        self._progress.console.print(
            f"{job.id}: could not check on the job ({error.message}); will retry"
        )

    def note(self, text: str) -> None:
        self._progress.console.print(f"Note: {text}", soft_wrap=True)

    def download_started(self, job: Job, path: Path, total: int | None) -> None:
        name = clean(path.name, keep_newlines=False)
        self._download = self._progress.add_task(f"↓ {name}", total=total, transfer="")

    def download_advanced(self, count: int) -> None:
        if self._download is None:
            return
        self._progress.advance(self._download, count)
        task = next(t for t in self._progress.tasks if t.id == self._download)
        transfer = human_bytes(task.completed)
        if task.total is not None:
            transfer += f" of {human_bytes(task.total)}"
        if task.speed:
            transfer += f" at {human_bytes(task.speed)}/s"
        self._progress.update(self._download, transfer=transfer)

    def download_finished(self) -> None:
        if self._download is not None:
            self._progress.stop_task(self._download)
            self._download = None

    def close(self) -> None:
        if self._live:
            self._live = False
            self._progress.stop()


def make_display(
    err: Console, *, quiet: bool = False, mode: str = "auto", heartbeat: float = 30.0
) -> Display:
    """auto: a live bar on a terminal (not TERM=dumb), plain lines otherwise; or as asked.

    Plain lines come on each status change and at least every `heartbeat` seconds while a
    job runs (0 or less: only on changes); the live bar redraws itself.
    """
    if quiet or mode == "none":
        return Display()
    if mode == "plain":
        return PlainDisplay(err, heartbeat=heartbeat)
    if mode == "bar" or (err.is_terminal and not err.is_dumb_terminal):
        return LiveDisplay(err)
    return PlainDisplay(err, heartbeat=heartbeat)


def summary(job: Job, path: Path | None, size: int | None, elapsed: float | None) -> str:
    """The closing line of a finished job, for stderr."""
    parts = [f"Saved {path}" if path is not None else f"{job.id} {job.status.value}"]
    if size is not None:
        parts.append(human_bytes(size))
    shape = " ".join(p for p in (f"{job.seconds}s" if job.seconds else None, job.size) if p)
    if shape:
        parts.append(shape)
    if job.model:
        parts.append(job.model)
    cost = money(job.cost, job.currency)
    if cost is not None:
        parts.append(f"cost {cost}")
    if elapsed is not None:
        parts.append(f"{elapsed:.1f}s")
    return " · ".join(parts)


def print_tsv(rows: Iterable[Iterable[object]]) -> None:
    """Tab-separated lines on stdout, every value in full (no markup, no cutting), cleaned."""
    sys.stdout.write("".join("\t".join(value_text(v) for v in row) + "\n" for row in rows))
    sys.stdout.flush()


def job_details(out: Console, rows: Iterable[tuple[str, str]]) -> None:
    """`framecast status ID` in human form: one field per line; long values (a signed URL)
    wrap onto more lines, never cut."""
    from rich.table import Table

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in rows:
        table.add_row(name, clean(value))
    out.print(table)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """A column of the `status` table and how it gives way when the terminal is narrow.

    `keep`: always shown in full (ids, status). The others claim the width left in `rank`
    order (lowest first): each its full width, or what is left if that is at least `least`
    cells (None: full width or nothing); one that cannot is left out. `fold` wraps a
    narrowed column's text onto more lines; otherwise it is shortened with an ellipsis
    (free text such as a prompt).
    """

    header: str
    keep: bool = False
    rank: int = 0
    least: int | None = 12  # None: shown whole or not at all
    fold: bool = True
    right: bool = False


GUTTER = 2  # cells between two columns


def jobs_table(
    out: Console,
    columns: Sequence[ColumnSpec],
    rows: Sequence[Sequence[str]],
    footer: str | None = None,
) -> None:
    """`framecast status` with no id: recent jobs, laid out to the console's width so that
    ids, @N and status are never cut (Rich alone would squeeze every column)."""
    from rich.cells import cell_len
    from rich.table import Table

    cells = [[clean(cell, keep_newlines=False) for cell in row] for row in rows]
    natural = [
        max(cell_len(column.header), *(cell_len(row[i]) for row in cells), 1)
        for i, column in enumerate(columns)
    ]
    widths: dict[int, int] = {i: natural[i] for i, c in enumerate(columns) if c.keep}
    used = sum(widths.values()) + GUTTER * max(0, len(widths) - 1)
    squeezed = used > out.width
    if not squeezed:
        # In rank order, each column takes its full width, or what is left if that is at
        # least its `least`; a column that cannot have even that is left out.
        for _, i in sorted((c.rank, i) for i, c in enumerate(columns) if not c.keep):
            gap = GUTTER if widths else 0
            left = out.width - used - gap
            least = columns[i].least
            if least is None:
                least = natural[i]
            if left >= min(natural[i], least):
                widths[i] = min(natural[i], left)
                used += gap + widths[i]
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, GUTTER // 2))
    shown = sorted(widths)
    for i in shown:
        column = columns[i]
        table.add_column(
            column.header,
            justify="right" if column.right else "left",
            # Kept columns that cannot all fit fold (wrap) rather than lose characters.
            width=None if squeezed else widths[i],
            no_wrap=not squeezed and (column.keep or not column.fold),
            overflow="fold" if squeezed or column.fold else "ellipsis",
        )
    for row in cells:
        table.add_row(*(row[i] for i in shown))
    out.print(table)
    if footer:
        out.print(footer)


def estimate_table(
    out: Console,
    estimate: Estimate,
    *,
    provider: str | None,
    n: int,
    asked_seconds: int | None = None,
) -> None:
    """`framecast estimate` in human form: the breakdown, the total, and where it came from
    (with the length asked for, when what is priced differs from it)."""
    from rich.table import Table

    asked = (
        f" (asked {asked_seconds} s)"
        if asked_seconds is not None and asked_seconds != estimate.seconds
        else ""
    )
    shape = " · ".join(
        part
        for part in (
            estimate.model,
            f"{estimate.seconds} s{asked}" if estimate.seconds else None,
            estimate.size,
            f"n={n}" if n > 1 else None,
            f"via {provider}" if provider else None,
        )
        if part
    )
    out.print(shape)
    table = Table.grid(padding=(0, 3))
    for justify in ("left", "right", "right"):
        table.add_column(justify=justify)
    for line in estimate.lines:
        unit = f"{line.quantity:g} {line.unit} x {money(line.unit_price, estimate.currency)}"
        table.add_row(f"  {line.description}", unit, money(line.total, estimate.currency) or "")
    total = money(estimate.total, estimate.currency) if estimate.total is not None else "unknown"
    table.add_row(
        "  total", "", f"{total} {estimate.currency}" if estimate.total is not None else total
    )
    out.print(table)
    out.print(f"priced by: {estimate.describe_source()}", soft_wrap=True)
    for source in estimate.sources:
        out.print(f"  source: {source}", soft_wrap=True)
    for item in estimate.unpriced:
        out.print(f"not priced: {item}", soft_wrap=True)


def models_table(out: Console, models: Iterable[ModelInfo]) -> None:
    """`framecast models`: one line per model."""
    from rich.table import Table

    from framecast.report import durations_text, price_range

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("MODEL", "MODES", "SECONDS", "RATIOS", "TIERS", "PER SECOND"):
        table.add_column(name, no_wrap=name in ("MODEL", "PER SECOND"))
    for model in models:
        table.add_row(
            model.id,
            " ".join(model.modes) or "?",
            durations_text(model.durations),
            " ".join(model.aspect_ratios) or "?",
            " ".join(model.resolutions) or "?",
            price_range(model),
        )
    out.print(table)


def model_details(out: Console, model: ModelInfo) -> None:
    """`framecast models MODEL`: sizes with their ratio, tier and price; prices with sources."""
    from rich.table import Table

    from framecast.report import durations_text

    out.print(
        f"{model.id} · {model.name} · {model.creator}"
        + (f" (from {model.source})" if model.source != "bundled" else "")
    )
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for label, value in (
        ("modes", " ".join(model.modes)),
        (
            "seconds",
            durations_text(model.durations)
            + (f" (default {model.default_seconds})" if model.default_seconds else ""),
        ),
        ("aspect ratios", " ".join(model.aspect_ratios)),
        ("tiers", " ".join(model.resolutions)),
        ("audio", model.audio or "no"),
        ("reference images", str(model.max_references)),
        ("aliases", ", ".join(model.aliases)),
    ):
        if value:
            facts.add_row(label, value)
    out.print(facts)
    if model.sizes:
        sizes = Table(box=None, pad_edge=False, header_style="bold")
        for name in ("SIZE", "RATIO", "TIER", "PER SECOND"):
            sizes.add_column(name)
        for option in model.sizes:
            price = model.price_for(option.size)
            default = " (default)" if option.size == model.default_size else ""
            sizes.add_row(
                option.size + default,
                option.aspect_ratio,
                option.resolution,
                "?" if price is None else money(price.per_second, price.currency) or "?",
            )
        out.print(sizes)
    for price in model.prices:
        scope = ", ".join(price.sizes) if price.sizes else "all sizes"
        if price.audio is not None:
            scope += ", with audio" if price.audio else ", without audio"
        rate = f"{money(price.per_second, price.currency)}/s"
        out.print(f"{rate} ({scope}): {price.source}, as of {price.as_of}", soft_wrap=True)
    for extra in model.inputs:
        rate = f"{money(extra.amount, extra.currency)} per {extra.per}"
        out.print(f"{extra.kind} input: {rate}: {extra.source}", soft_wrap=True)


def settings_table(out: Console, rows: Iterable[tuple[str, Any, str]]) -> None:
    """`framecast config show`: each setting, its value and where it came from."""
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("SETTING", "VALUE", "SOURCE"):
        table.add_column(name, overflow="fold")
    for key, value, source in rows:
        shown = (
            ""
            if value is None
            else json.dumps(value)
            if isinstance(value, dict | list | bool)
            else str(value)
        )
        table.add_row(key, shown, source)
    out.print(table)


def batch_estimate_table(out: Console, cost: BatchPrice, *, provider: str | None) -> None:
    """`framecast estimate FILE` in human form: a line per row, the total, the unpriced."""
    from rich.table import Table

    table = Table(box=None, padding=(0, 2), show_edge=False)
    for name, justify in (("row", "right"), ("line", "right"), ("model", "left")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for name in ("seconds", "size", "price"):
        table.add_column(name, justify="right" if name != "size" else "left")
    for priced in cost.rows:
        estimate = priced.estimate
        price = f"{estimate.total:.2f}" if estimate.total is not None else None
        table.add_row(
            str(priced.row.row.number),
            str(priced.row.row.line),
            estimate.model or "",
            f"{estimate.seconds} s" if estimate.seconds else "",
            estimate.size or "",
            f"{price} {estimate.currency}" if price else "unknown",
        )
    out.print(table)
    via = f" (via {provider})" if provider else " (framecast's price table)"
    out.print(f"total: {cost.describe()} for {len(cost.rows)} row(s){via}", soft_wrap=True)
    for priced in cost.unpriced:
        reasons = "; ".join(priced.estimate.unpriced) or "no price"
        out.print(f"not priced: row {priced.row.row.number}: {reasons}", soft_wrap=True)
