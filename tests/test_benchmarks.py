"""The benchmark script still runs (tiny sizes; its figures are printed, never asserted)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "benchmarks" / "bench_cli.py"


def test_benchmark_script_runs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("bench_cli", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    bench.startup({**os.environ, "FRAMECAST_DATA_DIR": str(tmp_path)}, runs=1)
    bench.polling(count=3)
    bench.download(size_mib=1)

    out = capsys.readouterr().out
    assert "framecast --version" in out
    assert "status requests/s" in out
    assert "MB/s for 1 MiB" in out
