"""What the journal knows was spent, and the daily cap a submission must stay under.

Every journal entry counts once, on the calendar day in this machine's time zone on
which framecast journaled its submission, in the currency it was charged in:

1. a final cost the provider reported (`cost`) counts as it is;
2. a failed or cancelled job without one counts 0: providers do not bill them (NanoGPT
   refunds a failed run's pre-charge; Lumenfall bills a request whose jobs failed or
   were cancelled nothing);
3. any other job counts an estimate, marked as one: the provider's own (`cost_estimate`,
   NanoGPT's pre-charge), else framecast's bundled price table applied to the journaled
   request;
4. a job neither can price is counted as unpriced, with no amount.

A submission without a job yet (being sent, or of unknown outcome) counts as an
estimate for every video it asked for: it may exist and be billed. A cost is in the
job's `currency` (NanoGPT's `paymentSource` names the balance that paid, not the
currency of its USD `cost`); amounts in different currencies are never added.

The daily cap (`max_daily_cost`) refuses a submission whose estimate would take the
day's spend in the estimate's currency above it. It is checked once before the job run
starts and again inside the journal's write transaction that records the submission
(`Journal.before_submitting`), so two processes submitting at once cannot both pass on
a spend that does not yet include the other.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from framecast.domain import JobRequest, JobStatus
from framecast.errors import BudgetExceeded, UsageError
from framecast.report import money

if TYPE_CHECKING:
    from framecast.catalog import Catalog
    from framecast.journal import Entry, Journal
    from framecast.pricing import Estimate

GROUPINGS = ("day", "provider", "model")
Kind = Literal["final", "estimate", "refunded", "unpriced"]
REFUNDED = (JobStatus.FAILED, JobStatus.CANCELLED)
DAY_FORMS = "YYYY-MM-DD, today, yesterday or Nd (the last N days, today included: 7d)"
_CURRENCY = re.compile(r"[A-Za-z]{3,5}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DAYS_AGO = re.compile(r"([1-9][0-9]{0,4})d")
_LARGEST = 1e12  # no single job costs more; a larger journaled amount is not believed


# -- days ----------------------------------------------------------------------------


def local_day(timestamp: float) -> date | None:
    """The calendar day a moment falls on here; None for an impossible time."""
    try:
        return datetime.fromtimestamp(timestamp).date()
    except (ValueError, OverflowError, OSError):
        return None


def day_start(day: date) -> float:
    """Local midnight at the start of `day`, in Unix seconds."""
    return datetime.combine(day, datetime.min.time()).timestamp()


def timezone_name(now: float | None = None) -> str:
    """The local time zone as the system names it (CEST, UTC, ...)."""
    moment = datetime.fromtimestamp(time.time() if now is None else now).astimezone()
    return moment.tzname() or moment.strftime("%z")


def parse_day(text: str, flag: str, today: date) -> date:
    """`--since` / `--until`: a date, today, yesterday, or Nd (the first of the last N days)."""
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    found: date | None = None
    ago = _DAYS_AGO.fullmatch(word)
    try:
        if ago:
            found = today - timedelta(days=int(ago[1]) - 1)
        elif _DATE.fullmatch(word):
            found = date.fromisoformat(word)
    except (ValueError, OverflowError):
        found = None
    # Days whose midnight is no moment this machine can name (year 1, year 9999) mean nothing.
    if found is None or not _EARLIEST_DAY <= found <= _LATEST_DAY:
        raise UsageError(f"{flag} {text!r} is not a day.", hint=f"Use {DAY_FORMS}.")
    return found


_EARLIEST_DAY, _LATEST_DAY = date(1970, 1, 2), date(9999, 12, 30)


# -- what one entry counts for ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Charge:
    """What one journal entry adds to the spend."""

    day: date
    provider: str
    model: str | None
    currency: str | None  # None: unpriced
    amount: float
    kind: Kind
    jobs: int = 1  # a submission without a job yet counts every video it asked for


def _currency(value: object) -> str | None:
    return value.upper() if isinstance(value, str) and _CURRENCY.fullmatch(value) else None


def _amount(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and abs(value) <= _LARGEST else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def charged_in(entry: Entry) -> str | None:
    """The currency an entry's amounts are in (None: unreadable): the job's, else USD (every
    provider that prices in something else says so).

    Not NanoGPT's `paymentSource`: that names the balance that paid (USD or XNO), while its
    `cost` is in USD, as its model listing's prices are (apis.md 2.3: a veo2 run pre-charged
    0.35 and paid from XNO). Counting such a job as XNO would hide it from a USD cap.
    """
    job = entry.job
    said = _currency(job.currency) or _currency(job.payment_source)
    if said is not None:
        return said
    unreadable = job.currency is not None or job.payment_source is not None
    return None if unreadable else "USD"


def request_of(entry: Entry, n: int) -> JobRequest | None:
    """The journaled request as far as a price depends on it, for `n` videos; what the
    provider reported of the job (its model, length and size) wins over what was asked."""
    record, job = entry.request, entry.job
    model = _text(job.model) or _text(record.get("model"))
    if model is None:
        return None
    images = record.get("images")
    params = record.get("params")
    audio = record.get("audio")
    return JobRequest(
        prompt="",
        model=model,
        seconds=job.seconds or _whole(record.get("seconds")),
        size=_text(job.size) or _text(record.get("size")),
        aspect_ratio=_text(record.get("aspect_ratio")),
        resolution=_text(record.get("resolution")),
        n=n,
        images=tuple(i for i in images if isinstance(i, str)) if isinstance(images, list) else (),
        video=_text(record.get("video")),
        audio=audio if isinstance(audio, bool) else None,
        params=params if isinstance(params, dict) else {},
    )


def _table_price(entry: Entry, table: Catalog, n: int) -> Estimate | None:
    from framecast.pricing import from_table

    request = request_of(entry, n)
    if request is None:
        return None
    return from_table(request, table.find(request.model), request.model)


def charge_of(entry: Entry, table: Catalog) -> Charge | None:
    """What one entry counts for (see the module's rules); None for an impossible date."""
    day = local_day(entry.submitted_at)
    if day is None:
        return None
    job = entry.job
    model = _text(job.model) or _text(entry.request.get("model"))
    currency = charged_in(entry)

    def counted(amount: float, kind: Kind, currency: str | None, jobs: int = 1) -> Charge:
        return Charge(day, entry.provider, model, currency, amount, kind, jobs)

    if entry.pending:
        asked = _whole(entry.request.get("n"))
        n = asked if asked is not None and 1 <= asked <= 4 else 1
        priced = _table_price(entry, table, n)
        if priced is None or priced.total is None:
            return counted(0.0, "unpriced", None, n)
        return counted(priced.total, "estimate", _currency(priced.currency), n)
    cost = _amount(job.cost)
    if cost is not None and currency is not None:
        return counted(cost, "final", currency)
    if job.status in REFUNDED:
        return counted(0.0, "refunded", currency or "USD")
    estimate = _amount(job.cost_estimate)
    if estimate is not None and currency is not None:
        return counted(estimate, "estimate", currency)
    priced = _table_price(entry, table, 1)
    if priced is None or priced.total is None or _currency(priced.currency) is None:
        return counted(0.0, "unpriced", None)
    return counted(priced.total, "estimate", _currency(priced.currency))


def charges(entries: Iterable[Entry], table: Catalog | None = None) -> list[Charge]:
    """Each entry's charge, priced where it must be by `table`, or else by the table each
    provider's cached model listing gives (the prices the request was checked against when
    it was sent: a model only a live listing knows is priced too)."""
    tables: dict[tuple[str, str], Catalog] = {}

    def table_for(entry: Entry) -> Catalog:
        if table is not None:
            return table
        from framecast.listing import cached_catalog

        key = (entry.provider, entry.base_url)
        if key not in tables:
            tables[key] = cached_catalog(*key)
        return tables[key]

    found = (charge_of(entry, table_for(entry)) for entry in entries)
    return [charge for charge in found if charge is not None]


# -- the report ------------------------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """The spend of one group (or of everything) in one currency."""

    keys: dict[str, str | None]  # the --by values, in the order asked
    currency: str | None  # None: jobs that could not be priced
    final: float = 0.0
    estimated: float = 0.0
    jobs: int = 0
    estimated_jobs: int = 0
    refunded_jobs: int = 0
    unpriced_jobs: int = 0

    @property
    def total(self) -> float:
        return round(self.final + self.estimated, 6)

    def add(self, charge: Charge) -> None:
        self.jobs += charge.jobs
        if charge.kind == "final":
            self.final = round(self.final + charge.amount, 6)
        elif charge.kind == "estimate":
            self.estimated = round(self.estimated + charge.amount, 6)
            self.estimated_jobs += charge.jobs
        elif charge.kind == "refunded":
            self.refunded_jobs += charge.jobs
        else:
            self.unpriced_jobs += charge.jobs

    def document(self) -> dict[str, Any]:
        priced = self.currency is not None
        return {
            **self.keys,
            "currency": self.currency,
            "total": self.total if priced else None,
            "final": self.final if priced else None,
            "estimated": self.estimated if priced else None,
            "jobs": self.jobs,
            "estimated_jobs": self.estimated_jobs,
            "refunded_jobs": self.refunded_jobs,
            "unpriced_jobs": self.unpriced_jobs,
        }


@dataclass(frozen=True, slots=True)
class Spend:
    since: date | None
    until: date | None
    by: tuple[str, ...]
    timezone: str
    groups: tuple[Tally, ...]
    totals: tuple[Tally, ...] = field(default=())

    def document(self) -> dict[str, Any]:
        """The JSON object `framecast spend --json` prints; its keys are a contract."""
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "timezone": self.timezone,
            "by": list(self.by),
            "groups": [group.document() for group in self.groups],
            "totals": [total.document() for total in self.totals],
        }


