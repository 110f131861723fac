"""The strict dialect (`--dialect openai`) against the official OpenAI Videos spec.

schemathesis runs as its users run it: `schemathesis run SPEC --checks all`, every
phase (examples, coverage with negative data and undeclared methods, fuzzing,
stateful links), with a key the emulator requires (`--api-key`), so the
authentication checks bite too. The spec is used exactly as published
(tests/data/SOURCES.md).

One check cannot hold on five operations, and is left out only there:
`positive_data_acceptance`, which expects every request the schema allows to
succeed. The schema cannot say which models a server serves, which videos exist
and have finished, or that a body is needed at all, so a stateful server must
refuse some schema-valid requests with a JSON 400, as OpenAI does:

- POST /videos: `model` is typed as any string, but only the models the server
  serves are valid; and the description, not the schema, says a reference takes
  exactly one of `image_url` or `file_id`;
- GET /videos: `after` must name a video the server holds;
- POST /videos/edits and /videos/extensions: the source video must exist and have
  completed (and an upload must be a video); the spec documents no 404 there;
- POST /videos/characters: its body is not marked required, so a POST with none
  counts as valid, yet a character needs the name and video its body requires.

So the suite runs schemathesis twice: every check on the other five operations,
and every check but that one on all ten (which keeps the stateful phase's links
between them).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import Served, run_command, serve

pytestmark = pytest.mark.slow

SPEC = Path(__file__).parent / "data" / "videos-openapi.v1.openai-errors.json"
KEY = "sk-conformance-key"
# The operations whose schema-valid requests must all succeed.
ALWAYS_VALID = r"^/v1/videos/(\{video_id\}(/content|/remix)?|characters/\{character_id\})$"


@pytest.fixture(scope="module")
def strict() -> Iterator[Served]:
    # Jobs finish at once, so stateful links (create, then content or remix) meet a
    # completed video; an unfinished one is still refused with a JSON error.
    served = serve(EmulatorConfig(job_seconds=0.0, dialect="openai", api_key=KEY))
    yield served
    served.server.stop()


def schemathesis(served: Served, tmp_path: Path, *options: str) -> str:
    run = run_command(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            str(SPEC),
            "--url",
            served.origin,
            "--checks",
            "all",
            *options,
            "--header",
            f"Authorization: Bearer {KEY}",
            "--seed",
            "20261122",
            "--workers",
            "1",
            "--no-color",
        ],
        timeout=600,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    return run.stdout


def test_every_check_but_positive_acceptance_passes_on_every_operation(
    strict: Served, tmp_path: Path
) -> None:
    out = schemathesis(strict, tmp_path, "--exclude-checks", "positive_data_acceptance")
    assert "Tested: 10" in out and "Stateful" in out, out[-3000:]


def test_every_check_passes_on_the_operations_whose_valid_requests_must_succeed(
    strict: Served, tmp_path: Path
) -> None:
    out = schemathesis(strict, tmp_path, "--include-path-regex", ALWAYS_VALID)
    assert "Selected: 5/10" in out and "Tested: 5" in out, out[-3000:]
