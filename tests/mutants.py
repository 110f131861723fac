"""Deliberate bugs, one at a time: does the test suite notice each of them?

    python tests/mutants.py                 # the baseline, then every mutation
    python tests/mutants.py --only seconds  # mutations whose name contains "seconds"
    python tests/mutants.py --list          # what each mutation does

Each mutation is one exact text replacement in one source file. It is made in a
temporary copy of the repository (src/, tests/, pyproject.toml and the files the
documentation tests read), never in the working tree, and the suite runs there
with `pytest -x -q -n 2` and PYTHONPATH pointing at the copy's src/. A mutation
whose target text is no longer in its file stops the script, so it cannot rot
into testing nothing. The baseline (the unmutated copy) runs first: tests that
already fail without any mutation are named and left out of the mutant runs, so
that "caught" always means caught by the mutation (--skip-baseline to save time
when you know the suite passes).

Not collected by pytest: the name has no test_ prefix.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What the suite reads besides src/ and tests/ (test_docs.py checks the README,
# .ci/run and completions/ against the code).
COPIED = ("src", "tests", "pyproject.toml", "README.md", "LICENSE", "completions", ".ci")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache")
TIMEOUT = 1800.0  # seconds for one run of the suite


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # relative to the repository
    old: str  # must occur exactly once
    new: str
    what: str
    first: tuple[str, ...] = ()  # test files run before the rest (only to fail sooner)


MUTATIONS = (
    Mutation(
        "openai-drops-local-images",
        "src/framecast/providers/openai.py",
        'files = [("input_reference", upload(path)) for path in local]',
        "files: list[tuple[str, tuple[str, bytes, str]]] = []",
        "the openai provider silently drops local --image files",
        ("tests/test_wire.py",),
    ),
    Mutation(
        "lumenfall-drops-params",
        "src/framecast/providers/lumenfall.py",
        "return {k: v for k, v in body.items() if v is not None} | request.params",
        "return {k: v for k, v in body.items() if v is not None}",
        "the lumenfall provider drops --param passthrough fields",
        ("tests/test_wire.py",),
    ),
    Mutation(
        "size-swapped",
        "src/framecast/sizes.py",
        'return f"{width}x{height}"',
        'return f"{height}x{width}"',
        "width and height are swapped when a WIDTHxHEIGHT size is sent",
        ("tests/test_wire.py",),
    ),
    Mutation(
        "journal-write-skipped",
        "src/framecast/journal.py",
        "                seqs = [\n                    self._insert_submission(",
        "                seqs = [\n                    0 and self._insert_submission(",
        "the journal entry written before a submission is sent is skipped",
        ("tests/test_journal.py", "tests/test_cli_generate.py"),
    ),
    Mutation(
        "verify-skipped",
        "src/framecast/verify.py",
        'found = mp4_problem(stream, size) if variant == "video" else image_problem(stream, size)',
        'found = None if variant == "video" else image_problem(stream, size)',
        "a downloaded video is saved without the MP4 structure check",
        ("tests/test_faults.py",),
    ),
    Mutation(
        "nanogpt-drops-negative-prompt",
        "src/framecast/providers/nanogpt.py",
        '"negative_prompt": request.negative_prompt,',
        '"negative_prompt": None,',
        "the nanogpt provider drops --negative-prompt",
        ("tests/test_wire.py",),
    ),
    Mutation(
        "idempotency-header-not-sent",
        "src/framecast/providers/lumenfall.py",
        'headers = {"idempotency-key": request.idempotency_key} if request.idempotency_key else {}',
        "headers: dict[str, str] = {}",
        "the Idempotency-Key header is not sent (the body field still is)",
        ("tests/test_wire.py",),
    ),
    Mutation(
        "lumenfall-ignores-seconds",
        "src/framecast/providers/lumenfall.py",
        '"seconds": request.seconds,',
        '"seconds": None,',
        "the lumenfall provider ignores --seconds",
        ("tests/test_wire.py",),
    ),
    Mutation(
        "ambiguous-post-retried",
        "src/framecast/http.py",
        "if attempt >= self.retry.max_retries or not (idempotent or failure.unsent):",
        "if attempt >= self.retry.max_retries:",
        "a POST without an idempotency key is retried after an ambiguous failure",
        ("tests/test_http.py", "tests/test_wire.py"),
    ),
    Mutation(
        "job-failure-exits-1",
        "src/framecast/errors.py",
        "class JobFailed(_AboutJobs):\n    exit_code = ExitCode.JOB_FAILED",
        "class JobFailed(_AboutJobs):\n    exit_code = ExitCode.ERROR",
        "a job that finished as failed exits 1 instead of 6",
        ("tests/test_exit_codes.py",),
    ),
    Mutation(
        "lumenfall-adjusted-before-sending",
        "src/framecast/providers/lumenfall.py",
        'converts=True,  # seed 000: seconds, size, aspect_ratio and resolution are "Converted"',
        "converts=False,",
        "framecast rounds Lumenfall's seconds and size itself instead of sending them as asked",
        ("tests/test_request_semantics.py",),
    ),
    Mutation(
        "ties-go-dearer",
        "src/framecast/normalise.py",
        "return min(options, key=lambda d: (abs(d - wanted), sign * d))",
        "return min(options, key=lambda d: (abs(d - wanted), -d))",
        "a length exactly between two goes to the longer, dearer one",
        ("tests/test_request_semantics.py",),
    ),
    Mutation(
        "daily-cap-ignored",
        "src/framecast/spending.py",
        "    guard(journal)\n    journal.before_submitting = guard",
        "    return",
        "--max-daily-cost is never checked",
        ("tests/test_spend.py",),
    ),
    Mutation(
        "delete-unconfirmed",
        "src/framecast/lifecycle.py",
        "if ready and not confirm([t.job for t in ready]):",
        "if False:",
        "delete deletes without the confirmation it asked for",
        ("tests/test_cli_lifecycle.py",),
    ),
    Mutation(
        "webhook-any-age",
        "src/framecast/webhook_verify.py",
        "    if abs(age) > tolerance:",
        "    if False:",
        "a webhook delivery of any age verifies (replays accepted)",
        ("tests/test_webhook_verify.py",),
    ),
    Mutation(
        "batch-forgets-its-rows",
        "src/framecast/batchrun.py",
        "            entries = self.journal.same_request(planned.mark)",
        "            entries: list[Entry] = []",
        "a batch run again does not look in the journal, and submits (pays for) every row again",
        ("tests/test_batch.py",),
    ),
    Mutation(
        "batch-makes-a-row-twice",
        "src/framecast/batchrun.py",
        "            newer_than=self._seen.get(planned.mark, 0),",
        "            newer_than=None,",
        "a second run of the same file, sorted before the first made a row, makes it again",
        ("tests/test_batch.py",),
    ),
    Mutation(
        "batch-ignores-concurrency",
        "src/framecast/batchrun.py",
        "        room = self.options.concurrency - self._unfinished - len(self._submitting)",
        "        room = self.options.concurrency - len(self._submitting)",
        "a batch counts only submissions in flight, so more jobs run at once than --concurrency",
        ("tests/test_batch.py",),
    ),
)


@dataclass(frozen=True)
class Outcome:
    passed: bool
    failures: list[str]  # node ids, in the order reported
    seconds: float
    tail: str

    @property
    def first_failure(self) -> str | None:
        return self.failures[0] if self.failures else None


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def copy_repository(target: Path, ref: str | None) -> None:
    """The files the suite needs, from the working tree or from a commit."""
    if ref is None:
        for name in COPIED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=IGNORED)
            elif source.exists():
                shutil.copy2(source, target / name)
        return
    present = [name for name in COPIED if (ROOT / name).exists()]
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "--", *present],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)


def apply(mutation: Mutation, tree: Path) -> None:
    path = tree / mutation.file
    text = path.read_text(encoding="utf-8")
    found = text.count(mutation.old)
    if found != 1:
        raise SystemExit(
            f"mutation {mutation.name}: expected its target text once in {mutation.file}, "
            f"found it {found} times; update the mutation to follow the code:\n{mutation.old}"
        )
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")


# pytest's summary lines: "FAILED tests/x.py::test_y[a b] - AssertionError: ..."
_FAILED = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.M)


def run_suite(
    tree: Path,
    first: Sequence[str] = (),
    *,
    workers: str = "2",
    stop_first: bool = True,
    deselect: Sequence[str] = (),
) -> Outcome:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    env.pop("PYTEST_ADDOPTS", None)
    # Every test file, the likeliest to fail first (pytest would fold a file named
    # before its directory back into the directory's order).
    order = [path for path in first if (tree / path).exists()]
    rest = sorted(str(p.relative_to(tree)) for p in (tree / "tests").glob("test_*.py"))
    command = [sys.executable, "-m", "pytest", *(["-x"] if stop_first else []), "-q",
               "-n", workers, "-p", "no:cacheprovider",
               *(f"--deselect={node}" for node in deselect),
               *order, *(path for path in rest if path not in order)]  # fmt: skip
    start = time.monotonic()
    try:
        run = subprocess.run(
            command,
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as stopped:
        out = stopped.stdout if isinstance(stopped.stdout, str) else ""
        return Outcome(False, [f"(timed out after {TIMEOUT:.0f} s)"], TIMEOUT, out[-3000:])
    output = run.stdout + run.stderr
    return Outcome(
        passed=run.returncode == 0,
        failures=list(dict.fromkeys(_FAILED.findall(output))),
        seconds=time.monotonic() - start,
        tail=output[-3000:],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the mutations whose name contains this text")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--ref", help="copy this commit (git archive) instead of the work tree")
    parser.add_argument("--skip-baseline", action="store_true", help="do not run it first")
    parser.add_argument("--workers", default="2", help="pytest -n (default 2)")
    args = parser.parse_args(argv)

    chosen = [m for m in MUTATIONS if args.only is None or args.only in m.name]
    if args.list:
        for mutation in MUTATIONS:
            say(f"{mutation.name:32} {mutation.file}: {mutation.what}")
        return 0
    if not chosen:
        raise SystemExit(f"no mutation's name contains {args.only!r}; see --list")

    with tempfile.TemporaryDirectory(prefix="framecast-mutants-") as scratch:
        pristine = Path(scratch) / "pristine"
        pristine.mkdir()
        copy_repository(pristine, args.ref)
        for mutation in chosen:  # every target must be there before anything runs
            apply(mutation, Path(shutil.copytree(pristine, Path(scratch) / "check")))
            shutil.rmtree(Path(scratch) / "check")

        known: list[str] = []
        if not args.skip_baseline:
            say("baseline (no mutation) ...")
            baseline = run_suite(pristine, workers=args.workers, stop_first=False)
            known = [node for node in baseline.failures if "::" in node]
            if baseline.passed:
                say(f"baseline: the suite passes ({baseline.seconds:.0f} s)")
            elif known and len(known) == len(baseline.failures):
                say(f"baseline: {len(known)} test(s) fail with no mutation; "
                    "they are left out of the mutant runs:")  # fmt: skip
                for node in known:
                    say(f"    {node}")
            else:
                say(baseline.tail)
                say("the unmutated suite does not run; nothing to compare")
                return 2

        caught = 0
        for mutation in chosen:
            tree = Path(scratch) / mutation.name
            shutil.copytree(pristine, tree)
            apply(mutation, tree)
            outcome = run_suite(tree, mutation.first, workers=args.workers, deselect=known)
            if outcome.passed:
                say(f"NOT caught  {mutation.name}: {mutation.what} ({outcome.seconds:.0f} s)")
            else:
                caught += 1
                first = outcome.first_failure or "(no test named; see the output)"
                say(f"caught      {mutation.name}: first failing test {first} "
                    f"({outcome.seconds:.0f} s)")  # fmt: skip
            shutil.rmtree(tree)
        say(f"caught {caught}/{len(chosen)}")
    return 0 if caught == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
