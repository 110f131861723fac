"""Download throughput, peak memory and resumption: a whole `framecast download` process
beside curl on the same loopback URL, in one paired run.

Run: python tests/benchmarks/bench_download.py [--size-mib 1024] [--rounds 3]
(files go to the temporary folder: TMPDIR=/dev/shm takes the disk out of the figures)

A small threaded server (HTTP/1.1, Nagle off, bodies sent with sendfile so it outruns
any client) answers as an OpenAI-compatible API for one finished job whose content is a
structurally whole MP4 of N MiB (so framecast's verification passes). Each round times
`curl -s -o FILE URL`, httpx's bare streaming loop (a few lines of Python, nothing else:
the ceiling of any download through httpx) and `framecast download ID -o FILE` in turn;
the figures are medians. framecast's peak memory is the child's own `ru_maxrss` (wait4).

Then the body is cut at 50% once: curl is re-run with `-C -` after its cut, framecast
resumes in the same process. Bytes re-transferred are body bytes sent again that had
already arrived before the cut. Prints figures; asserts nothing (timings never go in tests).
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

JOB_ID = "video_bench_download"
CONTENT = f"/v1/videos/{JOB_ID}/content"
_RANGE = re.compile(r"bytes=(\d+)-$")


@dataclass
class Served:
    """The file the server hands out, and what it did: bytes of body per request."""

    path: Path
    size: int
    etag: str
    cut_at: int | None = None  # the next body request stops after this many bytes
    sent: list[tuple[int, int]] = field(default_factory=list)  # (first byte, bytes sent)
    lock: threading.Lock = field(default_factory=threading.Lock)


def write_mp4(path: Path, size_mib: int) -> int:
    """ftyp, moov and one big mdat: whole as far as framecast's box checks go."""
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        out.write(struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 512))
        out.write(struct.pack(">I4s", 8, b"moov"))
        out.write(struct.pack(">I4s", 8 + size_mib * (1 << 20), b"mdat"))
        for _ in range(size_mib):
            out.write(block)
    return path.stat().st_size


def _handler(served: Served) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 1 << 20

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _json(self, document: object) -> None:
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == f"/v1/videos/{JOB_ID}":
                self._json(
                    {
                        "id": JOB_ID,
                        "object": "video",
                        "status": "completed",
                        "model": "sora-2",
                        "progress": 100,
                        "created_at": int(time.time()),
                        "seconds": "4",
                        "size": "1280x720",
                    }
                )
            elif path in (CONTENT, "/file.mp4"):
                self._body()
            else:
                self.send_error(404)

        def _body(self) -> None:
            start = 0
            wanted = _RANGE.fullmatch(self.headers.get("range", ""))
            if_range = self.headers.get("if-range")
            if wanted and (if_range is None or if_range == served.etag):
                start = int(wanted[1])
            if start >= served.size:
                self.send_response(416)
                self.send_header("content-range", f"bytes */{served.size}")
                self.send_header("content-length", "0")
                self.end_headers()
                return
            self.send_response(206 if start else 200)
            self.send_header("content-type", "video/mp4")
            self.send_header("accept-ranges", "bytes")
            self.send_header("etag", served.etag)
            self.send_header("content-length", str(served.size - start))
            if start:
                self.send_header("content-range", f"bytes {start}-{served.size - 1}/{served.size}")
            self.end_headers()
            self.wfile.flush()
            with served.lock:
                cut, served.cut_at = served.cut_at, None
            count = served.size - start if cut is None else max(0, cut - start)
            sent = 0
            # OSError: the client went away.
            with open(served.path, "rb") as source, contextlib.suppress(OSError):
                sent = self.connection.sendfile(source, start, count)
            with served.lock:
                served.sent.append((start, sent))
            if cut is not None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_kib: int
    code: int


