"""What `generate`, `estimate`, `wait` and `download` do, from typed settings to finished
jobs, without the command line: each command parses its flags, calls one of these, and
renders what comes back.

Notes for people (adjustments, estimates, warnings) go to the `note` callback; the
display gets the progress; results come back as values.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from framecast import jobs, listing, pricing, saving
from framecast.domain import Job, JobStatus
from framecast.errors import FramecastError, UsageError
from framecast.inputs import build_request
from framecast.jobrun import Delivery, Events, JobRun, Tracked, job_failed
from framecast.journal import Entry, Journal
from framecast.pricing import Estimate
from framecast.settings import (
    ProviderChoice,
    Settings,
    choose_provider,
    openai_sunset_warning,
    poll_policy,
)

if TYPE_CHECKING:
    from pathlib import Path

    from framecast.providers.base import Provider, Variant

Note = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked request and the provider it goes to; nothing has been sent."""

    choice: ProviderChoice
    prepared: jobs.Prepared
    settings: Settings

    @property
    def adjustments(self) -> list[str]:
        return [str(a) for a in self.prepared.adjustments]


@dataclass(slots=True)
class Outcome:
    """The jobs a run created or followed; `tracked` is empty when it did not wait."""

    submitted: list[Job] = field(default_factory=list)
    tracked: list[Tracked] = field(default_factory=list)

    def raise_for_failures(self) -> None:
        failed = [t.job for t in self.tracked if t.job.status is not JobStatus.COMPLETED]
        if failed:
            raise job_failed(failed)


def read_prompt(prompt: str) -> str:
    return sys.stdin.read() if prompt == "-" else prompt


def plan(prompt: str, settings: Settings, note: Note) -> Plan:
    """The provider and the checked, normalised request the settings describe."""
    request = build_request(prompt, settings.request)
    choice = choose_provider(settings)
    provider_cls = choice.provider_class
    models = listing.cached_catalog(choice.name, choice.base_url or provider_cls.default_base_url)
    prepared = jobs.prepare(request, provider_cls, models)
    warning = openai_sunset_warning(choice)
    if warning:
        note(f"Warning: {warning}")
    for adjustment in prepared.adjustments:
        note(f"Note: {adjustment}")
    return Plan(choice, prepared, settings)


def estimate(plan: Plan, note: Note) -> Estimate:
    """The price of a planned request: the provider's dry run where it has one, else the
    bundled table."""
    with plan.choice.open() as api:
        return _priced(api, plan, note)


def _priced(api: Provider, plan: Plan, note: Note) -> Estimate:
    return jobs.estimate(
        api,
        plan.prepared,
        on_fallback=lambda e: note(f"Dry run unavailable ({e.message}); using the table."),
    )


@dataclass(frozen=True, slots=True)
class Priced:
    """An estimate, with the provider that priced it (None: the bundled table, offline)."""

    estimate: Estimate
    provider: str | None
    prepared: jobs.Prepared


def price(prompt: str, settings: Settings, note: Note) -> Priced:
    """`estimate`: the configured provider's price, or with no provider configured the
    bundled table's, saying so."""
    from framecast.errors import ConfigError

    configured = settings.connection.provider or settings.connection.api_key
    if not configured:
        try:
            choose_provider(settings)
        except ConfigError:
            prepared = jobs.prepare_offline(build_request(prompt, settings.request))
            for adjustment in prepared.adjustments:
                note(f"Note: {adjustment}")
            note("No provider is configured: priced offline from framecast's bundled table.")
            table = pricing.from_table(prepared.request, prepared.model, prepared.request.model)
            return Priced(table, None, prepared)
    planned = plan(prompt, settings, note)
    return Priced(estimate(planned, note), planned.choice.name, planned.prepared)


def check_output(output: str | None, *, to_stdout_ok: bool, jobs_count: int) -> None:
    """-o before anything is sent: a valid template, and `-` only for one plain video."""
    if output != saving.STDOUT:
        if output is not None and saving.is_template(output):
            placeholder = Job(id="job", provider="p", status=JobStatus.QUEUED)
            saving.render_template(output, placeholder, "mp4", 1)
        return
    if not to_stdout_ok:
        raise UsageError(
            "-o - writes the video to stdout; it cannot be combined with --json or --print."
        )
    if jobs_count > 1:
        raise UsageError("-o - streams one video; ask for one job at a time.")


