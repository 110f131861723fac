"""`generate --extend`: the prompt a continuation goes with, checked before anything is sent.

A continuation either describes its new segment (a PROMPT, which every provider
that extends takes) or, where the provider can, continues one video of the run as
it is: NanoGPT's task-based extend of a Midjourney run, `--index 0-3`, no prompt
(seed 003). `--index` means nothing anywhere else, so it is refused there.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from framecast.errors import UsageError
from framecast.settings import Settings, choose_provider

INDEX_ALONE = "--index picks which video of a run --extend continues; it means nothing alone."


def segment_prompt(
    prompt: str | None, source: str | None, settings: Settings
) -> tuple[str, Settings]:
    """The prompt `generate` sends (stdin's for `-`) and the settings it runs with.

    `source`: the job `--extend` names, None for a new job. Without a PROMPT the
    continuation takes the run's video `--index` (default 0), where the provider can.
    """
    index = settings.request.extend_index
    if source is None and index is not None:
        raise UsageError(INDEX_ALONE, hint="Add --extend ID, the Midjourney run to continue.")
    if prompt is not None:
        return (sys.stdin.read() if prompt == "-" else prompt), settings
    if source is None:
        # Worded as the command line words a missing argument: only --extend makes it optional.
        raise UsageError("Missing argument 'PROMPT'.", hint="see 'framecast generate --help'.")
    provider = choose_provider(settings).provider_class
    if not provider.capabilities.extend_by_index:
        raise UsageError(
            f"{provider.name} continues a job only with a PROMPT for the new segment.",
            hint=f'framecast generate "what happens next" --extend {source}',
        )
    if index is None:
        settings = replace(settings, request=replace(settings.request, extend_index=0))
    return "", settings
