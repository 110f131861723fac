"""What `generate`, `estimate`, `wait` and `download` do, from typed settings to finished
jobs, without the command line: each command parses its flags, calls one of these, and
renders what comes back.

Notes for people (adjustments, estimates, warnings) go to the `note` callback; the
display gets the progress; results come back as values.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from framecast import jobs, listing, pricing, saving
from framecast.domain import Job, JobStatus
from framecast.errors import UsageError
from framecast.inputs import build_request
from framecast.jobrun import Delivery, Events, JobRun, Tracked, job_failed
from framecast.journal import Journal
from framecast.normalise import Adjustment
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
        """Every change to what was asked, in words: framecast's own, and what a provider
        that converts values itself is expected to make of them."""
        prepared = self.prepared
        own = [str(a) for a in prepared.adjustments]
        return own + [conversion_text(c, self.choice.name, prepared) for c in prepared.conversions]


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
    prepared = jobs.prepare(request, provider_cls, models, strict=settings.run.strict)
    warning = openai_sunset_warning(choice)
    if warning:
        note(f"Warning: {warning}")
    _say_changes(prepared, choice.name, note)
    return Plan(choice, prepared, settings)


def _say_changes(prepared: jobs.Prepared, provider: str | None, note: Note) -> None:
    """Every change to what was asked, before anything is sent; a raise in length or scale
    (and so in price) as a warning, which --quiet does not silence."""
    for adjustment in prepared.adjustments:
        note(("Warning: " if adjustment.raises else "Note: ") + str(adjustment))
    for conversion in prepared.conversions:
        text = conversion_text(conversion, provider, prepared)
        note(("Warning: " if conversion.raises else "Note: ") + text[:1].upper() + text[1:])


def conversion_text(conversion: Adjustment, provider: str | None, prepared: jobs.Prepared) -> str:
    """What a provider that converts values itself (Lumenfall) will probably make of one."""
    flag = "--" + conversion.field.replace("_", "-")
    if conversion.used == "ignored":
        return f"{flag} {conversion.requested} is sent, but {provider} lets --size win."
    model = prepared.model.id if prepared.model else "the model"
    guess = f"probably {conversion.used}"
    if conversion.raises and conversion.extra_cost is not None:
        guess += f", costing about {conversion.extra_cost:.2f} {conversion.currency} more"
    elif conversion.raises:
        guess += ", which costs more"
    return (
        f"{flag} {conversion.requested} is sent as asked; {provider} converts it to what "
        f"{model} makes ({guess})."
    )


def estimate(plan: Plan, note: Note) -> Estimate:
    """The price of a planned request: the provider's dry run where it has one, else the
    bundled table."""
    with plan.choice.open() as api:
        return _priced(api, plan.prepared, note)


def _priced(api: Provider, prepared: jobs.Prepared, note: Note) -> Estimate:
    cost = jobs.estimate(
        api,
        prepared,
        on_fallback=lambda e: note(f"Dry run unavailable ({e.message}); using the table."),
    )
    asked = prepared.request.seconds
    if cost.source == "dry_run" and None not in (asked, cost.seconds) and cost.seconds != asked:
        more = ", which costs more" if (cost.seconds or 0) > (asked or 0) else ""
        note(
            f"Note: {cost.origin}'s dry run bills {cost.seconds} s for the {asked} s asked "
            f"(it converts the length itself{more})."
        )
    return cost


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
            prepared = jobs.prepare_offline(
                build_request(prompt, settings.request), strict=settings.run.strict
            )
            _say_changes(prepared, None, note)
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


def generate(plan: Plan, display: Events, note: Note, how: Submission) -> Outcome:
    """Check the budget, submit (journaled), and unless told not to, wait and save."""
    request = plan.prepared.request
    if how.wait:
        check_writable(plan.settings.run.output, request.model, several=request.n > 1)
    with Journal.open_default() as journal, plan.choice.open() as api:
        return submit_and_follow(journal, api, plan.prepared, plan.settings, display, note, how)


@dataclass(frozen=True, slots=True)
class Submission:
    """How a run submits and what it does next: follow and save, or not."""

    wait: bool = True
    extend: str | None = None  # the finished job it continues
    remix: str | None = None  # the finished job it remixes
    again: bool = False
    force: bool = False
    cancel_on_interrupt: bool = False
    on_saved: Callable[[Job, Path, int], None] | None = None


def check_writable(output: str | None, model: str | None, *, several: bool = False) -> None:
    """Where the videos go is checked before anything is paid for."""
    if output in (None, saving.STDOUT):
        return
    placeholder = Job(id="job", provider="provider", status=JobStatus.QUEUED, model=model)
    index = 1 if several else None
    saving.check_writable(saving.target_path(output, placeholder, "mp4", index=index))


def submit_and_follow(
    journal: Journal,
    api: Provider,
    prepared: jobs.Prepared,
    settings: Settings,
    display: Events,
    note: Note,
    how: Submission,
) -> Outcome:
    """The budget caps, the journaled submission, and unless told not to, the wait and the
    save: `generate`'s run, and `remix`'s."""
    run_settings = settings.run
    if run_settings.max_cost is not None or run_settings.max_daily_cost is not None:
        _check_budget(api, prepared, settings, note, journal)
    run = JobRun(
        journal,
        display,
        policy=poll_policy(settings),
        timeout=run_settings.timeout,
        cancel_on_interrupt=how.cancel_on_interrupt,
    )
    out = run_settings.output
    submitted = run.submit(
        api, prepared, extend=how.extend, remix=how.remix, again=how.again, output=out
    )
    if not how.wait:
        return Outcome(submitted)
    try:
        delivery = Delivery(
            output=out,
            force=how.force,
            sink=sys.stdout.buffer if out == saving.STDOUT else None,
            on_saved=how.on_saved,
        )
        several = len(submitted) > 1
        tracked = [
            Tracked(api, job, index=i if several else None, confirmed=True)
            for i, job in enumerate(submitted, start=1)
        ]
        return Outcome(submitted, run.follow(tracked, delivery))
    except KeyboardInterrupt as stop:
        # Between the submission and the wait (once waiting, follow names the jobs itself).
        raise run.stopped_after_submitting(submitted, stop, api, out) from None


def _check_budget(
    api: Provider, prepared: jobs.Prepared, settings: Settings, note: Note, journal: Journal
) -> None:
    """--max-cost and --max-daily-cost, before anything is sent. The daily cap is checked
    now, and again as the submission is journaled (under the journal's write lock), so a
    submission another process journaled meanwhile counts too."""
    from framecast import spending

    cost = _priced(api, prepared, note)
    run_settings = settings.run
    if run_settings.max_cost is not None:
        jobs.check_budget(cost, run_settings.max_cost, allow_unpriced=run_settings.allow_unpriced)
    if run_settings.max_daily_cost is not None:
        spending.hold_to_daily_cap(
            journal, cost, run_settings.max_daily_cost, allow_unpriced=run_settings.allow_unpriced
        )
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
