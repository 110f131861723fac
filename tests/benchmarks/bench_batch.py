"""A 1,000-job `framecast batch` against the served emulator: wall time, the process's peak
memory and CPU, the requests it sent, and proof that every row was saved and journaled.

Run: python tests/benchmarks/bench_batch.py [--jobs 1000] [--job-seconds 3] [--concurrency 250]
Smoke: python tests/benchmarks/bench_batch.py --jobs 4 --job-seconds 0.2 --concurrency 4

A served emulator (loopback, in this process, OpenAI dialect, realistic timeline, no
poll hint) takes the jobs. `framecast batch FILE.jsonl --json` runs as its own process
over a JSONL file of N rows, saving to `{row}-{prompt_slug}.{ext}` in a temporary
folder; its peak memory and CPU are its own `ru_maxrss` and CPU times (wait4). The
requests are what the emulator recorded, by kind (POST create, GET status, GET
content). Then: one file per row, the JSON result lines name every row once, and the
journal (read with sqlite3, not framecast's code) has a completed entry with that
output path for every row; a sample of the files is decoded with PyAV when installed.

The baseline is the issue's goal for a whole batch, submission and downloads included:
peak memory at most 150 MB (`wait` on 1,000 ids used 37 MB and 6.7 CPU-s before
batches existed). Prints figures; asserts nothing (timings never go in tests).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

GOAL_MB = 150.0  # issue 11: keep <= 150 MB with submission and downloads included
WAIT_1000_MB, WAIT_1000_CPU = 37.0, 6.7  # issue 11: `wait` on 1,000 ids, before batches
SAMPLE = 3  # files decoded with PyAV


@dataclass(frozen=True)
class Child:
    """What the batch process did, as the kernel counted it."""

    exit_code: int
    wall: float  # seconds
    peak_mb: float  # ru_maxrss, in MB (10^6 bytes)
    cpu: float  # user + system seconds
    stdout: str
    stderr: str


def write_rows(path: Path, count: int) -> None:
    """One JSONL row per job; distinct prompts, so distinct fingerprints and file names."""
    with open(path, "w") as out:
        for n in range(1, count + 1):
            out.write(json.dumps({"prompt": f"benchmark row {n}: a lighthouse at dusk"}) + "\n")


def run_batch(rows: Path, folder: Path, env: dict[str, str], concurrency: int) -> Child:
    command = [
        sys.executable, "-m", "framecast", "batch", str(rows), "--json", "--progress", "none",
        "-o", str(folder / "{row}-{prompt_slug}.{ext}"), "--concurrency", str(concurrency),
    ]  # fmt: skip
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Files, not pipes: 1,000 result lines must never block the child on a full pipe.
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Child(
            exit_code=child.returncode,
            wall=wall,
            peak_mb=usage.ru_maxrss * 1024 / 1e6,  # Linux counts ru_maxrss in KiB
            cpu=usage.ru_utime + usage.ru_stime,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def request_kinds(seen: Sequence[object]) -> Counter[str]:
    """The emulator's recorded requests, by kind."""
    kinds: Counter[str] = Counter()
    for request in seen:
        method, path = request.method, request.path  # type: ignore[attr-defined]
        if method == "POST" and path.rstrip("/").endswith("/videos"):
            kinds["POST create"] += 1
        elif method == "GET" and (path.endswith("/content") or path.startswith("/media/")):
            kinds["GET content"] += 1
        elif method == "GET" and "/videos/" in path:
            kinds["GET status"] += 1
        else:
            kinds[f"other ({method})"] += 1
    return kinds


def check_results(
    stdout: str, folder: Path, data_dir: Path, jobs: int
) -> tuple[list[str], list[Path]]:
    """Problems found (empty when every row was saved and journaled), and the saved files."""
    problems: list[str] = []
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    by_row = {line["row"]: line for line in lines}
    if sorted(by_row) != list(range(1, jobs + 1)) or len(lines) != jobs:
        problems.append(f"{len(lines)} result lines for {len(by_row)} distinct rows of {jobs}")
    not_done = [n for n, line in by_row.items() if line["status"] != "completed"]
    if not_done:
        problems.append(f"{len(not_done)} row(s) not completed, e.g. {by_row[not_done[0]]}")
    files = sorted(p for p in folder.iterdir() if p.suffix == ".mp4")
    if len(files) != jobs:
        problems.append(f"{len(files)} .mp4 files for {jobs} rows")
    empty = [p for p in files if p.stat().st_size == 0]
    if empty:
        problems.append(f"{len(empty)} empty file(s), e.g. {empty[0].name}")
    with sqlite3.connect(data_dir / "journal.sqlite3") as db:
        journaled = {
            job_id: (status, path)
            for job_id, status, path in db.execute("SELECT id, status, output_path FROM jobs")
        }
    unjournaled = []
    for n, line in by_row.items():
        status, path = journaled.get(line["id"], (None, None))
        saved = Path(line["path"]).absolute() if line["path"] else None
        if status != "completed" or path is None or saved is None or Path(path) != saved:
            unjournaled.append(n)
    if unjournaled:
        row = unjournaled[0]
        problems.append(
            f"{len(unjournaled)} row(s) without a completed journal entry naming their file,"
            f" e.g. row {row}: {journaled.get(by_row[row]['id'])}"
        )
    if len(journaled) != jobs:
        problems.append(f"{len(journaled)} journal entries for {jobs} rows")
    return problems, files


