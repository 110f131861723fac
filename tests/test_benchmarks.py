"""The benchmark scripts still run (tiny sizes; their figures are printed, never asserted)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).parent / "benchmarks"


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """tests/benchmarks/NAME.py as a module (registered, as its dataclasses look it up)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, bench)
    spec.loader.exec_module(bench)
    return bench


def test_benchmark_script_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load("bench_cli", monkeypatch)

    bench.startup({**os.environ, "FRAMECAST_DATA_DIR": str(tmp_path)}, runs=1)
    bench.polling(count=3)
    bench.download(size_mib=1)

    out = capsys.readouterr().out
    assert "framecast --version" in out
    assert "status requests/s" in out
    assert "MB/s for 1 MiB" in out


def test_download_benchmark_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench_download.py at 1 MiB: framecast's figures, curl's when curl is installed."""
    bench = load("bench_download", monkeypatch)

    bench.main(["--size-mib", "1", "--rounds", "1"])

    out = capsys.readouterr().out
    assert "framecast download" in out
    assert "peak memory" in out
    assert "ratio (framecast / httpx alone)" in out
    assert "0 re-transferred" in out.split("cut at 50%")[1].splitlines()[1]
    if shutil.which("curl"):
        assert "ratio (framecast / curl)" in out
        assert "curl -C -" in out
    else:
        assert "curl not found" in out


def test_the_startup_benchmark_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    load("bench_startup", monkeypatch).main(["--runs", "1"])

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("start-up, medians of 1 interleaved runs")
    for name, baseline in (
        ("framecast --version", "import typer'"),
        ("framecast status ID --json", "import typer, httpx'"),
        ("the same, beside one GET", "httpx.get(URL)'"),
        ("framecast --help", "import typer'"),
    ):
        (line,) = [line for line in lines if line.strip().startswith(name)]
        assert baseline in line and "ratio" in line, line


def test_the_batch_benchmark_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench_batch.py at 3 rows: a real `framecast batch` process, every row checked."""
    bench = load("bench_batch", monkeypatch)

    bench.main(["--jobs", "3", "--job-seconds", "0.2", "--concurrency", "3"])

    out = capsys.readouterr().out
    assert "framecast batch: 3 rows" in out
    assert "ratio (framecast / goal)" in out and "150 MB" in out
    assert "3 GET content" in out and "3 POST create" in out
    assert "every row completed, saved and journaled" in out and "PROBLEM" not in out
    assert "0 requests, exit code 0" in out.split("the same again")[1].splitlines()[0]


def test_the_detection_benchmark_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    load("bench_detection", monkeypatch).main(["--jobs", "2", "--nominal", "0.5"])

    out = capsys.readouterr().out
    assert "framecast wait" in out and "5-second loop" in out
    assert "requests/job" in out and "median delay ratio" in out
