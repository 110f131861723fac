"""Shared fixtures: an isolated machine for every test, the emulator on loopback, a CLI runner.

Nothing here (or in any test) reaches beyond 127.0.0.1 / localhost.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from framecast.cli.app import app
from framecast.emulator import EmulatorApp, EmulatorConfig
from framecast.emulator.recording import Seen
from framecast.emulator.server import EmulatorServer

# Variables that would let a test reach a real provider, or read the developer's setup.
_SCRUBBED = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "FRAMECAST_PROVIDER",
    "FRAMECAST_TRACEBACK",
    "FRAMECAST_POLL_INTERVAL",
    "FRAMECAST_MAX_RETRIES",
    "FRAMECAST_EMULATOR_JOB_SECONDS",
    "LUMENFALL_API_KEY",
    "LUMENFALL_BASE_URL",
    "NANOGPT_BASE_URL",
    "FRAMECAST_MODELS_TTL",
    "NANOGPT_API_KEY",
    "FORCE_COLOR",
    "NO_COLOR",
    "TTY_COMPATIBLE",
)


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data dir and working dir, quick polling, a wide fixed terminal."""
    for name in (*_SCRUBBED, *(n for n in os.environ if n.startswith("FRAMECAST_"))):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FRAMECAST_CONFIG", str(tmp_path / "config.toml"))
    data = tmp_path / "data"
    monkeypatch.setenv("FRAMECAST_DATA_DIR", str(data))
    monkeypatch.setenv("FRAMECAST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FRAMECAST_POLL_INTERVAL", "0.05")
    monkeypatch.setenv("FRAMECAST_EMULATOR_JOB_SECONDS", "0.3")
    monkeypatch.setenv("FRAMECAST_MAX_RETRIES", "1")
    monkeypatch.setenv("COLUMNS", "200")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return data


@dataclass
class Served:
    server: EmulatorServer
    app: EmulatorApp

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def base_url(self) -> str:
        return self.server.origin + "/v1"

    def seen(self, method: str | None = None, fragment: str = "") -> list[Seen]:
        """Requests the emulator received, oldest first: of one method, with `fragment`
        in the path (each with its headers, credentials redacted, and its body)."""
        return [
            s
            for s in self.app.seen
            if (method is None or s.method == method) and fragment in s.path
        ]


def serve(config: EmulatorConfig) -> Served:
    emulator_app = EmulatorApp(config)
    server = EmulatorServer(emulator_app, "127.0.0.1", 0)
    server.start_background()
    return Served(server, emulator_app)


@pytest.fixture
def emulator() -> Iterator[Served]:
    """The emulator on a loopback socket, with short jobs."""
    served = serve(EmulatorConfig(job_seconds=0.3))
    yield served
    served.server.stop()


@pytest.fixture
def served_env(emulator: Served, monkeypatch: pytest.MonkeyPatch) -> Served:
    """Point the `openai` provider at the served emulator through the environment."""
    monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    return emulator


# A terminal for Rich (TTY_COMPATIBLE makes it treat captured output as one), without colour.
TERMINAL = {"TTY_COMPATIBLE": "1", "NO_COLOR": "1"}
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    """Terminal output without its bold and colour codes."""
    return _SGR.sub("", text)


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run the real CLI in-process; unexpected exceptions propagate to the test."""
    return CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)


def submit(*args: str) -> str:
    """`framecast generate ARGS --no-wait -q`, which must succeed: the id of the job made."""
    result = invoke("generate", *args, "--no-wait", "-q")
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


# Every child process of a test, so that none outlives it (see `_reap_children`).
_CHILDREN: list[subprocess.Popen[Any]] = []
FRAMECAST = (sys.executable, "-m", "framecast")


def _default_signals() -> None:
    """In the child, before exec: Ctrl-C and SIGTERM act as in a fresh shell.

    A pytest started from a background shell ignores SIGINT, and ignored signals are
    inherited across exec; Python then installs no KeyboardInterrupt handler either.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def spawn(argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[str]:
    """Start a child with default signal handling, text pipes for stdout and stderr
    unless told otherwise; it is killed and reaped when the test ends, whatever happens."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("text", True)
    child: subprocess.Popen[str] = subprocess.Popen(
        list(argv),
        preexec_fn=_default_signals,  # noqa: PLW1509 (only resets two signals)
        **kwargs,
    )
    _CHILDREN.append(child)
    return child


def run_command(
    argv: Sequence[str], *, input: str | None = None, timeout: float = 120, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run a child to the end (killed on timeout), output captured as text."""
    if input is not None:
        kwargs.setdefault("stdin", subprocess.PIPE)
    child = spawn(argv, **kwargs)
    try:
        stdout, stderr = child.communicate(input, timeout=timeout)
    finally:
        reap(child)
    return subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)


def run_subprocess(
    *args: str, env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """`python -m framecast ARGS` in a child process, with this test's environment."""
    return run_command([*FRAMECAST, *args], env={**os.environ, **(env or {})}, **kwargs)


def reap(child: subprocess.Popen[Any], *, grace: float = 0.0) -> None:
    """Make sure a child has ended (killed after `grace` seconds) and leaves nothing open."""
    if child.poll() is None and grace > 0:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=grace)
    if child.poll() is None:
        child.kill()
    child.wait()
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture(autouse=True)
def _reap_children() -> Iterator[None]:
    """No child process of a test outlives it, however the test ends."""
    started = len(_CHILDREN)
    yield
    while len(_CHILDREN) > started:
        reap(_CHILDREN.pop())


@dataclass(frozen=True)
class Probe:
    width: int
    height: int
    frames: int
    fps: Fraction
    duration: float
    codec: str
    first_frame_luma: bytes
    luma_stride: int


def probe_mp4(data: bytes | Path) -> Probe:
    """Decode every frame with FFmpeg (PyAV), independently of framecast's writer."""
    import av

    raw = data.read_bytes() if isinstance(data, Path) else data
    with av.open(io.BytesIO(raw), mode="r") as container:
        stream = container.streams.video[0]
        frames = list(container.decode(video=0))
        first = frames[0].planes[0]
        assert stream.average_rate is not None
        return Probe(
            width=frames[0].width,
            height=frames[0].height,
            frames=len(frames),
            fps=Fraction(stream.average_rate),
            duration=float(container.duration or 0) / 1_000_000,
            codec=stream.codec_context.name,
            first_frame_luma=bytes(first),
            luma_stride=first.line_size,
        )


def journal_rows(data_dir: Path) -> list[dict[str, Any]]:
    """The journal as another program would read it, without framecast's code."""
    path = data_dir / "journal.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in db.execute("SELECT * FROM jobs ORDER BY seq")]
        except sqlite3.OperationalError:  # another process is still creating the table
            return []
