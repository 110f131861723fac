"""The nanogpt provider against the emulator speaking NanoGPT's dialect over loopback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from framecast.domain import JobRequest, JobStatus
from framecast.emulator import EmulatorConfig
from framecast.errors import UsageError
from framecast.providers.nanogpt import NanoGptProvider, request_body, resolution_token
from tests.conftest import Served, invoke, journal_rows, probe_mp4, serve

BOAT = "a paper boat drifting down a rainy street"
KEY = "nano-test-key"


@pytest.fixture
def nanogpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("NANOGPT_API_KEY", KEY)
    monkeypatch.setenv("NANOGPT_BASE_URL", served.origin + "/api")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "nanogpt")
    yield served
    served.server.stop()


@pytest.mark.parametrize("shape", ["nested", "flat"])
def test_generate_completes_in_either_status_shape(nanogpt: Served, shape: str) -> None:
    result = invoke(
        "generate",
        BOAT,
        "-m",
        "veo-3.1",
        "--seconds",
        "6",
        "--aspect-ratio",
        "9:16",
        "--resolution",
        "1080p",
        "-P",
        f"emulator_status_shape={shape}",
        "--json",
    )

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["provider"], doc["status"]) == ("nanogpt", "completed")
    probe = probe_mp4(Path(doc["output"]["path"]))
    assert (probe.width, probe.height) == (1080, 1920)
    assert probe.duration == pytest.approx(6.0)
    assert doc["output"]["url"].startswith(nanogpt.origin + "/media/")
    creates = nanogpt.seen("POST", "/api/generate-video")
    assert [(c.had_api_key, c.had_authorization) for c in creates] == [(True, False)]
    polls = nanogpt.seen("GET", "/api/video/status")
    assert polls and all(f"requestId={doc['id']}" == p.query for p in polls)


def test_costs_pre_charge_balance_and_final(nanogpt: Served) -> None:
    submitted = invoke("generate", BOAT, "-m", "veo-3.1", "--seconds", "8", "--no-wait", "--json")
    done = invoke("wait", "@last", "--json")

    assert submitted.exit_code == done.exit_code == 0, submitted.output + done.output
    pre = json.loads(submitted.stdout)
    assert pre["status"] == "queued"
    assert pre["cost_estimate"] == pytest.approx(3.2)
    assert pre["balance"] == {"remaining": pytest.approx(96.8), "payment_source": "USD"}
    final = json.loads(done.stdout)
    assert final["cost"] == pytest.approx(3.2)
    row = journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"]))[0]
    assert (row["cost"], row["cost_estimate"]) == (pytest.approx(3.2), pytest.approx(3.2))


@pytest.mark.parametrize(("outcome", "status"), [("failed", "failed"), ("cancelled", "cancelled")])
@pytest.mark.parametrize("shape", ["nested", "flat"])
def test_failing_terminal_statuses(nanogpt: Served, outcome: str, status: str, shape: str) -> None:
    result = invoke("generate", BOAT, "-m", "wan-2.6", "-P", f"emulator_outcome={outcome}",
                    "-P", f"emulator_status_shape={shape}", "--json")  # fmt: skip

    assert result.exit_code == 6
    doc = json.loads(result.stdout)
    assert doc["status"] == status
    if outcome == "failed":
        # Both shapes carry the job's own error: an object with `message` when nested.
        assert doc["error"]["message"].startswith("The emulator was asked to fail")


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (
            ["-m", "no-such-model"],
            4,
            "HTTP 400 INVALID_REQUEST: Unknown video model 'no-such-model'",
        ),
        (
            ["-m", "veo-3.1", "-P", "duration=7"],
            4,
            "HTTP 400 INVALID_REQUEST: Invalid duration '7' for veo-3.1",
        ),
    ],
)
def test_error_envelopes(nanogpt: Served, args: list[str], code: int, text: str) -> None:
    result = invoke("generate", BOAT, *args)
    assert result.exit_code == code
    assert text in result.stderr


def test_a_refused_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    served = serve(EmulatorConfig(api_key="right"))
    try:
        monkeypatch.setenv("NANOGPT_API_KEY", "wrong")
        result = invoke(
            "generate",
            BOAT,
            "--provider",
            "nanogpt",
            "-m",
            "veo-3.1",
            "--base-url",
            served.origin + "/api",
        )
    finally:
        served.server.stop()
    assert result.exit_code == 3
    assert "Check NANOGPT_API_KEY" in result.stderr


def test_local_images_go_inline_within_the_limit(nanogpt: Served, tmp_path: Path) -> None:
    small = tmp_path / "small.png"
    small.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(1000))
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4_100_000))

    ok = invoke("generate", BOAT, "-m", "veo-3.1", "--image", str(small), "-q")
    refused = invoke("generate", BOAT, "-m", "veo-3.1", "--image", str(big))

    assert ok.exit_code == 0, ok.output
    assert refused.exit_code == 2
    assert "big.png is 4.1 MB; nanogpt takes inline files up to 4 MB." in refused.stderr
    assert len(nanogpt.seen("POST", "/generate-video")) == 1


def test_n_is_emulated_with_parallel_submissions(nanogpt: Served) -> None:
    result = invoke("generate", BOAT, "-m", "wan-2.6", "--n", "3", "-o", "out/", "--json")

    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len({d["id"] for d in docs}) == 3
    assert all(Path(d["output"]["path"]).is_file() for d in docs)
    assert len(nanogpt.seen("POST", "/generate-video")) == 3


def test_estimates_come_from_the_table(nanogpt: Served) -> None:
    result = invoke("estimate", BOAT, "-m", "veo-3.1-fast", "--resolution", "4K", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["source"], doc["size"], doc["total"]) == ("table", "3840x2160", pytest.approx(2.4))
    assert nanogpt.seen() == []


def test_what_nanogpt_cannot_do_is_refused_before_sending(nanogpt: Served) -> None:
    hook = invoke("generate", BOAT, "-m", "veo-3.1", "--webhook-url", "http://127.0.0.1:9/x")
    key = invoke("generate", BOAT, "-m", "veo-3.1", "--idempotency-key", "k1")
    thumb_job = invoke("generate", BOAT, "-m", "veo-3.1", "-q")
    thumb = invoke("download", "@last", "--variant", "thumbnail")

    assert hook.exit_code == key.exit_code == 2
    assert "sends no webhooks" in hook.stderr
    assert "does not deduplicate" in key.stderr
    assert thumb_job.exit_code == 0 and thumb.exit_code == 2
    with (
        NanoGptProvider(base_url=nanogpt.origin + "/api", api_key=KEY) as api,
        pytest.raises(UsageError),
    ):
        api.cancel("vid_x")


def test_the_extend_flow(nanogpt: Served) -> None:
    import time

    with NanoGptProvider(base_url=nanogpt.origin + "/api", api_key=KEY) as api:
        # NanoGPT's task extend takes Midjourney runs only (seed 003, its extend page).
        (source,) = api.submit(JobRequest(BOAT, model="midjourney-video"))
        while api.get(source.id).status is not JobStatus.COMPLETED:
            time.sleep(0.05)
        (extended,) = api.extend(source.id, JobRequest("", extend_index=1))
        assert extended.id != source.id
        assert extended.status is JobStatus.QUEUED
        assert api.get(extended.id).status in (JobStatus.QUEUED, JobStatus.IN_PROGRESS)
    (sent,) = nanogpt.seen("POST", "/api/generate-video/extend")
    assert sent.json() == {"runId": source.id, "index": 1}


def test_live_models_listing(nanogpt: Served) -> None:
    with NanoGptProvider(base_url=nanogpt.origin + "/api", api_key=KEY) as api:
        models = {m.id: m for m in api.list_models()}
    assert models["veo-3.1"].prices[0].per_second == 0.4
    assert models["veo-3.1"].durations == (4, 6, 8)
    # Every mode the listing reports: video input, and extension (seed 003's extend models).
    assert models["grok-imagine-video"].modes == ("t2v", "i2v", "v2v")
    assert models["veo3-1-extend"].modes == ("v2v", "extend")
    assert models["midjourney-video"].modes == ("t2v", "i2v", "extend")
    assert (models["veo3-video"].audio, models["wan-2.6"].audio) == ("optional", None)
    assert models["veo-3.1"].source == "nanogpt"


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            JobRequest("p", model="sora-2", seconds=8, size="1280x720"),
            {"seconds": "8", "orientation": "landscape", "resolution": "720p"},
        ),
        (
            JobRequest("p", model="sora-2", size="768x1365"),
            {"orientation": "portrait", "resolution": "720p"},
        ),
        (
            JobRequest("p", model="sora-2-pro", size="1792x1024"),
            {"orientation": "landscape", "resolution": "1792x1024"},
        ),
        (
            JobRequest("p", model="veo-3.1", seconds=6, size="3840x2160"),
            {"duration": "6", "aspect_ratio": "16:9", "resolution": "4k"},
        ),
        (
            JobRequest("p", model="grok-imagine-video", size="1024x1024"),
            {"aspect_ratio": "1:1", "resolution": "720p"},
        ),
        (
            JobRequest("p", model="mystery", aspect_ratio="21:9", resolution="2K"),
            {"aspect_ratio": "21:9", "resolution": "2k"},
        ),
        (JobRequest("p", model="mystery", size="1000x500"), {"size": "1000x500"}),
        (
            JobRequest(
                "p",
                model="veo-3.1",
                images=("https://x.invalid/a.png",),
                video="data:video/mp4;base64,AA",
                audio=True,
                seed=7,
                negative_prompt="blur",
            ),
            {
                "imageUrl": "https://x.invalid/a.png",
                "videoDataUrl": "data:video/mp4;base64,AA",
                "generateAudio": True,
                "seed": 7,
                "negative_prompt": "blur",
            },
        ),
        (
            JobRequest(
                "p", model="veo-3.1", images=("data:image/png;base64,AA", "https://x.invalid/b.png")
            ),
            {"referenceImages": ["data:image/png;base64,AA", "https://x.invalid/b.png"]},
        ),
        (
            JobRequest("p", model="veo-3.1", params={"enhancePrompt": True, "duration": "4"}),
            {"enhancePrompt": True, "duration": "4"},
        ),
    ],
)
def test_request_conversion(request_: JobRequest, expected: dict[str, object]) -> None:
    body = request_body(request_)
    assert body.pop("model") == request_.model
    assert body.pop("prompt") == "p"
    assert body == expected


@pytest.mark.parametrize(
    ("tier", "token"),
    [("720p", "720p"), ("1K", "720p"), ("4K", "4k"), ("2K", "2k"), ("0.25", "480p"), ("8K", "4k")],
)
def test_resolution_tokens(tier: str, token: str) -> None:
    assert resolution_token(tier) == token


def test_extend_from_the_cli_follows_the_source_job(
    nanogpt: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("generate", BOAT, "-m", "midjourney-video", "-q").exit_code == 0
    monkeypatch.delenv("FRAMECAST_PROVIDER")

    result = invoke("generate", "--extend", "@last", "--index", "2", "--json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["provider"], doc["status"]) == ("nanogpt", "completed")
    (sent,) = nanogpt.seen("POST", "/api/generate-video/extend")
    assert sent.json()["index"] == 2


def test_a_veo_run_is_extended_by_its_extend_model_through_generate_video(
    nanogpt: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke("generate", BOAT, "-m", "veo-3.1", "-q").exit_code == 0
    monkeypatch.delenv("FRAMECAST_PROVIDER")

    result = invoke("generate", "keep going", "--extend", "@last", "--json")

    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["provider"], doc["status"], doc["model"]) == (
        "nanogpt",
        "completed",
        "veo3-1-extend",
    )
    # seed 003: only Midjourney runs go through /generate-video/extend.
    assert not nanogpt.seen("POST", "/api/generate-video/extend")
    assert len(nanogpt.seen("POST", "/api/generate-video")) == 2


def test_a_run_without_an_extend_model_is_refused_before_sending(nanogpt: Served) -> None:
    assert invoke("generate", BOAT, "-m", "wan-2.6", "-q").exit_code == 0

    result = invoke("generate", "keep going", "--extend", "@last")

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert "wan-2.6 is not an extend model" in result.stderr and "--model" in result.stderr
    assert len(nanogpt.seen("POST", "/api/generate-video")) == 1
    assert not nanogpt.seen("POST", "/api/generate-video/extend")
