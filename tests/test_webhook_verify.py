"""`framecast webhook verify` against the emulator's own signed deliveries, and the check
itself against published and hand-made vectors.

The emulator delivers a job's final event to a small receiver on 127.0.0.1 that keeps
the headers and the raw body as they arrived; the command is then run on exactly that.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from typer.testing import CliRunner

from framecast.cli.app import app
from framecast.emulator import EmulatorConfig
from framecast.errors import UsageError, WebhookRejected
from framecast.webhook_verify import (
    DEFAULT_SECRET_ENV,
    MAX_BODY_BYTES,
    check_delivery,
    read_headers,
    secret_key,
    verify,
)
from tests.conftest import Served, invoke, run_subprocess, serve

BOAT = "a paper boat drifting down a rainy street"
SECRET_ENV = "LUMENFALL_WEBHOOK_SECRET"


class Receiver(BaseHTTPRequestHandler):
    """Keeps every POST as it arrived: header names in lower case, the body's raw bytes."""

    arrived: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    condition: ClassVar[threading.Condition] = threading.Condition()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        with Receiver.condition:
            Receiver.arrived.append(({k.lower(): v for k, v in self.headers.items()}, body))
            Receiver.condition.notify_all()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@dataclass(frozen=True)
class Delivery:
    job_id: str
    headers: dict[str, str]
    body: bytes
    secret: str
    origin: str

    def signed_at(self, timestamp: int, secret: str | None = None) -> dict[str, str]:
        """These headers re-signed (by hand, per the spec) with another timestamp."""
        key = base64.b64decode((secret or self.secret).removeprefix("whsec_"))
        content = f"{self.headers['webhook-id']}.{timestamp}.".encode() + self.body
        digest = hmac.new(key, content, hashlib.sha256).digest()
        return {
            **self.headers,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        }


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Delivery]]:
    """The emulator (Lumenfall's dialect, short jobs, no redelivery), one job submitted with
    --webhook-url pointing at the receiver, and its delivery as it arrived. The check is
    pure, so every test may use the one delivery (well within its 5 minutes)."""
    served = serve(EmulatorConfig(job_seconds=0.1, webhook_retry_delays=()))
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        yield served, _deliver(served, receiver, tmp_path_factory.mktemp("submit"))
    finally:
        receiver.shutdown()
        receiver.server_close()
        served.server.stop()


