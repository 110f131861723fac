"""How long framecast takes to start, beside the bare imports it cannot do without, in one
paired run.

Run: python tests/benchmarks/bench_startup.py [--runs 31] [--keep-click]

Each command and its baseline run as whole processes, repetitions interleaved (every
round runs all seven, in a shuffled order) so that the machine's load falls on both alike:
- `framecast --version` beside `python -c "import typer"`;
- `framecast status ID --json`, against an emulator served on loopback (the openai dialect,
  the job journaled by `framecast generate --no-wait`), beside `python -c "import typer,
  httpx"` (issue 11's baseline), and beside the same imports sending the same GET and
  printing the answer: the floor for any typer and httpx program that asks;
- `framecast --help` beside `python -c "import typer"`.

httpx imports click, rich and pygments for its own command line whenever click is
importable (+≈40 ms). framecast does not install click; the test extras do (schemathesis
needs it). So unless --keep-click is given, every process, baselines included, runs with
click hidden, as on a user's machine. Likewise bytecode is cached (in a temporary
PYTHONPYCACHEPREFIX, warmed by one untimed run of each command) even where
PYTHONDONTWRITEBYTECODE is set, as it is for installed packages. Prints medians and
ratios; asserts nothing (timings never go in tests).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence

# Every process starts through this: click hidden (or not), then the command's own code.
PRELUDE = "import sys; sys.modules['click'] = None  # not installed for users\n"
FRAMECAST = "from framecast.cli import main; main()"


def python(code: str, *args: str, keep_click: bool) -> list[str]:
    """A Python process running `code` with `args` after it (sys.argv[1:], as a console
    script would have them)."""
    return [sys.executable, "-c", (code if keep_click else PRELUDE + code), *args]


def elapsed_ms(command: Sequence[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, check=False)
    took = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        raise SystemExit(f"{command[-1]!r} failed ({result.returncode}): {result.stderr!r}")
    return took


# The least any typer program can do to print this job's status: the same GET, no more.
# httpx loads httpcore (and h11) only when its first client is made, so the bare import
# above never pays for them; this floor does, as every request must.
BARE_GET = (
    "import os, sys, typer, httpx\n"
    "url = os.environ['OPENAI_BASE_URL'] + '/videos/' + sys.argv[1]\n"
    "key = os.environ['OPENAI_API_KEY']\n"
    "sys.stdout.write(httpx.get(url, headers={'Authorization': 'Bearer ' + key}).text)"
)


def pairs(job_id: str, keep_click: bool) -> dict[str, tuple[list[str], list[str], str]]:
    """Each figure: framecast's command, its baseline's, and the baseline's name."""

    def framecast(*args: str) -> list[str]:
        return python(FRAMECAST, *args, keep_click=keep_click)

    typer_only = python("import typer", keep_click=keep_click)
    typer_httpx = python("import typer, httpx", keep_click=keep_click)
    status = framecast("status", job_id, "--json")
    return {
        "framecast --version": (framecast("--version"), typer_only, "import typer"),
        "framecast status ID --json": (status, typer_httpx, "import typer, httpx"),
        "  the same, beside one GET": (
            status,
            python(BARE_GET, job_id, keep_click=keep_click),
            "…; httpx.get(URL)",
        ),
        "framecast --help": (framecast("--help"), typer_only, "import typer"),
    }


def submit(env: dict[str, str]) -> str:
    """One job on the served emulator, journaled as a user's would be."""
    result = subprocess.run(
        [sys.executable, "-m", "framecast", "generate", "a kite", "--no-wait", "-q"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"could not submit the job: {result.stderr}")
    return result.stdout.strip()


def measure(env: dict[str, str], runs: int, keep_click: bool) -> None:
    job_id = submit(env)
    figures = pairs(job_id, keep_click)
    commands = {
        (name, side): command
        for name, (ours, base, _) in figures.items()
        for side, command in (("ours", ours), ("base", base))
        if not (side == "ours" and name.startswith(" "))  # the line above's command
    }
    times: dict[tuple[str, str], list[float]] = {key: [] for key in commands}
    for command in commands.values():
        elapsed_ms(command, env)  # warm the file cache and the bytecode once, untimed
    order = list(commands)
    shuffle = random.Random(0)
    for _ in range(runs):
        shuffle.shuffle(order)
        for key in order:
            times[key].append(elapsed_ms(commands[key], env))
    click = "as installed" if keep_click else "click hidden (as installed for users)"
    print(f"start-up, medians of {runs} interleaved runs, {click}:")
    above = ""
    for name, (_, _, baseline) in figures.items():
        above = above if name.startswith(" ") else name
        ours = statistics.median(times[(above, "ours")])
        base = statistics.median(times[(name, "base")])
        print(
            f"  {name:<28} {ours:6.1f} ms   {'python -c ' + repr(baseline):<31}"
            f"{base:6.1f} ms   ratio {ours / base:4.2f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=31, help="timed repetitions per command")
    parser.add_argument(
        "--keep-click", action="store_true", help="leave click importable (as the venv has it)"
    )
    args = parser.parse_args(argv)

    from framecast.emulator import EmulatorApp, EmulatorConfig
    from framecast.emulator.server import EmulatorServer

    # Long jobs: every status run reads the same in-progress answer.
    config = EmulatorConfig(job_seconds=3600, dialect="openai")
    server = EmulatorServer(EmulatorApp(config), "127.0.0.1", 0)
    server.start_background()
    try:
        with tempfile.TemporaryDirectory() as data:
            inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            env = {
                **inherited,
                "PYTHONPYCACHEPREFIX": os.path.join(data, "bytecode"),
                "FRAMECAST_DATA_DIR": data,
                "FRAMECAST_CONFIG": os.path.join(data, "config.toml"),  # no user profile
                "FRAMECAST_PROVIDER": "openai",
                "OPENAI_BASE_URL": server.origin + "/v1",
                "OPENAI_API_KEY": "sk-bench-not-a-real-key",
            }
            measure(env, args.runs, args.keep_click)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
