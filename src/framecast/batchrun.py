"""Running a batch: every row submitted (journaled), followed and saved, past failures.

One process, one provider client (one keep-alive pool), one scheduler
(polling.track) for every job: submissions join it as they are made, at most
`concurrency` jobs are unfinished at a time, and each finished video is saved as
soon as it is done, on a few download threads. The journal is the batch's memory:
each row's job is journaled under the row's mark before it is sent, so running the
same file again skips rows made or running and resumes their downloads, and
`retry_failed` makes only the failed rows again.

SQLite connections belong to one thread, so each worker thread opens its own
journal connection; the scheduler's thread keeps the caller's.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from framecast import pricing
from framecast.batchplan import BatchPlan, PlannedRow
from framecast.delivery import Delivery, deliver
from framecast.domain import Job, JobError, JobStatus
from framecast.errors import (
    AlreadySubmitted,
    AuthError,
    BudgetExceeded,
    FramecastError,
    Interrupted,
    ProviderUnavailable,
    RequestRejected,
    SubmissionUnknown,
    Terminated,
    WaitTimeout,
)
from framecast.jobrun import JobRun
from framecast.journal import Entry, Journal
from framecast.polling import PollPolicy, track, typical_lengths
from framecast.tracked import Tracked

if TYPE_CHECKING:
    from framecast.errors import ProviderUnavailable as Unavailable
    from framecast.providers.base import Provider

DOWNLOAD_THREADS = 4
SUBMIT_THREADS = 8
WATCH_EVERY = 1.0  # seconds between looks at rows another run is submitting
RESUME_HINT = "Run the same command again: rows already made are skipped, the rest picked up."

# What a row can end as, in results: a job's final status, or one of these.
NOT_SUBMITTED = "not_submitted"  # the batch stopped before sending it
SUBMITTED = "submitted"  # --no-wait: sent and journaled
UNKNOWN = "unknown"  # sent, and whether a job exists is unknown (framecast sync)
INVALID = "invalid"  # skipped with --skip-invalid


@dataclass(slots=True)
class RowResult:
    number: int  # the row's number in the file, from 1
    line: int
    planned: PlannedRow | None  # None: the row was invalid (and skipped)
    status: str
    job: Job | None = None
    path: Path | None = None
    size: int | None = None
    error: JobError | None = None
    earlier: bool = False  # made by an earlier run of the batch (found in the journal)

    @classmethod
    def of(cls, planned: PlannedRow, status: str, job: Job | None = None, **more: Any) -> RowResult:
        return cls(planned.row.number, planned.row.line, planned, status, job, **more)

    @property
    def succeeded(self) -> bool:
        return self.status in (JobStatus.COMPLETED.value, SUBMITTED)

    @property
    def cost(self) -> tuple[float | None, str | None]:
        job = self.job
        if job is None or self.planned is None or self.status != JobStatus.COMPLETED.value:
            return None, None
        if job.cost is not None:
            return job.cost, job.currency or "USD"
        if job.cost_estimate is not None:
            return job.cost_estimate, job.currency or "USD"
        prepared = self.planned.prepared
        table = pricing.from_table(prepared.priced, prepared.model, prepared.priced.model)
        return table.total, table.currency if table.total is not None else None

    def document(self) -> dict[str, Any]:
        """One line of `batch --json`: stable keys, the same for every row."""
        cost, currency = self.cost
        return {
            "row": self.number,
            "line": self.line,
            "id": self.job.id if self.job else None,
            "status": self.status,
            "path": str(self.path) if self.path else None,
            "bytes": self.size,
            "cost": cost,
            "currency": currency,
            "error": None
            if self.error is None
            else {"code": self.error.code, "message": self.error.message},
            "earlier": self.earlier,
        }


@dataclass(slots=True)
class Tally:
    """Where the batch stands, for the progress display."""

    total: int
    done: int = 0
    failed: int = 0
    running: int = 0
    queued: int = 0
    spent: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def eta(self, now: float) -> float | None:
        finished = self.done + self.failed
        left = self.total - finished
        if not finished or not left:
            return None
        return (now - self.started) / finished * left


class BatchEvents(Protocol):
    """What a batch reports; called from the scheduler's thread only."""

    def row_finished(self, result: RowResult) -> None: ...

    def progress(self, tally: Tally) -> float | None: ...

    def note(self, text: str) -> None: ...


@dataclass(frozen=True, slots=True)
class BatchOptions:
    concurrency: int
    wait: bool = True
    retry_failed: bool = False
    force: bool = False
    timeout: float | None = None
    policy: PollPolicy = field(default_factory=PollPolicy)
    daily_guard: Callable[[PlannedRow], Callable[[Journal], None] | None] | None = None
    on_saved: Callable[[Job, Path, int], None] | None = None