def decode_sample(files: Sequence[Path]) -> str:
    """Decode every frame of a few files with FFmpeg (PyAV), independently of framecast."""
    try:
        import av
    except ImportError:
        return "not checked (PyAV not installed)"
    step = max(1, len(files) // SAMPLE)
    sample = list(files[::step])[:SAMPLE]
    frames = 0
    for path in sample:
        with av.open(str(path), mode="r") as container:
            decoded = sum(1 for _ in container.decode(video=0))
        if not decoded:
            return f"FAILED: {path.name} has no frames"
        frames += decoded
    return f"{len(sample)} file(s) decoded, {frames} frames"


def run(
    jobs: int = 1000,
    job_seconds: float = 3.0,
    concurrency: int = 250,
    timeline: str = "realistic",
) -> dict[str, float]:
    from framecast.emulator import EmulatorApp, EmulatorConfig
    from framecast.emulator.server import EmulatorServer

    config = EmulatorConfig(
        job_seconds=job_seconds, dialect="openai", timeline=timeline, poll_hint="off"
    )
    app = EmulatorApp(config)
    app.seen = deque()  # every request, not the last 2,000 a test needs
    server = EmulatorServer(app, "127.0.0.1", 0)
    server.start_background()
    with tempfile.TemporaryDirectory() as temporary:
        top = Path(temporary)
        rows, folder, data_dir, config_dir = (
            top / "rows.jsonl", top / "out", top / "data", top / "config",
        )  # fmt: skip
        for made in (folder, data_dir, config_dir):
            made.mkdir()
        write_rows(rows, jobs)
        env = {
            **os.environ,
            "FRAMECAST_DATA_DIR": str(data_dir),
            "FRAMECAST_CONFIG_DIR": str(config_dir),
            "FRAMECAST_PROVIDER": "openai",
            "OPENAI_BASE_URL": server.origin + "/v1",
            "OPENAI_API_KEY": "sk-bench",
        }
        server_cpu = time.process_time()  # this process is mostly the emulator's thread
        try:
            child = run_batch(rows, folder, env, concurrency)
            server_cpu = time.process_time() - server_cpu
            kinds = request_kinds(list(app.seen))
            app.seen.clear()
            # The same file again: every row is found made in the journal and on disk.
            rerun = run_batch(rows, folder, env, concurrency)
            rerun_requests = len(app.seen)
        finally:
            server.stop()
        if child.exit_code != 0:
            sys.stderr.write(f"framecast batch's stderr, its end:\n{child.stderr[-3000:]}\n")
        problems, files = check_results(child.stdout, folder, data_dir, jobs)
        decoded = decode_sample(files) if files else "nothing to decode"

    total = sum(kinds.values())
    ratio = child.peak_mb / GOAL_MB
    print(
        f"framecast batch: {jobs:,} rows, emulator jobs of about {job_seconds:g} s"
        f" ({timeline} timeline, no poll hint), --concurrency {concurrency}"
    )
    print(f"  exit code         {child.exit_code}")
    print(f"  wall time         {child.wall:.1f} s ({jobs / child.wall:.1f} rows/s)")
    print(
        f"  CPU               {child.cpu:.1f} s ({child.cpu / jobs * 1000:.1f} ms/row);"
        f" emulator's process {server_cpu:.1f} s"
    )
    print(
        f"  peak memory       {child.peak_mb:.1f} MB;"
        f" goal <= {GOAL_MB:g} MB: ratio (framecast / goal) {ratio:.2f}"
        f" ({'met' if ratio <= 1 else 'MISSED'})"
    )
    print(
        f"  for comparison    `wait` on 1,000 ids (issue 11, no submission or downloads):"
        f" {WAIT_1000_MB:g} MB, {WAIT_1000_CPU:g} CPU-s"
    )
    print(
        f"  requests          {total:,} ({total / jobs:.1f}/row): "
        + ", ".join(f"{kinds[k]:,} {k}" for k in sorted(kinds))
    )
    print(f"  saved             {len(files):,} files; sample {decoded}")
    print(
        f"  the same again    {rerun.wall:.1f} s, {rerun.cpu:.1f} CPU-s,"
        f" {rerun_requests} requests, exit code {rerun.exit_code} (every row already made)"
    )
    summary = [line for line in child.stderr.splitlines() if line.startswith("Batch:")]
    print(f"  its summary       {summary[-1] if summary else '(none on stderr)'}")
    if problems:
        for problem in problems:
            print(f"  PROBLEM           {problem}")
    else:
        print("  checked           every row completed, saved and journaled with its path")
    return {
        "exit_code": float(child.exit_code),
        "wall": child.wall,
        "peak_mb": child.peak_mb,
        "cpu": child.cpu,
        "requests": float(total),
        "rerun_requests": float(rerun_requests),
        "problems": float(len(problems)),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=1000, help="rows in the batch file")
    parser.add_argument(
        "--job-seconds", type=float, default=3.0, help="typical emulated job length (s)"
    )
    parser.add_argument("--concurrency", type=int, default=250, help="batch --concurrency")
    parser.add_argument("--timeline", choices=("realistic", "steady"), default="realistic")
    args = parser.parse_args(argv)
    run(args.jobs, args.job_seconds, args.concurrency, args.timeline)


if __name__ == "__main__":
    main()
