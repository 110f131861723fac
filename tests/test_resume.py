"""Downloads resume: within a run after a cut, and across runs after the process was killed."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import httpx
import pytest

from framecast.emulator.media import Renderer
from framecast.emulator.mp4 import render_mp4
from framecast.emulator.wire import Request, Response
from tests import hostile
from tests.conftest import FRAMECAST, Served, invoke, journal_rows, reap, spawn, submit

KEY = "sk-resume-test"
BOAT = "a paper boat drifting down a rainy street"


def test_a_cut_transfer_completes_in_the_same_run_fetching_only_the_rest(
    served_env: Served,
) -> None:
    job_id = submit(BOAT)
    assert invoke("wait", job_id).exit_code == 0
    served_env.app.inject("content:cut")

    result = invoke("download", job_id, "-o", "clip.mp4")

    assert result.exit_code == 0, result.output
    record = served_env.app.videos.store.get(job_id)
    assert record is not None
    expected = Renderer().render(record, "video")
    assert Path("clip.mp4").read_bytes() == expected
    first, second = served_env.seen("GET", "/media/")
    assert first.range == ""
    match = re.fullmatch(r"bytes=(\d+)-", second.range)
    assert match is not None, second.range
    fetched_again = len(expected) - int(match[1])
    assert 0.45 <= fetched_again / len(expected) <= 0.55, "only about half is fetched again"


def test_an_unresumable_server_restarts_cleanly(served_env: Served) -> None:
    """A server that ignores Range answers 200: the partial file starts over, no mixing."""
    job_id = submit(BOAT)
    assert invoke("wait", job_id).exit_code == 0
    served_env.app.inject("content:cut")
    original = served_env.app.handle

    def without_ranges(request: Request) -> Response:
        if "range" in request.headers:
            headers = {k: v for k, v in request.headers.items() if k != "range"}
            request = type(request)(
                request.method, request.path, request.query, headers, request.body, request.origin
            )
        return original(request)

    served_env.app.handle = without_ranges  # type: ignore[method-assign]

    result = invoke("download", job_id, "-o", "clip.mp4")

    assert result.exit_code == 0, result.output
    record = served_env.app.videos.store.get(job_id)
    assert record is not None
    assert Path("clip.mp4").read_bytes() == Renderer().render(record, "video")


CLIP = render_mp4("killed halfway", 96, 96, 3, Fraction(12))
HALF = len(CLIP) // 2
ETAG = '"clip-v1"'


@pytest.fixture
def stalling(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[hostile.Hostile, threading.Event]]:
    """A server whose first download sends half the clip and then stalls; later ones resume."""
    server = hostile.start()
    release = threading.Event()
    job = hostile.video("video_killed")
    server.route("GET", r"/v1/videos/[^/]+", lambda r: hostile.json_answer(job))

    def content(request: hostile.Received) -> hostile.Answer:
        wanted = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
        common = {"content-type": "video/mp4", "etag": ETAG, "accept-ranges": "bytes"}
        if wanted and request.headers.get("if-range") == ETAG:
            start = int(wanted[1])
            headers = {**common, "content-range": f"bytes {start}-{len(CLIP) - 1}/{len(CLIP)}"}
            return 206, headers, CLIP[start:]

        def half_then_stall() -> Iterator[bytes]:
            yield CLIP[:HALF]
            release.wait(60)

        return 200, {**common, "content-length": str(len(CLIP))}, half_then_stall()

    server.route("GET", r"/v1/videos/[^/]+/content", content)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    yield server, release
    release.set()
    server.close()


@pytest.mark.slow
def test_a_killed_download_resumes_in_the_next_run(
    stalling: tuple[hostile.Hostile, threading.Event],
) -> None:
    server, _ = stalling
    process = spawn(
        [*FRAMECAST, "download", "video_killed", "-o", "clip.mp4"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            partial = [p for p in Path.cwd().glob(".framecast-*.part") if p.stat().st_size >= HALF]
            if partial:
                break
            time.sleep(0.02)
        else:
            pytest.fail("the first run never wrote half the clip")
    finally:
        process.send_signal(signal.SIGKILL)
        reap(process)
    assert process.returncode == -signal.SIGKILL
    assert not Path("clip.mp4").exists()
    assert list(Path.cwd().glob(".framecast-*.state")), "the partial file keeps its state record"

    result = invoke("download", "video_killed", "-o", "clip.mp4")

    assert result.exit_code == 0, result.output
    assert hashlib.sha256(Path("clip.mp4").read_bytes()).digest() == hashlib.sha256(CLIP).digest()
    resumed = [s for s in server.seen if s.raw_path.endswith("/content?variant=video")][-1]
    assert resumed.headers.get("range") == f"bytes={HALF}-"
    assert resumed.headers.get("if-range") == ETAG
    assert not list(Path.cwd().glob(".framecast-*")), "the partial file became the clip"
    (row,) = journal_rows(Path(os.environ["FRAMECAST_DATA_DIR"]))
    assert row["output_path"] == str(Path("clip.mp4").absolute())


def test_a_body_cut_short_while_streaming_to_stdout_is_resumed(served_env: Served) -> None:
    job_id = submit(BOAT)
    assert invoke("wait", job_id).exit_code == 0
    served_env.app.inject("content:cut-nolength")

    result = invoke("download", job_id, "-o", "-")

    assert result.exit_code == 0, result.output
    record = served_env.app.videos.store.get(job_id)
    assert record is not None
    assert result.stdout_bytes == Renderer().render(record, "video")
    assert served_env.seen("GET", "/media/")[-1].range.startswith("bytes=")


def test_a_stream_that_stays_cut_fails_instead_of_passing_for_a_video(served_env: Served) -> None:
    job_id = submit(BOAT)
    assert invoke("wait", job_id).exit_code == 0
    served_env.app.inject("content:cut-nolength*")

    result = invoke("download", job_id, "-o", "-")

    assert result.exit_code == 5, result.stderr
    assert "runs past the end" in result.stderr
    assert f"Resume with: framecast download {job_id} -o -" in result.stderr


def test_a_resume_answered_416_with_everything_here_is_complete(tmp_path: Path) -> None:
    """416 (nothing past what is here) finishes a download whose bytes are all present."""
    from contextlib import contextmanager

    from framecast import download
    from framecast.errors import RequestRejected

    partial = download.open_partial(tmp_path, "k416")
    partial.file.write(CLIP)
    partial.save_state(url="http://x/clip.mp4", validator=ETAG, length=len(CLIP))
    asked: list[dict[str, str]] = []

    class Finished:
        @contextmanager
        def open(self, headers: dict[str, str]) -> Iterator[httpx.Response]:
            asked.append(headers)
            raise RequestRejected("HTTP 416", status=416)
            yield

        def renew(self) -> bool:
            return False

    size = download.transfer(Finished(), partial, variant="video", progress=download.Progress())
    final = download.place(partial, tmp_path / "clip.mp4", force=False)

    assert size == len(CLIP)
    assert asked == [{"range": f"bytes={len(CLIP)}-", "if-range": ETAG}]
    assert final.read_bytes() == CLIP


def _large_mp4(mib: int) -> bytes:
    """ftyp, moov and an mdat of `mib` MiB of noise: a body large enough to be read straight
    off the socket (socketbody.RAW_FROM), whole as far as verification's box checks go."""
    import struct

    noise = os.urandom(mib << 20)
    head = struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 512) + struct.pack(">I4s", 8, b"moov")
    return head + struct.pack(">I4s", 8 + len(noise), b"mdat") + noise


