"""One job run: submit, wait and deliver, and what is guaranteed on every way out.

`generate`, `wait` and `download` (and batches) all go through `JobRun`, which
reports through an `Events` object (the display) and owns these promises:

- A submission is journaled (`submitting`, with its fingerprint and idempotency
  key) before it is sent. A clear refusal removes the entry; an ambiguous outcome
  (a 5xx, a broken connection, an unreadable answer, Ctrl-C in flight) turns it
  `unknown`, and says so: the job may exist and may be billed.
- The same request is not submitted again while an earlier one is in flight or
  unknown, unless the caller says `again`.
- A job keeps the id it was created with; other ids a server uses for it are
  journaled as aliases.
- Once jobs exist, whatever ends the run (a provider or network failure, a local
  I/O error, the journal, a timeout, Ctrl-C, SIGTERM, a bug) carries `Resume`:
  the ids and the command that picks them up.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from framecast.delivery import Delivery, Events, deliver
from framecast.domain import Job, JobError, JobRequest, JobStatus
from framecast.errors import (
    AlreadySubmitted,
    FramecastError,
    Interrupted,
    JobFailed,
    LocalIOError,
    ProviderError,
    RequestRejected,
    Resume,
    SubmissionUnknown,
    Terminated,
    UsageError,
    WaitTimeout,
)
from framecast.jobs import Prepared, fingerprint
from framecast.journal import Entry, InFlight, Journal
from framecast.polling import PollPolicy, track, typical_lengths
from framecast.tracked import Tracked

if TYPE_CHECKING:
    from framecast.providers.base import Provider

__all__ = ["Delivery", "Events", "JobRun", "Source", "Tracked", "job_failed"]

MAX_N = 4


@dataclass(frozen=True, slots=True)
class Source:
    """The finished job a submission is made from: continued (extend) or remixed."""

    kind: Literal["extend", "remix"]
    job_id: str

    @property
    def journal_key(self) -> str:
        """Where the journaled request names it: `extends` or `remixes`."""
        return "extends" if self.kind == "extend" else "remixes"

    def fingerprint(self, provider: Provider, request: JobRequest) -> str:
        """What makes two submissions the same: a remix is neither the plain request nor
        an extension of the same job."""
        mark = fingerprint(provider.name, provider.base_url, request, self.job_id)
        if self.kind == "extend":
            return mark  # as journals before remixes existed recorded it
        return hashlib.sha256(f"{self.kind}:{mark}".encode()).hexdigest()


@runtime_checkable
class Heartbeat(Protocol):
    """Events that want a word while the run waits between polls (the plain display)."""

    def tick(self) -> float | None: ...


class JobRun:
    def __init__(
        self,
        journal: Journal,
        events: Events,
        *,
        policy: PollPolicy | None = None,
        timeout: float | None = None,
        cancel_on_interrupt: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.journal = journal
        self.events = events
        self.policy = policy or PollPolicy()
        self.clock = clock
        self.sleep = sleep
        self.started = clock()
        self.deadline = None if not timeout else self.started + timeout
        self.cancel_on_interrupt = cancel_on_interrupt

    # -- submitting ----------------------------------------------------------------

    def submit(
        self,
        provider: Provider,
        prepared: Prepared,
        *,
        extend: str | None = None,
        remix: str | None = None,
        again: bool = False,
        output: str | None = None,
        mark: str | None = None,
        also_blocked_by: Collection[str] = (),
        newer_than: int | None = None,
    ) -> list[Job]:
        """Submit the request (n times where the provider cannot make n itself); all journaled.

        `extend` or `remix`: the finished job it continues or remixes, instead of a plain
        submission. `output` is only for the resume command that names created jobs if the
        run ends. `mark`: the fingerprint to journal it under, where the caller knows the
        submission by more than its request (a batch's row). `also_blocked_by`: the
        states, beyond in flight, in which an earlier submission under the same mark
        refuses this one (a batch row already made is never made again); `newer_than`:
        the last journal entry under the mark the caller knew of, when any later one
        (another run's) must refuse this submission too.
        """
        provider.http.deadline = self.deadline
        request = prepared.request
        source = (
            Source("extend", extend)
            if extend is not None
            else Source("remix", remix)
            if remix is not None
            else None
        )
        if not 1 <= request.n <= MAX_N:
            raise UsageError(f"--n {request.n}: ask for 1 to {MAX_N} videos.")
        if source is not None and request.n != 1:
            raise UsageError(f"--{source.kind} makes one video; drop --n.")
        if mark is None:
            mark = (
                fingerprint(provider.name, provider.base_url, request, None)
                if source is None
                else source.fingerprint(provider, request)
            )
        if JobStatus.COMPLETED.value not in also_blocked_by:  # else a repeat is refused
            self._note_repeat(mark, again)
        if provider.capabilities.idempotency and request.idempotency_key is None and source is None:
            # Where the provider deduplicates by key, a retried POST cannot bill twice. The
            # extend and remix endpoints take no key: one journaled for them would let
            # `sync --replay` send a plain submission in their place.
            request = replace(request, idempotency_key=f"framecast-{uuid.uuid4()}")
        extra: dict[str, object] = {"adjustments": [str(a) for a in prepared.adjustments]}
        if source is not None:
            extra[source.journal_key] = source.job_id
        if request.n == 1 or provider.capabilities.native_n or source is not None:
            singles = [request]
        else:
            key = request.idempotency_key
            singles = [
                replace(request, n=1, idempotency_key=key and f"{key}-{i}")
                for i in range(1, request.n + 1)
            ]
        try:
            seqs = self.journal.begin_submissions(
                singles,
                provider=provider.name,
                base_url=provider.base_url,
                fingerprint=mark,
                extra=extra,
                exclusive=not again,
                also_blocked_by=also_blocked_by,
                newer_than=newer_than,
            )
        except InFlight as busy:
            raise _refusal(busy.entry) from None
        return self._send(provider, singles, seqs, mark, source, output)

    def _note_repeat(self, mark: str, again: bool) -> None:
        """A finished job from the same request: a new take is fine, but worth a word."""
        if again:
            return
        done = [e for e in self.journal.same_request(mark) if e.state == JobStatus.COMPLETED]
        if done:
            self.events.note(f"The same request made {done[0].id} before; this is a new take.")

    def _send(
        self,
        provider: Provider,
        singles: list[JobRequest],
        seqs: list[int],
        mark: str,
        source: Source | None,
        output: str | None,
    ) -> list[Job]:
        def one(single: JobRequest) -> list[Job]:
            if source is None:
                return provider.submit(single)
            if source.kind == "extend":
                return provider.extend(source.job_id, single)
            return provider.remix(source.job_id, single)

        outcomes: dict[int, list[Job] | BaseException] = {}
        futures: list[Future[list[Job]]] = []
        stopped: KeyboardInterrupt | None = None
        try:
            if len(singles) == 1:
                try:
                    outcomes[0] = one(singles[0])
                except Exception as error:
                    outcomes[0] = error
            else:
                with ThreadPoolExecutor(max_workers=len(singles)) as pool:
                    futures = [pool.submit(one, single) for single in singles]
                    for i, future in enumerate(futures):
                        try:
                            outcomes[i] = future.result()
                        except Exception as error:
                            outcomes[i] = error
        except KeyboardInterrupt as stop:
            stopped = stop
            # Leaving the pool waited for every POST in flight: keep what did come back.
            for i, future in enumerate(futures):
                if i not in outcomes and future.done():
                    try:
                        outcomes[i] = future.result()
                    except Exception as error:
                        outcomes[i] = error
        created: list[Job] = []
        unknown = 0
        first_error: BaseException | None = None
        try:
            for i, seq in enumerate(seqs):
                outcome = outcomes.get(i)
                if outcome is None:
                    unknown += 1
                    self.journal.mark_unknown(seq, "interrupted while the submission was in flight")
                elif isinstance(outcome, BaseException):
                    failure = self._unsettled(seq, outcome, provider)
                    unknown += isinstance(failure, SubmissionUnknown)
                    first_error = first_error or failure
                else:
                    created.extend(outcome)  # they exist now, whatever the journal does next
                    self.journal.complete_submission(seq, outcome[0])
                    for more in outcome[1:]:
                        self.journal.add_job(
                            more,
                            provider.base_url,
                            request=singles[i].to_record(),
                            fingerprint=mark,
                        )
        except BaseException as error:
            first_error = error
        ids = tuple(job.id for job in created)
        resume = (
            Resume(ids, output=output, download=True, settle=unknown > 0)
            if ids
            else Resume((), verb="sync")
        )
        if stopped is not None:
            message = "Interrupted while the submission was in flight"
            if unknown:
                message += "; a job may have been created"
                if self.cancel_on_interrupt:
                    message += " (it cannot be cancelled: its id never arrived)"
            raise self._interrupted(
                created,
                stopped,
                message + ".",
                resume if ids or unknown else replace(resume, verb="wait"),
                providers={job.id: provider for job in created},
            ) from None
        if first_error is not None:
            if isinstance(first_error, FramecastError):
                first_error.resume = resume if ids else first_error.resume
                first_error.known_jobs = created
            elif ids:
                first_error.add_note(resume.sentence())
            raise first_error
        try:
            for job in created:
                self.events.update(job)
        except KeyboardInterrupt as stop:
            raise self.stopped_after_submitting(created, stop, provider, output) from None
        return created

    def _unsettled(self, seq: int, error: BaseException, provider: Provider) -> BaseException:
        """Journal a failed submission as forgotten (nothing created) or unknown (maybe)."""
        refused = isinstance(error, FramecastError) and not (
            isinstance(error, ProviderError) and error.may_have_acted
        )
        if refused or isinstance(error, OSError):
            # Refused, never sent, or a local file unreadable before sending: no job.
            self.journal.forget(seq)
            if isinstance(error, OSError):
                return LocalIOError.from_os(error, action="read")
            return error
        reason = error.message if isinstance(error, FramecastError) else repr(error)
        self.journal.mark_unknown(seq, reason)
        unknown = SubmissionUnknown(
            f"The submission's outcome is unknown: {reason.rstrip('.')}. The job may exist at "
            f"{provider.name} and may be billed.",
            hint="It is journaled as `unknown`; the same request is refused until `framecast "
            "sync` settles it (or pass --again to submit it anyway).",
        )
        unknown.resume = Resume((), verb="sync")
        if not isinstance(error, FramecastError):
            unknown.__cause__ = error
        return unknown

    # -- following -----------------------------------------------------------------

    def refresh(self, provider: Provider, job_id: str) -> Job:
        job = provider.get(job_id)
        self.journal.update(job, provider.base_url)
        return job

    def _ask(self, item: Tracked) -> Job:
        """A fresh view of a job; one the provider has forgotten (404) has expired there."""
        try:
            return item.provider.get(item.job.id).carried(item.job)
        except RequestRejected as error:
            if error.status != 404 or not item.confirmed:
                raise  # an id nobody ever confirmed: it is simply wrong
            reason = f"{item.provider.name} no longer knows this job ({error.message})"
            return replace(item.job, status=JobStatus.EXPIRED, error=JobError("not_found", reason))

    def follow(
        self,
        tracked: Sequence[Tracked],
        delivery: Delivery,
        *,
        refresh_first: bool = False,
    ) -> list[Tracked]:
        """Wait for every job, then deliver the completed ones as `delivery` says."""
        resume = Resume(
            tuple(t.job.id for t in tracked),
            output=delivery.output,
            download=delivery.save,
        )
        with self._guard(tracked, resume):
            # What the journal already knows to be finished is not asked again.
            waiting = [
                t for t in tracked if not (refresh_first and t.entry is not None and t.job.finished)
            ]
            self._wait(waiting, refresh_first=refresh_first)
            if not delivery.save:
                return list(tracked)
            polled = {id(t) for t in waiting}
            for item in tracked:
                if item.job.status is not JobStatus.COMPLETED:
                    continue
                if id(item) not in polled:
                    # Known finished from the journal: its signed link may be stale by now.
                    item.job = self.refresh(item.provider, item.job.id)
                try:
                    self._deliver(item, delivery, several=len(tracked) > 1 and item.index is None)
                except FramecastError as error:
                    if len(tracked) == 1 and error.resume is None:
                        # The job is done: what is left is fetching it.
                        error.resume = Resume((item.job.id,), verb="download", output=resume.output)
                    raise
        return list(tracked)

    def fetch(self, item: Tracked, delivery: Delivery) -> Tracked:
        """`download`: ask afresh (links are signed and expire), then save the asset."""
        resume = Resume(
            (item.job.id,),
            verb="download",
            output=delivery.output,
            variant=delivery.variant,
        )
        with self._guard([item], resume, waiting=False):
            item.provider.http.deadline = self.deadline
            item.job = self._ask(item)
            self.journal.update(item.job, item.provider.base_url)
            item.confirmed = True
            job = item.job
            if job.finished and job.status is not JobStatus.COMPLETED:
                raise job_failed([job])
            if job.status is not JobStatus.COMPLETED:
                raise UsageError(
                    f"Job {job.id} is {job.status.value}; there is nothing to download yet.",
                    hint=f"Wait for it and save it with: framecast wait {job.id} --download",
                )
            self._deliver(item, delivery, several=False)
        return item

    def _wait(self, tracked: Sequence[Tracked], *, refresh_first: bool) -> None:
        for item in tracked:
            item.provider.http.deadline = self.deadline
            self.events.update(item.job)

        def fetch(index: int, job: Job) -> Job:
            return self._ask(tracked[index])

        def updated(index: int, job: Job) -> None:
            item = tracked[index]
            before = item.job
            item.job = job
            item.confirmed = True
            if job.server_id or (job.status, job.progress, job.output_url) != (
                before.status,
                before.progress,
                before.output_url,
            ):
                self.journal.update(job, item.provider.base_url)
            self.events.update(job)

        track(
            [t.job for t in tracked],
            fetch,
            policy=self.policy,
            deadline=self.deadline,
            refresh_first=refresh_first,
            lengths=typical_lengths(self.journal.recent(500)),  # forecasts start from these
            on_update=updated,
            on_trouble=lambda index, job, error: self.events.trouble(job, error),
            on_idle=self.events.tick if isinstance(self.events, Heartbeat) else lambda: None,
            clock=self.clock,
            sleep=self.sleep,
        )

    def _deliver(self, item: Tracked, delivery: Delivery, *, several: bool) -> None:
        deliver(
            item,
            delivery,
            journal=self.journal,
            events=self.events,
            renew=self.refresh,
            several=several,
            sleep=self.sleep,
        )

    # -- every way out ---------------------------------------------------------------

    @contextmanager
    def _guard(
        self, tracked: Sequence[Tracked], resume: Resume, *, waiting: bool = True
    ) -> Iterator[None]:
        def existing() -> Resume:
            # Only jobs the provider has answered for are said to exist.
            known = {t.job.id for t in tracked if t.confirmed}
            return replace(resume, job_ids=tuple(i for i in resume.job_ids if i in known))

        try:
            yield
        except KeyboardInterrupt as stop:
            raise self._interrupted(
                [t.job for t in tracked],
                stop,
                f"Stopped {'waiting for' if waiting else 'downloading'} "
                f"{', '.join(t.job.id for t in tracked)}.",
                existing(),
                providers={t.job.id: t.provider for t in tracked},
            ) from None
        except WaitTimeout as error:
            left = tuple(j.id for j in error.jobs)
            error.resume = replace(resume, job_ids=left)
            error.known_jobs = [t.job for t in tracked]
            raise
        except (JobFailed, UsageError):
            raise
        except OSError as error:
            failure = LocalIOError.from_os(error, action="write")
            failure.resume = existing()
            failure.known_jobs = [t.job for t in tracked if t.confirmed]
            raise failure from None
        except BaseException as error:
            _attach(error, existing())
            if isinstance(error, FramecastError) and not error.known_jobs:
                error.known_jobs = [t.job for t in tracked if t.confirmed]
            raise

    def stopped_after_submitting(
        self, jobs: Sequence[Job], stop: KeyboardInterrupt, provider: Provider, output: str | None
    ) -> Interrupted:
        """A signal after the jobs were made and before they were followed: the same way out
        as one while waiting (they are named, with the command that resumes them)."""
        return self._interrupted(
            jobs,
            stop,
            f"Stopped before waiting for {', '.join(job.id for job in jobs)}.",
            Resume(tuple(job.id for job in jobs), output=output, download=True),
            providers={job.id: provider for job in jobs},
        )

    def _interrupted(
        self,
        jobs: Sequence[Job],
        stop: KeyboardInterrupt,
        message: str,
        resume: Resume,
        providers: dict[str, Provider] | None = None,
    ) -> Interrupted:
        signal = "SIGTERM" if isinstance(stop, Terminated) else "SIGINT"
        cancelled: list[str] = []
        raced: list[str] = []
        finished: list[str] = []  # finished since the last poll: left alone
        if self.cancel_on_interrupt and providers:
            for job in jobs:
                provider = providers.get(job.id)
                if provider is None or job.finished or not provider.capabilities.cancel:
                    continue
                try:
                    with provider.http.hurried():
                        # The last poll may be stale: a job that finished since must not be
                        # cancelled, since Lumenfall's DELETE would delete its paid video.
                        fresh = provider.get(job.id)
                        if fresh.finished:
                            self._quietly(
                                functools.partial(self.journal.update, fresh, provider.base_url)
                            )
                            finished.append(fresh.id)
                            continue
                        removal = provider.cancel(job.id)
                except (FramecastError, OSError, KeyboardInterrupt):
                    continue
                if removal.raced:
                    # It finished first, and the provider deleted it instead (Lumenfall's
                    # DELETE): say so, and keep what the journal knows of it.
                    raced.append(job.id)
                    self._quietly(
                        functools.partial(self.journal.mark_deleted, job, provider.base_url)
                    )
                    continue
                cancelled.append(job.id)
                self._quietly(
                    functools.partial(
                        self.journal.update,
                        replace(job, status=JobStatus.CANCELLED, server_id=None),
                        provider.base_url,
                    )
                )
        done = {*cancelled, *raced}
        running = [j.id for j in jobs if j.id not in done | set(finished) and not j.finished]
        if cancelled:
            message += f" Cancelled at the provider: {', '.join(cancelled)}."
        if finished:
            message += (
                f" Finished before it could be cancelled, so left as it is: {', '.join(finished)}."
            )
        if raced:
            message += (
                f" Finished before the cancel arrived, so the provider deleted it instead: "
                f"{', '.join(raced)}."
            )
        if running:
            message += " The job(s) keep running at the provider."
        error = Interrupted(message, signal=signal)
        left = tuple(i for i in resume.job_ids if i not in done)
        error.resume = replace(resume, job_ids=left) if left or resume.verb == "sync" else None
        return error

    def _quietly(self, step: Callable[[], object]) -> None:
        """A best-effort journal write on the way out; the error being raised matters more."""
        with contextlib.suppress(FramecastError, OSError):
            step()


def _refusal(entry: Entry) -> AlreadySubmitted:
    state = "unknown" if entry.orphaned else entry.state
    advice = (
        "Find out whether it exists with `framecast sync`"
        if entry.pending
        else f"Follow it with `framecast wait {entry.id}`"
    )
    submitted = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.submitted_at))
    return AlreadySubmitted(
        f"The same request is already {state}: {entry.id} (submitted {submitted}); "
        "nothing was sent.",
        hint=f"{advice}, or pass --again to submit another, billed job.",
        job_id=entry.id,
    )


def _attach(error: BaseException, resume: Resume) -> None:
    """Make sure whatever ends the run names the jobs that exist."""
    if isinstance(error, FramecastError):
        if error.resume is None and (resume.job_ids or resume.verb == "sync"):
            error.resume = resume
    elif resume.job_ids:
        error.add_note(resume.sentence())


def job_failed(jobs: list[Job]) -> JobFailed:
    first = jobs[0]
    reason = first.error.message if first.error else "no reason given"
    code = f" [{first.error.code}]" if first.error and first.error.code else ""
    return JobFailed(jobs, f"Job {first.id} {first.status.value}: {reason}{code}")
