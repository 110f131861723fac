"""How late framecast notices that a job finished, and how many requests it spends on it,
beside a 5-second polling loop (the seeds' curl loop) and the openai SDK's
`client.videos.poll` in the same run.

Run: python tests/benchmarks/bench_detection.py [--jobs 40] [--nominal 15] [--seed 0]

The SDK baseline needs the openai package, which is not a dependency of framecast nor of
its test extras; install it into the venv for the benchmark only (`pip install openai`).
Without it that baseline is skipped, saying so.

A served emulator (loopback, the strict OpenAI dialect unless --dialect lumenfall, which
reports no progress) runs its realistic timeline with no poll hint: job lengths
are unknown to the client (log-normal around --nominal seconds, 0.3x to 3x) and progress
stalls and jumps. framecast follows every job in one `framecast wait` process, twice:
with a fresh journal ("cold": it only learns lengths from jobs that finish during the
run) and then with a journal holding that first run's jobs ("journal": the model's
typical length is known; the emulator draws new jobs from the next seed). The baselines
poll each job from its own thread: every 5 seconds, or as the SDK's `poll` does (every
second without a hint). A job's detection delay is when the poller first saw it
completed, minus when the emulator finished it. Prints medians, p90s, requests per job
and ratios; asserts nothing (timings never go in tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

LOOP_SECONDS = 5.0


@dataclass(frozen=True)
class Figures:
    delays: list[float]  # seconds late, one per job
    requests: int  # status requests sent, all jobs together
    jobs: int

    def line(self, name: str) -> str:
        ordered = sorted(self.delays)
        p90 = ordered[max(0, round(0.9 * len(ordered)) - 1)]
        return (
            f"  {name:<28} median {statistics.median(ordered):5.2f} s late, p90 {p90:5.2f} s,"
            f" {self.requests / self.jobs:5.1f} requests/job"
        )


def _submit(client: httpx.Client, count: int) -> list[str]:
    ids = []
    for n in range(count):
        answer = client.post("/videos", json={"model": "sora-2", "prompt": f"benchmark {n}"})
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    return ids


def _finished_at(app: object, job_id: str) -> float:
    from framecast.emulator.videos import finishes_at

    record = app.store.get(job_id)  # type: ignore[attr-defined]
    assert record is not None
    return finishes_at(record)


def _status_requests(app: object, ids: list[str]) -> int:
    wanted = set(ids)
    seen = app.seen  # type: ignore[attr-defined]
    return len([s for s in seen if s.method == "GET" and s.path.rsplit("/", 1)[-1] in wanted])


def framecast_wait(origin: str, ids: list[str], data_dir: str) -> dict[str, float]:
    """Follow every job in one `framecast wait` process; when each was seen completed,
    from the journal's record of that change."""
    import sqlite3

    env = {
        **os.environ,
        "FRAMECAST_DATA_DIR": data_dir,
        "OPENAI_BASE_URL": origin + "/v1",
        "OPENAI_API_KEY": "sk-bench",
        "FRAMECAST_PROVIDER": "openai",
    }
    subprocess.run(
        [sys.executable, "-m", "framecast", "wait", *ids, "--progress", "none"],
        env=env,
        capture_output=True,
        check=False,
    )
    with sqlite3.connect(Path(data_dir) / "journal.sqlite3") as db:
        rows = db.execute("SELECT id, updated_at FROM jobs WHERE status = 'completed'").fetchall()
    return {job_id: float(at) for job_id, at in rows}


