"""Everything framecast shows: results on stdout, progress and messages on stderr.

Consoles are built with markup, highlighting and emoji off, so prompts, file
names and server messages (which often contain [brackets]) print as written,
and every string they render loses control characters and escape sequences
(untrusted.clean), so text from a server or the journal cannot drive the
terminal. rich.progress loads only when a live display is actually drawn.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framecast.domain import Job, JobStatus
from framecast.report import entry_phrase, human_bytes, money, status_phrase
from framecast.untrusted import clean

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from framecast.catalog import ModelInfo
    from framecast.errors import ProviderUnavailable
    from framecast.journal import Entry
    from framecast.pricing import Estimate


_C1 = re.compile("[\x7f-\x9f\u2028\u2029]")


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

    def close(self) -> None: ...


class NotesOnly(Display):
    """Notes for the person, and nothing else (generate --no-wait)."""

    def __init__(self, err: Console) -> None:
        self.err = err

    def note(self, text: str) -> None:
        self.err.print(f"Note: {text}", soft_wrap=True)


class PlainDisplay(Display):
    """One line per status change: readable in CI logs, no redrawing."""

    def __init__(self, err: Console) -> None:
        self.err = err
        self._seen: dict[str, tuple[JobStatus, str | None]] = {}
        self._started = time.monotonic()

    def _line(self, text: str) -> None:
        self.err.print(text, soft_wrap=True)

    def update(self, job: Job) -> None:
        state = (job.status, job.raw_status)
        if self._seen.get(job.id) == state:
            return
        self._seen[job.id] = state
        elapsed = time.monotonic() - self._started
        self._line(f"{job.id}: {status_phrase(job)} ({elapsed:.0f}s)")

    def trouble(self, job: Job, error: ProviderUnavailable) -> None:
        self._line(f"{job.id}: could not check on the job ({error.message}); will retry")

    def note(self, text: str) -> None:
        self._line(f"Note: {text}")

    def download_started(self, job: Job, path: Path, total: int | None) -> None:
        size = "" if total is None else f" ({human_bytes(total)})"
        self._line(f"{job.id}: downloading to {path}{size}")


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


def make_display(err: Console, *, quiet: bool = False, mode: str = "auto") -> Display:
    """auto: a live bar on a terminal (not TERM=dumb), plain lines otherwise; or as asked."""
    if quiet or mode == "none":
        return Display()
    if mode == "plain":
        return PlainDisplay(err)
    if mode == "bar" or (err.is_terminal and not err.is_dumb_terminal):
        return LiveDisplay(err)
    return PlainDisplay(err)


def print_json(document: dict[str, Any]) -> None:
    """One JSON object per line on stdout (JSON Lines), for scripts.

    JSON escapes C0 controls itself; C1 controls and line separators are escaped
    too, since some terminals act on them even when they arrive inside a string.
    """
    text = _C1.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(document, ensure_ascii=False))
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def print_result(text: str) -> None:
    """One plain result line on stdout (a path, an id, a field), cleaned like all shown text."""
    sys.stdout.write(clean(text, keep_newlines=False) + "\n")
    sys.stdout.flush()


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


def job_details(out: Console, job: Job, path: str | None) -> None:
    """`framecast status ID` in human form: one field per line."""
    from rich.table import Table

    from framecast.report import iso

    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows: list[tuple[str, str | None]] = [
        ("id", job.id),
        ("provider", job.provider),
        ("model", job.model),
        ("status", status_phrase(job)),
        ("prompt", job.prompt),
        ("seconds", None if job.seconds is None else str(job.seconds)),
        ("size", job.size),
        ("created", iso(job.created_at)),
        ("completed", iso(job.completed_at)),
        ("expires", iso(job.expires_at)),
        ("url", job.output_url),
        ("saved to", path),
        ("error", None if job.error is None else f"{job.error.message} ({job.error.code})"),
        ("cost", money(job.cost, job.currency)),
        ("estimate", money(job.cost_estimate, job.currency) if job.cost is None else None),
    ]
    for name, value in rows:
        if value is not None:
            table.add_row(name, value)
    out.print(table)


def jobs_table(out: Console, entries: Iterable[Entry]) -> None:
    """`framecast status` with no id: recent jobs from the journal, newest first."""
    from rich.table import Table

    from framecast.report import iso

    rows: list[list[str]] = []
    total = 0.0
    priced = 0
    for n, entry in enumerate(entries, start=1):
        job = entry.job
        created = iso(job.created_at or entry.submitted_at) or ""
        cost = money(job.cost, job.currency) or (
            f"~{money(job.cost_estimate, job.currency)}" if job.cost_estimate is not None else ""
        )
        if job.cost is not None:
            total += job.cost
            priced += 1
        row = [
            f"@{n}",
            job.id,
            entry_phrase(entry),
            job.model or "",
            created[:16].replace("T", " "),
            cost,
            entry.output_path or "",
            job.prompt or "",
        ]
        rows.append([clean(cell, keep_newlines=False) for cell in row])
    headers = ["#", "ID", "STATUS", "MODEL", "CREATED", "COST", "OUTPUT", "PROMPT"]
    # The first six columns always show in full; OUTPUT and PROMPT share what is left
    # (Rich would otherwise squeeze every column, the short ones to nothing).
    essential = sum(max(len(headers[i]), *(len(r[i]) for r in rows)) + 2 for i in range(6))
    spare = out.width - essential
    shown = 8 if spare >= 24 else 6
    table = Table(box=None, pad_edge=False, header_style="bold")
    for i, name in enumerate(headers[:shown]):
        if i < 6:
            table.add_column(name, no_wrap=True, justify="right" if name == "COST" else "left")
        else:
            table.add_column(
                name, no_wrap=True, overflow="ellipsis", max_width=max(8, spare // 2 - 2)
            )
    for row in rows:
        table.add_row(*row[:shown])
    out.print(table)
    if priced:
        out.print(f"Spent {money(total, 'USD')} on {priced} job(s) shown.")


def estimate_table(out: Console, estimate: Estimate, *, provider: str | None, n: int) -> None:
    """`framecast estimate` in human form: the breakdown, the total, and where it came from."""
    from rich.table import Table

    shape = " · ".join(
        part
        for part in (
            estimate.model,
            f"{estimate.seconds} s" if estimate.seconds else None,
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
