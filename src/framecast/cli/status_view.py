"""What `framecast status` prints on stdout, for people and for pipes.

- On a terminal: a table of recent jobs laid out to the width (ids, @N and status are
  never cut; lower-value columns wrap or give way first), or one job's details (a long
  value such as a signed URL wraps onto more lines, never cut).
- Piped: tab-separated values with a header (the listing) or `field<TAB>value` lines (one
  job), every value in full, as gh does; no markup, control characters removed.
- `--json`: one JSON object per job (JSON Lines); `--print FIELD`: that one value per job.

`--fields` picks which fields (and in which order) every one of these shows.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from framecast.errors import UsageError
from framecast.report import (
    FIELDS,
    entry_document,
    entry_phrase,
    human_bytes,
    job_document,
    money,
    select,
    status_phrase,
)
from framecast.results import print_json, print_result, value_text
from framecast.untrusted import clean

if TYPE_CHECKING:
    from framecast.domain import Job
    from framecast.journal import Entry

__all__ = ["FIELDS", "parse_fields", "show_entries", "show_job"]

# The listing's default fields: in the table (in rank order below, after @N, id and status,
# as the width allows), and piped (all of them, in full).
TABLE_FIELDS = ("ref", "id", "status", "model", "created_at", "cost", "path", "prompt")
TSV_FIELDS = (
    "ref",
    "id",
    "status",
    "progress",
    "model",
    "created_at",
    "cost",
    "url",
    "path",
    "prompt",
)
# One job's default fields: all a job has, piped; the meaningful ones, on a terminal.
# A journal entry's own fields, which a job as its provider reports it has not.
JOB_FIELDS = tuple(name for name in FIELDS if name not in ("ref", "imported", "deleted_at"))
DETAIL_FIELDS = (
    "id",
    "provider",
    "model",
    "status",
    "prompt",
    "seconds",
    "size",
    "created_at",
    "completed_at",
    "expires_at",
    "url",
    "path",
    "error",
    "cost",
    "cost_estimate",
)

KEPT = ("ref", "id", "status")  # never cut, never left out
HEADERS = {
    "ref": "#",
    "created_at": "CREATED",
    "completed_at": "COMPLETED",
    "expires_at": "EXPIRES",
    "path": "OUTPUT",
}
LABELS = {
    "created_at": "created",
    "completed_at": "completed",
    "expires_at": "expires",
    "path": "saved to",
    "cost_estimate": "estimate",
}
# Which of the listing's other columns claim the width first.
RANKS = {"cost": 1, "model": 2, "created_at": 3, "path": 4, "prompt": 5, "url": 6}
WHOLE = ("cost", "cost_estimate", "currency", "progress", "seconds", "bytes", "imported")
TIMES = ("created_at", "completed_at", "expires_at")


def parse_fields(text: str) -> tuple[str, ...]:
    """`--fields id,status,url`: the names, checked, in the order given, each once."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    valid = f"Valid fields: {', '.join(FIELDS)}."
    for name in names:
        if name not in FIELDS:
            shown = clean(name, keep_newlines=False)
            raise UsageError(f"--fields: unknown field {shown!r}.", hint=valid)
    if not names:
        raise UsageError("--fields: name at least one field.", hint=valid)
    return tuple(dict.fromkeys(names))


