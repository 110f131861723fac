"""Commands load only what they use: scripts call framecast in loops (no timings here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Served, run_command, submit

pytestmark = pytest.mark.slow

PROBE = """
import json, sys
from framecast.cli import main
code = 0
try:
    sys.argv[0] = "framecast"
    main()  # as the console script runs it: only the named command is built
except SystemExit as stop:
    code = stop.code or 0
heavy = ["httpx", "rich.progress", "framecast.emulator", "sqlite3", "pydantic", "click"]
loaded = {name: sys.modules.get(name) is not None for name in heavy}
modules = sorted(name for name, module in sys.modules.items() if module is not None)
print(json.dumps({"exit": code, "loaded": loaded, "modules": modules}), file=sys.stderr)
"""
# httpx imports click, Rich and pygments for its own command line whenever click is
# importable; the test extras install click, framecast does not.
AS_INSTALLED = "import sys; sys.modules['click'] = None\n"
# What a status check has no use for: drawing, the emulator, other providers, submitting,
# waiting and downloading.
NOT_FOR_STATUS = (
    "rich",
    "framecast.ui",  # the display: `status ID --json` prints results only (results.py)
    "framecast.catalog",  # models are not listed or priced to follow a job
    "framecast.inputs",  # no request is built
    "framecast.polling",  # nothing is waited for
    "framecast.emulator",
    "framecast.providers.lumenfall",
    "framecast.providers.nanogpt",
    "framecast.providers.emulator",
    "framecast.runs",
    "framecast.jobrun",
    "framecast.jobs",
    "framecast.pricing",
    "framecast.download",
    "pydantic",
    "tomli_w",  # writing profiles only
    "framecast.tomledit",
)


def probe(*args: str, without_click: bool = False) -> dict[str, Any]:
    """What a successful run of `framecast ARGS` imported: `loaded` (the heavy modules
    named in PROBE) and `modules` (every one)."""
    code = (AS_INSTALLED if without_click else "") + PROBE
    result = run_command([sys.executable, "-c", code, *args])
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["exit"] == 0, result.stderr
    return report


def loaded(*args: str) -> dict[str, bool]:
    """The heavy modules a successful run of `framecast ARGS` imported."""
    return probe(*args)["loaded"]  # type: ignore[no-any-return]


def imported(modules: list[str], package: str) -> list[str]:
    return [name for name in modules if name == package or name.startswith(package + ".")]


def test_version_and_help_load_nothing_heavy() -> None:
    for args in (["--version"], ["--help"], ["generate", "--help"]):
        modules = loaded(*args)
        assert not any(modules.values()), (args, modules)


def test_version_loads_no_rich_no_providers_and_no_settings() -> None:
    modules = probe("--version", without_click=True)["modules"]
    for package in ("rich", "httpx", "framecast.providers", "framecast.options"):
        assert not imported(modules, package), (package, imported(modules, package))
    assert "framecast.domain" not in modules  # the package's public names load on first use


def test_help_draws_without_rich() -> None:
    for args in (["--help"], ["status", "--help"]):
        modules = probe(*args, without_click=True)["modules"]
        assert not imported(modules, "rich"), (args, imported(modules, "rich"))


def test_status_of_a_job_as_json_loads_only_what_it_prints(served_env: Served) -> None:
    job_id = submit("a kite")
    report = probe("status", job_id, "--json", without_click=True)
    modules = report["modules"]
    assert "framecast.providers.openai" in modules  # it did ask the provider
    for package in NOT_FOR_STATUS:
        assert not imported(modules, package), (package, imported(modules, package))
    assert served_env.seen("GET", f"/videos/{job_id}")


def test_status_over_plain_http_never_loads_the_certificate_store(
    served_env: Served, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Loading the CA store is the largest single cost of a loopback status check; only
    https needs it. A store that cannot be read shows whether it was loaded."""
    job_id = submit("a kite")
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-store.pem"))
    plain = run_command([sys.executable, "-m", "framecast", "status", job_id, "--json"])
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout)["id"] == job_id
    assert plain.stderr == ""

    https = served_env.base_url.replace("http://", "https://")
    tls = run_command(
        [sys.executable, "-m", "framecast", "status", job_id, "--json", "--base-url", https]
    )
    # https did load the store, and one that cannot be read stops the run.
    assert tls.returncode == 9, tls.stderr
    assert tls.stdout == ""
    assert "No such file or directory" in tls.stderr


def test_listing_the_journal_needs_no_http_stack() -> None:
    modules = loaded("status")  # the autouse fixture points FRAMECAST_DATA_DIR at a temporary dir
    assert modules["sqlite3"]
    assert (
        not modules["httpx"] and not modules["rich.progress"] and not modules["framecast.emulator"]
    )


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "a kite", "--provider", "emulator", "--no-wait", "-q"],
        ["models"],
        ["status", "--json"],
    ],
)
def test_real_runs_do_not_load_pydantic(args: list[str]) -> None:
    """Typer 0.29 imports pydantic on every run (see the pin in pyproject.toml); a command
    doing its work must not pay for that. (Click may load here: httpx imports it for its
    own CLI when it is installed, as it is with the test extras.)"""
    modules = loaded(*args)
    assert not modules["pydantic"], (args, modules)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["generate", "x", "--model", "sora-2"], "generate"),
        (["-p", "fast", "status"], "status"),
        (["--config", "c.toml", "profile", "list"], "profile"),
        (["--traceback", "wait", "@last"], "wait"),
        (["--version"], ""),
        (["--help"], None),
        ([], None),
        (["nonsense"], None),
    ],
)
def test_runs_build_only_the_command_they_name(argv: list[str], expected: str | None) -> None:
    from framecast.cli.app import command_in

    assert command_in(argv) == expected


def test_a_lean_app_behaves_like_the_full_one() -> None:
    from typer.testing import CliRunner

    from framecast.cli.app import _build, app

    for argv in (["generate", "--help"], ["profile", "--help"], ["--version"]):
        lean = CliRunner().invoke(_build(only=argv[0] if argv[0] != "--version" else ""), argv)
        full = CliRunner().invoke(app, argv)
        assert full.exit_code == 0, full.output
        assert (lean.exit_code, lean.stdout) == (full.exit_code, full.stdout)
