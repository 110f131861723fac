"""The loopback server itself: its -v log lines, raw HTTP/1.1 framing, and many clients at once.

Everything is spoken over real loopback sockets with raw bytes or http.client, so
what is checked is what a client really receives and what an operator really reads.
"""

from __future__ import annotations

import http.client
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from framecast.emulator import EmulatorApp, EmulatorConfig
from framecast.emulator.server import EmulatorServer
from framecast.emulator.wire import Request, Response
from tests.conftest import Served, run_command

AUTH = {"Authorization": "Bearer sk-test"}
LINE = re.compile(
    r"^(?P<method>\S+) (?P<path>\S+) (?P<status>\d{3}|-)"
    r"(?: \(fault (?P<fault>\S+)\))? (?P<ms>\d+\.\d)ms$"
)


def start(*, verbose: bool) -> Served:
    app = EmulatorApp(EmulatorConfig(job_seconds=0.3))
    server = EmulatorServer(app, "127.0.0.1", 0, verbose=verbose)
    server.start_background()
    return Served(server, app)


@pytest.fixture
def loud() -> Iterator[Served]:
    """A served emulator that logs each request (`framecast emulator -v`)."""
    served = start(verbose=True)
    yield served
    served.server.stop()


@pytest.fixture
def quiet() -> Iterator[Served]:
    served = start(verbose=False)
    yield served
    served.server.stop()


def address(served: Served) -> tuple[str, int]:
    host, port = served.server.server_address
    return str(host), int(port)


def logged(capsys: pytest.CaptureFixture[str], count: int) -> list[str]:
    """The next `count` log lines, and no more: the line is written just after the answer."""
    lines: list[str] = []
    deadline = time.monotonic() + 5
    while len(lines) < count and time.monotonic() < deadline:
        lines += capsys.readouterr().err.splitlines()
        time.sleep(0.01)
    time.sleep(0.05)  # room for a stray second line to show up
    lines += capsys.readouterr().err.splitlines()
    assert len(lines) == count, lines
    return lines


