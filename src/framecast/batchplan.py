"""A batch checked before anything is sent: every row's request, its identity, its shard,
and the price of the whole.

A row is known by what it asks for, not by where it sits in the file: its `key` is
a hash of its content (and, for identical rows, which repeat it is), so adding or
moving rows changes no other row's key. Shards are chosen by key (adding rows does
not reshuffle the others), and the journal finds a row's job by `mark`, the key
together with the provider, endpoint and resolved request (a profile that now asks
for another model makes a new job).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from framecast import jobs, listing, pricing, saving
from framecast.batchfile import BatchFile, Problem, Row, read
from framecast.errors import BudgetExceeded, ConfigError, UsageError
from framecast.inputs import URL_PREFIXES, build_request
from framecast.settings import ProviderChoice, Settings, choose_provider

if TYPE_CHECKING:
    from framecast.catalog import Catalog
    from framecast.options import RequestSettings
    from framecast.providers.base import Provider

Note = Callable[[str], None]
DEFAULT_OUTPUT = "{row}-{prompt_slug}.{ext}"


@dataclass(frozen=True, slots=True)
class Shard:
    """`--shard K/N`: the K-th of N stable parts of the rows, by key."""

    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        head, sep, tail = text.partition("/")
        try:
            index, count = int(head), int(tail)
        except ValueError:
            index = count = 0
        if not sep or not 1 <= index <= count:
            raise UsageError(
                f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 2/4.",
            )
        return cls(index, count)

    def takes(self, key: str) -> bool:
        return int(key[:16], 16) % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True, slots=True)
class PlannedRow:
    row: Row
    prepared: jobs.Prepared
    key: str  # the row's identity: content and repeat number
    mark: str  # its journal fingerprint: the key, provider, endpoint and request

    @property
    def adjustments(self) -> list[str]:
        return [str(a) for a in self.prepared.adjustments]


@dataclass(slots=True)
class BatchPlan:
    """The rows this run takes (after --shard), and the problems of the whole file."""

    file: BatchFile
    settings: Settings
    choice: ProviderChoice | None  # None: no provider configured (estimate only)
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    shard: Shard | None = None
    total_rows: int = 0  # valid rows in the whole file
    skipped: list[Problem] = field(default_factory=list)  # invalid rows of this shard, skipped

    def skip_invalid(self) -> None:
        """--skip-invalid: the invalid rows are left out (and reported), each by the shard
        its line falls to; a problem with the file itself still stops the batch."""
        by_row: dict[int, list[Problem]] = {}
        for problem in self.problems:
            if problem.number is not None:
                by_row.setdefault(problem.number, []).append(problem)
        for number, found in sorted(by_row.items()):
            line = found[0].line
            key = hashlib.sha256(f"invalid\x00{line}".encode()).hexdigest()
            if self.shard is None or self.shard.takes(key):
                self.skipped.append(Problem(number, line, "; ".join(p.message for p in found)))
        self.problems = [p for p in self.problems if p.number is None]

    @property
    def output(self) -> str:
        return self.output_for(None)

    def output_for(self, row: Row | None) -> str:
        """Where a row's video goes: its own `output`, else -o; a folder gets the batch's
        default names in it ({row}-{prompt_slug}.mp4), since ids say nothing of the row."""
        given = (row.output if row is not None else None) or self.settings.run.output
        if given is None:
            return DEFAULT_OUTPUT
        if saving.is_template(given):
            return given
        return given.rstrip("/") + "/" + DEFAULT_OUTPUT


def plan(
    path: Path,
    settings: Settings,
    *,
    form: str | None = None,
    shard: Shard | None = None,
    offline_ok: bool = False,
) -> BatchPlan:
    """Read and check every row of the file; nothing is sent. With `offline_ok` (estimate),
    a missing provider means pricing from the bundled table."""
    batch = read(path, form)
    choice = _choice(settings, offline_ok)
    check_output = settings.run.output
    if check_output is not None:
        _check_batch_output(check_output)
    result = BatchPlan(batch, settings, choice, problems=list(batch.problems), shard=shard)
    models: Catalog | None = None
    if choice is not None:
        base = choice.base_url or choice.provider_class.default_base_url
        models = listing.cached_catalog(choice.name, base)
    repeats: Counter[str] = Counter()
    folder = path.parent
    for row in batch.rows:
        content = row.canonical()
        repeats[content] += 1
        key = hashlib.sha256(f"{content}\x00{repeats[content]}".encode()).hexdigest()
        try:
            prepared = _prepare(row, settings, choice, models, folder)
            if row.output is not None:
                _check_batch_output(row.output)
        except (UsageError, ConfigError) as error:
            result.problems.append(Problem(row.number, row.line, error.message))
            continue
        result.total_rows += 1
        if shard is not None and not shard.takes(key):
            continue
        mark = _mark(choice, prepared, key)
        result.rows.append(PlannedRow(row, prepared, key, mark))
    result.problems.sort(key=lambda p: p.line)
    return result


def _choice(settings: Settings, offline_ok: bool) -> ProviderChoice | None:
    configured = settings.connection.provider or settings.connection.api_key
    try:
        return choose_provider(settings)
    except ConfigError:
        if offline_ok and not configured:
            return None
        raise


def _check_batch_output(output: str) -> None:
    """A batch's files need a folder or a template: one file cannot hold every row."""
    if output == saving.STDOUT:
        raise UsageError("-o - streams one video; a batch saves files.")
    if saving.is_template(output):
        saving.check_template(output)
        return
    if not (output.endswith("/") or Path(output).expanduser().is_dir()):
        raise UsageError(
            f"-o {output!r} names one file, but a batch makes a video per row.",
            hint=f"Give a folder (ending in /) or a template such as {DEFAULT_OUTPUT!r}.",
        )


