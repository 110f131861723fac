"""`framecast balance`: asked live where the provider has an endpoint (Lumenfall, the emulator),
from the journal where it reports the balance in its submit answers (NanoGPT), refused with
exit 2 where it reports none (an OpenAI-compatible server)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from framecast.emulator import EmulatorConfig
from tests.conftest import TERMINAL, Served, invoke, plain, serve

BOAT = "a paper boat drifting down a rainy street"
LUMENFALL_KEY = "lmnfl_test.secret"


@pytest.fixture
def lumenfall(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("LUMENFALL_API_KEY", LUMENFALL_KEY)
    monkeypatch.setenv("LUMENFALL_BASE_URL", served.origin + "/openai/v1")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "lumenfall")
    yield served
    served.server.stop()


@pytest.fixture
def nanogpt(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("NANOGPT_API_KEY", "nano-test-key")
    monkeypatch.setenv("NANOGPT_BASE_URL", served.origin + "/api")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "nanogpt")
    yield served
    served.server.stop()


def balance_json(*args: str) -> dict[str, object]:
    result = invoke("balance", *args, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_lumenfall_is_asked_on_its_native_prefix(lumenfall: Served) -> None:
    before = balance_json()
    done = invoke("generate", BOAT, "-m", "sora-2", "-s", "8", "-q")
    after = balance_json()

    assert done.exit_code == 0, done.output
    assert before["amount"] == pytest.approx(100.0)
    assert after == {
        "provider": "lumenfall",
        "amount": pytest.approx(99.2),
        "currency": "USD",
        "billing": "prepaid",
        "as_of": after["as_of"],
        "source": "provider",
        "job_id": None,
        "payment_source": None,
    }
    asked = lumenfall.seen("GET", "/balance")
    assert [(s.path, s.had_authorization) for s in asked] == [("/v1/balance", True)] * 2


def test_the_in_process_emulator_answers_too() -> None:
    document = balance_json("--provider", "emulator")

    assert (document["provider"], document["amount"], document["source"]) == (
        "emulator",
        pytest.approx(100.0),
        "provider",
    )


def test_human_output_on_a_terminal_and_when_piped(lumenfall: Served) -> None:
    table = invoke("balance", env=TERMINAL)
    piped = invoke("balance")

    assert table.exit_code == 0, table.output
    lines = [line.rstrip().split(None, 1) for line in plain(table.stdout).splitlines()]
    assert lines[:3] == [
        ["provider", "lumenfall"],
        ["balance", "$100.00 USD"],
        ["billing", "prepaid"],
    ]
    assert lines[-1] == ["source", "the provider, asked now"]
    assert piped.exit_code == 0, piped.output
    fields = dict(line.split("\t", 1) for line in piped.stdout.splitlines())
    assert (fields["amount"], fields["currency"], fields["source"]) == ("100.0", "USD", "provider")


def test_nanogpt_s_last_reported_balance_comes_from_the_journal(nanogpt: Served) -> None:
    first = invoke("generate", BOAT, "-m", "veo-3.1", "-s", "8", "--no-wait", "-q")
    second = invoke("generate", "a storm", "-m", "veo-3.1", "-s", "4", "--no-wait", "-q")
    asked_before = len(nanogpt.seen())

    document = balance_json()
    shown = invoke("balance", env=TERMINAL)

    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert document == {
        "provider": "nanogpt",
        "amount": pytest.approx(100.0 - 3.2 - 1.6),
        "currency": "USD",
        "billing": "prepaid",
        "as_of": document["as_of"],
        "source": "journal",
        "job_id": second.stdout.strip(),
        "payment_source": "USD",
    }
    assert shown.exit_code == 0, shown.output
    assert f"nanogpt's answer to the submission of {second.stdout.strip()}" in plain(shown.stdout)
    assert len(nanogpt.seen()) == asked_before  # nothing was asked


def test_a_balance_paid_in_xno_is_shown_in_xno(nanogpt: Served) -> None:
    submitted = invoke("generate", BOAT, "-m", "veo-3.1", "-s", "8", "--no-wait", "-q")
    assert submitted.exit_code == 0, submitted.output
    path = Path(os.environ["FRAMECAST_DATA_DIR"]) / "journal.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("UPDATE jobs SET balance = 26.7, payment_source = 'XNO'")

    document = balance_json()
    shown = invoke("balance", env=TERMINAL)

    assert (document["amount"], document["currency"], document["payment_source"]) == (
        pytest.approx(26.7),
        "XNO",
        "XNO",
    )
    assert shown.exit_code == 0, shown.output
    assert "26.70 XNO" in shown.stdout


def test_nanogpt_without_a_submission_yet_has_no_balance_to_show(nanogpt: Served) -> None:
    result = invoke("balance")

    assert (result.exit_code, result.stdout) == (2, "")
    assert "framecast: error: nanogpt reports no balance" in result.stderr
    assert "NanoGPT reports the balance left after each submission it charges" in result.stderr
    assert nanogpt.seen() == []


def test_a_provider_that_reports_none_is_refused_with_exit_2(served_env: Served) -> None:
    submitted = invoke("generate", BOAT, "-m", "sora-2", "--no-wait", "-q")
    asked_before = len(served_env.seen())

    result = invoke("balance", "--json")

    assert submitted.exit_code == 0, submitted.output
    assert (result.exit_code, result.stdout) == (2, "")
    assert "framecast: error: openai reports no balance" in result.stderr
    assert len(served_env.seen()) == asked_before


# -- what a server says is checked before it is believed -------------------------------------


class Balances(BaseHTTPRequestHandler):
    answer: ClassVar[tuple[int, bytes]] = (200, b"{}")
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Balances.paths.append(self.path)
        status, body = Balances.answer
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Balances]]:
    """A loopback server answering GET /v1/balance with `Balances.answer`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Balances)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Balances.paths = []
    monkeypatch.setenv("LUMENFALL_API_KEY", LUMENFALL_KEY)
    monkeypatch.setenv(
        "LUMENFALL_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/openai/v1"
    )
    monkeypatch.setenv("FRAMECAST_PROVIDER", "lumenfall")
    yield Balances
    server.shutdown()
    server.server_close()


