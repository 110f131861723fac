"""What framecast reports about a job: the stable JSON document and short human phrases."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from framecast.domain import Job, JobStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from framecast.batchplan import BatchPrice
    from framecast.catalog import ModelInfo
    from framecast.journal import Entry
    from framecast.normalise import Adjustment
    from framecast.pricing import Estimate


def iso(timestamp: float | None) -> str | None:
    """UTC ISO 8601; None for a missing or impossible time (an old journal may hold one)."""
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):
        return None


def job_document(
    job: Job,
    *,
    path: str | None = None,
    size: int | None = None,
    adjustments: list[str] | None = None,
) -> dict[str, Any]:
    """The JSON object printed for a job with --json; its keys are a contract with scripts."""
    return {
        "id": job.id,
        "provider": job.provider,
        "model": job.model,
        "status": job.status.value,
        "progress": job.progress,
        "prompt": job.prompt,
        "seconds": job.seconds,
        "size": job.size,
        "created_at": iso(job.created_at),
        "completed_at": iso(job.completed_at),
        "expires_at": iso(job.expires_at),
        "output": {"url": job.output_url, "path": path, "bytes": size},
        "error": None
        if job.error is None
        else {"code": job.error.code, "message": job.error.message},
        "cost": job.cost,
        "cost_estimate": job.cost_estimate,
        "currency": job.currency,
        "executed_model": job.executed_model,
        "upstream_provider": job.upstream,
        "balance": None
        if job.balance is None
        else {"remaining": job.balance, "payment_source": job.payment_source},
        "adjustments": adjustments or [],
    }


# The fields a job (or a journal entry) offers to `--fields` and `--print`, in the order
# they are listed: the keys of `job_document`, with `output` flattened to url, path and
# bytes, and `ref` (@N, a journal entry's place among the recent ones).
FIELDS: tuple[str, ...] = (
    "ref",
    "id",
    "status",
    "progress",
    "model",
    "provider",
    "cost",
    "cost_estimate",
    "currency",
    "created_at",
    "completed_at",
    "expires_at",
    "url",
    "path",
    "bytes",
    "prompt",
    "seconds",
    "size",
    "error",
    "executed_model",
    "upstream_provider",
    "balance",
    "adjustments",
    "imported",
    "deleted_at",
)
_OUTPUT_FIELDS = {"url", "path", "bytes"}


def select(document: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Only these fields of a job document, in the order asked, with the output flattened
    (`url` is `output.url`); a field the document lacks (a job's `ref`) is None."""
    output = document.get("output") or {}
    return {
        name: output.get(name) if name in _OUTPUT_FIELDS else document.get(name) for name in fields
    }


def money(amount: float | None, currency: str | None) -> str | None:
    """Whole cents as cents ($0.40); finer prices keep their digits ($0.1764, $0.002)."""
    if amount is None:
        return None
    digits = (
        f"{amount:,.2f}" if round(amount, 2) == round(amount, 6) else f"{amount:,.6f}".rstrip("0")
    )
    if (currency or "USD").upper() == "USD":
        return f"${digits}"
    return f"{digits} {currency}"