def show_entries(
    entries: Sequence[Entry],
    *,
    json_mode: bool,
    fields: tuple[str, ...] | None,
    print_field: str | None,
) -> None:
    """Recent jobs from the journal (newest first, so the nth is @n) on stdout."""
    documents = [{"ref": f"@{n}", **entry_document(e)} for n, e in enumerate(entries, start=1)]
    if print_field:
        for document in documents:
            print_result(value_text(select(document, (print_field,))[print_field]))
        return
    if json_mode:
        for document in documents:
            print_json(select(document, fields) if fields else document)
        return
    if not documents:
        return
    from framecast.ui import ColumnSpec, console, jobs_table, print_tsv

    out = console(sys.stdout)
    if not out.is_terminal:
        names = fields or TSV_FIELDS
        print_tsv([names, *(select(d, names).values() for d in documents)])
        return
    names = fields or TABLE_FIELDS
    columns = [
        ColumnSpec(
            HEADERS.get(name, name.upper().replace("_", " ")),
            keep=name in KEPT,
            # Asked-for fields claim the width in the order asked.
            rank=position if fields else RANKS.get(name, 10 + position),
            least=None if name in WHOLE or name in TIMES else 10 if name == "prompt" else 12,
            fold=name != "prompt",
            right=name == "cost",
        )
        for position, name in enumerate(names)
    ]
    rows = [
        [_shown(name, document, entry_phrase(entry), short=True) for name in names]
        for document, entry in zip(documents, entries, strict=True)
    ]
    jobs_table(out, columns, rows, footer=_spent(entries))


def show_job(
    job: Job,
    entry: Entry | None,
    *,
    json_mode: bool,
    fields: tuple[str, ...] | None,
    print_field: str | None,
) -> None:
    """One job as the provider reports it now (with where the journal says it was saved)."""
    document = job_document(
        job,
        path=None if entry is None else entry.output_path,
        size=None if entry is None else entry.output_bytes,
    )
    if print_field:
        print_result(value_text(select(document, (print_field,))[print_field]))
        return
    if json_mode:
        print_json(select(document, fields) if fields else document)
        return
    from framecast.ui import console, job_details, print_tsv

    out = console(sys.stdout)
    if not out.is_terminal:
        print_tsv(select(document, fields or JOB_FIELDS).items())
        return
    phrase = status_phrase(job)
    if fields:
        rows = [(name, _shown(name, document, phrase)) for name in fields]
    else:
        rows = [
            (LABELS.get(name, name), _shown(name, document, phrase))
            for name in DETAIL_FIELDS
            if document_has(document, name)
        ]
    job_details(out, rows)


def document_has(document: dict[str, Any], name: str) -> bool:
    """Whether the details view shows this field: set, and an estimate only until a cost."""
    value = select(document, (name,))[name]
    if name == "cost_estimate" and document.get("cost") is not None:
        return False
    return value is not None and value != ""


def _shown(name: str, document: dict[str, Any], phrase: str, *, short: bool = False) -> str:
    """A field as a person reads it: a status phrase, money, a percentage, a short time."""
    value = select(document, (name,))[name]
    currency = document.get("currency")
    if name == "status":
        return phrase
    if name == "cost" and value is None and short and document.get("cost_estimate") is not None:
        return f"~{money(document['cost_estimate'], currency)}"
    if name in ("cost", "cost_estimate") or (name == "balance" and value):
        amount = value["remaining"] if name == "balance" else value
        shown = money(amount, currency) or ""
        source = value.get("payment_source") if name == "balance" else None
        return f"{shown} ({source})" if source else shown
    if name in TIMES and value and short:
        return str(value)[:16].replace("T", " ")
    if name == "progress" and value is not None:
        return f"{value}%"
    if name == "bytes" and value is not None:
        return human_bytes(value)
    if name == "error" and value:
        code = value.get("code")
        return f"{value.get('message')}" + (f" ({code})" if code else "")
    return value_text(value)


def _spent(entries: Sequence[Entry]) -> str | None:
    """The table's footer: what the jobs shown have cost, where providers said, per currency
    (USD and XNO are never added together)."""
    from framecast.spending import charged_in

    totals: dict[str, float] = {}
    counted = 0
    for entry in entries:
        currency = charged_in(entry)
        if entry.job.cost is None or currency is None:
            continue
        totals[currency] = totals.get(currency, 0.0) + entry.job.cost
        counted += 1
    if not totals:
        return None
    amounts = " + ".join(str(money(total, currency)) for currency, total in sorted(totals.items()))
    return f"Spent {amounts} on {counted} job(s) shown."