def _prepare(
    row: Row,
    settings: Settings,
    choice: ProviderChoice | None,
    models: Catalog | None,
    folder: Path,
) -> jobs.Prepared:
    values = dict(row.values)
    # Files a row names are found beside the batch file, wherever it is run from.
    if "image" in values:
        values["image"] = tuple(_beside(folder, v) for v in values["image"])
    if "video" in values:
        values["video"] = _beside(folder, values["video"])
    request_settings: RequestSettings = replace(settings.request, **values)
    request = build_request(row.prompt, request_settings)
    strict = settings.run.strict
    if choice is None:
        return jobs.prepare_offline(request, strict=strict)
    return jobs.prepare(request, choice.provider_class, models, strict=strict)


def _beside(folder: Path, value: str) -> str:
    if value.startswith(URL_PREFIXES) or Path(value).expanduser().is_absolute():
        return value
    return str(folder / value)


def _mark(choice: ProviderChoice | None, prepared: jobs.Prepared, key: str) -> str:
    if choice is None:
        return key
    cls = choice.provider_class
    base = choice.base_url or cls.default_base_url
    request = jobs.fingerprint(choice.name, base, prepared.request, None)
    return hashlib.sha256(f"batch\x00{request}\x00{key}".encode()).hexdigest()


# -- prices ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowPrice:
    row: PlannedRow
    estimate: pricing.Estimate


@dataclass(slots=True)
class BatchPrice:
    rows: list[RowPrice] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)  # currency -> sum of priced rows
    provider: str | None = None  # who priced it; None: the bundled table, offline

    @property
    def unpriced(self) -> list[RowPrice]:
        return [r for r in self.rows if r.estimate.total is None]

    def describe(self) -> str:
        if not self.totals:
            return "nothing priced"
        return ", ".join(f"{total:.2f} {currency}" for currency, total in self.totals.items())


def price(
    rows: list[PlannedRow], api: Provider | None, note: Note = lambda text: None
) -> BatchPrice:
    """Every row's price. Rows that differ only in their prompt cost the same, so each
    distinct request is priced once (one dry run for a thousand rows of one shape)."""
    priced: dict[str, pricing.Estimate] = {}
    result = BatchPrice(provider=api.name if api is not None else None)
    fallback_said = False

    def fell_back(error: object) -> None:
        nonlocal fallback_said
        if not fallback_said:
            note(f"Dry run unavailable ({getattr(error, 'message', error)}); using the table.")
            fallback_said = True

    for planned in rows:
        shape = _shape(planned.prepared)
        estimate = priced.get(shape)
        if estimate is None:
            if api is None:
                request = planned.prepared.priced
                estimate = pricing.from_table(request, planned.prepared.model, request.model)
            else:
                estimate = jobs.estimate(api, planned.prepared, on_fallback=fell_back)
            priced[shape] = estimate
        result.rows.append(RowPrice(planned, estimate))
        if estimate.total is not None:
            # Rounded as money is: a thousand rows of 0.1 add up to 100.0, not 99.99999.
            summed = result.totals.get(estimate.currency, 0.0) + estimate.total
            result.totals[estimate.currency] = round(summed, 6)
    return result


def _shape(prepared: jobs.Prepared) -> str:
    record = prepared.request.to_record()
    record.pop("prompt", None)
    record.pop("idempotency_key", None)
    return repr(sorted(record.items(), key=lambda item: item[0]))


def check_budget(cost: BatchPrice, max_cost: float, *, allow_unpriced: bool) -> None:
    """--max-cost on the batch total, before anything is sent (exit 8)."""
    unpriced = cost.unpriced
    if unpriced and not allow_unpriced:
        lines = ", ".join(str(r.row.row.line) for r in unpriced[:10])
        raise BudgetExceeded(
            f"{len(unpriced)} row(s) cannot be priced (lines {lines}); --max-cost cannot be "
            "checked.",
            hint="Nothing was sent. Pass --allow-unpriced to submit anyway.",
        )
    over = {currency: total for currency, total in cost.totals.items() if total > max_cost}
    if len(cost.totals) > 1:
        raise BudgetExceeded(
            f"The batch is priced in several currencies ({cost.describe()}); --max-cost "
            "cannot add them up.",
            hint="Nothing was sent.",
        )
    if over:
        raise BudgetExceeded(
            f"The batch's estimate, {cost.describe()}, is above --max-cost {max_cost:.2f}.",
            hint="Nothing was sent. Price it row by row with: framecast estimate FILE",
        )
