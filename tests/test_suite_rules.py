"""Rules the tests themselves keep, checked on their source.

Every run of the CLI in a test has its exit code asserted: a test that only looks at
stdout, or at a file, passes for a command that failed after printing or writing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
RUNNERS = {"invoke", "run_subprocess", "run_command"}  # conftest's ways to run the CLI
CODES = {"exit_code", "returncode"}


def _called(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return None


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _runners(tree: ast.Module) -> set[str]:
    """conftest's runners, and this module's functions that return what one of them gives."""
    found = set(RUNNERS)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and _called(ret.value or ast.Pass()) in RUNNERS:
                    found.add(node.name)
    return found


def _reads(node: ast.AST) -> set[str]:
    """Names whose exit code is read somewhere in `node`."""
    return {
        n.value.id
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute) and n.attr in CODES and isinstance(n.value, ast.Name)
    }


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _checked_names(function: ast.FunctionDef) -> set[str]:
    """Names whose exit code the function reads: `r.exit_code`, `x.exit_code for x in r`,
    `for x in (r, s): ... x.exit_code`, or a list of names whose exit codes are read."""
    names = _reads(function)
    for node in ast.walk(function):
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            for generator in node.generators:
                if _names(generator.target) & _reads(node):
                    names |= _names(generator.iter)
        elif isinstance(node, ast.For):
            body = ast.Module(node.body, type_ignores=[])
            if _names(node.target) & _reads(body):
                names |= _names(node.iter)
    groups = [
        (_names(node.targets[0]), node.value)
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.List | ast.Tuple)
    ]
    grown = True
    while grown:  # runs = [a, b] with runs checked: a and b are checked
        grown = False
        for targets, value in groups:
            members = {
                e.id
                for e in (x.value if isinstance(x, ast.Starred) else x for x in value.elts)
                if isinstance(e, ast.Name)
            }
            if targets & names and not members <= names:
                names |= members
                grown = True
    return names


def _in_raises(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside `with pytest.raises(...)`: the run is expected to raise, not to exit."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.With) and any(
            _called(item.context_expr) == "raises" for item in node.items
        ):
            return True
    return False


def unchecked_runs(source: str) -> Iterator[tuple[int, str]]:
    """(line, function) of each run of the CLI whose exit code is never asserted."""
    tree = ast.parse(source)
    runners = _runners(tree)
    parents = _parents(tree)
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef) or function.name in runners:
            continue
        checked = _checked_names(function)
        for call in ast.walk(function):
            if not isinstance(call, ast.Call) or _called(call) not in runners:
                continue
            if _in_raises(call, parents):
                continue
            parent = parents[call]
            if isinstance(parent, ast.Attribute) and parent.attr in CODES:
                continue
            if isinstance(parent, ast.List | ast.Tuple | ast.ListComp | ast.GeneratorExp):
                parent = parents[parent]
            if isinstance(parent, ast.Assign | ast.AnnAssign):
                targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
                names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                if names and names <= checked:
                    continue
            yield call.lineno, function.name


def test_the_rule_finds_what_it_should() -> None:
    source = """
def run(*args):
    return invoke("generate", *args)

def test_good():
    result = invoke("status")
    runs = [invoke("a"), invoke("b")]
    assert result.exit_code == 0
    assert [r.exit_code for r in runs] == [0, 0]
    assert run("x").exit_code == 0
    with pytest.raises(RuntimeError):
        invoke("--traceback", "boom")
    first, second = invoke("c"), invoke("d")
    for each in (first, second):
        assert each.exit_code == 0
    third = invoke("e")
    takes = [invoke("f") for _ in range(2)]
    every = [third, *takes]
    assert [t.exit_code for t in every] == [0, 0, 0]

def test_bad():
    listing = invoke("status").stdout
    result = invoke("status")
    assert "x" in result.stdout
    run("y")
"""
    found = sorted(unchecked_runs(source))
    assert found == [(22, "test_bad"), (23, "test_bad"), (25, "test_bad")]


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda p: p.name)
def test_every_run_of_the_cli_has_its_exit_code_asserted(path: Path) -> None:
    found = [f"{path.name}:{line} in {name}" for line, name in unchecked_runs(path.read_text())]
    assert found == []