def five_second_loop(origin: str, ids: list[str]) -> dict[str, float]:
    """One thread per job asking every 5 seconds until it reads completed."""
    seen: dict[str, float] = {}
    lock = threading.Lock()

    def follow(job_id: str) -> None:
        with httpx.Client(base_url=origin + "/v1", headers={"authorization": "Bearer b"}) as c:
            while True:
                status = c.get(f"/videos/{job_id}").json()["status"]
                if status == "completed":
                    with lock:
                        seen[job_id] = time.time()
                    return
                if status == "failed":
                    return
                time.sleep(LOOP_SECONDS)

    threads = [threading.Thread(target=follow, args=(job_id,)) for job_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


def sdk_poll(origin: str, ids: list[str]) -> dict[str, float]:
    """One thread per job in `client.videos.poll(id)` (openai-python), one shared client."""
    import importlib
    import warnings

    # Installed for this benchmark only (not a dependency): typed as Any, so that the
    # type check passes on a machine without it.
    OpenAI: Any = importlib.import_module("openai").OpenAI

    seen: dict[str, float] = {}
    lock = threading.Lock()
    client = OpenAI(base_url=origin + "/v1", api_key="sk-bench", max_retries=0)

    def follow(job_id: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the Videos API's shutdown
            video = client.videos.poll(job_id)
        if video.status == "completed":
            with lock:
                seen[job_id] = time.time()

    threads = [threading.Thread(target=follow, args=(job_id,)) for job_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    return seen


def has_openai() -> bool:
    import importlib.util

    return importlib.util.find_spec("openai") is not None


def measure(
    name: str,
    jobs: int,
    nominal: float,
    poller: Callable[[str, list[str]], dict[str, float]],
    seed: int = 0,
    dialect: str = "openai",
) -> Figures:
    from framecast.emulator import EmulatorApp, EmulatorConfig
    from framecast.emulator.server import EmulatorServer

    config = EmulatorConfig(
        job_seconds=nominal, timeline="realistic", poll_hint="off", seed=seed, dialect=dialect
    )
    server = EmulatorServer(EmulatorApp(config), "127.0.0.1", 0)
    server.start_background()
    try:
        with httpx.Client(
            base_url=server.origin + "/v1", headers={"authorization": "Bearer b"}
        ) as client:
            ids = _submit(client, jobs)
        noticed = poller(server.origin, ids)
        delays = [noticed[i] - _finished_at(server.app, i) for i in ids if i in noticed]
        requests = _status_requests(server.app, ids)
    finally:
        server.stop()
    if not delays:
        raise SystemExit(f"{name}: no job was seen completed")
    return Figures(delays, requests, len(delays))


def ratios(ours: Figures, theirs: Figures) -> str:
    delay = statistics.median(ours.delays) / max(statistics.median(theirs.delays), 1e-9)
    requests = (ours.requests / ours.jobs) / max(theirs.requests / theirs.jobs, 1e-9)
    return f"median delay ratio {delay:.2f}, requests/job ratio {requests:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--nominal", type=float, default=15.0, help="typical job length (s)")
    parser.add_argument("--seed", type=int, default=0, help="the emulator's timeline seed")
    parser.add_argument("--dialect", choices=("openai", "lumenfall"), default="openai")
    args = parser.parse_args(argv)
    kinds = (args.seed, args.dialect)
    print(
        f"completion detection, {args.jobs} jobs of about {args.nominal:g} s "
        f"(realistic timeline, no poll hint, seed {args.seed}, {args.dialect} dialect):"
    )
    with tempfile.TemporaryDirectory() as data:
        cold = measure(
            "framecast",
            args.jobs,
            args.nominal,
            lambda o, ids: framecast_wait(o, ids, data),
            *kinds,
        )
        warm = measure(
            "framecast",
            args.jobs,
            args.nominal,
            lambda o, ids: framecast_wait(o, ids, data),
            args.seed + 1,
            args.dialect,
        )
    loop = measure("loop", args.jobs, args.nominal, five_second_loop, *kinds)
    sdk = measure("sdk", args.jobs, args.nominal, sdk_poll, *kinds) if has_openai() else None
    print(cold.line("framecast wait (cold)"))
    print(warm.line("framecast wait (journal)"))
    print(loop.line(f"{LOOP_SECONDS:g}-second loop"))
    if sdk is not None:
        print(sdk.line("openai SDK videos.poll"))
    else:
        print(
            "  openai SDK videos.poll       skipped: openai is not installed (pip install openai)"
        )
    for name, ours in (("cold", cold), ("journal", warm)):
        print(f"  framecast ({name}) / loop: {ratios(ours, loop)}")
        if sdk is not None:
            print(f"  framecast ({name}) / SDK poll: {ratios(ours, sdk)}")


if __name__ == "__main__":
    main()
