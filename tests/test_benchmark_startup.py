"""The start-up benchmark still runs (one repetition: its figures are printed, never
asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "benchmarks" / "bench_startup.py"


def test_the_startup_benchmark_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("bench_startup", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)
    spec.loader.exec_module(bench)

    bench.main(["--runs", "1"])

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("start-up, medians of 1 interleaved runs")
    for name, baseline in (
        ("framecast --version", "import typer'"),
        ("framecast status ID --json", "import typer, httpx'"),
        ("framecast --help", "import typer'"),
    ):
        (line,) = [line for line in lines if line.strip().startswith(name)]
        assert baseline in line and "ratio" in line, line
