"""The emulator's NanoGPT dialect over loopback, against seed 003 and apis.md section 2."""

from __future__ import annotations

import base64
import struct
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from framecast.emulator import EmulatorConfig
from framecast.emulator.nanogpt import mp4_seconds
from framecast.emulator.nanogpt_models import NanoModel, find, nanogpt_models
from tests.conftest import Served, serve

HEADERS = {"x-api-key": "k"}
PROMPT = "a lighthouse in fog"
SORA = {"model": "sora-2", "prompt": PROMPT, "seconds": "4"}
SOURCE = "https://videos.example.com/source.mp4"
# Every model name seed 003 (NanoGPT's generate-video page) and its extend page use.
SEED_MODELS = (
    "sora-2",
    "veo2-video",
    "veo3-1-extend",
    "veo3-1-fast-extend",
    "wan-wavespeed-25-extend",
    "bytedance-seedance-v1.5-pro-extend",
    "runwayml-gen4-aleph",
    "kling-lipsync-t2v",
    "midjourney-video",
)


@pytest.fixture
def served() -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.2))
    yield served
    served.server.stop()


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.origin + "/api", headers=HEADERS) as client:
        yield client


def submit(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/generate-video", json=body)


def accepted(client: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = submit(client, **body)
    assert answer.status_code == 202, answer.text
    payload: dict[str, Any] = answer.json()
    return payload


def status(client: httpx.Client, run_id: str) -> dict[str, Any]:
    answer = client.get("/video/status", params={"requestId": run_id})
    assert answer.status_code == 200, answer.text
    payload: dict[str, Any] = answer.json()
    return payload


def finished(client: httpx.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        payload = status(client, run_id)
        if payload["data"]["status"] not in ("IN_QUEUE", "IN_PROGRESS"):
            return payload
        time.sleep(0.02)
    raise AssertionError(f"run {run_id} did not finish")


def refused(answer: httpx.Response, code: int, kind: str) -> str:
    """The message of an error answered in the guide's envelope, checked whole."""
    assert answer.status_code == code, answer.text
    body = answer.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type"}
    assert body["error"]["type"] == kind
    message: str = body["error"]["message"]
    assert message
    return message


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def movie(seconds: float) -> bytes:
    """The smallest MP4 that states a length: ftyp, and a moov holding a version-0 mvhd."""
    header = struct.pack(">B3xIIII", 0, 0, 0, 1000, round(seconds * 1000)) + bytes(80)
    return box(b"ftyp", b"isom" + bytes(4)) + box(b"moov", box(b"mvhd", header))


def data_url(data: bytes) -> str:
    return "data:video/mp4;base64," + base64.b64encode(data).decode()


def inputs_for(model: NanoModel) -> dict[str, Any]:
    """The fewest fields a model runs with."""
    body: dict[str, Any] = {"model": model.id, "prompt": PROMPT, "emulator_job_seconds": 0}
    if model.needs == "video":
        body["videoUrl"] = SOURCE
    if model.needs == "image":
        body["imageUrl"] = "https://images.example.com/still.png"
    if model.voice:
        body["voice_id"] = "voice-1"
    return body


# -- the error envelope ------------------------------------------------------------------


def test_a_validation_error_is_the_guides_envelope(client: httpx.Client) -> None:
    message = refused(submit(client, **{**SORA, "seconds": "16"}), 400, "INVALID_REQUEST")
    assert message == "Invalid seconds '16' for sora-2; supported: 4, 8, 12."


def test_an_unknown_model_is_a_400(client: httpx.Client) -> None:
    message = refused(submit(client, **{**SORA, "model": "no-such-model"}), 400, "INVALID_REQUEST")
    assert message.startswith("Unknown video model 'no-such-model'")


def test_an_unknown_run_is_a_404(client: httpx.Client) -> None:
    answer = client.get("/video/status", params={"requestId": "vid_nope"})
    assert refused(answer, 404, "NOT_FOUND") == "Video run vid_nope not found."


def test_a_missing_key_is_a_401(served: Served) -> None:
    answer = httpx.post(served.origin + "/api/generate-video", json=SORA)
    assert "API key" in refused(answer, 401, "AUTHENTICATION_ERROR")


def test_an_empty_query_value_is_refused_in_the_envelope(client: httpx.Client) -> None:
    answer = client.get("/video/status?requestId=")
    assert "requestId" in refused(answer, 400, "INVALID_REQUEST")


def test_a_large_source_data_url_is_too_large(client: httpx.Client) -> None:
    big = data_url(movie(5) + bytes(4_000_001))
    answer = submit(client, model="wan-wavespeed-25-extend", prompt=PROMPT, videoDataUrl=big)
    assert "4 MB" in refused(answer, 413, "PAYLOAD_TOO_LARGE")


# -- failed runs -------------------------------------------------------------------------


def test_a_failed_run_has_an_error_object_and_is_refunded(client: httpx.Client) -> None:
    run = accepted(client, **SORA, emulator_outcome="failed", emulator_job_seconds=0)
    assert (run["cost"], run["remainingBalance"]) == (pytest.approx(0.4), pytest.approx(99.6))

    payload = finished(client, run["runId"])

    assert payload["requestId"] == run["runId"] and payload["model"] == "sora-2"
    data = payload["data"]
    assert data["status"] == "FAILED"
    assert data["error"] == {
        "message": "The emulator was asked to fail this job.",
        "type": "GENERATION_FAILED",
    }
    assert data["isNSFWError"] is False
    assert data["userFriendlyError"] == "The video could not be generated. Please try again."
    assert data["refundMessage"] == "The pre-charge of $0.40 was refunded."
    assert "output" not in data and "cost" not in data
    # The refund shows in the balance the next submission reports.
    assert accepted(client, **SORA)["remainingBalance"] == pytest.approx(99.6)


def test_the_flat_shape_keeps_its_error_string(client: httpx.Client) -> None:
    run = accepted(
        client,
        **SORA,
        emulator_outcome="failed",
        emulator_job_seconds=0,
        emulator_status_shape="flat",
    )
    payload = status(client, run["runId"])
    assert payload["status"] == "failed"
    assert payload["error"] == "The emulator was asked to fail this job."
    assert payload["videoUrl"] is None and payload["estimatedTimeRemaining"] is None


# -- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", ["4", "8", "12"])
def test_sora_takes_its_three_lengths_as_strings(client: httpx.Client, seconds: str) -> None:
    run = accepted(client, **{**SORA, "seconds": seconds})
    assert run["prechargeLabel"] == f"{seconds}s video"
    assert run["cost"] == pytest.approx(0.1 * int(seconds))
    assert (run["status"], run["model"], run["paymentSource"]) == ("pending", "sora-2", "USD")
    assert run["runId"] == run["id"] and run["id"].startswith("vid_")


@pytest.mark.parametrize(
    ("seconds", "says"),
    [
        ("16", "Invalid seconds '16' for sora-2"),
        ("20", "Invalid seconds '20' for sora-2"),
        ("4s", "Invalid seconds '4s' for sora-2"),
        (4, "seconds must be a string for sora-2"),
        (8.0, "seconds must be a string for sora-2"),
    ],
)
def test_sora_refuses_other_lengths_and_numbers(
    client: httpx.Client, seconds: object, says: str
) -> None:
    message = refused(submit(client, **{**SORA, "seconds": seconds}), 400, "INVALID_REQUEST")
    assert message.startswith(says)


@pytest.mark.parametrize(
    ("model", "duration", "made"),
    [
        ("veo3-1-video", "6", "6s video"),
        ("veo3-1-video", 6, "6s video"),  # NanoGPT's own extend example sends an integer
        ("veo2-video", "5s", "5s video"),  # the Veo2 example's form
    ],
)
def test_duration_as_a_string_or_an_integer(
    client: httpx.Client, model: str, duration: object, made: str
) -> None:
    run = accepted(client, model=model, prompt=PROMPT, duration=duration)
    assert run["prechargeLabel"] == made


@pytest.mark.parametrize("duration", ["7", 7, True, "six"])
def test_a_duration_the_model_does_not_make_is_refused(
    client: httpx.Client, duration: object
) -> None:
    answer = submit(client, model="veo3-1-video", prompt=PROMPT, duration=duration)
    assert refused(answer, 400, "INVALID_REQUEST").startswith("Invalid duration")


# -- models ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SEED_MODELS)
def test_every_seed_model_is_known_and_runs(client: httpx.Client, name: str) -> None:
    model = find(name)
    assert model is not None and model.documented
    run = accepted(client, **inputs_for(model))
    assert run["model"] == name
    assert finished(client, run["runId"])["data"]["status"] == "COMPLETED"


def test_the_listing_is_the_table(client: httpx.Client) -> None:
    answer = client.get("/v1/video-models", params={"detailed": "true"})
    assert answer.status_code == 200
    body = answer.json()
    table = nanogpt_models()
    assert [m["id"] for m in body["data"]] == list(table)
    assert body["object"] == "list" and body["meta"]["count"] == len(table)
    listed = {m["id"]: m for m in body["data"]}
    for model in table.values():
        item = listed[model.id]
        assert item["pricing"] == {"currency": "USD", "per_second": model.price} | {
            k: v for k, v in item["pricing"].items() if k.startswith("per_second_")
        }
        assert item["supported_parameters"]["durations"] == list(model.durations)
    veo = listed["veo3-1-video"]
    assert veo["pricing"]["per_second_by_resolution"] == {"720p": 0.4, "1080p": 0.4, "4k": 0.6}
    assert veo["capabilities"] == {
        "video_generation": True,
        "text_to_video": True,
        "image_to_video": True,
        "audio_generation": True,
        "video_extension": False,
    }
    assert listed["sora-2"]["supported_parameters"]["seconds"] == ["4", "8", "12"]
    kling = listed["kling-v21-standard"]["capabilities"]
    assert (kling["text_to_video"], kling["image_to_video"]) == (False, True)
    extend = listed["wan-wavespeed-25-extend"]
    assert extend["architecture"]["input_modalities"] == ["text", "video"]
    assert extend["supported_parameters"]["media_fields"] == [
        "video",
        "videoAttachmentId",
        "videoDataUrl",
        "videoUrl",
    ]
    brief = client.get("/v1/video-models", params={"detailed": "false"}).json()
    assert brief["data"][0] == {"id": "sora-2", "object": "model"}


# -- shape and media ---------------------------------------------------------------------


def test_shape_comes_from_ratio_or_orientation_and_a_token(
    client: httpx.Client, served: Served
) -> None:
    tall = accepted(
        client, model="veo3-1-video", prompt=PROMPT, aspect_ratio="9:16", resolution="1080p"
    )
    wide = accepted(client, **SORA, orientation="landscape")
    pro = accepted(client, **SORA, orientation="landscape", resolution="1792x1024", pro_mode=True)

    sizes = [served.app.store.get(r["runId"]) for r in (tall, wide, pro)]
    assert [(r.width, r.height) for r in sizes if r] == [(1080, 1920), (1280, 720), (1792, 1024)]
    assert pro["cost"] == pytest.approx(2.0)  # Sora 2 in pro mode at 1792x1024: $0.50/s


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"aspect_ratio": "2:1"}, "Invalid aspect_ratio '2:1' for sora-2"),
        ({"resolution": "4k"}, "Invalid resolution '4k' for sora-2"),
        ({"resolution": "1792x1024"}, "1792x1024 on sora-2 needs pro mode"),
        ({"orientation": "sideways"}, "orientation must be landscape or portrait"),
        ({"videoUrl": SOURCE}, "sora-2 does not take videoUrl"),
        ({"audioUrl": "https://x.example.com/a.mp3"}, "sora-2 does not take audioUrl"),
        ({"imageUrl": "ftp://x.example.com/a.png"}, "imageUrl must be an https URL"),
        ({"imageDataUrl": "data:image/png;base64,@@"}, "imageDataUrl must be a base64"),
    ],
)
def test_what_a_model_does_not_take_is_refused(
    client: httpx.Client, extra: dict[str, Any], says: str
) -> None:
    message = refused(submit(client, **SORA, **extra), 400, "INVALID_REQUEST")
    assert message.startswith(says)


