"""Which job a reference (an id, @last, @N) names, and which provider answers for it."""

from __future__ import annotations

from collections.abc import Sequence

from framecast.domain import Job, JobStatus
from framecast.errors import UsageError
from framecast.journal import Journal
from framecast.providers import get_provider
from framecast.providers.base import Provider
from framecast.settings import ProviderChoice, Settings, choose_provider, for_journaled_job
from framecast.tracked import Tracked
from framecast.untrusted import is_job_id, shown_id


def resolve_targets(refs: Sequence[str], journal: Journal, settings: Settings) -> list[Tracked]:
    """Providers for each reference; journaled jobs go back to where they were submitted."""
    opened: dict[tuple[str, str | None], Provider] = {}
    targets: list[Tracked] = []

    def provider_for(choice: ProviderChoice) -> Provider:
        key = (choice.name, choice.base_url)
        if key not in opened:
            opened[key] = choice.open()
        return opened[key]

    explicit = "flag" in (settings.origins.get("provider"), settings.origins.get("base_url"))
    for ref in refs:
        if not ref.startswith("@") and not is_job_id(ref):
            raise UsageError(
                f"{shown_id(ref)} is not a job id.",
                hint="Job ids are letters, digits and . _ - : = + ~; or use @last / @N.",
            )
        entry = journal.resolve(ref)
        if entry is not None and entry.pending:
            raise UsageError(
                f"{ref} is a submission whose outcome is not known yet ({entry.state}).",
                hint="Run `framecast sync` to find out whether it created a job.",
            )
        if entry is not None and not explicit:
            choice = for_journaled_job(entry.provider, entry.base_url, settings)
            targets.append(Tracked(provider_for(choice), entry.job, entry))
            continue
        provider = provider_for(choose_provider(settings))
        job_id = entry.id if entry is not None else ref
        known = journal.get(provider.name, provider.base_url, job_id)
        placeholder = Job(id=job_id, provider=provider.name, status=JobStatus.QUEUED)
        targets.append(Tracked(provider, known.job if known else placeholder, known))
    return targets


def close_all(targets: list[Tracked]) -> None:
    for provider in {id(t.provider): t.provider for t in targets}.values():
        provider.close()


def extension_source(ref: str, flags: dict[str, object]) -> str:
    """The job id `--extend` names; unless the flags say otherwise, its provider, base URL
    and model become the run's (filled into `flags`)."""
    with Journal.open_default() as journal:
        entry = journal.resolve(ref)
    if entry is None:
        return ref
    if flags.get("provider") is None and flags.get("base_url") is None:
        needs_url = get_provider(entry.provider).key_env_var is not None
        flags["provider"] = entry.provider
        flags["base_url"] = entry.base_url if needs_url else None
    if flags.get("model") is None:
        flags["model"] = entry.job.model
    return entry.id