def _deliver(served: Served, receiver: ThreadingHTTPServer, home: Path) -> Delivery:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    # The autouse isolation is per test; this submission gets its own private dirs.
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FRAMECAST_")}
    env |= {
        "FRAMECAST_CONFIG": str(home / "config.toml"),
        "FRAMECAST_DATA_DIR": str(home / "data"),
        "FRAMECAST_CACHE_DIR": str(home / "cache"),
        "LUMENFALL_API_KEY": "lmnfl_test.secret",
        "LUMENFALL_BASE_URL": served.origin + "/openai/v1",
    }
    made = CliRunner().invoke(
        app,
        ["generate", BOAT, "--provider", "lumenfall", "-m", "sora-2", "--webhook-url", url,
         "--no-wait", "-q"],
        env=env,
        catch_exceptions=False,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    job_id = made.stdout.strip()
    (sent,) = served.seen("POST", "/videos")
    assert json.loads(sent.body)["webhook_url"] == url
    message_id = f"msg_{job_id}"
    with Receiver.condition:
        arrived = Receiver.condition.wait_for(
            lambda: any(h.get("webhook-id") == message_id for h, _ in Receiver.arrived),
            timeout=30,
        )
        assert arrived, "the emulator delivered no webhook"
        headers, body = next(d for d in Receiver.arrived if d[0].get("webhook-id") == message_id)
    answer = httpx.get(
        served.origin + "/v1/webhooks/secret", headers={"Authorization": "Bearer lmnfl_test.x"}
    )
    assert answer.status_code == 200
    names = ("webhook-id", "webhook-timestamp", "webhook-signature")
    return Delivery(
        job_id, {n: headers[n] for n in names}, body, answer.json()["key"], served.origin
    )


@pytest.fixture
def delivery(station: tuple[Served, Delivery]) -> Delivery:
    return station[1]


def run_verify(
    tmp_path: Path,
    body: bytes,
    headers: dict[str, str],
    *args: str,
    secret: str | None,
    env_name: str = SECRET_ENV,
) -> tuple[int, str, str]:
    """`framecast webhook verify BODY --id ... --timestamp ... --signature ...` (a header
    left out of `headers` is not given); the secret in the environment unless None."""
    path = tmp_path / "body.json"
    path.write_bytes(body)
    flags = {
        "webhook-id": "--id",
        "webhook-timestamp": "--timestamp",
        "webhook-signature": "--signature",
    }
    given = [word for name, value in headers.items() for word in (flags[name], value)]
    env = {env_name: secret} if secret is not None else {env_name: ""}
    result = invoke("webhook", "verify", str(path), *given, *args, env=env)
    return result.exit_code, result.stdout, result.stderr


# --- the emulator's deliveries --------------------------------------------------------


def test_a_delivery_from_the_emulator_verifies(delivery: Delivery, tmp_path: Path) -> None:
    code, out, err = run_verify(tmp_path, delivery.body, delivery.headers, secret=delivery.secret)
    assert code == 0, err
    assert out == f"{delivery.job_id}\tcompleted\n"
    assert err == ""


def test_json_reports_the_event_with_stable_keys(delivery: Delivery, tmp_path: Path) -> None:
    code, out, err = run_verify(
        tmp_path, delivery.body, delivery.headers, "--json", secret=delivery.secret
    )
    assert code == 0, err
    assert err == ""
    document = json.loads(out)
    assert list(document) == [
        "valid", "type", "id", "status", "output_url", "webhook_id", "timestamp", "reason",
    ]  # fmt: skip
    assert document["valid"] is True and document["reason"] is None
    assert (document["type"], document["id"], document["status"]) == (
        "video.completed",
        delivery.job_id,
        "completed",
    )
    assert document["output_url"].startswith(delivery.origin + "/media/")
    assert document["webhook_id"] == f"msg_{delivery.job_id}"
    assert document["timestamp"] == int(delivery.headers["webhook-timestamp"])


def test_a_secret_without_its_prefix_and_another_variable(
    delivery: Delivery, tmp_path: Path
) -> None:
    bare = delivery.secret.removeprefix("whsec_")
    code, out, err = run_verify(
        tmp_path,
        delivery.body,
        delivery.headers,
        "--secret-env",
        "MY_HOOK_SECRET",
        secret=bare,
        env_name="MY_HOOK_SECRET",
    )
    assert code == 0, err
    assert out == f"{delivery.job_id}\tcompleted\n"


def test_headers_from_a_file_as_a_server_saves_them_and_the_body_from_stdin(
    delivery: Delivery, tmp_path: Path
) -> None:
    """Request line, other headers, names in any case, CRLF endings: as received."""
    lines = [
        "POST /hook HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Webhook-Id: {delivery.headers['webhook-id']}",
        f"WEBHOOK-TIMESTAMP:{delivery.headers['webhook-timestamp']}",
        f"webhook-signature:   {delivery.headers['webhook-signature']}",
        "",
        "",
    ]
    saved = tmp_path / "headers.txt"
    saved.write_bytes("\r\n".join(lines).encode())
    result = run_subprocess(
        "webhook", "verify", "-", "--headers", str(saved),
        input=delivery.body.decode(), env={SECRET_ENV: delivery.secret},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{delivery.job_id}\tcompleted\n"
    assert result.stderr == ""


def test_headers_from_stdin_and_flags_over_the_file(delivery: Delivery, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(delivery.body)
    text = "".join(f"{name}: {value}\n" for name, value in delivery.headers.items())
    from_stdin = invoke(
        "webhook", "verify", str(body), "--headers", "-",
        input=text, env={SECRET_ENV: delivery.secret},
    )  # fmt: skip
    assert from_stdin.exit_code == 0, from_stdin.stderr
    assert from_stdin.stdout == f"{delivery.job_id}\tcompleted\n"

    stale = tmp_path / "stale.txt"
    stale.write_text(text.replace(delivery.headers["webhook-signature"], "v1,AAAA"))
    overridden = invoke(
        "webhook", "verify", str(body), "--headers", str(stale),
        "--signature", delivery.headers["webhook-signature"], env={SECRET_ENV: delivery.secret},
    )  # fmt: skip
    assert overridden.exit_code == 0, overridden.stderr
    refused = invoke(
        "webhook", "verify", str(body), "--headers", str(stale), env={SECRET_ENV: delivery.secret}
    )
    assert refused.exit_code == 4
    assert "The signature does not match" in refused.stderr


def tampered(delivery: Delivery, what: str) -> tuple[bytes, dict[str, str], str]:
    body, headers, secret = delivery.body, dict(delivery.headers), delivery.secret
    if what == "body":
        body = body.replace(b'"completed"', b'"failed"', 1)
        assert body != delivery.body
    elif what == "body-whitespace":
        body = json.dumps(json.loads(body), indent=1).encode()  # parsed and written again
    elif what == "id":
        headers["webhook-id"] = headers["webhook-id"] + "x"
    elif what == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    elif what == "secret":
        secret = "whsec_" + base64.b64encode(b"another organisation's key").decode()
    elif what == "last-byte":
        raw = bytearray(base64.b64decode(headers["webhook-signature"].removeprefix("v1,")))
        raw[-1] ^= 1
        headers["webhook-signature"] = "v1," + base64.b64encode(bytes(raw)).decode()
    elif what == "cut-short":
        cut = base64.b64decode(headers["webhook-signature"].removeprefix("v1,"))[:16]
        headers["webhook-signature"] = "v1," + base64.b64encode(cut).decode()
    return body, headers, secret


@pytest.mark.parametrize(
    "what", ["body", "body-whitespace", "id", "timestamp", "secret", "last-byte", "cut-short"]
)
def test_anything_changed_is_refused(delivery: Delivery, tmp_path: Path, what: str) -> None:
    body, headers, secret = tampered(delivery, what)
    code, out, err = run_verify(tmp_path, body, headers, secret=secret)
    assert code == 4, err
    assert out == ""
    assert err.startswith("framecast: error: The signature does not match:"), err
    assert "hint: Pass the body byte for byte as it arrived" in err
    assert secret.removeprefix("whsec_") not in err


def test_json_says_why_a_delivery_was_refused(delivery: Delivery, tmp_path: Path) -> None:
    body, headers, secret = tampered(delivery, "body")
    code, out, err = run_verify(tmp_path, body, headers, "--json", secret=secret)
    assert code == 4
    document = json.loads(out)
    assert document["valid"] is False
    assert document["reason"].startswith("The signature does not match")
    assert document["id"] is None and document["status"] is None  # nothing from it vouched for
    assert "framecast: error: The signature does not match" in err


# A minute past the tolerance: the verifying process starts seconds later under load, which
# would bring a timestamp one second in the future back inside it.
@pytest.mark.parametrize(("offset", "word"), [(-360, "ago"), (360, "in the future")])
def test_a_timestamp_outside_the_tolerance_is_refused_though_signed(
    delivery: Delivery, tmp_path: Path, offset: int, word: str
) -> None:
    """Re-signed with the right secret at another time: only the timestamp is wrong."""
    headers = delivery.signed_at(int(time.time()) + offset)
    code, out, err = run_verify(tmp_path, delivery.body, headers, secret=delivery.secret)
    assert code == 4, err
    assert out == ""
    assert err.startswith("framecast: error: webhook-timestamp is outside the tolerance of 300 s")
    assert word in err
    wider = run_verify(
        tmp_path, delivery.body, headers, "--tolerance", "500", secret=delivery.secret
    )
    assert wider[0] == 0, wider[2]
    assert wider[1] == f"{delivery.job_id}\tcompleted\n"


def test_a_timestamp_inside_the_tolerance_is_accepted(delivery: Delivery, tmp_path: Path) -> None:
    for offset in (-250, 250):
        headers = delivery.signed_at(int(time.time()) + offset)
        code, out, err = run_verify(tmp_path, delivery.body, headers, secret=delivery.secret)
        assert code == 0, err
        assert out == f"{delivery.job_id}\tcompleted\n"


def test_several_signatures_any_v1_match_is_enough(delivery: Delivery, tmp_path: Path) -> None:
    valid = delivery.headers["webhook-signature"]
    rotated = "v1," + base64.b64encode(b"\0" * 32).decode()
    other = "v1a," + base64.b64encode(b"\1" * 64).decode()
    for header in (f"{rotated} {other} {valid}", f"{valid} {rotated}", f"{other}  {valid}"):
        headers = {**delivery.headers, "webhook-signature": header}
        code, out, err = run_verify(tmp_path, delivery.body, headers, secret=delivery.secret)
        assert code == 0, (header, err)
        assert out == f"{delivery.job_id}\tcompleted\n"


def test_only_v1_signatures_count(delivery: Delivery, tmp_path: Path) -> None:
    """The right digest under another version label is not a v1 signature."""
    digest = delivery.headers["webhook-signature"].removeprefix("v1,")
    headers = {**delivery.headers, "webhook-signature": f"v2,{digest} v1a,{digest}"}
    code, out, err = run_verify(tmp_path, delivery.body, headers, secret=delivery.secret)
    assert code == 4
    assert out == ""
    assert "framecast: error: webhook-signature holds no v1 (HMAC-SHA256) signature." in err


@pytest.mark.parametrize(
    ("header", "value", "says"),
    [
        ("webhook-signature", "garbage", "entry 'garbage' is not VERSION,SIGNATURE"),
        ("webhook-signature", "v1,not*base64", "entry 'v1,not*base64' is not base64"),
        ("webhook-timestamp", "soon", "webhook-timestamp 'soon' is not Unix seconds"),
        ("webhook-timestamp", "1.7e9", "webhook-timestamp '1.7e9' is not Unix seconds"),
        ("webhook-id", "msg_\x1b[2Jx", "webhook-id is not a header value"),
    ],
)
def test_malformed_headers_are_refused_with_the_reason(
    delivery: Delivery, tmp_path: Path, header: str, value: str, says: str
) -> None:
    headers = {**delivery.headers, header: value}
    code, out, err = run_verify(tmp_path, delivery.body, headers, secret=delivery.secret)
    assert code == 4
    assert out == ""
    assert says in err
    assert "\x1b" not in err


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_a_usage_error(
    delivery: Delivery, tmp_path: Path, missing: str
) -> None:
    headers = {k: v for k, v in delivery.headers.items() if k != missing}
    code, out, err = run_verify(tmp_path, delivery.body, headers, secret=delivery.secret)
    assert code == 2
    assert out == ""
    assert err.startswith(f"framecast: error: Missing {missing}.")
    assert "hint: Give --" in err


def test_a_header_missing_from_the_file_too(delivery: Delivery, tmp_path: Path) -> None:
    saved = tmp_path / "headers.txt"
    saved.write_text(f"webhook-id: {delivery.headers['webhook-id']}\n")
    body = tmp_path / "body.json"
    body.write_bytes(delivery.body)
    result = invoke(
        "webhook", "verify", str(body), "--headers", str(saved), env={SECRET_ENV: delivery.secret}
    )
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        "framecast: error: Missing webhook-timestamp, webhook-signature "
        "(not in the --headers file either)."
    )


def test_an_unset_secret_variable_is_a_usage_error(delivery: Delivery, tmp_path: Path) -> None:
    code, out, err = run_verify(tmp_path, delivery.body, delivery.headers, secret=None)
    assert code == 2
    assert out == ""
    assert err.startswith(f"framecast: error: {SECRET_ENV} is not set")
    assert "hint: Lumenfall shows it at GET /v1/webhooks/secret" in err


def test_a_secret_that_is_not_one_is_a_usage_error_and_never_shown(
    delivery: Delivery, tmp_path: Path
) -> None:
    code, out, err = run_verify(
        tmp_path, delivery.body, delivery.headers, secret="whsec_not base64 at all!"
    )
    assert code == 2
    assert out == ""
    assert "does not hold a webhook signing secret (whsec_ followed by base64)" in err
    assert "not base64 at all" not in err


def test_files_that_cannot_be_read_are_usage_errors(delivery: Delivery, tmp_path: Path) -> None:
    env = {SECRET_ENV: delivery.secret}
    flags = [w for name, v in delivery.headers.items() for w in (f"--{name[8:]}", v)]
    missing = invoke("webhook", "verify", str(tmp_path / "nothing.json"), *flags, env=env)
    assert missing.exit_code == 2
    assert missing.stdout == ""
    assert missing.stderr.startswith("framecast: error: The body file '")
    assert "does not exist." in missing.stderr
    folder = invoke("webhook", "verify", str(tmp_path), *flags, env=env)
    assert folder.exit_code == 2
    assert "is a directory, not a file." in folder.stderr
    both = invoke("webhook", "verify", "-", "--headers", "-", env=env)
    assert both.exit_code == 2
    assert "cannot both be read from stdin" in both.stderr


def test_the_check_is_local(
    delivery: Delivery, station: tuple[Served, Delivery], tmp_path: Path
) -> None:
    """No request reaches the provider: the secret and the clock are all it takes."""
    served, _ = station
    before = len(served.app.seen)
    code, _, err = run_verify(tmp_path, delivery.body, delivery.headers, secret=delivery.secret)
    assert code == 0, err
    assert len(served.app.seen) == before


# --- the check itself -----------------------------------------------------------------

# The vector of the Standard Webhooks reference libraries (libraries/python/tests).
PUBLISHED_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PUBLISHED_BODY = b'{"test": 2432232314}'
PUBLISHED_HEADERS = {
    "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp": "1614265330",
    "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def test_the_published_vector_verifies() -> None:
    key = secret_key(PUBLISHED_SECRET)
    event = verify(PUBLISHED_BODY, PUBLISHED_HEADERS, key, now=1614265330 + 10)
    assert (event.webhook_id, event.timestamp) == ("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330)
    assert (event.type, event.id, event.status, event.output_url) == (None, None, None, None)
    with pytest.raises(WebhookRejected, match="outside the tolerance"):
        verify(PUBLISHED_BODY, PUBLISHED_HEADERS, key, now=1614265330 + 301)
    with pytest.raises(WebhookRejected, match="does not match"):
        verify(PUBLISHED_BODY + b" ", PUBLISHED_HEADERS, key, now=1614265330)


def sign_by_hand(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    content = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(secret, content, hashlib.sha256).digest()).decode()


def lumenfall_event(**data: object) -> bytes:
    return json.dumps(
        {"type": "video.completed", "data": {"object": "video.generation", **data}}
    ).encode()


def test_a_hand_made_lumenfall_event() -> None:
    secret = bytes(range(24))
    body = lumenfall_event(
        id="req_abc123", status="completed", output={"url": "https://media.example/abc.mp4"}
    )
    headers = {
        "webhook-id": "msg_req_abc123",
        "webhook-timestamp": "1700000000",
        "webhook-signature": sign_by_hand(secret, "msg_req_abc123", 1700000000, body),
    }
    event = verify(body, headers, secret, now=1700000000)
    assert event.document() == {
        "valid": True,
        "type": "video.completed",
        "id": "req_abc123",
        "status": "completed",
        "output_url": "https://media.example/abc.mp4",
        "webhook_id": "msg_req_abc123",
        "timestamp": 1700000000,
        "reason": None,
    }
    with pytest.raises(WebhookRejected, match="tolerance of 0 s"):
        verify(body, headers, secret, now=1700000001, tolerance=0)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            {"id": "../../etc/passwd", "status": "completed"},
            "data.id '../../etc/passwd' is not a job id",
        ),
        ({"id": "video_1\x1b]0;x\x07", "status": "completed"}, "is not a job id"),
        ({"id": "video_1", "status": "done; rm -rf ~"}, "data.status"),
        (
            {"id": "video_1", "status": "completed", "output": {"url": "file:///etc/passwd"}},
            "not an http(s) URL",
        ),
    ],
)
def test_a_signed_event_is_still_untrusted(data: dict[str, object], says: str) -> None:
    secret = b"k" * 24
    body = lumenfall_event(**data)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": sign_by_hand(secret, "msg_1", 1700000000, body),
    }
    with pytest.raises(WebhookRejected, match="signed, but") as caught:
        verify(body, headers, secret, now=1700000000)
    assert says in caught.value.message
    assert "\x1b" not in caught.value.message


