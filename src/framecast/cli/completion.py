"""Dynamic shell completion: profile names, model names and recent job ids.

These run on every <TAB>, so they read local files only (the config, the
bundled catalog, the journal) and never fail: a problem means no suggestions.
"""

from __future__ import annotations

from collections.abc import Callable

MAX_JOBS = 30


def _quietly(fetch: Callable[[], list[str]], incomplete: str) -> list[str]:
    try:
        return [item for item in fetch() if item.startswith(incomplete)]
    except Exception:
        return []


def complete_profiles(incomplete: str) -> list[str]:
    from framecast import config

    return _quietly(lambda: sorted(config.load().profiles), incomplete)


def complete_models(incomplete: str) -> list[str]:
    from framecast import catalog

    return _quietly(lambda: list(catalog.models()), incomplete)


def complete_jobs(incomplete: str) -> list[str]:
    from framecast.journal import Journal

    def recent() -> list[str]:
        with Journal.open_default() as journal:
            entries = journal.recent(MAX_JOBS)
        return ["@last", *(entry.id for entry in entries)]

    return _quietly(recent, incomplete)