def _key(charge: Charge, by: Sequence[str]) -> dict[str, str | None]:
    values = {"day": charge.day.isoformat(), "provider": charge.provider, "model": charge.model}
    return {name: values[name] for name in by}


def _order(tally: Tally) -> tuple[tuple[bool, str], ...]:
    """Groups in key order (days oldest first), unknown values and unpriced jobs last."""
    return tuple((value is None, value or "") for value in (*tally.keys.values(), tally.currency))


def summarise(
    found: Iterable[Charge],
    by: Sequence[str],
    *,
    since: date | None = None,
    until: date | None = None,
    timezone: str = "",
) -> Spend:
    groups: dict[tuple[Any, ...], Tally] = {}
    totals: dict[str | None, Tally] = {}
    for charge in found:
        keys = _key(charge, by)
        slot = (*keys.values(), charge.currency)
        groups.setdefault(slot, Tally(keys, charge.currency)).add(charge)
        totals.setdefault(charge.currency, Tally({}, charge.currency)).add(charge)
    return Spend(
        since,
        until,
        tuple(by),
        timezone,
        tuple(sorted(groups.values(), key=_order)),
        tuple(sorted(totals.values(), key=_order)),
    )


def grouping(by: Sequence[str]) -> tuple[str, ...]:
    """--by, each once in the order given; day when none is given."""
    chosen = tuple(dict.fromkeys(by)) or ("day",)
    for name in chosen:
        if name not in GROUPINGS:
            raise UsageError(f"--by {name!r}: group by {', '.join(GROUPINGS)}.")
    return chosen