def test_unknown_keys_are_ignored(client: httpx.Client) -> None:
    run = accepted(client, **SORA, cfg_scale=0.5, somethingNew={"a": 1}, enhancePrompt=True)
    assert run["status"] == "pending"


def test_an_image_only_model_needs_an_image(client: httpx.Client) -> None:
    answer = submit(client, model="kling-v21-standard", prompt=PROMPT)
    assert refused(answer, 400, "INVALID_REQUEST") == (
        "Kling 2.1 Standard requires an input image. Please select an image to generate a video."
    )


# -- source-video extend through /generate-video -----------------------------------------


@pytest.mark.parametrize("field", ["videoUrl", "video"])
def test_wan_25_extend_takes_video_url_and_video(client: httpx.Client, field: str) -> None:
    run = accepted(
        client,
        model="wan-wavespeed-25-extend",
        prompt="keep the camera moving",
        duration="10",
        resolution="480p",
        emulator_job_seconds=0,
        **{field: SOURCE},
    )
    assert run["cost"] == pytest.approx(0.4)
    done = finished(client, run["runId"])["data"]
    assert done["status"] == "COMPLETED" and done["output"]["video"]["url"]


@pytest.mark.parametrize(
    "model", ["veo3-1-extend", "wan-wavespeed-22-spicy-extend", "runwayml-gen4-aleph"]
)
def test_models_without_the_video_field_refuse_it(client: httpx.Client, model: str) -> None:
    answer = submit(client, model=model, prompt=PROMPT, video=SOURCE)
    assert refused(answer, 400, "INVALID_REQUEST").startswith(f"{model} does not take video;")


