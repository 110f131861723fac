"""`cancel`, `delete` and `remix`: what can happen to a job after it was submitted.

- cancel stops unfinished jobs where the provider can (`DELETE /videos/{id}` on
  Lumenfall and OpenAI-compatible servers); the journal records `cancelled`.
- delete removes finished jobs and their stored assets at the provider; the journal
  records when (`deleted_at`). Local files are never touched.
- remix makes a new job from a completed one and a new prompt, and runs it as
  `generate` runs a job: journaled before it is sent, followed, saved.

cancel and delete answer for each job named: one that is refused or fails does not
stop the others, and each comes back as an `Outcome` (with its error, if any), so
that a script sees every job and the caller can exit non-zero.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from framecast import jobs
from framecast.domain import Job, JobError, JobRequest, JobStatus
from framecast.errors import FramecastError, ProviderUnavailable, RequestRejected, UsageError
from framecast.jobrun import Events, Tracked
from framecast.journal import Journal
from framecast.providers.base import Removal
from framecast.runs import Note, Outcome, Submission
from framecast.settings import Settings

if TYPE_CHECKING:
    from framecast.providers.base import Provider

Result = Literal[
    "cancelled",  # it was running and is cancelled now
    "already_cancelled",
    "cancelling",  # the provider took the cancel but still reports the job running
    "deleted",  # it and its stored assets are gone at the provider
    "already_deleted",  # the provider no longer has it
    "refused",  # not done: the job's state (or the provider) does not allow it
    "failed",  # not done: the provider or the network failed
]


@dataclass(frozen=True, slots=True)
class Done:
    """What became of one job named to cancel or delete."""

    job: Job  # as it stands now; for a job that is gone, the last view of it
    result: Result
    message: str
    deleted: bool = False  # its assets are gone at the provider
    error: FramecastError | None = None

    def document(self) -> dict[str, Any]:
        """The JSON object printed for it with --json; its keys are a contract with scripts."""
        return {
            "id": self.job.id,
            "provider": self.job.provider,
            "status": self.job.status.value,
            "result": self.result,
            "deleted": self.deleted,
            "message": self.message,
        }


Confirm = Callable[[list[Job]], bool]
_T = TypeVar("_T")


def first_failure(done: Sequence[Done]) -> FramecastError | None:
    return next((d.error for d in done if d.error is not None), None)


def cancel(refs: Sequence[str], settings: Settings) -> list[Done]:
    """Cancel each job that is still running; one already cancelled is left as it is."""
    from framecast.targets import close_all, resolve_targets

    with Journal.open_default() as journal:
        targets = resolve_targets(refs, journal, settings)
        try:
            return [_attempt(t, functools.partial(_cancel, journal, t)) for t in _once(targets)]
        finally:
            close_all(targets)


def delete(refs: Sequence[str], settings: Settings, confirm: Confirm) -> list[Done]:
    """Delete each finished job at its provider, once `confirm` agrees to the whole list."""
    from framecast.targets import close_all, resolve_targets

    with Journal.open_default() as journal:
        named = resolve_targets(refs, journal, settings)
        targets = _once(named)
        try:
            # Every job is looked at first, so one question covers all that will go.
            checked = [_attempt(t, functools.partial(_deletable, journal, t)) for t in targets]
            ready = [t for t, c in zip(targets, checked, strict=True) if c is None]
            if ready and not confirm([t.job for t in ready]):
                raise UsageError("Not confirmed; nothing was deleted.")
            return [
                c if c is not None else _attempt(t, functools.partial(_delete, journal, t))
                for t, c in zip(targets, checked, strict=True)
            ]
        finally:
            close_all(named)


def _once(targets: Sequence[Tracked]) -> list[Tracked]:
    """Each job once, however many times it was named (`@1 @1`, an id and its @N)."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for target in targets:
        key = (target.provider.base_url, target.job.id)
        if key not in seen:
            seen.add(key)
            unique.append(target)
    return unique