@dataclass(slots=True)
class BatchReport:
    results: list[RowResult]
    tally: Tally
    stopped_by: FramecastError | None = None  # what made the batch stop submitting

    @property
    def failed(self) -> list[RowResult]:
        return [r for r in self.results if not r.succeeded]


class _Silent:
    """The events of the job runs inside a batch: the batch reports for them."""

    def __init__(self, note: Callable[[str], None]) -> None:
        self._note = note

    def update(self, job: Job) -> None:
        pass

    def trouble(self, job: Job, error: Unavailable) -> None:
        pass

    def note(self, text: str) -> None:
        self._note(text)

    def download_started(self, job: Job, path: Path, total: int | None) -> None:
        pass

    def download_advanced(self, count: int) -> None:
        pass

    def download_finished(self) -> None:
        pass


class _Stopping(_Silent):
    """A download's events, which end it when the batch is stopped (its part file stays,
    and the next run resumes it)."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__(lambda text: None)
        self._stop = stop

    def download_advanced(self, count: int) -> None:
        if self._stop.is_set():
            raise KeyboardInterrupt


def run(
    plan: BatchPlan,
    api: Provider,
    journal: Journal,
    events: BatchEvents,
    options: BatchOptions,
) -> BatchReport:
    return BatchRun(plan, api, journal, events, options).run()


class BatchRun:
    def __init__(
        self,
        plan: BatchPlan,
        api: Provider,
        journal: Journal,
        events: BatchEvents,
        options: BatchOptions,
    ) -> None:
        self.plan = plan
        self.api = api
        self.journal = journal
        self.events = events
        self.options = options
        self.started = time.monotonic()
        self.deadline = None if not options.timeout else self.started + options.timeout
        self.results: dict[int, RowResult] = {}  # by row number
        self.queue: deque[PlannedRow] = deque()
        self.tally = Tally(total=len(plan.rows) + len(plan.skipped))
        self.stop = threading.Event()
        self.stopped_by: FramecastError | None = None
        self._local = threading.local()
        self._connections: list[Journal] = []
        self._connections_lock = threading.Lock()
        self._notes: deque[str] = deque()
        # The scheduler's jobs, by its index: the row each is for.
        self._tracked: list[PlannedRow] = []
        self._entries: dict[int, Entry] = {}  # by the scheduler's index: journaled jobs adopted
        self._watching: list[PlannedRow] = []  # rows another run is submitting right now
        self._seen: dict[str, int] = {}  # by row mark: the last journal entry queued past
        self._looked = 0.0  # when the journal was last read for them
        self._submitting: dict[Future[list[Job]], PlannedRow] = {}
        self._downloading: dict[Future[Tracked], RowResult] = {}
        self._unfinished = 0  # jobs submitted and not finished
        self._submit_pool = ThreadPoolExecutor(
            max_workers=max(1, min(options.concurrency, SUBMIT_THREADS)),
            thread_name_prefix="framecast-submit",
        )
        self._download_pool = ThreadPoolExecutor(
            max_workers=DOWNLOAD_THREADS, thread_name_prefix="framecast-download"
        )

    # -- the run -----------------------------------------------------------------------

    def run(self) -> BatchReport:
        self.api.http.deadline = self.deadline
        for problem in self.plan.skipped:
            error = JobError("invalid", problem.message)
            self._finish(RowResult(problem.number or 0, problem.line, None, INVALID, error=error))
        try:
            resumed = self._sort_rows()
            self.tally.queued = len(self.queue)
            if self.options.wait:
                self._follow(resumed)
                self._finish_downloads()
            else:
                self._submit_all()
        except KeyboardInterrupt as stop:
            raise self._interrupted(stop) from None
        except WaitTimeout as error:
            self._shut_down()
            error.hint = RESUME_HINT
            error.resume = None
            raise
        except FramecastError as error:
            # The provider went away while following (or the journal failed): the jobs
            # are journaled and keep running; a second run picks them up.
            error.hint = error.hint or RESUME_HINT
            raise
        finally:
            self._shut_down()
            self._close_connections()
        ordered = sorted(self.results.values(), key=lambda result: result.number)
        return BatchReport(ordered, self.tally, self.stopped_by)

    def _sort_rows(self) -> list[tuple[PlannedRow, Entry]]:
        """What the journal knows of each row: made (skip, or resume its download), running
        (follow it), failed (report it, or make it again with retry_failed), or new."""
        resumed: list[tuple[PlannedRow, Entry]] = []
        for planned in self.plan.rows:
            entries = self.journal.same_request(planned.mark)
            entry = self._place(planned, entries[0] if entries else None, sorting=True)
            if entry is not None:
                resumed.append((planned, entry))
        return resumed

    def _place(
        self, planned: PlannedRow, entry: Entry | None, *, sorting: bool = False
    ) -> Entry | None:
        """Queue the row, report it, or return its journaled job for following. Only when
        sorting (the run's first look) is a failed row made again with retry_failed: a
        failure found later is another run's retry, not this one's to repeat."""
        if entry is None:
            self._seen[planned.mark] = 0
            self.queue.append(planned)
            return None
        if entry.pending:
            # Being sent by another run, or sent before with an unknown outcome: never
            # sent twice. Another run's submission is watched until it has an outcome.
            sending = entry.state == "submitting" and not entry.orphaned
            if sending and self.options.wait:
                self._watching.append(planned)
                return None
            reason = (
                "another framecast run is submitting it now"
                if sending
                else "an earlier submission's outcome is unknown; run `framecast sync`"
            )
            error = JobError(UNKNOWN, reason)
            self._finish(RowResult.of(planned, UNKNOWN, entry.job, error=error, earlier=True))
            return None
        job = entry.job
        if job.finished and job.status is not JobStatus.COMPLETED:
            if self.options.retry_failed and sorting:
                self._seen[planned.mark] = entry.seq
                self.queue.append(planned)
            else:
                self._finish(
                    RowResult.of(planned, job.status.value, job, error=job.error, earlier=True)
                )
            return None
        if not self.options.wait:
            status = SUBMITTED if not job.finished else job.status.value
            self._finish(RowResult.of(planned, status, job, earlier=True))
            return None
        return entry

    # -- following -----------------------------------------------------------------------

    def _follow(self, resumed: list[tuple[PlannedRow, Entry]]) -> None:
        first = [job for planned, entry in resumed if (job := self._adopt(planned, entry))]
        entries = self._entries
        self.tally.running = self._unfinished

        def fetch(index: int, job: Job) -> Job:
            try:
                return self.api.get(job.id).carried(job)
            except RequestRejected as error:
                if error.status != 404:
                    raise
                reason = f"{self.api.name} no longer knows this job ({error.message})"
                return replace(job, status=JobStatus.EXPIRED, error=JobError("not_found", reason))

        def updated(index: int, job: Job) -> None:
            self.journal.update(job, self.api.base_url)
            if job.finished:
                self._unfinished -= 1
                self._ended(self._tracked[index], job, entries.get(index), earlier=index in entries)

        track(
            first,
            fetch,
            policy=self.options.policy,
            on_update=updated,
            on_idle=self._idle,
            feed=self._feed,
            deadline=self.deadline,
            refresh_first=True,
            lengths=typical_lengths(self.journal.recent(500)),  # forecasts start from these
        )

    def _adopt(self, planned: PlannedRow, entry: Entry) -> Job | None:
        """A row's journaled job, made by an earlier (or another) run: saved now if it is
        made, or returned to be followed."""
        if entry.job.status is JobStatus.COMPLETED:
            # Made before: save it (or find it saved) without asking again first.
            self._download(planned, entry.job, entry, earlier=True)
            return None
        self._entries[len(self._tracked)] = entry
        self._tracked.append(planned)
        self._unfinished += 1
        return entry.job

    def _idle(self) -> float | None:
        while self._notes:
            self.events.note(self._notes.popleft())
        self._collect_downloads()
        self.tally.running = self._unfinished + len(self._submitting) + len(self._downloading)
        self.tally.queued = len(self.queue)
        return self.events.progress(self.tally)

    def _feed(self) -> list[Job] | None:
        """Jobs whose submissions came back (here or in another run); more rows sent while
        there is room."""
        joined = self._collect_submissions() + self._look_again()
        self._top_up()
        self._idle()
        if joined or self._submitting or self._watching or (self.queue and self.stopped_by is None):
            return joined
        return None

    def _look_again(self) -> list[Job]:
        """Rows another run was submitting: once a second, the journal says how it went."""
        now = time.monotonic()
        if not self._watching or now - self._looked < WATCH_EVERY:
            return []
        self._looked = now
        watched, self._watching = self._watching, []
        joined: list[Job] = []
        for planned in watched:
            entries = self.journal.same_request(planned.mark)
            entry = self._place(planned, entries[0] if entries else None)
            if entry is not None and (adopted := self._adopt(planned, entry)):
                joined.append(adopted)
        if self._watching and self.deadline is not None and now >= self.deadline:
            # The scheduler checks the deadline as it polls; with nothing to poll but rows
            # another run is still sending, this is where the wait ends.
            rows = ", ".join(str(p.row.number) for p in self._watching)
            raise WaitTimeout(
                [], f"Timed out waiting for another framecast run to submit row(s) {rows}."
            )
        return joined

    # -- submitting ----------------------------------------------------------------------

    def _top_up(self) -> None:
        room = self.options.concurrency - self._unfinished - len(self._submitting)
        while room > 0 and self.queue and self.stopped_by is None and not self.stop.is_set():
            planned = self.queue.popleft()
            future = self._submit_pool.submit(self._submit, planned)
            self._submitting[future] = planned
            room -= 1

    def _submit(self, planned: PlannedRow) -> list[Job]:
        journal = self._connection()
        guard = self.options.daily_guard
        journal.before_submitting = guard(planned) if guard is not None else None
        left = None if self.deadline is None else max(0.001, self.deadline - time.monotonic())
        run = JobRun(journal, _Silent(self._notes.append), timeout=left)
        jobs = run.submit(
            self.api,
            planned.prepared,
            output=self.plan.output,
            mark=planned.mark,
            # Never made twice: not if made (by any run), nor if another run journaled
            # anything for the row since this one looked (a retry of a failed row
            # included). The journal checks it in the transaction that records this
            # submission, so two runs of one file can never both send a row.
            also_blocked_by=(JobStatus.COMPLETED.value,),
            newer_than=self._seen.get(planned.mark, 0),
        )
        self.api.http.deadline = self.deadline
        return jobs

    def _collect_submissions(self) -> list[Job]:
        joined: list[Job] = []
        for future in [f for f in self._submitting if f.done()]:
            planned = self._submitting.pop(future)
            try:
                jobs = future.result()
            except AlreadySubmitted:
                # Another run of the batch made or sent this row since it was sorted.
                entries = self.journal.same_request(planned.mark)
                entry = self._place(planned, entries[0] if entries else None)
                if entry is not None and (adopted := self._adopt(planned, entry)):
                    joined.append(adopted)
                continue
            except FramecastError as error:
                self._refused(planned, error)
                continue
            job = replace(jobs[0], prompt=jobs[0].prompt or planned.row.prompt)
            if not self.options.wait:
                self._finish(RowResult.of(planned, SUBMITTED, job))
                continue
            if job.finished:
                # Made (or refused) at once: nothing to follow, and no slot to hold.
                self._ended(planned, job, None, earlier=False)
                continue
            self._tracked.append(planned)
            self._unfinished += 1
            joined.append(job)
        return joined

    def _ended(self, planned: PlannedRow, job: Job, entry: Entry | None, *, earlier: bool) -> None:
        """A row's job finished: save its video, or report why there is none."""
        if job.status is JobStatus.COMPLETED:
            self._download(planned, job, entry, earlier=earlier)
        else:
            self._finish(
                RowResult.of(planned, job.status.value, job, error=job.error, earlier=earlier)
            )

    def _refused(self, planned: PlannedRow, error: FramecastError) -> None:
        """A submission that made no job (or may have): the row's result, and whether the
        batch can go on submitting."""
        code = type(error).__name__
        if isinstance(error, SubmissionUnknown):
            # A job may exist and be billed. The next row would likely meet the same
            # trouble, and a pile of unknown jobs costs money to settle: stop sending.
            self._finish(RowResult.of(planned, UNKNOWN, error=JobError(UNKNOWN, error.message)))
            self.stopped_by = self.stopped_by or error
            return
        if isinstance(error, RequestRejected) and not isinstance(error, AuthError):
            # This row's request was refused; the next may be fine.
            self._finish(RowResult.of(planned, "rejected", error=JobError(code, error.message)))
            return
        if isinstance(error, AuthError | BudgetExceeded | ProviderUnavailable):
            # Every later row would meet the same: stop submitting, follow what runs.
            self.stopped_by = self.stopped_by or error
            self.queue.appendleft(planned)
            return
        self._finish(RowResult.of(planned, "rejected", error=JobError(code, error.message)))

    def _submit_all(self) -> None:
        """--no-wait: every row sent (journaled), `concurrency` at a time."""
        while self.queue or self._submitting:
            self._collect_submissions()
            self._top_up_unbounded()
            self._idle()
            if self._submitting:
                next(iter(self._submitting)).exception()  # wait for one to come back
            elif self.stopped_by is not None:
                break
        self._leave_unsent()

    def _top_up_unbounded(self) -> None:
        while (
            len(self._submitting) < self.options.concurrency
            and self.queue
            and self.stopped_by is None
        ):
            planned = self.queue.popleft()
            self._submitting[self._submit_pool.submit(self._submit, planned)] = planned

    def _leave_unsent(self) -> None:
        reason = self.stopped_by.message if self.stopped_by else "the batch stopped"
        while self.queue:
            planned = self.queue.popleft()
            error = JobError(NOT_SUBMITTED, f"not submitted: {reason}")
            self._finish(RowResult.of(planned, NOT_SUBMITTED, error=error))

    # -- downloading ---------------------------------------------------------------------

    def _download(
        self, planned: PlannedRow, job: Job, entry: Entry | None, *, earlier: bool
    ) -> None:
        job = replace(job, prompt=job.prompt or planned.row.prompt)
        item = Tracked(self.api, job, entry, row=planned.row.number, confirmed=True)
        result = RowResult.of(planned, JobStatus.COMPLETED.value, job, earlier=earlier)
        future = self._download_pool.submit(self._save, item, planned)
        self._downloading[future] = result

    def _save(self, item: Tracked, planned: PlannedRow) -> Tracked:
        journal = self._connection()

        def renew(provider: Provider, job_id: str) -> Job:
            job = provider.get(job_id)
            journal.update(job, provider.base_url)
            return job

        delivery = Delivery(
            output=self.plan.output_for(planned.row),
            force=self.options.force,
            on_saved=self.options.on_saved,
        )
        deliver(
            item, delivery, journal=journal, events=_Stopping(self.stop), renew=renew, several=True
        )
        return item

    def _collect_downloads(self) -> None:
        for future in [f for f in self._downloading if f.done()]:
            result = self._downloading.pop(future)
            try:
                item = future.result()
            except FramecastError as error:
                result.status = "download_failed"
                result.error = JobError(type(error).__name__, error.message)
            except OSError as error:
                result.status = "download_failed"
                result.error = JobError("LocalIOError", str(error.strerror or error))
            else:
                result.path, result.size, result.job = item.path, item.size, item.job
            self._finish(result)

    def _finish_downloads(self) -> None:
        self._leave_unsent()
        while self._downloading:
            wait = self.events.progress(self.tally) or 0.1
            next(iter(self._downloading)).exception(timeout=max(0.01, wait))
            self._idle()

    # -- results -----------------------------------------------------------------------

    def _finish(self, result: RowResult) -> None:
        self.results[result.number] = result
        if result.succeeded:
            self.tally.done += 1
            cost, currency = result.cost
            if cost is not None and currency is not None:
                self.tally.spent[currency] = self.tally.spent.get(currency, 0.0) + cost
        else:
            self.tally.failed += 1
        self.events.row_finished(result)

    # -- threads and connections -------------------------------------------------------

    def _connection(self) -> Journal:
        journal: Journal | None = getattr(self._local, "journal", None)
        if journal is None:
            journal = Journal(self.journal.path, shared=True)
            self._local.journal = journal
            with self._connections_lock:
                self._connections.append(journal)
        return journal

    def _close_connections(self) -> None:
        with self._connections_lock:
            for journal in self._connections:
                with contextlib.suppress(Exception):
                    journal.close()
            self._connections.clear()

    def _shut_down(self) -> None:
        self.stop.set()
        self._submit_pool.shutdown(wait=True, cancel_futures=True)
        self._download_pool.shutdown(wait=True, cancel_futures=True)

    def _interrupted(self, stop: KeyboardInterrupt) -> Interrupted:
        self._shut_down()
        # Submissions that were in flight are journaled by now (made, or unknown).
        self._collect_submissions()
        running = [p.row.number for p in self._tracked if p.row.number not in self.results]
        signal = "SIGTERM" if isinstance(stop, Terminated) else "SIGINT"
        message = "Stopped the batch."
        if running:
            message += f" {len(running)} job(s) keep running at the provider."
        return Interrupted(message, hint=RESUME_HINT, signal=signal)


def summary(report: BatchReport, wall: float) -> str:
    tally = report.tally
    spent = ", ".join(f"{v:.2f} {c}" for c, v in tally.spent.items()) or "nothing priced"
    counts: dict[str, int] = {}
    for result in report.results:
        counts[result.status] = counts.get(result.status, 0) + 1
    parts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(counts.items()))
    return f"Batch: {len(report.results)} row(s): {parts}; cost {spent}; {wall:.1f} s."