def test_an_extend_model_needs_a_source_video(client: httpx.Client) -> None:
    answer = submit(client, model="veo3-1-extend", prompt=PROMPT)
    assert refused(answer, 400, "INVALID_REQUEST") == (
        "veo3-1-extend needs a source video: send videoUrl or videoDataUrl or videoAttachmentId."
    )


@pytest.mark.parametrize(("seconds", "code"), [(60.0, 202), (120.0, 202), (121.5, 400)])
def test_sources_of_up_to_120_seconds(client: httpx.Client, seconds: float, code: int) -> None:
    answer = submit(
        client, model="veo3-1-extend", prompt=PROMPT, videoDataUrl=data_url(movie(seconds))
    )
    assert answer.status_code == code, answer.text
    if code == 400:
        assert refused(answer, 400, "INVALID_REQUEST") == (
            "The source video is 121.5 s long; extend takes sources of at most 120 seconds."
        )


def test_a_source_from_this_server_is_measured(client: httpx.Client) -> None:
    first = accepted(client, **{**SORA, "seconds": "8"}, emulator_job_seconds=0)
    url = finished(client, first["runId"])["data"]["output"]["video"]["url"]
    video = httpx.get(url).content
    assert mp4_seconds(video) == pytest.approx(8.0)

    # A lipsync run is as long as its source, whether linked or inline.
    linked = accepted(client, model="kling-lipsync-t2v", prompt="hello", videoUrl=url, voice_id="v")
    inline = accepted(
        client, model="kling-lipsync-t2v", prompt="hi", videoDataUrl=data_url(video), voice_id="v"
    )
    assert linked["prechargeLabel"] == inline["prechargeLabel"] == "8s video"


