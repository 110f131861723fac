"""What `framecast batch` and `framecast estimate FILE` do, from typed settings to a report,
without the command line: the file read and checked (batchplan), priced and held to the
caps, then run (batchrun) against one provider client and the journal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from framecast import batchplan, batchrun, saving
from framecast.domain import Job, JobStatus
from framecast.errors import JobFailed, SubmissionUnknown, UsageError
from framecast.journal import Journal
from framecast.settings import Settings, poll_policy

if TYPE_CHECKING:
    from framecast.providers.base import Provider

Note = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """How `batch` reads its file and runs its rows."""

    path: Path
    form: str | None = None  # jsonl | csv | toml; None: from the file's name
    shard: str | None = None  # K/N
    skip_invalid: bool = False
    concurrency: int | None = None  # None: the provider's own default
    wait: bool = True
    retry_failed: bool = False
    force: bool = False
    on_saved: Callable[[Job, Path, int], None] | None = None


def plan(
    how: BatchRequest, settings: Settings, note: Note, *, offline_ok: bool = False
) -> batchplan.BatchPlan:
    """Every row read and checked. Problems refuse the batch before anything is sent, unless
    only rows are bad and `skip_invalid` leaves them out."""
    shard = batchplan.Shard.parse(how.shard) if how.shard is not None else None
    planned = batchplan.plan(how.path, settings, form=how.form, shard=shard, offline_ok=offline_ok)
    name = how.path.name
    if how.skip_invalid:
        planned.skip_invalid()
        for problem in planned.skipped:
            note(f"Warning: {name}: {problem}; skipping row {problem.number}.")
    if planned.problems:
        for problem in planned.problems:
            note(f"{name}: {problem}")
        rows = len({p.number for p in planned.problems if p.number is not None})
        skippable = rows and not offline_ok  # estimate prices only valid files
        raise UsageError(
            f"{name} has {f'{rows} invalid row(s)' if rows else 'a problem'}; nothing was sent.",
            hint="Fix what is listed above (by line)"
            + (", or pass --skip-invalid to run the valid rows." if skippable else "."),
        )
    return planned


def price(how: BatchRequest, settings: Settings, note: Note) -> batchplan.BatchPrice:
    """`estimate FILE`: every row's price, by the provider's dry run where it has one (each
    distinct request once), else the bundled table, offline when no provider is set."""
    planned = plan(how, settings, note, offline_ok=True)
    if planned.choice is None:
        note("No provider is configured: priced offline from framecast's bundled table.")
        return batchplan.price(planned.rows, None, note)
    with planned.choice.open() as api:
        return batchplan.price(planned.rows, api, note)


def run(
    how: BatchRequest,
    settings: Settings,
    events: batchrun.BatchEvents,
    note: Note,
) -> batchrun.BatchReport:
    """Check the file, the output and the caps; then submit, follow and save every row."""
    planned = plan(how, settings, note)
    if how.wait:
        _check_writable(planned)
    assert planned.choice is not None  # plan() without offline_ok always chooses one
    with Journal.open_default() as journal, planned.choice.open() as api:
        guard = _hold_to_caps(planned, api, journal, settings, how, note)
        concurrency = how.concurrency or api.batch_concurrency
        options = batchrun.BatchOptions(
            concurrency=concurrency,
            wait=how.wait,
            retry_failed=how.retry_failed,
            force=how.force,
            timeout=settings.run.timeout,
            policy=poll_policy(settings),
            daily_guard=guard,
            on_saved=how.on_saved,
        )
        return batchrun.run(planned, api, journal, events, options)


def _check_writable(planned: batchplan.BatchPlan) -> None:
    """Where the first row's video goes is checked before anything is paid for."""
    if not planned.rows:
        return
    first = planned.rows[0]
    placeholder = Job(id="job", provider="provider", status=JobStatus.QUEUED, prompt="video")
    output = planned.output_for(first.row)
    saving.check_writable(saving.target_path(output, placeholder, "mp4", row=first.row.number))