def generate(
    plan: Plan,
    display: Events,
    note: Note,
    *,
    wait: bool = True,
    extend: str | None = None,
    again: bool = False,
    force: bool = False,
    cancel_on_interrupt: bool = False,
    on_saved: Callable[[Job, Path, int], None] | None = None,
) -> Outcome:
    """Check the budget, submit (journaled), and unless told not to, wait and save."""
    run_settings, request = plan.settings.run, plan.prepared.request
    out, several = run_settings.output, request.n > 1
    if wait and out not in (None, saving.STDOUT):
        placeholder = Job(
            id="job", provider="provider", status=JobStatus.QUEUED, model=request.model
        )
        saving.check_writable(
            saving.target_path(out, placeholder, "mp4", index=1 if several else None)
        )
    with Journal.open_default() as journal, plan.choice.open() as api:
        if run_settings.max_cost is not None:
            _check_budget(api, plan, note)
        run = JobRun(
            journal,
            display,
            policy=poll_policy(plan.settings),
            timeout=run_settings.timeout,
            cancel_on_interrupt=cancel_on_interrupt,
        )
        submitted = run.submit(api, plan.prepared, extend=extend, again=again, output=out)
        if not wait:
            return Outcome(submitted)
        delivery = Delivery(
            output=out,
            force=force,
            sink=sys.stdout.buffer if out == saving.STDOUT else None,
            on_saved=on_saved,
        )
        tracked = [
            Tracked(api, job, index=i if several else None, confirmed=True)
            for i, job in enumerate(submitted, start=1)
        ]
        return Outcome(submitted, run.follow(tracked, delivery))


def _check_budget(api: Provider, plan: Plan, note: Note) -> None:
    cost = _priced(api, plan, note)
    cap = plan.settings.run.max_cost or 0.0
    jobs.check_budget(cost, cap, allow_unpriced=plan.settings.run.allow_unpriced)
    if cost.total is not None:
        note(f"Estimated {cost.total:.2f} {cost.currency} ({cost.describe_source()}).")


def follow(
    refs: Sequence[str],
    settings: Settings,
    display: Events,
    *,
    output: str | None,
    save: bool,
    force: bool = False,
    cancel_on_interrupt: bool = False,
    on_saved: Callable[[Job, Path, int], None] | None = None,
) -> Outcome:
    """`wait`: follow jobs already submitted until they finish; save them if asked."""
    from framecast.targets import close_all, resolve_targets

    into_one = output not in (None, saving.STDOUT) and not saving.is_template(output)
    if save and len(refs) > 1 and into_one:
        # Several jobs into one file is refused before anything is asked.
        placeholder = Job(id="job", provider="p", status=JobStatus.QUEUED)
        saving.target_path(output, placeholder, "mp4", several=True)
    if save and output not in (None, saving.STDOUT):
        # Where the videos go is checked before the wait, not after it.
        placeholder = Job(id="job", provider="p", status=JobStatus.QUEUED)
        index = 1 if len(refs) > 1 else None
        saving.check_writable(saving.target_path(output, placeholder, "mp4", index=index))
    policy = poll_policy(settings)
    with Journal.open_default() as journal:
        targets = resolve_targets(refs, journal, settings)
        try:
            run = JobRun(
                journal,
                display,
                policy=policy,
                timeout=settings.run.timeout,
                cancel_on_interrupt=cancel_on_interrupt,
            )
            delivery = Delivery(
                output=output,
                save=save,
                force=force,
                sink=sys.stdout.buffer if output == saving.STDOUT else None,
                on_saved=on_saved,
            )
            run.follow(targets, delivery, refresh_first=True)
        finally:
            close_all(targets)
    return Outcome(tracked=targets)


def fetch(
    ref: str,
    settings: Settings,
    display: Events,
    *,
    variant: Variant,
    force: bool = False,
    on_saved: Callable[[Job, Path, int], None] | None = None,
) -> Tracked:
    """`download`: ask for the job afresh and save the asset."""
    from framecast.targets import close_all, resolve_targets

    out = settings.run.output
    with Journal.open_default() as journal:
        targets = resolve_targets([ref], journal, settings)
        try:
            run = JobRun(journal, display, timeout=settings.run.timeout)
            delivery = Delivery(
                output=out,
                force=force,
                variant=variant,
                sink=sys.stdout.buffer if out == saving.STDOUT else None,
                on_saved=on_saved,
            )
            return run.fetch(targets[0], delivery)
        finally:
            close_all(targets)


def refresh(
    refs: Sequence[str], settings: Settings, on_error: Callable[[FramecastError], None]
) -> Iterator[tuple[Job, Entry | None, str | None]]:
    """`status`: each job as its provider reports it now, its journal entry, and a word
    about its output link expiring. One job that cannot be shown does not hide the others:
    later failures go to `on_error` and the first is raised at the end."""
    import time

    from framecast.report import expiry_warning
    from framecast.targets import close_all, resolve_targets
    from framecast.ui import Display

    failures: list[FramecastError] = []
    with Journal.open_default() as journal:
        targets = resolve_targets(refs, journal, settings)
        run = JobRun(journal, Display())  # status asks once and prints the answer itself
        try:
            for target in targets:
                try:
                    job = run.refresh(target.provider, target.job.id)
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