def test_a_large_body_that_stalls_mid_way_times_out_and_resumes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The read timeout holds on the socket path too: a body that stops arriving half-way
    (and would never go on) is given up after request_timeout and fetched from there."""
    from framecast import socketbody

    big = _large_mp4(3)
    assert len(big) > socketbody.RAW_FROM
    half = len(big) // 2
    server = hostile.start()
    forever = threading.Event()
    server.route(
        "GET", r"/v1/videos/[^/]+", lambda r: hostile.json_answer(hostile.video("video_big"))
    )

    def content(request: hostile.Received) -> hostile.Answer:
        common = {"content-type": "video/mp4", "etag": ETAG, "accept-ranges": "bytes"}
        wanted = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
        if wanted and request.headers.get("if-range") == ETAG:
            start = int(wanted[1])
            span = f"bytes {start}-{len(big) - 1}/{len(big)}"
            return 206, {**common, "content-range": span}, big[start:]

        def half_then_nothing() -> Iterator[bytes]:
            yield big[:half]
            forever.wait(600)  # released when the test ends

        return 200, {**common, "content-length": str(len(big))}, half_then_nothing()

    server.route("GET", r"/v1/videos/[^/]+/content", content)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    argv = [*FRAMECAST, "download", "video_big", "-o", "big.mp4"]
    try:
        child = spawn(argv, env={**os.environ, "FRAMECAST_REQUEST_TIMEOUT": "1"})
        try:
            stdout, stderr = child.communicate(timeout=60)  # a hang guard, not a timing
        except subprocess.TimeoutExpired:
            pytest.fail("a body that stalled half-way was waited on for ever")
    finally:
        forever.set()
        server.close()

    assert child.returncode == 0, stderr
    assert stdout.strip() == "big.mp4"
    assert hashlib.sha256(Path("big.mp4").read_bytes()).digest() == hashlib.sha256(big).digest()
    resumed = [s for s in server.seen if "/content" in s.raw_path][-1]
    match = re.fullmatch(r"bytes=(\d+)-", resumed.headers.get("range", ""))
    assert match is not None and int(match[1]) >= half - 512 * 1024, resumed.headers


def test_a_large_body_over_tls_is_saved_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTPS (a real TLS server on loopback, trusted through SSL_CERT_FILE): the body is read
    off the TLS socket, decrypted, cut half-way once and resumed, and saved byte for byte."""
    from framecast import socketbody

    big = _large_mp4(3)
    assert len(big) > socketbody.RAW_FROM
    server = hostile.start(tls=True)
    server.route(
        "GET", r"/v1/videos/[^/]+", lambda r: hostile.json_answer(hostile.video("video_tls"))
    )
    cut = [True]

    def content(request: hostile.Received) -> hostile.Answer:
        common = {"content-type": "video/mp4", "etag": ETAG, "accept-ranges": "bytes"}
        wanted = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
        if wanted and request.headers.get("if-range") == ETAG:
            start = int(wanted[1])
            span = f"bytes {start}-{len(big) - 1}/{len(big)}"
            return 206, {**common, "content-range": span}, big[start:]
        if cut.pop() if cut else False:
            return 200, {**common, "content-length": str(len(big))}, iter([big[: len(big) // 2]])
        return 200, common, big

    server.route("GET", r"/v1/videos/[^/]+/content", content)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("SSL_CERT_FILE", str(hostile.TLS_CERT))
    try:
        result = invoke("download", "video_tls", "-o", "tls.mp4")
    finally:
        server.close()

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "tls.mp4"
    assert server.base_url.startswith("https://")
    assert hashlib.sha256(Path("tls.mp4").read_bytes()).digest() == hashlib.sha256(big).digest()
    first, resumed = [s for s in server.seen if "/content" in s.raw_path]
    assert "range" not in first.headers
    assert resumed.headers.get("range") == f"bytes={len(big) // 2}-"