def spend(
    since: str | None, until: str | None, by: Sequence[str], *, now: float | None = None
) -> Spend:
    """`framecast spend`: the journal's spend between two local days (both included)."""
    from framecast.journal import Journal

    moment = time.time() if now is None else now
    today = local_day(moment) or date.today()
    first = None if since is None else parse_day(since, "--since", today)
    last = None if until is None else parse_day(until, "--until", today)
    if first is not None and last is not None and first > last:
        raise UsageError(f"--since {first} is after --until {last}: no day is in between.")
    groups = grouping(by)
    start = None if first is None else day_start(first)
    end = None if last is None else day_start(last + timedelta(days=1))
    with Journal.open_default() as journal:
        entries = journal.submitted_between(start, end)
    return summarise(
        charges(entries), groups, since=first, until=last, timezone=timezone_name(moment)
    )


# -- the daily cap ---------------------------------------------------------------------


def spent_today(journal: Journal, currency: str, now: float) -> float:
    """The day's journaled spend in one currency, estimates included (local day of `now`)."""
    today = local_day(now) or date.today()
    entries = journal.submitted_between(day_start(today), None)
    wanted = currency.upper()
    return round(sum(c.amount for c in charges(entries) if c.currency == wanted), 6)


def check_daily(
    journal: Journal, estimate: Estimate, cap: float, *, allow_unpriced: bool, now: float
) -> None:
    """Refuse (exit 8) a request whose estimate would take today's spend above `cap`.

    A request that cannot be priced is refused unless `allow_unpriced`; then it is
    still refused once the day's spend has reached the cap.
    """
    if estimate.total is None and not allow_unpriced:
        raise BudgetExceeded(
            f"Cannot price this request ({'; '.join(estimate.unpriced)}); "
            "max_daily_cost cannot be checked.",
            hint="Nothing was sent. Pass --allow-unpriced to submit anyway.",
        )
    currency = _currency(estimate.currency) or "USD"
    spent = spent_today(journal, currency, now)
    cap_text = money(cap, currency)
    listed = "`framecast spend --since today` lists it (estimates included)."
    if estimate.total is None:
        if round(spent, 6) >= round(cap, 6):
            raise BudgetExceeded(
                f"Today's spend, {money(spent, currency)}, has reached the daily cap "
                f"(max_daily_cost) of {cap_text}; this request cannot be priced.",
                hint=f"Nothing was sent. {listed}",
            )
        return
    total = round(spent + estimate.total, 6)
    if total > round(cap, 6):
        raise BudgetExceeded(
            f"Today's spend, {money(spent, currency)}, plus this request's estimate, "
            f"{money(estimate.total, currency)}, comes to {money(total, currency)}: above "
            f"the daily cap (max_daily_cost) of {cap_text}.",
            hint=f"Nothing was sent. Days are local ({timezone_name(now)}); {listed}",
        )


def daily_guard(
    estimate: Estimate,
    cap: float,
    *,
    allow_unpriced: bool,
    clock: Callable[[], float] = time.time,
) -> Callable[[Journal], None]:
    """The cap check as `Journal.before_submitting` runs it, inside the write transaction."""

    def guard(journal: Journal) -> None:
        check_daily(journal, estimate, cap, allow_unpriced=allow_unpriced, now=clock())

    return guard


def hold_to_daily_cap(
    journal: Journal, estimate: Estimate, cap: float, *, allow_unpriced: bool
) -> None:
    """Check the cap now (refusing before the job run starts), and again inside the write
    transaction that journals the submission, where another process's submission made
    meanwhile is seen too. For every command that submits (generate, remix)."""
    guard = daily_guard(estimate, cap, allow_unpriced=allow_unpriced)
    guard(journal)
    journal.before_submitting = guard
