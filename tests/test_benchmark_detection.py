"""The completion-detection benchmark still runs (tiny: its figures are printed, never
asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "benchmarks" / "bench_detection.py"


def test_the_detection_benchmark_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = importlib.util.spec_from_file_location("bench_detection", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, bench)  # its dataclasses look themselves up
    spec.loader.exec_module(bench)

    bench.main(["--jobs", "2", "--nominal", "0.5"])

    out = capsys.readouterr().out
    assert "framecast wait" in out and "5-second loop" in out
    assert "requests/job" in out and "median delay ratio" in out