def _attempt(target: Tracked, step: Callable[[], _T]) -> _T | Done:
    """One job's step; a refusal or a failure is its outcome, not the end of the others."""
    try:
        return step()
    except FramecastError as error:
        result: Result = "refused" if isinstance(error, UsageError) else "failed"
        return Done(target.job, result, error.message, error=error)


def _refreshed(journal: Journal, target: Tracked) -> Job:
    target.job = target.provider.get(target.job.id)
    journal.update(target.job, target.provider.base_url)
    return target.job


def _cancel(journal: Journal, target: Tracked) -> Done:
    provider = target.provider
    if not provider.capabilities.cancel:
        raise UsageError(
            f"The {provider.name} API offers no way to cancel a job; "
            f"{target.job.id} runs on until it ends.",
            hint="Nothing was sent.",
        )
    entry = target.entry
    try:
        job = _refreshed(journal, target)
    except RequestRejected as error:
        # A job this journal cancelled or deleted, which the provider no longer has
        # (the OpenAI API stops a job by deleting it): nothing is left to cancel.
        gone = entry is not None and (entry.deleted_at is not None or entry.state == "cancelled")
        if error.status != 404 or not gone:
            raise
        return Done(target.job, "already_cancelled", f"{target.job.id} was already cancelled.")
    if job.status is JobStatus.CANCELLED:
        return Done(job, "already_cancelled", f"{job.id} was already cancelled.")
    if job.finished:
        raise _finished_already(job, provider.capabilities.delete)
    answer = provider.cancel(job.id)
    if answer.job is None and not answer.deleted:
        answer = _asked_again(target, answer)
    return _cancelled(journal, provider, job, answer)


def _cancelled(journal: Journal, provider: Provider, job: Job, answer: Removal) -> Done:
    """What the answer to a cancel says became of the job, journaled."""
    base_url = provider.base_url
    if answer.deleted and answer.raced:
        # Lumenfall deletes a finished job: this one finished between our look and the cancel.
        reason = f"{provider.name} deleted it: it had finished before the cancel arrived"
        gone = replace(job, status=JobStatus.EXPIRED, error=JobError("deleted", reason))
        journal.update(gone, base_url)
        journal.mark_deleted(gone, base_url)
        return Done(
            gone,
            "deleted",
            f"{job.id} finished before the cancel arrived, so {provider.name} deleted it "
            "instead: the job and its video are gone there (it may have been billed).",
            deleted=True,
        )
    if answer.deleted:
        stopped = replace(job, status=JobStatus.CANCELLED, progress=None)
        journal.update(stopped, base_url)
        journal.mark_deleted(stopped, base_url)
        return Done(
            stopped,
            "cancelled",
            f"Cancelled {job.id}: {provider.name} stops a job by deleting it, so nothing of "
            "it is kept there.",
            deleted=True,
        )
    now = answer.job or job
    journal.update(now, base_url)
    if now.status is JobStatus.CANCELLED:
        return Done(now, "cancelled", f"Cancelled {now.id}.")
    if now.finished:
        raise _finished_already(now, provider.capabilities.delete, before_cancel=True)
    return Done(
        now,
        "cancelling",
        f"Asked {provider.name} to cancel {now.id}; it still reports it {now.status.value}.",
    )


def _finished_already(job: Job, deletable: bool, *, before_cancel: bool = False) -> UsageError:
    when = " before the cancel arrived" if before_cancel else ""
    return UsageError(
        f"Job {job.id} {job.status.value}{when}; there is nothing to cancel.",
        hint=f"To delete it and its stored video at the provider: framecast delete {job.id}"
        if deletable
        else None,
    )


def _asked_again(target: Tracked, answer: Removal) -> Removal:
    """An answer that said nothing: the job itself says what became of it."""
    try:
        return replace(answer, job=target.provider.get(target.job.id))
    except RequestRejected as error:
        if error.status != 404:
            raise
        return replace(answer, deleted=True)


