"""The README, --help, .ci/run and completions/ describe what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from framecast.cli.app import app
from framecast.cli.completions import scripts
from framecast.errors import EXIT_CODE_MEANINGS
from tests.conftest import invoke

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MAIN_JOB = (
    'pip install . && framecast generate "a paper boat drifting down a rainy street" '
    "--provider emulator -o boat.mp4"
)
TEST_COMMAND = "pip install '.[test]' && python -m pytest -n auto"


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def test_readme_starts_with_the_two_setup_commands_in_order() -> None:
    blocks = code_blocks(README)
    assert blocks[0].strip() == MAIN_JOB
    assert blocks[1].strip() == TEST_COMMAND


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line.strip()
        for line in ci.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert TEST_COMMAND in commands
    assert "exit 1" in ci and '"$status" -eq 5' in ci, "no tests collected must fail CI"


def test_every_command_is_documented() -> None:
    names = [command.name or command.callback.__name__ for command in app.registered_commands]  # type: ignore[union-attr]
    assert names == [
        "generate",
        "status",
        "wait",
        "download",
        "estimate",
        "batch",
        "models",
        "sync",
        "cancel",
        "delete",
        "remix",
        "spend",
        "balance",
        "emulator",
    ]
    for name in names:
        assert f"### `framecast {name}" in README
        result = invoke(name, "--help")
        assert result.exit_code == 0
        assert result.stdout.startswith(f"Usage: framecast {name}")


def test_every_command_group_is_documented() -> None:
    groups: dict[str, list[str]] = {}
    for info in app.registered_groups:
        assert info.name is not None and info.typer_instance is not None
        registered = info.typer_instance.registered_commands
        groups[info.name] = [c.name or c.callback.__name__ for c in registered]  # type: ignore[union-attr]
    assert list(groups) == ["profile", "config", "webhook"]
    headings = re.findall(r"^### `framecast (\w+) (.+?)`$", README, flags=re.M)
    for group, commands in groups.items():
        heading = " ".join(rest for name, rest in headings if name == group)
        for command in commands:
            assert re.search(rf"\b{command}\b", heading), f"framecast {group} {command}"
            result = invoke(group, command, "--help")
            assert result.exit_code == 0
            assert result.stdout.startswith(f"Usage: framecast {group} {command}")


def test_readme_exit_code_table_matches_the_code() -> None:
    rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", README, flags=re.M))
    assert rows == {str(int(code)): meaning for code, meaning in EXIT_CODE_MEANINGS.items()}


def test_help_lists_the_exit_codes() -> None:
    result = invoke("--help")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"{int(code):>3}  {meaning}" in result.stdout


def test_completions_are_current() -> None:
    folder = ROOT / "completions"
    assert sorted(path.name for path in folder.iterdir()) == sorted(scripts())
    for name, text in scripts().items():
        path = folder / name
        assert path.read_text(encoding="utf-8") == text, (
            "regenerate: python -m framecast.cli.completions"
        )


def test_public_api() -> None:
    import framecast

    assert framecast.__all__ == [
        "ExitCode",
        "FramecastError",
        "Job",
        "JobError",
        "JobRequest",
        "JobStatus",
        "__version__",
    ]
    for name in framecast.__all__:
        assert hasattr(framecast, name)


def test_readme_precedence_list_is_the_resolvers() -> None:
    import framecast.settings

    def numbered(text: str) -> list[str]:
        items = re.findall(r"^\d\. (.+?)(?=^\d\. |^$|\Z)", text, flags=re.M | re.S)
        return [" ".join(item.replace("`", "").split()) for item in items]

    docstring = framecast.settings.__doc__ or ""
    lead = "Every setting is taken from the first of these that gives one:"
    readme_section = README.partition(lead)[2]
    assert numbered(readme_section)[:4] == numbered(docstring)[:4]
    assert len(numbered(docstring)) >= 4


def test_readme_example_config_is_valid_and_complete() -> None:
    import tomllib

    from framecast import config

    block = re.search(r"```toml\n(.*?)```", README, flags=re.S)
    assert block is not None
    data = tomllib.loads(block.group(1))
    loaded = config.validate(data, Path("config.toml"))
    used = {key for profile in loaded.profiles.values() for key in profile}
    assert used | {"api_key"} == set(config.KEYS), "the example shows every setting (but a raw key)"


def test_every_guarantee_names_tests_that_exist() -> None:
    section = README.partition("## What framecast guarantees")[2].partition("\n## ")[0]
    named = re.findall(r"`(test_\w+\.py)(?:::(\w+))?`", section)
    assert len(named) >= 20
    for file, test in named:
        source = (ROOT / "tests" / file).read_text(encoding="utf-8")
        if test:
            assert f"def {test}(" in source, f"{file}::{test} is named in the README"