def test_a_postpaid_account_has_no_amount(answering: type[Balances]) -> None:
    answering.answer = (
        200,
        b'{"object": "balance", "billing_type": "postpaid", '
        b'"available": {"amount": null, "currency": "usd"}}',
    )

    document = balance_json()
    shown = invoke("balance", env=TERMINAL)

    assert (document["amount"], document["billing"], document["currency"]) == (
        None,
        "postpaid",
        "USD",
    )
    assert shown.exit_code == 0, shown.output
    assert "postpaid: billed later" in shown.stdout
    assert answering.paths == ["/v1/balance", "/v1/balance"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"available": {"amount": "lots", "currency": "usd"}}',
        b'{"available": {"amount": 1e400, "currency": "usd"}}',
        b'{"available": {"amount": true, "currency": "usd"}}',
        b'{"available": {"amount": 5e12, "currency": "usd"}}',
        b'{"available": {"amount": 3, "currency": "\\u001b[31mUSD"}}',
        b'{"available": {"amount": 3, "currency": 840}}',
        b'{"available": [3, "usd"]}',
        b'["balance", 3]',
    ],
)
def test_an_unusable_answer_is_a_provider_failure(answering: type[Balances], body: bytes) -> None:
    answering.answer = (200, body)

    result = invoke("balance", "--json")

    assert (result.exit_code, result.stdout) == (5, "")
    assert result.stderr.startswith("framecast: error: lumenfall answered")
    assert "\x1b" not in result.stderr


def test_a_billing_word_that_is_not_a_word_is_not_shown(answering: type[Balances]) -> None:
    answering.answer = (
        200,
        b'{"billing_type": "\\u001b]8;;https://evil.example\\u0007pre", '
        b'"available": {"amount": "12.5"}}',
    )

    document = balance_json()

    assert (document["amount"], document["currency"], document["billing"]) == (12.5, "USD", None)


def test_a_gateway_without_the_endpoint_reports_no_balance(answering: type[Balances]) -> None:
    answering.answer = (404, b'{"error": {"message": "Not found", "code": "not_found"}}')

    result = invoke("balance")

    assert (result.exit_code, result.stdout) == (2, "")
    assert "framecast: error: lumenfall reports no balance" in result.stderr


def test_the_journal_s_balance_is_checked_too(nanogpt: Served) -> None:
    submitted = invoke("generate", BOAT, "-m", "veo-3.1", "--no-wait", "-q")
    assert submitted.exit_code == 0, submitted.output
    path = Path(os.environ["FRAMECAST_DATA_DIR"]) / "journal.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("UPDATE jobs SET balance = 12, payment_source = 'X\x1b[2J', currency = NULL")
    odd = invoke("balance", env=TERMINAL)
    odd_json = balance_json()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE jobs SET balance = 1e300")
    absurd = invoke("balance")

    assert odd.exit_code == 0, odd.output
    assert "12 (currency not reported)" in odd.stdout and "[2J" not in plain(odd.stdout)
    assert (odd_json["currency"], odd_json["payment_source"]) == (None, None)
    assert (absurd.exit_code, absurd.stdout) == (2, "")
    assert "nanogpt reports no balance" in absurd.stderr
