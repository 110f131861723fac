"""The benchmark script still runs (tiny sizes; its figures are printed, never asserted)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
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


def test_download_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """bench_download.py at 1 MiB: framecast's figures, curl's when curl is installed."""
    spec = importlib.util.spec_from_file_location(
        "bench_download", SCRIPT.with_name("bench_download.py")
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_download"] = bench  # its dataclasses look their module up there
    spec.loader.exec_module(bench)

    bench.main(["--size-mib", "1", "--rounds", "1"])

    out = capsys.readouterr().out
    assert "framecast download" in out
    assert "peak memory" in out
    assert "0 re-transferred" in out.split("cut at 50%")[1].splitlines()[1]
    if shutil.which("curl"):
        assert "ratio (framecast / curl)" in out
        assert "curl -C -" in out
    else:
        assert "curl not found" in out