def test_lipsync_needs_a_voice(client: httpx.Client) -> None:
    base = {"model": "kling-lipsync-t2v", "prompt": "hello", "videoUrl": SOURCE}
    assert "voice_id is required" in refused(submit(client, **base), 400, "INVALID_REQUEST")
    slow = submit(client, **base, voice_id="v", voice_speed=0.5)
    assert "voice_speed" in refused(slow, 400, "INVALID_REQUEST")


# -- task-based extend -------------------------------------------------------------------


@pytest.mark.parametrize("field", ["videoUrl", "video", "videoDataUrl", "videoAttachmentId"])
def test_task_extend_refuses_video_fields(client: httpx.Client, field: str) -> None:
    run = accepted(client, model="midjourney-video", prompt=PROMPT, emulator_job_seconds=0)
    answer = client.post(
        "/generate-video/extend", json={"runId": run["runId"], "index": 0, field: SOURCE}
    )
    message = refused(answer, 400, "INVALID_REQUEST")
    assert message.startswith(f"/api/generate-video/extend does not accept {field}.")


def test_task_extend_continues_a_midjourney_run(client: httpx.Client) -> None:
    run = accepted(client, model="midjourney-video", prompt=PROMPT, emulator_job_seconds=0)
    finished(client, run["runId"])

    answer = client.post("/generate-video/extend", json={"taskId": run["runId"], "index": 2})

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["runId"] == body["id"] == body["taskId"] != run["runId"]
    assert (body["success"], body["status"], body["model"]) == (True, "pending", "midjourney-video")
    assert body["message"] == "Extending video 3 by 5 seconds..."
    assert body["prechargeLabel"] == "10s video"


