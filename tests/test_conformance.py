"""The served emulator against the official OpenAI Videos OpenAPI subset (schemathesis).

The spec is used as published, plus an overlay of what Lumenfall documents on
top of OpenAI's shape, which the emulator follows:

- create, remix, edit and extend answer 202 Accepted with the video object
  (docs.lumenfall.ai/api-reference/videos/generate; OpenAI answers 200);
- an unknown model is 404 MODEL_NOT_FOUND (docs.lumenfall.ai/api-reference/errors),
  as is an unknown source video for edits and extensions;
- thumbnails and spritesheets are PNG (the emulator writes PNG with the standard
  library; OpenAI serves WebP).

Checked: no server errors, and status codes, content types, headers and bodies
all as the spec (with the overlay) documents. Negative-data rejection is not
checked: the emulator deliberately accepts Lumenfall's superset (16 and 20 s
sora-2 clips, its 1K sizes, passthrough fields).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from framecast.emulator import EmulatorConfig
from tests.conftest import serve

pytestmark = pytest.mark.slow

SPEC = Path(__file__).parent / "data" / "videos-openapi.v1.openai-errors.json"
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


def with_lumenfall_overlay(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    paths = spec["paths"]
    not_found = paths["/v1/videos/{video_id}"]["get"]["responses"]["404"]
    for path in (
        "/v1/videos",
        "/v1/videos/{video_id}/remix",
        "/v1/videos/edits",
        "/v1/videos/extensions",
    ):
        responses = paths[path]["post"]["responses"]
        responses["202"] = copy.deepcopy(responses["200"])
        responses.setdefault("404", copy.deepcopy(not_found))
    content = paths["/v1/videos/{video_id}/content"]["get"]["responses"]["200"]["content"]
    content["image/png"] = {"schema": {"type": "string", "format": "binary"}}
    return spec


def load_schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(with_lumenfall_overlay(json.loads(SPEC.read_text())))


OPERATIONS = [result.ok().label for result in load_schema().get_all_operations()]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    served = serve(EmulatorConfig(job_seconds=0.0))
    yield served.origin
    served.server.stop()


@pytest.mark.parametrize("label", OPERATIONS)
def test_emulator_conforms_to_the_openai_videos_spec(base_url: str, label: str) -> None:
    operation = load_schema().find_operation_by_label(label)
    assert operation is not None
    headers = {"Authorization": "Bearer sk-conformance"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def conforms(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS)

    conforms()


def test_every_operation_of_the_spec_is_exercised() -> None:
    assert len(OPERATIONS) == 10
    assert "POST /v1/videos" in OPERATIONS and "GET /v1/videos/{video_id}/content" in OPERATIONS


def test_overlay_changes_only_what_it_documents() -> None:
    original = json.loads(SPEC.read_text())
    overlaid = with_lumenfall_overlay(original)
    assert overlaid["components"] == original["components"]
    assert set(overlaid["paths"]) == set(original["paths"])
    assert "202" not in original["paths"]["/v1/videos"]["post"]["responses"]
