"""completions/ completes in real shells: zsh from the first TAB of a new shell, bash and fish.

Each shell runs this checkout's framecast (a wrapper around `sys.executable -m framecast`)
with HOME and the XDG directories in tmp_path, so no user configuration is read. zsh and
bash run interactively on a pseudo-terminal: keys are typed, and a key bound to a small
widget writes the edited line to a file. fish answers `complete -C` without a terminal.
Every child runs in a session of its own and is killed and reaped at the end.
"""

from __future__ import annotations

import ast
import contextlib
import os
import select
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import framecast

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
SHIPPED = ROOT / "completions"
STEP = 15.0  # seconds one keystroke's effect may take (a TAB starts Python)
LIMIT = 60.0  # seconds a whole test may take with a shell
REPORT_KEY = b"\x14"  # Ctrl-T, bound to "write the line to the report file"

# Runs in the child before the shell: default Ctrl-C, and the pty (if it is one) as the
# controlling terminal, as a login would leave it. A trampoline rather than preexec_fn,
# which is not safe in a process with threads.
TRAMPOLINE = (
    "import fcntl, os, signal, sys, termios\n"
    "signal.signal(signal.SIGINT, signal.SIG_DFL)\n"
    "if os.isatty(0):\n"
    "    fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)


def shell(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (.ci/run installs it)")
    return path


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, str]:
    """The environment of a clean machine whose `framecast` is this checkout's."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "framecast"
    wrapper.write_text(
        f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m framecast "$@"\n', encoding="utf-8"
    )
    wrapper.chmod(0o755)
    env = {
        "PATH": os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(tmp_path / "home"),
        "TERM": "xterm",
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(Path(framecast.__file__).parent.parent),
    }
    for name in ("CONFIG", "CACHE", "DATA", "STATE"):
        env[f"XDG_{name}_HOME"] = str(tmp_path / "xdg" / name.lower())
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        Path(env[name]).mkdir(parents=True)
    # The conftest's private config, journal and cache.
    env.update((k, v) for k, v in os.environ.items() if k.startswith("FRAMECAST_"))
    return env


class Terminal:
    """An interactive program on a pseudo-terminal: type keys, collect what it writes.

    Every wait ends by LIMIT seconds after the start, whatever it was given.
    """

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        import fcntl
        import termios

        self.deadline = time.monotonic() + LIMIT
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", TRAMPOLINE, *argv],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        except BaseException:
            os.close(self.master)
            raise
        finally:
            os.close(slave)
        self.output = b""

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def pump(self, seconds: float) -> bool:
        """Collect output for up to `seconds`; False once the program has closed the pty."""
        ready, _, _ = select.select([self.master], [], [], max(seconds, 0))
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the other side is gone
            return False
        self.output += chunk
        return bool(chunk)

    def expect(self, text: bytes, since: int, timeout: float = STEP) -> bool:
        """Whether `text` shows up in the output after position `since`, within `timeout`."""
        deadline = min(time.monotonic() + timeout, self.deadline)
        while text not in self.output[since:]:
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(min(left, 0.2)):
                return False
        return True

    def line(self, report: Path, timeout: float = STEP) -> str:
        """The line being edited, written to `report` by the key bound to REPORT_KEY."""
        report.unlink(missing_ok=True)
        self.type(REPORT_KEY)
        deadline = min(time.monotonic() + timeout, self.deadline)
        while time.monotonic() < deadline:
            if report.exists() and (text := report.read_text(encoding="utf-8")).endswith("\n"):
                return text[:-1]
            if not self.pump(0.05):
                break
        raise AssertionError(f"no line reported; the terminal showed:\n{self.screen()}")

    def screen(self) -> str:
        return self.output.decode("utf-8", "replace")

    def close(self) -> None:
        """Kill the shell and whatever it started (its session), and reap it."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=10)
        finally:
            os.close(self.master)


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    started: list[Terminal] = []
    yield started
    for terminal in started:
        terminal.close()


def on_first_prompt(terminal: Terminal, report: Path, *steps: tuple[bytes, bytes]) -> str:
    """Type each step's keys on the first prompt and wait for what it shows; the line then."""
    assert terminal.expect(b"ready> ", 0), f"no prompt:\n{terminal.screen()}"
    for keys, shows in steps:
        mark = len(terminal.output)
        terminal.type(keys)
        terminal.expect(shows, mark)  # the line is checked after, whatever showed up
    return terminal.line(report)


# zsh ---------------------------------------------------------------------------------

REPORT_WIDGET_ZSH = """\
report-line() {{ print -r -- "$BUFFER" >| {report} }}
zle -N report-line
bindkey '^T' report-line
PS1='ready> '
"""


def zsh(
    tmp_path: Path, env: dict[str, str], terminals: list[Terminal], *, route: str
) -> tuple[Terminal, Path]:
    """A new interactive zsh whose .zshrc installs _framecast the way the README says."""
    program = shell("zsh")
    functions = tmp_path / "zfunc"
    functions.mkdir()
    functions.chmod(0o755)  # compinit refuses group- or world-writable directories
    shutil.copy(SHIPPED / "_framecast", functions / "_framecast")
    zdotdir = tmp_path / "zdotdir"
    zdotdir.mkdir()
    report = tmp_path / "line.txt"
    if route == "fpath":
        install = f"fpath=({shlex.quote(str(functions))} $fpath)\nautoload -Uz compinit && compinit"
    else:
        install = (
            f"autoload -Uz compinit && compinit\nsource {shlex.quote(str(functions))}/_framecast"
        )
    rc = install + "\n" + REPORT_WIDGET_ZSH.format(report=shlex.quote(str(report)))
    (zdotdir / ".zshrc").write_text(rc, encoding="utf-8")
    env = {**env, "ZDOTDIR": str(zdotdir)}
    terminal = Terminal([program, "-i"], env, tmp_path)
    terminals.append(terminal)
    return terminal, report


@pytest.mark.parametrize("route", ["fpath", "source"])
def test_zsh_completes_a_command_on_the_first_tab(
    tmp_path: Path, machine: dict[str, str], terminals: list[Terminal], route: str
) -> None:
    terminal, report = zsh(tmp_path, machine, terminals, route=route)
    line = on_first_prompt(terminal, report, (b"framecast gen\t", b"erate"))
    assert line.rstrip() == "framecast generate", terminal.screen()


@pytest.mark.parametrize("route", ["fpath", "source"])
def test_zsh_completes_a_model_on_the_first_tab_and_lists_on_the_second(
    tmp_path: Path, machine: dict[str, str], terminals: list[Terminal], route: str
) -> None:
    terminal, report = zsh(tmp_path, machine, terminals, route=route)
    typed = b"framecast generate x --model sora"
    # TAB inserts what the choices share, a second TAB lists them.
    line = on_first_prompt(terminal, report, (typed + b"\t", b"-2"), (b"\t", b"sora-2-pro"))
    assert line == "framecast generate x --model sora-2", terminal.screen()
    assert "sora-2-pro" in terminal.screen(), "the choices are listed"


def test_zsh_completes_file_names_where_a_path_is_wanted(
    tmp_path: Path, machine: dict[str, str], terminals: list[Terminal]
) -> None:
    (tmp_path / "first-frame.png").touch()
    terminal, report = zsh(tmp_path, machine, terminals, route="fpath")
    typed = b"framecast generate x --image fir"
    line = on_first_prompt(terminal, report, (typed + b"\t", b"st-frame"))
    assert line.rstrip() == "framecast generate x --image first-frame.png", terminal.screen()


# bash --------------------------------------------------------------------------------

REPORT_WIDGET_BASH = """\
report_line() {{ printf '%s\\n' "$READLINE_LINE" > {report}; }}
bind -x '"\\C-t": report_line'
PS1='ready> '
"""


def bash(tmp_path: Path, env: dict[str, str], terminals: list[Terminal]) -> tuple[Terminal, Path]:
    """A new interactive bash whose rc file sources framecast.bash, as the README says."""
    program = shell("bash")
    script = tmp_path / "framecast.bash"
    shutil.copy(SHIPPED / "framecast.bash", script)
    report = tmp_path / "line.txt"
    rc = tmp_path / "bashrc"
    rc.write_text(
        f"source {shlex.quote(str(script))}\n"
        + REPORT_WIDGET_BASH.format(report=shlex.quote(str(report))),
        encoding="utf-8",
    )
    terminal = Terminal([program, "--noprofile", "--rcfile", str(rc), "-i"], env, tmp_path)
    terminals.append(terminal)
    return terminal, report


def test_bash_completes_a_command(
    tmp_path: Path, machine: dict[str, str], terminals: list[Terminal]
) -> None:
    terminal, report = bash(tmp_path, machine, terminals)
    line = on_first_prompt(terminal, report, (b"framecast gen\t", b"erate"))
    assert line == "framecast generate ", terminal.screen()


def test_bash_completes_a_model(
    tmp_path: Path, machine: dict[str, str], terminals: list[Terminal]
) -> None:
    terminal, report = bash(tmp_path, machine, terminals)
    typed = b"framecast generate x --model sora"
    # TAB inserts what the choices share; readline lists them on the next two.
    line = on_first_prompt(terminal, report, (typed + b"\t", b"-2"), (b"\t\t", b"sora-2-pro"))
    assert line == "framecast generate x --model sora-2", terminal.screen()
    assert "sora-2-pro" in terminal.screen(), "the choices are listed"


def test_bash_completes_file_names_where_a_path_is_wanted(
    tmp_path: Path, machine: dict[str, str], terminals: list[Terminal]
) -> None:
    (tmp_path / "first-frame.png").touch()
    terminal, report = bash(tmp_path, machine, terminals)
    typed = b"framecast generate x --image fir"
    line = on_first_prompt(terminal, report, (typed + b"\t", b"st-frame"))
    assert line == "framecast generate x --image first-frame.png ", terminal.screen()


# fish --------------------------------------------------------------------------------


def fish_candidates(tmp_path: Path, env: dict[str, str], route: str, line: str) -> list[str]:
    """What fish offers for `line`, with framecast.fish installed or sourced."""
    program = shell("fish")
    query = f"complete -C {shlex.quote(line)}"
    if route == "installed":  # autoloaded from ~/.config/fish/completions
        folder = Path(env["XDG_CONFIG_HOME"]) / "fish" / "completions"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(SHIPPED / "framecast.fish", folder / "framecast.fish")
        argv = [program, "-c", query]
    else:
        script = shlex.quote(str(SHIPPED / "framecast.fish"))
        argv = [program, "--no-config", "-c", f"source {script}; {query}"]
    process = subprocess.Popen(
        [sys.executable, "-c", TRAMPOLINE, *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=LIMIT / 3)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0, err.decode()
    return [row.split("\t")[0] for row in out.decode().splitlines()]


@pytest.mark.parametrize("route", ["installed", "sourced"])
def test_fish_completes_commands_models_and_file_names(
    tmp_path: Path, machine: dict[str, str], route: str
) -> None:
    assert fish_candidates(tmp_path, machine, route, "framecast gen") == ["generate"]
    models = fish_candidates(tmp_path, machine, route, "framecast generate x --model sora")
    assert models == ["sora-2", "sora-2-pro"]
    (tmp_path / "first-frame.png").touch()
    files = fish_candidates(tmp_path, machine, route, "framecast generate x --image fir")
    assert files == ["first-frame.png"]


# the generator -----------------------------------------------------------------------


def test_the_generator_uses_public_names_only() -> None:
    """No `typer._completion_shared`, `typer._click` or other private module or name."""
    generator = ROOT / "src" / "framecast" / "cli" / "completions.py"
    tree = ast.parse(generator.read_text(encoding="utf-8"))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            imported += [f"{node.module or ''}.{alias.name}" for alias in node.names]
    assert imported
    for name in imported:
        assert not any(part.startswith("_") for part in name.split(".")), name


def test_zsh_script_is_an_autoloadable_completion_function() -> None:
    text = (SHIPPED / "_framecast").read_text(encoding="utf-8")
    assert text.startswith("#compdef framecast\n")