def _to_submit(
    planned: batchplan.BatchPlan, journal: Journal, retry_failed: bool
) -> list[batchplan.PlannedRow]:
    """The rows this run will send: those the journal has no job for (and with
    --retry-failed, those whose job failed)."""
    rows = []
    for row in planned.rows:
        entries = journal.same_request(row.mark)
        if not entries:
            rows.append(row)
            continue
        job = entries[0].job
        failed = job.finished and job.status is not JobStatus.COMPLETED
        if retry_failed and failed and not entries[0].pending:
            rows.append(row)
    return rows


def _hold_to_caps(
    planned: batchplan.BatchPlan,
    api: Provider,
    journal: Journal,
    settings: Settings,
    how: BatchRequest,
    note: Note,
) -> Callable[[batchplan.PlannedRow], Callable[[Journal], None] | None] | None:
    """--max-cost on the batch's total and --max-daily-cost with it, refused before anything
    is sent (exit 8); the daily cap is held again as each row is journaled."""
    run_settings = settings.run
    if run_settings.max_cost is None and run_settings.max_daily_cost is None:
        return None
    from framecast import spending

    sending = _to_submit(planned, journal, how.retry_failed)
    cost = batchplan.price(sending, api, note)
    allow = run_settings.allow_unpriced
    if run_settings.max_cost is not None:
        batchplan.check_budget(cost, run_settings.max_cost, allow_unpriced=allow)
    if cost.totals:
        note(f"Estimated {cost.describe()} for {len(sending)} row(s) to submit.")
    cap = run_settings.max_daily_cost
    if cap is None or not cost.rows:
        return None
    first = cost.rows[0].estimate
    currency = next(iter(cost.totals), first.currency)
    whole = replace(first, total=cost.totals.get(currency), currency=currency)
    if cost.unpriced:
        whole = replace(whole, total=None, unpriced=cost.unpriced[0].estimate.unpriced)
    spending.check_daily(journal, whole, cap, allow_unpriced=allow, now=time.time())
    by_row = {r.row.mark: r.estimate for r in cost.rows}

    def guard(row: batchplan.PlannedRow) -> Callable[[Journal], None] | None:
        estimate = by_row.get(row.mark)
        if estimate is None:
            return None
        return spending.daily_guard(estimate, cap, allow_unpriced=allow)

    return guard


def check_output_usage(output: str | None) -> None:
    """`-o -` cannot take a batch (checked with the flags, before the file is read)."""
    if output == saving.STDOUT:
        raise UsageError("-o - streams one video; a batch saves files.")


def raise_for_outcome(report: batchrun.BatchReport) -> None:
    """Exit 0 when every row succeeded; what stopped the batch with its own code (the
    provider unavailable, the key refused, the daily cap); otherwise 6, naming the rows."""
    stopped = report.stopped_by
    if stopped is not None:
        # Whatever stopped the batch keeps its own exit code (5, 3, 8); the rows it left
        # unsent are in the results, and a second run sends them.
        stopped.hint = (
            "Settle it with `framecast sync`, then run the same command again for the rest."
            if isinstance(stopped, SubmissionUnknown)
            else batchrun.RESUME_HINT
        )
        raise stopped
    failed = report.failed
    if not failed:
        return
    rows = ", ".join(str(r.number) for r in failed[:20]) + (", ..." if len(failed) > 20 else "")
    error = JobFailed(
        [r.job for r in failed if r.job is not None],
        f"{len(failed)} of {len(report.results)} row(s) did not succeed (rows {rows}).",
    )
    statuses = {r.status for r in failed}
    steps = []
    if statuses - {batchrun.UNKNOWN, batchrun.INVALID, batchrun.NOT_SUBMITTED}:
        steps.append("submit the failed rows again with --retry-failed")
    if batchrun.UNKNOWN in statuses:
        steps.append("settle the unknown submissions with `framecast sync`")
    if batchrun.INVALID in statuses:
        steps.append("fix the invalid rows")
    if batchrun.NOT_SUBMITTED in statuses:
        steps.append("run the same command again to submit the rest")
    error.hint = "; ".join(steps).capitalize() + "."
    raise error
