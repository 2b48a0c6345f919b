"""Check 7: who the credentials are (sts:GetCallerIdentity, which needs no permission)."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cred_export.aws.clients import error_code, error_message
from cred_export.doctor.aws_clients import signed_client
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, skip
from cred_export.util.text import first_line


def check_identity(ctx: Context) -> Check:
    if ctx.credentials is None:
        return skip("identity", "needs credentials")
    try:
        response = watch_date(signed_client("sts", ctx.profile, ctx.credentials), ctx).get_caller_identity()
    except ClientError as exc:
        return fail(
            "identity",
            f"GetCallerIdentity failed: {error_code(exc)}: {error_message(exc)}",
            "AWS refused the credentials: check the clock check below and the profile's keys or role",
        )
    except BotoCoreError as exc:
        return fail("identity", f"cannot reach STS: {first_line(exc)}", "check the network, VPN or proxy")
    return ok("identity", str(response.get("Arn", "?")))


def watch_date(client: Any, ctx: Context) -> Any:
    """Make `client` keep the `Date` of each GetCallerIdentity answer, and when it arrived.

    Read before botocore parses the body, so any answer (even an error) tells the time.
    """

    def remember(response_dict: dict[str, Any], **_kwargs: Any) -> None:
        date = parse_http_date(response_dict.get("headers", {}).get("date", ""))
        if date is not None:
            ctx.server_date, ctx.local_time = date, time.time()

    client.meta.events.register("before-parse.sts.GetCallerIdentity", remember)
    return client


def parse_http_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None