def human_bytes(count: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    raise AssertionError("unreachable")


def status_phrase(job: Job) -> str:
    words = job.status.value
    if job.raw_status:
        words += f" (provider says {job.raw_status!r})"
    if job.progress is not None and not job.finished:
        words += f" {job.progress}%"
    return words


def entry_document(entry: Entry) -> dict[str, Any]:
    """A journal entry as `status --json` lists it: a job document, except that a submission
    without a job yet says so (`submitting`, or `unknown`: it may exist and be billed)."""
    document = job_document(entry.job, path=entry.output_path, size=entry.output_bytes)
    if entry.pending:
        document["status"] = "unknown" if entry.orphaned else entry.state
        document["created_at"] = iso(entry.submitted_at)
        document["model"] = entry.request.get("model")
    document["imported"] = entry.imported
    # When `framecast delete` removed it at the provider (its local file is kept).
    document["deleted_at"] = iso(entry.deleted_at)
    return document


def entry_phrase(entry: Entry) -> str:
    """A journal entry's state for the `status` table; an unknown outcome stands out."""
    if entry.state == "unknown" or entry.orphaned:
        return "UNKNOWN"
    if entry.state == "submitting":
        return "submitting"
    phrase = status_phrase(entry.job)
    if entry.deleted_at is not None:
        phrase += " (deleted)"
    return phrase + " (imported)" if entry.imported else phrase


def expiry_warning(job: Job, now: float) -> str | None:
    """A word about a finished job's output link that has expired or soon will."""
    if job.expires_at is None or job.status is not JobStatus.COMPLETED:
        return None
    left = job.expires_at - now
    if left < 0:
        return f"{job.id}: its output link expired; the provider may no longer serve the video."
    if left < 600:
        return f"{job.id}: its output link expires in {left / 60:.0f} min; download it soon."
    return None


def wait_command(job_ids: list[str], *, output: str | None = None, download: bool = False) -> str:
    """The exact command that picks up waiting where this run stopped."""
    words = ["framecast", "wait", *job_ids]
    if output is not None:
        words += ["-o", output]
    elif download:
        words.append("--download")
    return shlex.join(words)


def estimate_document(
    estimate: Estimate,
    *,
    provider: str | None,
    n: int,
    adjustments: Sequence[Adjustment],
    requested: dict[str, object] | None = None,
    conversions: Sequence[Adjustment] = (),
) -> dict[str, Any]:
    """The JSON object `framecast estimate --json` prints: `seconds` and `size` are what is
    priced (for a dry run, what the provider will bill), `requested` what was asked,
    `adjustments` framecast's own changes in words (`adjusted`: the same as objects, with
    what a raise costs), `conversions` what a
    provider that converts values itself is expected to make of them."""
    return {
        "provider": provider,
        "model": estimate.model,
        "seconds": estimate.seconds,
        "size": estimate.size,
        "requested": requested,
        "n": n,
        "total": estimate.total,
        "currency": estimate.currency,
        "source": estimate.source,
        "priced_by": estimate.describe_source(),
        "routed_to": estimate.routed_to,
        "sources": list(estimate.sources),
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit": line.unit,
                "unit_price": line.unit_price,
                "total": line.total,
            }
            for line in estimate.lines
        ],
        "unpriced": list(estimate.unpriced),
        "adjustments": [str(a) for a in adjustments],
        "adjusted": [a.document() for a in adjustments],
        "conversions": [c.document() for c in conversions],
    }


def model_document(model: ModelInfo) -> dict[str, Any]:
    """One model as `framecast models --json` prints it."""
    return {
        "id": model.id,
        "name": model.name,
        "creator": model.creator,
        "aliases": list(model.aliases),
        "modes": list(model.modes),
        "durations": list(model.durations),
        "default_seconds": model.default_seconds,
        "default_size": model.default_size,
        "sizes": [
            {
                "size": option.size,
                "aspect_ratio": option.aspect_ratio,
                "resolution": option.resolution,
                "per_second": None if (p := model.price_for(option.size)) is None else p.per_second,
            }
            for option in model.sizes
        ],
        "aspect_ratios": list(model.aspect_ratios),
        "resolutions": list(model.resolutions),
        "audio": model.audio,
        "max_references": model.max_references,
        "prices": [
            {
                "per_second": price.per_second,
                "currency": price.currency,
                "sizes": list(price.sizes),
                "audio": price.audio,
                "source": price.source,
                "as_of": price.as_of,
            }
            for price in model.prices
        ],
        "inputs": [
            {
                "kind": p.kind,
                "amount": p.amount,
                "per": p.per,
                "currency": p.currency,
                "source": p.source,
            }
            for p in model.inputs
        ],
        "source": model.source,
    }


def price_range(model: ModelInfo) -> str:
    """Per-second price, or its range across sizes: $0.10, $0.30-$0.50."""
    amounts = sorted({p.per_second for p in model.prices})
    if not amounts:
        return "?"
    currency = model.prices[0].currency
    low, high = money(amounts[0], currency), money(amounts[-1], currency)
    return str(low) if low == high else f"{low}-{high}"


def durations_text(durations: tuple[int, ...]) -> str:
    if not durations:
        return "?"
    ordered = sorted(durations)
    if len(ordered) > 3 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return " ".join(str(d) for d in ordered)


def batch_estimate_document(cost: BatchPrice, provider: str | None) -> dict[str, Any]:
    """The JSON object `framecast estimate FILE --json` prints: each row's price, the totals
    by currency, and the rows that could not be priced (by row number)."""
    rows = [
        {
            "row": priced.row.row.number,
            "line": priced.row.row.line,
            "model": priced.estimate.model,
            "seconds": priced.estimate.seconds,
            "size": priced.estimate.size,
            "total": priced.estimate.total,
            "currency": priced.estimate.currency,
            "source": priced.estimate.source,
            "unpriced": list(priced.estimate.unpriced),
            "adjustments": priced.row.adjustments,
        }
        for priced in cost.rows
    ]
    return {
        "provider": provider,
        "rows": rows,
        "totals": dict(cost.totals),
        "unpriced_rows": [priced.row.row.number for priced in cost.unpriced],
    }
