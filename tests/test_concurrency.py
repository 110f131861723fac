"""Many framecast processes at once: one output name, one fresh journal."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from framecast.emulator import EmulatorConfig
from framecast.emulator.media import Renderer
from framecast.journal import MIGRATIONS
from tests.conftest import (
    FRAMECAST,
    Served,
    invoke,
    journal_rows,
    probe_mp4,
    serve,
    spawn,
    submit,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("processes", [2, 20])
def test_processes_saving_to_one_name_each_keep_their_own_job(
    served_env: Served, isolated: Path, processes: int
) -> None:
    """Each process's file holds its own job's bytes, journaled under that job."""
    go = Path.cwd().parent / "go"
    runner = (
        "import os, sys, time\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.005)\n"
        "from framecast.cli import main\n"
        "sys.argv = ['framecast', *sys.argv[1:]]\n"
        "main()\n"
    )
    children = [
        spawn(
            [sys.executable, "-c", runner, "generate", f"take {i}", "-o", "clip.mp4", "-q"],
            env=os.environ.copy(),
        )
        for i in range(processes)
    ]
    time.sleep(0.5)  # let every process get to the starting line
    go.touch()
    outcomes = [child.communicate(timeout=120) for child in children]

    assert [child.returncode for child in children] == [0] * processes, outcomes
    saved = {out.strip() for out, _ in outcomes}
    assert len(saved) == processes, "every process got a name of its own"
    assert saved == {"clip.mp4", *(f"clip-{n}.mp4" for n in range(1, processes))}
    rows = journal_rows(isolated)
    assert len(rows) == processes
    renderer = Renderer()
    for row in rows:
        record = served_env.app.videos.store.get(str(row["id"]))
        assert record is not None
        path = Path(str(row["output_path"]))
        expected = hashlib.sha256(renderer.render(record, "video")).hexdigest()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == expected, row["id"]
    assert not list(Path.cwd().glob(".framecast-*"))


def test_fifty_processes_opening_a_fresh_journal(tmp_path: Path) -> None:
    """50 processes open the same fresh journals together, 30 times over (one collision is
    a matter of microseconds; thirty make it near certain)."""
    journals = [tmp_path / f"fresh-{i}" / "journal.sqlite3" for i in range(30)]
    go = tmp_path / "go"
    opener = (
        "import os, sys, time\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.002)\n"
        "from pathlib import Path\n"
        "from framecast.journal import Journal\n"
        f"for path in {[str(j) for j in journals]!r}:\n"
        "    Journal(Path(path)).close()\n"
    )
    children = [spawn([sys.executable, "-c", opener]) for _ in range(50)]
    time.sleep(1.0)
    go.touch()
    results = [child.communicate(timeout=120) for child in children]

    assert [child.returncode for child in children] == [0] * 50, [e for _, e in results if e]
    for journal in journals:
        with sqlite3.connect(journal) as db:
            assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_same_request_from_many_processes_at_once_is_sent_once(
    served_env: Served, isolated: Path
) -> None:
    """The check for an earlier submission and the record of this one are one transaction."""
    go = Path.cwd().parent / "go-same"
    runner = (
        "import os, sys, time\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.002)\n"
        "from framecast.cli import main\n"
        "sys.argv = ['framecast', *sys.argv[1:]]\n"
        "main()\n"
    )
    children = [
        spawn(
            [sys.executable, "-c", runner, "generate", "one race", "--no-wait", "-q"],
            env=os.environ.copy(),
        )
        for _ in range(10)
    ]
    time.sleep(0.5)
    go.touch()
    outcomes = [child.communicate(timeout=120) for child in children]

    codes = sorted(child.returncode for child in children)
    assert codes == [0] + [2] * 9, outcomes
    assert len(served_env.seen("POST")) == 1
    assert served_env.app.jobs_created() == 1
    assert len(journal_rows(isolated)) == 1


def test_two_downloads_of_one_job_to_one_place_leave_one_file(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    """The first download is held back (a slow answer); a second process downloads the same
    job to the same place meanwhile and saves it first. The first must then find that copy
    journaled as this job's and keep it, not add a second under a new name."""
    served = serve(EmulatorConfig(job_seconds=0.3, dialect="openai", faults="content:slow=2"))
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", served.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
        job_id = submit("one clip, twice fetched", "--provider", "openai")
        assert invoke("wait", job_id, "-q").exit_code == 0
        argv = [*FRAMECAST, "download", job_id, "--provider", "openai", "-o", "out/", "-q"]
        held = spawn(argv, env=dict(os.environ))
        deadline = time.monotonic() + 30
        while not served.seen("GET", "/content"):
            assert held.poll() is None and time.monotonic() < deadline, held.communicate()
            time.sleep(0.02)

        quick = invoke("download", job_id, "--provider", "openai", "-o", "out/", "-q")
        stdout, stderr = held.communicate(timeout=60)

        assert quick.exit_code == 0, quick.output
        assert held.returncode == 0, stderr
        assert stdout.strip() == quick.stdout.strip() == f"out/{job_id}.mp4"
        assert [p.name for p in Path("out").iterdir()] == [f"{job_id}.mp4"]
        assert probe_mp4(Path("out", f"{job_id}.mp4")).codec == "h264"
        (row,) = journal_rows(isolated)
        assert row["output_path"] == str(Path("out", f"{job_id}.mp4").absolute())
    finally:
        served.server.stop()