def get(served: Served, path: str, headers: dict[str, str] | None = None) -> int:
    connection = http.client.HTTPConnection(*address(served), timeout=5)
    try:
        connection.request("GET", path, headers={**AUTH, **(headers or {})})
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def read_answer(stream: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    """One answer off a raw socket: status, headers (lower-case names), body by Content-Length."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, b""


def body_of(stream: BinaryIO, headers: dict[str, str]) -> bytes:
    return stream.read(int(headers["content-length"]))


# -- the log ---------------------------------------------------------------------------


def test_a_request_logs_method_path_status_and_milliseconds(
    loud: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    assert get(loud, "/v1/videos?limit=2") == 200
    (line,) = logged(capsys, 1)
    match = LINE.match(line)
    assert match, line
    assert (match["method"], match["path"], match["status"], match["fault"]) == (
        "GET",
        "/v1/videos",
        "200",
        None,
    )
    assert float(match["ms"]) < 5000


def test_an_unknown_path_logs_its_404(loud: Served, capsys: pytest.CaptureFixture[str]) -> None:
    assert get(loud, "/v1/no-such-thing") == 404
    (line,) = logged(capsys, 1)
    assert LINE.match(line), line
    assert line.startswith("GET /v1/no-such-thing 404 ")


def test_a_faulted_request_logs_the_fault_by_name(
    loud: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    assert get(loud, "/v1/videos", {"X-Emulator-Faults": "500"}) == 500
    assert get(loud, "/v1/videos", {"X-Emulator-Faults": "429=2"}) == 429
    first, second = logged(capsys, 2)
    assert LINE.match(first) and LINE.match(second), (first, second)
    assert first.startswith("GET /v1/videos 500 (fault 500) ")
    assert second.startswith("GET /v1/videos 429 (fault 429=2) ")


def test_a_reset_is_logged_without_a_status(
    loud: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_connection(address(loud), timeout=5) as sock:
        sock.sendall(
            b"GET /v1/videos HTTP/1.1\r\nHost: x\r\nX-Emulator-Faults: reset-before\r\n\r\n"
        )
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    (line,) = logged(capsys, 1)
    assert LINE.match(line), line
    assert line.startswith("GET /v1/videos - (fault reset-before) ")


def test_neither_the_key_nor_the_query_string_is_ever_logged(
    loud: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-secret-123"
    signature = "c2lnbmF0dXJlLXNlY3JldA"
    get(loud, f"/media/video_abc/video.mp4?expires=99&signature={signature}")
    get(loud, f"/v1/videos?after=x&signature={signature}", {"Authorization": f"Bearer {secret}"})
    lines = logged(capsys, 2)
    text = "\n".join(lines)
    assert lines[0].startswith("GET /media/video_abc/video.mp4 ")
    assert lines[1].startswith("GET /v1/videos ")
    for leaked in (secret, "Bearer", signature, "signature", "expires", "?"):
        assert leaked not in text


def test_requests_the_server_refuses_itself_are_logged_once_each(
    loud: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.create_connection(address(loud), timeout=5) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        stream = sock.makefile("rb")
        status, headers, _ = read_answer(stream)
        assert status == 400 and headers["connection"] == "close"
    too_big = 64 * 1024 * 1024 + 1
    with socket.create_connection(address(loud), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/videos?key=sk-in-a-query HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: %d\r\n\r\n" % too_big
        )
        stream = sock.makefile("rb")
        status, headers, _ = read_answer(stream)
        assert status == 413 and headers["connection"] == "close"
        assert b"too large" in body_of(stream, headers)
        assert stream.read() == b""  # and it hangs up rather than read 64 MiB
    bad, big = logged(capsys, 2)
    assert LINE.match(bad) and LINE.match(big), (bad, big)
    assert bad.startswith("- - 400 ")
    assert big.startswith("POST /v1/videos 413 ")


def test_without_verbose_nothing_is_logged(
    quiet: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    assert get(quiet, "/v1/videos") == 200
    assert get(quiet, "/v1/videos", {"X-Emulator-Faults": "503"}) == 503
    time.sleep(0.05)
    assert capsys.readouterr().err == ""


# -- framing ---------------------------------------------------------------------------


def test_pipelined_requests_are_answered_in_order_and_head_gets_no_body(quiet: Served) -> None:
    with socket.create_connection(address(quiet), timeout=5) as sock:
        sock.sendall(
            b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /v1/nowhere HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
        )
        stream = sock.makefile("rb")
        head_status, head_headers, _ = read_answer(stream)
        # No body after HEAD: the very next bytes are the second answer's status line.
        get_status, get_headers, _ = read_answer(stream)
        body = body_of(stream, get_headers)
        last_status, last_headers, _ = read_answer(stream)
        body_of(stream, last_headers)
    assert (head_status, get_status, last_status) == (200, 200, 404)
    assert int(head_headers["content-length"]) == len(body) > 0
    assert b'"ok"' in body


def test_a_request_in_pieces_and_an_http_1_0_client(quiet: Served) -> None:
    with socket.create_connection(address(quiet), timeout=5) as sock:
        for piece in (b"GE", b"T /hea", b"lth HTTP/1.1\r\nHo", b"st: x\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(0.01)
        stream = sock.makefile("rb")
        status, headers, _ = read_answer(stream)
        assert status == 200 and b'"ok"' in body_of(stream, headers)
    with socket.create_connection(address(quiet), timeout=5) as sock:
        sock.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        stream = sock.makefile("rb")
        status, headers, _ = read_answer(stream)
        assert status == 200 and headers["connection"] == "close"
        body_of(stream, headers)
        assert stream.read() == b""  # HTTP/1.0 without keep-alive: closed after one answer


def test_a_slow_answer_holds_up_only_its_own_connection(quiet: Served) -> None:
    slow_done = threading.Event()

    def slow() -> None:
        get(quiet, "/v1/videos", {"X-Emulator-Faults": "slow=1"})
        slow_done.set()

    waiter = threading.Thread(target=slow)
    waiter.start()
    time.sleep(0.1)  # the slow request is in and waiting on its timer
    assert get(quiet, "/health") == 200
    assert not slow_done.is_set()
    waiter.join(10)
    assert slow_done.is_set()


def test_stop_does_not_wait_for_a_slow_answer() -> None:
    served = start(verbose=False)
    with socket.create_connection(address(served), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Emulator-Faults: slow=30\r\n\r\n")
        time.sleep(0.1)
        started = time.monotonic()
        served.server.stop()
        assert time.monotonic() - started < 5
        assert sock.recv(1024) == b""  # hung up on, unanswered


# -- many clients at once --------------------------------------------------------------


def run_at_once(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run `work(i)` in `count` threads released together; the exceptions they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(10)
            work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_fifty_keep_alive_clients_at_once_are_all_answered(quiet: Served) -> None:
    statuses: list[int] = []

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(*address(quiet), timeout=10)
        try:
            for _ in range(3):  # the same connection each time: keep-alive
                connection.request("GET", f"/v1/videos?limit={index % 5 + 1}", headers=AUTH)
                answer = connection.getresponse()
                answer.read()
                statuses.append(answer.status)
        finally:
            connection.close()

    assert run_at_once(50, client) == []
    assert statuses == [200] * 150


def test_fifty_connections_wait_in_the_backlog_while_the_server_is_busy(quiet: Served) -> None:
    """Opened while the loop is stuck in the app, they queue in the kernel, none dropped.

    A backlog of 5 would drop the later SYNs, which Linux retries only after a second:
    those connects would outlast the timeout below.
    """
    entered, release = threading.Event(), threading.Event()
    handle = quiet.app.handle

    def held(request: Request) -> Response:
        if request.path == "/hold":
            entered.set()
            release.wait(10)
        return handle(request)

    quiet.app.handle = held  # type: ignore[method-assign]
    holder = threading.Thread(target=get, args=(quiet, "/hold"))
    holder.start()
    assert entered.wait(5)
    sockets: list[socket.socket] = []
    try:

        def connect(index: int) -> None:
            sockets.append(socket.create_connection(address(quiet), timeout=0.9))

        assert run_at_once(50, connect) == []
        assert len(sockets) == 50
        release.set()
        for sock in sockets:
            sock.settimeout(10)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        for sock in sockets:
            stream = sock.makefile("rb")
            status, headers, _ = read_answer(stream)
            assert status == 200 and b'"ok"' in body_of(stream, headers)
    finally:
        release.set()
        holder.join(10)
        for sock in sockets:
            sock.close()


@pytest.mark.slow
def test_the_benchmark_script_runs_in_its_smoke_size() -> None:
    script = Path(__file__).parent / "benchmarks" / "bench_emulator_server.py"
    result = run_command([sys.executable, str(script), "--seconds", "0.5", "--connections", "4"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "requests/s" in out and "p99" in out  # figures are printed, never asserted
    assert "0 refused/timed out, 0 lost; 0 answers not 200" in out
