"""`framecast balance`: what an account has left, as its provider reports it.

Asked live where the API has a balance endpoint (Lumenfall's GET /v1/balance, which
the emulator serves too). Otherwise the last balance the provider reported in a
submission's answer to this endpoint, from the journal, with when it said so (NanoGPT
answers every submission with `remainingBalance` after the pre-charge, and
`paymentSource`, the currency it was charged in).

A provider that reports neither has no balance to show: that is a UsageError (exit 2),
as a provider that cannot cancel is, so a script tells "no balance here" (2) from a
balance (0) and from a failure to ask (3, 4, 5).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from framecast.errors import UsageError
from framecast.report import iso
from framecast.untrusted import mask_url

if TYPE_CHECKING:
    from framecast.journal import Entry
    from framecast.providers.base import Balance
    from framecast.settings import Settings

_CURRENCY = re.compile(r"[A-Za-z]{3,5}")
_LARGEST = 1e12


@dataclass(frozen=True, slots=True)
class Reported:
    """A balance, who reported it, and where framecast got it from."""

    provider: str
    balance: Balance
    source: Literal["provider", "journal"]
    job_id: str | None = None  # from the journal: the submission whose answer carried it
    payment_source: str | None = None

    def document(self) -> dict[str, Any]:
        """The JSON object `framecast balance --json` prints; its keys are a contract."""
        return {
            "provider": self.provider,
            "amount": self.balance.amount,
            "currency": self.balance.currency,
            "billing": self.balance.billing,
            "as_of": iso(self.balance.as_of),
            "source": self.source,
            "job_id": self.job_id,
            "payment_source": self.payment_source,
        }


def _code(value: object) -> str | None:
    return value.upper() if isinstance(value, str) and _CURRENCY.fullmatch(value) else None


def from_entry(entry: Entry) -> Reported | None:
    """The balance a journaled submission's answer carried; None if it is not believable."""
    from framecast.providers.base import Balance

    job = entry.job
    amount = job.balance
    if (
        isinstance(amount, bool)
        or not isinstance(amount, int | float)
        or not math.isfinite(amount)
        or abs(amount) > _LARGEST
    ):
        return None
    source = _code(job.payment_source)
    # The balance is that of what was charged (NanoGPT: USD or XNO).
    currency = source or _code(job.currency)
    held = Balance(float(amount), currency, "prepaid", entry.submitted_at)
    return Reported(entry.provider, held, "journal", job.id, source)


def balance(settings: Settings) -> Reported:
    """The configured provider's balance: asked live, else the journal's last report."""
    from framecast.journal import Journal
    from framecast.settings import choose_provider

    choice = choose_provider(settings)
    with choice.open() as api:
        live = api.balance()
        base_url = api.base_url
    if live is not None:
        return Reported(choice.name, live, "provider")
    with Journal.open_default() as journal:
        entry = journal.last_balance(choice.name, base_url)
    found = None if entry is None else from_entry(entry)
    if found is None:
        raise UsageError(
            f"{choice.name} reports no balance: its API has no balance endpoint framecast "
            f"knows, and no answer to a submission to {mask_url(base_url)} in the journal "
            "carried one.",
            hint="Lumenfall answers GET /v1/balance; NanoGPT reports the balance left "
            "after each submission it charges.",
        )
    return found