def test_task_extend_is_for_midjourney_runs_only(client: httpx.Client) -> None:
    run = accepted(client, **SORA, emulator_job_seconds=0)
    finished(client, run["runId"])
    answer = client.post("/generate-video/extend", json={"runId": run["runId"], "index": 0})
    assert "midjourney-video runs only" in refused(answer, 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("body", "code", "kind"),
    [
        ({"index": 0}, 400, "INVALID_REQUEST"),
        ({"runId": "vid_nope", "index": 0}, 404, "NOT_FOUND"),
        ({"runId": "vid_nope", "index": 4}, 400, "INVALID_REQUEST"),
        ({"runId": "vid_nope", "index": "1"}, 400, "INVALID_REQUEST"),
    ],
)
def test_task_extend_checks_its_fields(
    client: httpx.Client, body: dict[str, Any], code: int, kind: str
) -> None:
    refused(client.post("/generate-video/extend", json=body), code, kind)


# -- the flat status shape ---------------------------------------------------------------


def test_the_flat_estimate_is_nominal_not_the_true_remaining_time() -> None:
    # Seed 4's first run is drawn at about 19.4 s for a nominal 10 s.
    served = serve(EmulatorConfig(seed=4, job_seconds=10))
    try:
        with httpx.Client(base_url=served.origin + "/api", headers=HEADERS) as client:
            run = accepted(client, **SORA, emulator_status_shape="flat")
            payload = status(client, run["runId"])
        record = served.app.store.get(run["runId"])
    finally:
        served.server.stop()
    assert record is not None
    true_remaining = record.created_at + record.job_seconds - time.time()
    assert true_remaining > 15  # the drawn timeline is far from the nominal one
    assert payload["estimatedTimeRemaining"] in (9, 10)
    assert set(payload) == {
        "requestId",
        "status",
        "videoUrl",
        "error",
        "createdAt",
        "completedAt",
        "progress",
        "estimatedTimeRemaining",
    }
    assert payload["status"] in ("queued", "processing") and payload["completedAt"] is None


def test_status_takes_run_id_too(client: httpx.Client) -> None:
    run = accepted(client, **SORA, emulator_job_seconds=0)
    answer = client.get("/video/status", params={"runId": run["runId"]})
    data = answer.json()["data"]
    assert (data["status"], data["cost"]) == ("COMPLETED", pytest.approx(0.4))
