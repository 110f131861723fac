"""`framecast sync`: find out what became of submissions whose outcome is unknown.

For each provider endpoint with unknown entries (or the one asked for), the
provider's own record is read where it has one: the OpenAI Videos list
(`GET /videos`), NanoGPT's recent runs (`/generate-video/recover`), Lumenfall's
request history (`GET /v1/requests`). An unknown entry is matched to a listed
job by model, prompt (where the listing has it) and creation time, nearest
first; with a complete listing and no match, the submission created nothing
and its entry is dropped. Listed jobs the journal does not know are imported.
Where the provider deduplicates by key, `replay` re-sends the submission with
its original idempotency key, which returns the job it made without a second
charge.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from framecast.domain import Job, JobRequest
from framecast.errors import FramecastError, ProviderError
from framecast.journal import SUBMITTING, Entry, Journal
from framecast.untrusted import strip_userinfo

if TYPE_CHECKING:
    from framecast.providers.base import Provider
    from framecast.settings import Settings

# How far around the moment of submission a listed job may have been created (clocks
# differ; queues are slow).
BEFORE = 300.0
AFTER = 900.0
# How far back the provider's list is read: a job whose prompt matches is found even when
# the server's clock (or ours) is off by hours.
LOOK_BACK = 86400.0
IMPORT_WINDOW = 7 * 86400.0

Kind = Literal["resolved", "not_created", "unresolved", "imported", "no_lookup"]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    provider: str
    entry: str | None  # the journal's id for the submission (local-...), if any
    job: Job | None = None
    detail: str = ""

    def document(self) -> dict[str, object]:
        """The JSON object `sync --json` prints."""
        job = self.job
        return {
            "finding": self.kind,
            "provider": self.provider,
            "submission": self.entry,
            "id": job.id if job else None,
            "status": job.status.value if job else None,
            "detail": self.detail or None,
        }

    def line(self) -> str:
        """The line `sync` prints."""
        job = self.job
        if self.kind == "resolved" and job is not None:
            return f"{self.entry} -> {job.id} ({job.status.value}) {self.detail}".strip()
        if self.kind == "imported" and job is not None:
            return f"imported {job.id} ({job.status.value}, {job.model or 'unknown model'})"
        return f"{self.entry}: {self.kind.replace('_', ' ')}: {self.detail}"


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)

    def of(self, kind: Kind) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]


def _matches(entry: Entry, job: Job, *, anytime: bool = False) -> bool:
    """Model and prompt agree (where both are known), and the job was made around then.

    With `anytime`, a job whose prompt is the same counts whatever its time says: a prompt
    is a far better witness than a server's clock.
    """
    model = entry.job.model
    if model is not None and job.model is not None and job.model != model:
        return False
    prompt, listed = entry.job.prompt, job.prompt
    same_prompt = prompt is not None and listed is not None
    if prompt is not None and listed is not None and listed.strip() != prompt.strip():
        return False
    if job.created_at is None or (anytime and same_prompt):
        return True
    return entry.submitted_at - BEFORE <= job.created_at <= entry.submitted_at + AFTER


def _request_of(entry: Entry) -> JobRequest | None:
    """The journaled request, rebuilt for a replay; None when it cannot be (inline data)."""
    record = dict(entry.request)
    images = tuple(record.get("images") or ())
    if any(str(i).startswith("data:") for i in images) or str(record.get("video", "")).startswith(
        "data:"
    ):
        return None
    try:
        return JobRequest(
            prompt=str(record["prompt"]),
            model=record.get("model"),
            seconds=record.get("seconds"),
            size=record.get("size"),
            aspect_ratio=record.get("aspect_ratio"),
            resolution=record.get("resolution"),
            n=int(record.get("n") or 1),
            images=images,
            video=record.get("video"),
            negative_prompt=record.get("negative_prompt"),
            seed=record.get("seed"),
            audio=record.get("audio"),
            webhook_url=record.get("webhook_url"),
            metadata=dict(record.get("metadata") or {}),
            user=record.get("user"),
            idempotency_key=entry.idempotency_key,
            params=dict(record.get("params") or {}),
        )
    except (KeyError, TypeError, ValueError):
        return None


def reconcile(
    journal: Journal,
    provider: Provider,
    unknown: Iterable[Entry],
    *,
    import_jobs: bool = True,
    replay: bool = False,
    limit: int = 200,
    now: Callable[[], float] = time.time,
) -> Report:
    """Resolve one provider endpoint's unknown entries, and import what the journal lacks."""
    report = Report()
    pending = sorted(unknown, key=lambda e: e.submitted_at)
    since = min((e.submitted_at - LOOK_BACK for e in pending), default=now() - IMPORT_WINDOW)
    if import_jobs:
        since = min(since, now() - IMPORT_WINDOW)
    listing = provider.lookup(since, limit=limit)
    if listing is None:
        for entry in pending:
            report.findings.append(_without_listing(journal, provider, entry, replay=replay))
        if not pending:
            report.findings.append(
                Finding(
                    "no_lookup",
                    provider.name,
                    None,
                    detail=f"The {provider.name} API offers no way to list jobs.",
                )
            )
        return report
    listed = listing.jobs
    known = journal.known_ids(provider.name, provider.base_url)
    fresh = [job for job in listed if job.id not in known]
    complete = listing.complete  # it reached back past the window
    for entry in pending:
        candidates = [job for job in fresh if _matches(entry, job)] or [
            job for job in fresh if _matches(entry, job, anytime=True)
        ]
        if candidates:
            job = min(candidates, key=lambda j: abs((j.created_at or 0) - entry.submitted_at))
            fresh.remove(job)
            journal.complete_submission(entry.seq, job)
            how = (
                ""
                if job.prompt
                else f"matched by model and time only; {provider.name} lists no prompts"
            )
            report.findings.append(Finding("resolved", provider.name, entry.id, job, detail=how))
        elif complete:
            journal.forget(entry.seq)
            report.findings.append(
                Finding(
                    "not_created",
                    provider.name,
                    entry.id,
                    detail=f"{provider.name} lists no such job; nothing was created or billed.",
                )
            )
        else:
            report.findings.append(
                Finding(
                    "unresolved",
                    provider.name,
                    entry.id,
                    detail=f"not among the {len(listed)} most recent jobs {provider.name} lists",
                )
            )
    if import_jobs:
        # A job made by a submission still in flight (another process) is that one's to record.
        busy = [
            e
            for e in journal.pending()
            if e.state == SUBMITTING and not e.orphaned and (e.provider, e.base_url) == (
                provider.name, strip_userinfo(provider.base_url)
            )
        ]  # fmt: skip
        for job in fresh:
            if busy and any(_matches(e, job) for e in busy):
                continue
            record = {"prompt": job.prompt, "model": job.model, "imported": True}
            journal.add_job(job, provider.base_url, request=record, imported=True)
            report.findings.append(Finding("imported", provider.name, None, job))
    return report