def test_a_signed_body_that_is_not_an_event() -> None:
    secret = b"k" * 24
    for body in (b"[1, 2]", b"not json", b"\xff\xfe", b"[" * 100_000):
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": "1700000000",
            "webhook-signature": sign_by_hand(secret, "msg_1", 1700000000, body),
        }
        with pytest.raises(WebhookRejected, match="its body is not a JSON object"):
            verify(body, headers, secret, now=1700000000)


def test_the_body_read_is_bounded(tmp_path: Path) -> None:
    import io

    big = io.BytesIO(b"x" * (MAX_BODY_BYTES + 10))
    with pytest.raises(WebhookRejected, match="larger than 4 MiB"):
        check_delivery("-", given=PUBLISHED_HEADERS, env={SECRET_ENV: PUBLISHED_SECRET}, stdin=big)
    assert big.tell() == MAX_BODY_BYTES + 1  # read no further than needed to tell


def test_secrets_with_and_without_their_prefix() -> None:
    assert secret_key("whsec_AAEC") == secret_key("AAEC") == b"\x00\x01\x02"
    assert secret_key("whsec_AAECAw") == b"\x00\x01\x02\x03"  # unpadded base64
    for bad in ("", "whsec_", "whsec_***", "whsec_AAEC AAEC"):
        with pytest.raises(UsageError, match="does not hold a webhook signing secret"):
            secret_key(bad)