def _deletable(journal: Journal, target: Tracked) -> Done | None:
    """None when the job may be deleted (it is finished); else why not, or that it is gone
    already (a journaled job the provider no longer has)."""
    provider = target.provider
    if not provider.capabilities.delete:
        raise UsageError(
            f"The {provider.name} API offers no way to delete a job.",
            hint="Nothing was sent; its stored video expires at the provider on its own.",
        )
    try:
        job = _refreshed(journal, target)
    except RequestRejected as error:
        if error.status != 404 or target.entry is None:
            raise  # an id nobody journaled: it is simply wrong
        journal.mark_deleted(target.job, provider.base_url)
        return Done(
            target.job,
            "already_deleted",
            f"{target.job.id} is already gone at {provider.name}.",
            deleted=True,
        )
    if not job.finished:
        hint = f"Stop it first with: framecast cancel {job.id}"
        raise UsageError(
            f"Job {job.id} is {job.status.value}; only finished jobs can be deleted.",
            hint=hint if provider.capabilities.cancel else None,
        )
    return None  # to be deleted, once confirmed


def _delete(journal: Journal, target: Tracked) -> Done:
    provider, job = target.provider, target.job
    answer = provider.delete(job.id)
    if not answer.deleted:
        # A video object, or nothing: the provider did not say it deleted anything.
        answer = _asked_again(target, answer)
    if not answer.deleted:
        shown = answer.job or job
        raise ProviderUnavailable(
            f"{provider.name} answered the delete of {job.id} but still has it "
            f"({shown.status.value}).",
            hint="Its stored video may still be there; try again later.",
        )
    journal.mark_deleted(job, provider.base_url)
    kept = ""
    if target.entry is not None and target.entry.output_path:
        kept = f"; the local copy {target.entry.output_path} is kept"
    return Done(job, "deleted", f"Deleted {job.id} at {provider.name}{kept}.", deleted=True)


def remix(
    ref: str, prompt: str, settings: Settings, display: Events, note: Note, how: Submission
) -> Outcome:
    """A new job from a completed one and a new prompt, at the same provider, of the same
    model and length: journaled before it is sent, then (unless told not to) followed and
    saved as `generate` does, under the same budget caps."""
    from framecast.runs import check_writable, submit_and_follow
    from framecast.targets import close_all, resolve_targets

    if how.wait:
        check_writable(settings.run.output, None)
    with Journal.open_default() as journal:
        targets = resolve_targets([ref], journal, settings)
        try:
            source = targets[0]
            api = source.provider
            if not api.capabilities.remix:
                raise UsageError(
                    f"The {api.name} API offers no way to remix a job.", hint="Nothing was sent."
                )
            prepared = _remix_request(journal, source, prompt)
            remixing = replace(how, remix=source.job.id, extend=None)
            return submit_and_follow(journal, api, prepared, settings, display, note, remixing)
        finally:
            close_all(targets)


def _remix_request(journal: Journal, source: Tracked, prompt: str) -> jobs.Prepared:
    """The remix as a request: the new prompt, with the source's model and length (a remix
    sends only the prompt; the rest is journaled, priced and shown)."""
    from framecast import catalog

    if not prompt.strip():
        raise UsageError("The remix prompt is empty.", hint="Say what should change.")
    job = _refreshed(journal, source)
    if job.status is not JobStatus.COMPLETED:
        hint = (
            f"Wait for it with: framecast wait {job.id}"
            if not job.finished
            else "Remix a completed job."
        )
        raise UsageError(
            f"Job {job.id} is {job.status.value}; only a completed job can be remixed.", hint=hint
        )
    request = JobRequest(prompt=prompt, model=job.model, seconds=job.seconds, size=job.size)
    info = catalog.bundled().find(job.model) if job.model else None
    return jobs.Prepared(request=request, model=info, adjustments=(), priced=request)