def run(command: list[str], env: dict[str, str]) -> Run:
    """One child process: wall time, its own peak RSS (not its siblings'), exit code."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    assert child.stderr is not None
    errors = child.stderr.read()  # drained as it comes, so the child never blocks on it
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stderr.close()
    if child.returncode not in (0, 18):  # curl's 18: a partial file (the cut)
        sys.stderr.write(errors.decode(errors="replace")[-2000:])
    return Run(elapsed, usage.ru_maxrss, child.returncode)


def framecast_command(target: Path) -> list[str]:
    return [
        sys.executable, "-m", "framecast", "download", JOB_ID, "-o", str(target), "--force",
        "--progress", "none",
    ]  # fmt: skip


# httpx's own streaming loop and nothing else (no verification, fsync or journal): the
# ceiling of any download made through httpx, which is what framecast's is.
BARE_HTTPX = (
    "import sys, httpx\n"
    "from httpcore._sync.http11 import HTTP11Connection\n"
    "HTTP11Connection.READ_NUM_BYTES = 1 << 18  # as framecast reads\n"
    "with httpx.stream('GET', sys.argv[1], headers={'Authorization': 'Bearer sk-bench'}) as r,"
    " open(sys.argv[2], 'wb') as out:\n"
    "    for chunk in r.iter_bytes():\n"
    "        out.write(chunk)\n"
)


def bare_httpx_command(url: str, target: Path) -> list[str]:
    return [sys.executable, "-c", BARE_HTTPX, url, str(target)]


def curl_command(url: str, target: Path, *, resume: bool = False) -> list[str]:
    return ["curl", "-s", *(["-C", "-"] if resume else []), "-o", str(target), url]


def _after_cut(served: Served, size: int, arrived: int) -> tuple[int, int]:
    """Body bytes sent after the cut, and how many of them had arrived before it."""
    later = sum(count for _, count in served.sent[1:])
    return later, later - (size - arrived)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    curl = shutil.which("curl")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        served_file = root / "served.mp4"
        size = write_mp4(served_file, args.size_mib)
        served = Served(served_file, size, f'"{size:x}-bench"')
        server = Server(("127.0.0.1", 0), _handler(served))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env = {
            **inherited,
            # Bytecode cached, as for an installed package (see bench_startup.py): else
            # every framecast process compiles its modules (≈ 70 ms) inside the timing.
            "PYTHONPYCACHEPREFIX": str(root / "bytecode"),
            "FRAMECAST_DATA_DIR": str(root / "data"),
            "FRAMECAST_CONFIG_DIR": str(root / "config"),
            "OPENAI_BASE_URL": origin + "/v1",
            "OPENAI_API_KEY": "sk-bench",
            "FRAMECAST_PROVIDER": "openai",
        }
        try:
            report(args, served, origin, env, root, curl)
        finally:
            server.shutdown()
            server.server_close()


def report(
    args: argparse.Namespace,
    served: Served,
    origin: str,
    env: dict[str, str],
    root: Path,
    curl: str | None,
) -> None:
    size = served.size
    ours_file, theirs_file = root / "framecast.mp4", root / "curl.mp4"
    ours: list[Run] = []
    theirs: list[Run] = []
    bare: list[Run] = []
    run(framecast_command(ours_file), env)  # untimed: caches the bytecode
    ours_file.unlink(missing_ok=True)
    for _ in range(args.rounds):
        if curl:
            theirs.append(run(curl_command(origin + CONTENT, theirs_file), env))
            theirs_file.unlink(missing_ok=True)
        bare.append(run(bare_httpx_command(origin + CONTENT, theirs_file), env))
        theirs_file.unlink(missing_ok=True)
        ours.append(run(framecast_command(ours_file), env))
        if ours[-1].code != 0:
            raise SystemExit(f"framecast download failed (exit {ours[-1].code})")
        ours_file.unlink(missing_ok=True)
    print(f"download of {size / (1 << 20):,.0f} MiB over loopback, median of {args.rounds}:")
    ours_rate = size / statistics.median(r.seconds for r in ours) / 1e6
    print(f"  framecast download   {ours_rate:8,.0f} MB/s (whole process)")
    if theirs:
        theirs_rate = size / statistics.median(r.seconds for r in theirs) / 1e6
        print(f"  curl -s -o FILE      {theirs_rate:8,.0f} MB/s")
        print(f"  ratio (framecast / curl): {ours_rate / theirs_rate:.2f}")
    bare_rate = size / statistics.median(r.seconds for r in bare) / 1e6
    print(f"  httpx alone          {bare_rate:8,.0f} MB/s (its streaming loop, whole process)")
    print(f"  ratio (framecast / httpx alone): {ours_rate / bare_rate:.2f}")
    if theirs:
        print(f"  ratio (httpx alone / curl): {bare_rate / theirs_rate:.2f}")
    peak = max(r.peak_rss_kib for r in ours) / 1024
    print(f"  framecast peak memory: {peak:.1f} MiB (max RSS of the process)")

    print("cut at 50% once, then resumed:")
    half = size // 2
    served.sent.clear()
    served.cut_at = half
    outcome = run(framecast_command(ours_file), env)
    later, again = _after_cut(served, size, half)
    print(
        f"  framecast download   exit {outcome.code}, {later:,} bytes after the cut, "
        f"{again:,} re-transferred ({again / size:.0%} of the file)"
    )
    ours_file.unlink(missing_ok=True)
    if curl:
        served.sent.clear()
        served.cut_at = half
        first = run(curl_command(origin + CONTENT, theirs_file), env)
        arrived = theirs_file.stat().st_size if theirs_file.exists() else 0
        second = run(curl_command(origin + CONTENT, theirs_file, resume=True), env)
        later, again = _after_cut(served, size, arrived)
        print(
            f"  curl, then curl -C - exits {first.code} and {second.code}, {later:,} bytes after "
            f"the cut, {again:,} re-transferred ({again / size:.0%} of the file)"
        )
        theirs_file.unlink(missing_ok=True)
    else:
        print("  (curl not found: its figures are skipped)")


if __name__ == "__main__":
    main()
