"""What Lumenfall adds to the OpenAI create call: dry runs, native n, idempotency keys."""

from __future__ import annotations

from typing import Any

from framecast.emulator.forms import Form
from framecast.emulator.models import Model
from framecast.emulator.validation import integer
from framecast.emulator.wire import ApiError, Request

MAX_KEY = 256


def count_of(form: Form) -> int:
    n = integer(form.fields.get("n", 1), "n")
    if not 1 <= n <= 4:
        raise ApiError(400, "'n' must be between 1 and 4.", param="n", code="invalid_value")
    return n


def idempotency_key(form: Form, request: Request) -> str | None:
    """The key from the body field or the header (the docs confirm neither name)."""
    key = form.fields.get("idempotency_key") or request.headers.get("idempotency-key")
    if key is None:
        return None
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
        raise ApiError(
            400,
            f"The idempotency key must be a string of 1 to {MAX_KEY} characters.",
            param="idempotency_key",
            code="invalid_value",
        )
    return key


def dry_run(model: Model, seconds: int, n: int, per_second: float | None) -> dict[str, Any]:
    """The cost-estimation answer: micro-USD totals and their components."""
    if per_second is None:
        raise ApiError(
            400, f"No price is known for {model.id} at this size.", code="price_unavailable"
        )
    quantity = seconds * n
    micros = round(per_second * quantity * 1_000_000)
    return {
        "estimated": True,
        "model": model.id,
        "provider": "emulator",
        "total_cost_micros": micros,
        "currency": "USD",
        "components": [
            {
                "type": "output",
                "metric": "second",
                "quantity": quantity,
                "billable_quantity": quantity,
                "unit_price": per_second,
                "total_cost": micros,
            }
        ],
    }
