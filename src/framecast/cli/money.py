"""`framecast spend` and `framecast balance`: what was spent, and what is left."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from framecast.cli import params

if TYPE_CHECKING:
    from framecast.balances import Reported
    from framecast.spending import Spend, Tally

DAY_HELP = "YYYY-MM-DD, today, yesterday or Nd (the last N days, today included: 7d)"
# What a human row shows of a group, and what a piped (TSV) row holds.
TSV_COLUMNS = (
    "currency",
    "jobs",
    "final",
    "estimated",
    "total",
    "estimated_jobs",
    "refunded_jobs",
    "unpriced_jobs",
)
TABLE_COLUMNS = ("CURRENCY", "JOBS", "FINAL", "ESTIMATED", "TOTAL", "NOTES")


class Grouping(StrEnum):
    day = "day"
    provider = "provider"
    model = "model"


def spend(
    *,
    by: Annotated[
        list[Grouping] | None,
        typer.Option(
            "--by",
            help="Group by day, provider or model; repeat to group by several, in that order "
            "(default: day).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DAY", help=f"From this day on: {DAY_HELP}."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DAY", help="Up to and including this day (as --since)."),
    ] = None,
    json_mode: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the spend as one JSON object: since, until, timezone, by, groups (one "
            "per group and currency: the --by keys, currency, total, final, estimated, jobs, "
            "estimated_jobs, refunded_jobs, unpriced_jobs) and totals (one per currency).",
        ),
    ] = False,
) -> None:
    """Show what the journal knows was spent, per day, provider or model, per currency.

    Days are calendar days in this machine's time zone (TZ), by when the job
    was submitted. A final cost, as the provider reported it, counts as it is;
    a job without one counts an estimate, marked ~ (the provider's, else
    framecast's price table); a failed or cancelled job without a cost counts
    0 (providers do not bill them). Amounts in different currencies are never
    added together. Only the journal is read: nothing is sent. On a terminal a
    table; piped, tab-separated values with a header line.

    Examples:

    \b
      framecast spend                           # every day the journal holds
      framecast spend --since 7d --by model     # the last 7 days, per model
      framecast spend --since 2026-05-01 --until 2026-05-31 --by provider --json
    """
    from framecast import spending
    from framecast.results import print_json

    report = spending.spend(since, until, [grouping.value for grouping in by or ()])
    if json_mode:
        print_json(report.document())
    else:
        _show_spend(report)


def _cells(tally: Tally) -> list[str]:
    from framecast.report import money

    notes = [
        f"{count} {word}"
        for count, word in (
            (tally.refunded_jobs, "refunded"),
            (tally.unpriced_jobs, "unpriced"),
        )
        if count
    ]
    if tally.currency is None:
        return ["-", str(tally.jobs), "-", "-", "-", ", ".join(notes)]
    mark = "~" if tally.estimated_jobs else ""
    return [
        tally.currency,
        str(tally.jobs),
        money(tally.final, tally.currency) or "",
        f"~{money(tally.estimated, tally.currency)}" if tally.estimated_jobs else "-",
        f"{mark}{money(tally.total, tally.currency)}",
        ", ".join(notes),
    ]


def _show_spend(report: Spend) -> None:
    """A table on a terminal (with the totals per currency), TSV when piped; notes on stderr."""
    import sys

    from framecast.cli import common
    from framecast.ui import ColumnSpec, console, jobs_table, print_tsv

    err, out = common.stderr(), console(sys.stdout)
    if not report.groups:
        err.print("No jobs in the journal for that time.", soft_wrap=True)
        return
    if not out.is_terminal:
        names = (*report.by, *TSV_COLUMNS)
        documents = [group.document() for group in report.groups]
        print_tsv([names, *([document[name] for name in names] for document in documents)])
    else:
        headers = [*(name.upper() for name in report.by), *TABLE_COLUMNS]
        numeric = ("JOBS", "FINAL", "ESTIMATED", "TOTAL")
        columns = [ColumnSpec(h, keep=True, right=h in numeric) for h in headers]
        rows = [[v or "-" for v in g.keys.values()] + _cells(g) for g in report.groups]
        totals = [_total_line(total) for total in report.totals]
        jobs_table(out, columns, rows, footer="\n".join(totals))
    if any(group.estimated_jobs for group in report.groups):
        err.print(
            "~ an estimate: no final cost was reported (the provider's estimate, else "
            "framecast's price table).",
            soft_wrap=True,
        )
    if "day" in report.by:
        err.print(f"Days are local time ({report.timezone}).", soft_wrap=True)


def _total_line(total: Tally) -> str:
    from framecast.report import money

    if total.currency is None:
        return f"{total.jobs} job(s) could not be priced: they count nothing."
    spent = money(total.total, total.currency)
    part = f" (~{money(total.estimated, total.currency)} estimated)" if total.estimated_jobs else ""
    return f"Total {total.currency}: {spent}{part}, {total.jobs} job(s)"


@params.takes("connection")
def balance(
    ctx: typer.Context,
    *,
    json_mode: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print the balance as one JSON object: provider, amount (null: postpaid or "
            "not reported), currency, billing, as_of, source (provider or journal), job_id, "
            "payment_source.",
        ),
    ] = False,
    **given: Any,
) -> None:
    """Show what the provider says the account has left.

    Lumenfall (and the emulator) are asked (GET /v1/balance): a prepaid amount,
    or a postpaid account. NanoGPT reports its balance only in its answer to a
    submission: the last one the journal holds is shown, with when it was said.
    A provider that reports no balance is refused with exit 2.

    Examples:

    \b
      framecast balance --provider lumenfall
      framecast balance --provider emulator --json
      framecast balance --provider nanogpt      # as its last answer said, from the journal
    """
    from framecast import balances
    from framecast.cli import common
    from framecast.results import print_json

    reported = balances.balance(common.settings_for(ctx, given))
    if json_mode:
        print_json(reported.document())
    else:
        _show_balance(reported)


def _show_balance(reported: Reported) -> None:
    """One field per line on a terminal; `field<TAB>value` lines when piped."""
    import sys
    from datetime import datetime

    from framecast.report import money
    from framecast.ui import console, job_details, print_tsv

    held, out = reported.balance, console(sys.stdout)
    if not out.is_terminal:
        print_tsv(reported.document().items())
        return
    if held.amount is not None and held.currency is None:
        amount = f"{held.amount:g} (currency not reported)"
    elif held.amount is not None:
        amount = money(held.amount, held.currency) or ""
        amount += f" {held.currency}" if held.currency == "USD" else ""
    else:
        amount = "postpaid: billed later" if held.billing == "postpaid" else "not reported"
    source = (
        "the provider, asked now"
        if reported.source == "provider"
        else f"the journal: {reported.provider}'s answer to the submission of {reported.job_id}"
    )
    moment = datetime.fromtimestamp(held.as_of).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    rows = [
        ("provider", reported.provider),
        ("balance", amount),
        ("billing", held.billing or ""),
        ("as of", moment),
        ("paid from", reported.payment_source or ""),
        ("source", source),
    ]
    job_details(out, [(name, value) for name, value in rows if value])
