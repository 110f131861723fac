"""`framecast webhook verify`: is a webhook delivery the provider's, unchanged and recent?"""

from __future__ import annotations

from typing import Annotated

import typer

webhook_app = typer.Typer(
    help="Webhook deliveries (Lumenfall signs them per Standard Webhooks).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

Body = Annotated[
    str, typer.Argument(metavar="BODY", help="File with the raw request body; - for stdin.")
]
HeadersFile = Annotated[
    str | None,
    typer.Option(
        "--headers",
        metavar="FILE",
        help="File with the request's headers as raw 'Name: value' lines (as a server "
        "or curl -D saves them); - for stdin. --id, --timestamp and --signature override it.",
        show_default=False,
    ),
]
WebhookId = Annotated[
    str | None,
    typer.Option("--id", metavar="MSG_ID", help="The webhook-id header.", show_default=False),
]
Timestamp = Annotated[
    str | None,
    typer.Option(
        "--timestamp",
        metavar="UNIX_SECONDS",
        help="The webhook-timestamp header.",
        show_default=False,
    ),
]
Signature = Annotated[
    str | None,
    typer.Option(
        "--signature",
        metavar="SIGNATURES",
        help="The webhook-signature header (quote it: it may hold several signatures).",
        show_default=False,
    ),
]
SecretEnv = Annotated[
    str,
    typer.Option(
        "--secret-env",
        metavar="NAME",
        help="Environment variable holding the signing secret (whsec_...).",
    ),
]
Tolerance = Annotated[
    int,
    typer.Option(
        "--tolerance",
        min=0,
        metavar="SECONDS",
        help="Accept a webhook-timestamp this far from this machine's clock, either way.",
    ),
]
Json = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print the result as one JSON object: valid, type, id, status, output_url, "
        "webhook_id, timestamp, reason (also when the delivery is rejected).",
    ),
]


@webhook_app.command("verify")
def verify(
    body: Body,
    headers: HeadersFile = None,
    webhook_id: WebhookId = None,
    timestamp: Timestamp = None,
    signature: Signature = None,
    secret_env: SecretEnv = "LUMENFALL_WEBHOOK_SECRET",
    tolerance: Tolerance = 300,
    json_mode: Json = False,
) -> None:
    """Check a webhook delivery's signature and timestamp; print its job id and status.

    BODY is the raw request body, byte for byte as received. The headers come
    from --headers FILE or the flags; the secret from the environment variable
    named by --secret-env, never from the command line. A valid delivery prints
    the job id and status, tab-separated, on stdout (exit 0). A signature that
    does not match or a timestamp outside the tolerance prints the reason on
    stderr (exit 4); a missing header, secret or file is exit 2.

    Examples:

    \b
      framecast webhook verify body.json --headers headers.txt
      framecast webhook verify - --headers headers.txt --json < body.json
      framecast webhook verify body.json --id "$ID" --timestamp "$TS" --signature "$SIG"
    """
    from framecast.errors import WebhookRejected
    from framecast.results import print_json
    from framecast.ui import print_tsv
    from framecast.webhook_verify import check_delivery, rejected_document

    given = {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
    }
    try:
        event = check_delivery(
            body, headers_file=headers, given=given, secret_env=secret_env, tolerance=tolerance
        )
    except WebhookRejected as error:
        if json_mode:
            print_json(rejected_document(error))
        raise
    if json_mode:
        print_json(event.document())
    else:
        print_tsv([(event.id, event.status)])