def _without_listing(
    journal: Journal, provider: Provider, entry: Entry, *, replay: bool
) -> Finding:
    """A provider that lists no jobs: its request history, then (if asked) a keyed replay."""
    window = (entry.submitted_at - BEFORE, entry.submitted_at + AFTER)
    try:
        seen = provider.received(*window, entry.job.model)
    except ProviderError as error:
        return Finding("unresolved", provider.name, entry.id, detail=error.message)
    if seen is False:
        journal.forget(entry.seq)
        return Finding(
            "not_created",
            provider.name,
            entry.id,
            detail=f"{provider.name}'s request history shows no such request; nothing was billed.",
        )
    request = _request_of(entry)
    if replay and request is not None and entry.idempotency_key:
        try:
            jobs = provider.replay(request)
        except FramecastError as error:
            return Finding("unresolved", provider.name, entry.id, detail=error.message)
        journal.complete_submission(entry.seq, jobs[0])
        return Finding("resolved", provider.name, entry.id, jobs[0], detail="by keyed replay")
    hint = (
        " Run `framecast sync --replay` to ask for it by its idempotency key (no second charge)."
        if entry.idempotency_key and request is not None
        else ""
    )
    what = (
        f"{provider.name} recorded a request then, but lists no job ids."
        if seen
        else f"The {provider.name} API offers no way to look jobs up."
    )
    return Finding("unresolved", provider.name, entry.id, detail=what + hint)


def reconcile_all(
    settings: Settings, *, import_jobs: bool, replay: bool, limit: int
) -> Report | None:
    """`sync`: ask each provider that has unknown submissions (and the one the settings
    select, if any) for its recent jobs. None: there was nothing to reconcile."""
    from framecast.errors import ConfigError
    from framecast.settings import choose_provider, for_journaled_job

    report = Report()
    with Journal.open_default() as journal:
        unknown = journal.unknown()
        places = list(dict.fromkeys((entry.provider, entry.base_url) for entry in unknown))
        choices = [for_journaled_job(name, url, settings) for name, url in places]
        if settings.connection.provider or settings.connection.api_key:
            try:
                choices.append(choose_provider(settings))
            except ConfigError:
                if not places:
                    raise
        if not choices:
            return None
        done: set[tuple[str, str]] = set()
        for choice in choices:
            with choice.open() as api:
                key = (api.name, api.base_url)
                if key in done:
                    continue
                done.add(key)
                entries = [e for e in unknown if (e.provider, e.base_url) == key]
                found = reconcile(
                    journal, api, entries, import_jobs=import_jobs, replay=replay, limit=limit
                )
                report.findings += found.findings
    return report