def test_the_command_is_thin_and_its_help_has_examples() -> None:
    source = Path(__file__).parents[1] / "src" / "framecast" / "cli" / "webhook.py"
    (command,) = [
        node
        for node in ast.parse(source.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.decorator_list
    ]
    docstring = command.body[0]
    doc_lines = (docstring.end_lineno or 0) - docstring.lineno + 1
    assert (command.end_lineno or 0) - command.lineno + 1 - doc_lines <= 50
    result = invoke("webhook", "verify", "--help")
    assert result.exit_code == 0
    assert result.stderr == ""
    examples = result.stdout.split("Examples:", 1)[1]
    assert examples.count("framecast webhook verify ") >= 3
    assert f"[default: {DEFAULT_SECRET_ENV}]" in result.stdout


def test_a_headers_file_that_contradicts_itself_is_refused(tmp_path: Path) -> None:
    import io

    text = "".join(f"{name}: {value}\n" for name, value in PUBLISHED_HEADERS.items())
    saved = tmp_path / "headers.txt"
    saved.write_text(text + "Webhook-Timestamp: 1614265331\n" + text)
    with pytest.raises(WebhookRejected, match="webhook-timestamp twice, with different values"):
        read_headers(str(saved), io.BytesIO())
    saved.write_text(text + text)  # the same values twice
    assert read_headers(str(saved), io.BytesIO()) == PUBLISHED_HEADERS
