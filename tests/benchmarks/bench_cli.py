"""Start-up, polling and download figures for framecast on this machine.

Run: python tests/benchmarks/bench_cli.py
Prints medians; asserts nothing (timings never go in tests). Everything stays on loopback.
"""

from __future__ import annotations

import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def median_ms(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=False)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def startup(env: dict[str, str], runs: int = 15) -> None:
    print(f"start-up, median of {runs} runs:")
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "framecast --version": [sys.executable, "-m", "framecast", "--version"],
        "framecast generate --help": [sys.executable, "-m", "framecast", "generate", "--help"],
        "framecast status (journal listing)": [sys.executable, "-m", "framecast", "status"],
    }
    for name, command in cases.items():
        print(f"  {name:<40} {median_ms(command, env, runs):7.1f} ms")


def polling(count: int = 2000) -> None:
    from framecast.emulator import EmulatorApp, EmulatorConfig
    from framecast.emulator.server import EmulatorServer
    from framecast.providers.openai import OpenAIProvider

    server = EmulatorServer(EmulatorApp(EmulatorConfig(job_seconds=3600)))
    server.start_background()
    try:
        with OpenAIProvider(base_url=server.origin + "/v1", api_key="bench") as provider:
            from framecast.domain import JobRequest

            (job,) = provider.submit(JobRequest("benchmark"))
            started = time.perf_counter()
            for _ in range(count):
                provider.get(job.id)
            elapsed = time.perf_counter() - started
        print(f"polling: {count / elapsed:,.0f} status requests/s over one keep-alive connection")
    finally:
        server.stop()


def download(size_mib: int = 256) -> None:
    import struct
    from contextlib import AbstractContextManager

    import httpx

    from framecast import download
    from framecast.http import ApiClient

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "big.mp4"
        with open(source, "wb") as out:
            # A structurally whole MP4 (ftyp, moov, one big mdat), so it passes verification.
            out.write(struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 512))
            out.write(struct.pack(">I4s", 8, b"moov"))
            out.write(struct.pack(">I4s", 8 + size_mib * (1 << 20), b"mdat"))
            block = os.urandom(1 << 20)
            for _ in range(size_mib):
                out.write(block)

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

        handler = lambda *a: Quiet(*a, directory=folder)  # noqa: E731
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{httpd.server_address[1]}/big.mp4"
        client = ApiClient("http://api.invalid/v1")

        class Link:
            def open(self, headers: dict[str, str]) -> AbstractContextManager[httpx.Response]:
                return client.stream(url, authenticated=False, headers=headers)

            def renew(self) -> bool:
                return False

        try:
            started = time.perf_counter()
            target = Path(folder) / "copy.mp4"
            _, size = download.save(Link(), target, key="bench", variant="video", force=True)
            elapsed = time.perf_counter() - started
        finally:
            client.close()
            httpd.shutdown()
        print(
            f"download: {size / elapsed / 1e6:,.0f} MB/s for {size_mib} MiB "
            "(partial file, verify, fsync, rename)"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "FRAMECAST_DATA_DIR": data}
        startup(env)
    polling()
    download()


if __name__ == "__main__":
    main()
