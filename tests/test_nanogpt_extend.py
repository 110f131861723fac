"""`generate --extend` on NanoGPT: its two extend flows (seed 003), over loopback.

Without a PROMPT a Midjourney run continues as it is, through the task-based
POST /api/generate-video/extend {runId, index 0-3}. With a PROMPT an extend model
extends the finished run's video through POST /api/generate-video, the prompt and
the video's URL (as NanoGPT's status answer gave it) in the body.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast.emulator import EmulatorConfig
from framecast.providers.nanogpt import EXTEND_MODEL_IDS
from tests.conftest import Served, invoke, journal_rows, serve

BOAT = "a paper boat drifting down a rainy street"
NEXT = "the boat reaches the sea"


@pytest.fixture
def nanogpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.2))
    monkeypatch.setenv("NANOGPT_API_KEY", "nano-test-key")
    monkeypatch.setenv("NANOGPT_BASE_URL", served.origin + "/api")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "nanogpt")
    yield served
    served.server.stop()


def finished_run(model: str) -> dict[str, object]:
    result = invoke("generate", BOAT, "-m", model, "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def creates(served: Served) -> list[dict[str, object]]:
    seen = served.seen("POST", "/api/generate-video")
    return [s.json() for s in seen if s.path == "/api/generate-video"]


def task_extends(served: Served) -> list[dict[str, object]]:
    return [seen.json() for seen in served.seen("POST", "/api/generate-video/extend")]


def source_reads(served: Served, run_id: str) -> list[object]:
    return [s for s in served.seen("GET", "/api/video/status") if s.query == f"requestId={run_id}"]


# -- without a prompt: the task-based extend of a Midjourney run ---------------------------


@pytest.mark.parametrize(("args", "index"), [([], 0), (["--index", "3"], 3)])
def test_a_midjourney_run_continues_by_index_without_a_prompt(
    nanogpt: Served, args: list[str], index: int
) -> None:
    source = finished_run("midjourney-video")

    result = invoke("generate", "--extend", "@last", *args, "--json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["model"]) == ("completed", "midjourney-video")
    assert doc["id"] != source["id"]
    assert task_extends(nanogpt) == [{"runId": source["id"], "index": index}]
    assert len(creates(nanogpt)) == 1, "only the source run went through /generate-video"
    row = journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"]))[-1]
    request = json.loads(row["request"])
    assert (request["extends"], request["extend_index"], request["prompt"]) == (
        source["id"],
        index,
        "",
    )


@pytest.mark.parametrize("index", ["4", "-1", "two"])
def test_an_index_outside_0_to_3_is_refused(nanogpt: Served, index: str) -> None:
    finished_run("midjourney-video")

    result = invoke("generate", "--extend", "@last", "--index", index)

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "Invalid value for '--index'" in result.stderr
    assert task_extends(nanogpt) == []


def test_without_a_prompt_only_midjourney_runs_continue(nanogpt: Served) -> None:
    source = finished_run("veo-3.1")

    result = invoke("generate", "--extend", "@last", "--index", "1")

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"Without a prompt, nanogpt continues Midjourney runs only; {source['id']}" in (
        result.stderr
    )
    assert "veo3-1-extend" in result.stderr, "the hint names the extend models"
    assert task_extends(nanogpt) == [] and len(creates(nanogpt)) == 1


def test_an_index_passed_as_a_param_is_refused(nanogpt: Served) -> None:
    finished_run("midjourney-video")

    result = invoke("generate", "--extend", "@last", "-P", "index=7")

    assert result.exit_code == 2, result.output
    assert "--index 0-3, not as -P index" in result.stderr
    assert task_extends(nanogpt) == []


# -- where --index and a missing prompt mean nothing ---------------------------------------


def test_index_with_a_prompt_is_refused_before_anything_is_sent(nanogpt: Served) -> None:
    finished_run("midjourney-video")

    result = invoke("generate", NEXT, "--extend", "@last", "--index", "1")

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "--index means nothing with a PROMPT" in result.stderr
    assert task_extends(nanogpt) == [] and len(creates(nanogpt)) == 1


def test_index_without_extend_is_refused(nanogpt: Served) -> None:
    result = invoke("generate", BOAT, "-m", "midjourney-video", "--index", "1")

    assert result.exit_code == 2, result.output
    assert "--index picks which video of a run --extend continues" in result.stderr
    assert nanogpt.seen("POST") == []


def test_estimate_refuses_index(nanogpt: Served) -> None:
    result = invoke("estimate", BOAT, "-m", "midjourney-video", "--index", "1")

    assert result.exit_code == 2, result.output
    assert "--index" in result.stderr
    assert nanogpt.seen() == []


def test_a_provider_that_cannot_continue_by_index_needs_a_prompt(isolated: Path) -> None:
    source = invoke("generate", BOAT, "--provider", "emulator", "-q")
    assert source.exit_code == 0, source.output

    result = invoke("generate", "--extend", "@last")

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "emulator continues a job only with a PROMPT for the new segment." in result.stderr


def test_a_new_job_still_needs_its_prompt(nanogpt: Served) -> None:
    result = invoke("generate", "-m", "veo-3.1")

    assert result.exit_code == 2, result.output
    assert "Missing argument 'PROMPT'." in result.stderr
    assert nanogpt.seen() == []


# -- with a prompt: an extend model and the run's video --------------------------------------


def test_a_prompt_goes_with_the_extend_model_and_the_runs_video(nanogpt: Served) -> None:
    source = finished_run("veo-3.1")
    source_url = source["output"]["url"]  # type: ignore[index]
    asked_before = len(source_reads(nanogpt, str(source["id"])))

    result = invoke(
        "generate", NEXT, "--extend", "@last", "--model", "wan-wavespeed-25-extend", "--json"
    )

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["status"], doc["model"]) == ("completed", "wan-wavespeed-25-extend")
    sent = creates(nanogpt)[-1]
    assert sent == {"model": "wan-wavespeed-25-extend", "prompt": NEXT, "videoUrl": source_url}
    assert task_extends(nanogpt) == []
    # The URL is the one NanoGPT's status answer gives now, not a remembered one.
    assert len(source_reads(nanogpt, str(source["id"]))) == asked_before + 1


def test_the_runs_own_model_picks_its_extend_model(nanogpt: Served) -> None:
    finished_run("veo-3.1-fast")

    result = invoke("generate", NEXT, "--extend", "@last", "--json")

    assert result.exit_code == 0, result.output
    sent = creates(nanogpt)[-1]
    assert (sent["model"], sent["prompt"]) == ("veo3-1-fast-extend", NEXT)


@pytest.mark.parametrize("source_model", ["midjourney-video", "wan-2.6"])
def test_a_model_that_does_not_extend_is_refused_with_the_extend_models(
    nanogpt: Served, source_model: str
) -> None:
    finished_run(source_model)

    result = invoke("generate", NEXT, "--extend", "@last", "--model", "sora-2")

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "sora-2 is not an extend model" in result.stderr
    assert all(model in " ".join(result.stderr.split()) for model in EXTEND_MODEL_IDS)
    assert "--index" in result.stderr, "the hint says a Midjourney run continues without one"
    assert len(creates(nanogpt)) == 1 and task_extends(nanogpt) == []


def test_the_extend_models_length_and_extra_fields_are_sent(nanogpt: Served) -> None:
    finished_run("veo-3.1")

    result = invoke(
        "generate",
        NEXT,
        "--extend",
        "@last",
        "-m",
        "wan-wavespeed-25-extend",
        "--seconds",
        "10",
        "-P",
        "seed=-1",
        "-q",
    )

    assert result.exit_code == 0, result.output
    sent = creates(nanogpt)[-1]
    assert (sent["prompt"], sent["duration"], sent["seed"]) == (NEXT, "10", -1)


def test_an_extend_model_of_one_length_is_priced_under_a_cap(nanogpt: Served) -> None:
    listed = invoke("models")
    finished_run("veo-3.1")

    refused = invoke(
        "generate", NEXT, "--extend", "@last", "-m", "veo3-1-extend", "--max-cost", "1"
    )
    taken = invoke(
        "generate", NEXT, "--extend", "@last", "-m", "veo3-1-extend", "--max-cost", "5", "--json"
    )

    assert listed.exit_code == 0, listed.output
    # veo3-1-extend makes 7 s only, at $0.40 a second in NanoGPT's listing.
    assert refused.exit_code == 8, refused.output
    assert "The estimate, 2.80 USD, is above --max-cost 1.00." in refused.stderr
    assert taken.exit_code == 0, taken.output
    assert "Estimated 2.80 USD" in taken.stderr
    assert creates(nanogpt)[-1]["model"] == "veo3-1-extend"
