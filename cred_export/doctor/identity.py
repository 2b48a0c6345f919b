"""Check 7: who the credentials are (sts:GetCallerIdentity, which needs no permission)."""

from __future__ import annotations

import time
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from cred_export.aws import sts
from cred_export.aws.clients import error_code, error_message
from cred_export.credentials import Keys
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, skip
from cred_export.errors import ConfigError
from cred_export.util.text import first_line


def check_identity(ctx: Context) -> Check:
    if ctx.credentials is None:
        return skip("identity", "needs credentials")
    creds = ctx.credentials
    keys = Keys(creds.access_key_id, creds.secret_access_key, creds.session_token, creds.expiration)
    try:
        response = sts.get_caller_identity(ctx.profile, keys, on_date=date_keeper(ctx))
    except ClientError as exc:
        return fail(
            "identity",
            f"GetCallerIdentity failed: {error_code(exc)}: {error_message(exc)}",
            "AWS refused the credentials: check the clock check below and the profile's keys or role",
        )
    except BotoCoreError as exc:
        return fail("identity", f"cannot reach STS: {first_line(exc)}", "check the network, VPN or proxy")
    except ConfigError as exc:  # no STS client for the profile's region or endpoint settings
        return fail("identity", str(exc), "check the profile's region and endpoint settings")
    return ok("identity", str(response.get("Arn", "?")))


def date_keeper(ctx: Context) -> Callable[[float], None]:
    """Keep AWS's time from an STS answer, and when it arrived, for the clock check."""

    def keep(server_date: float) -> None:
        ctx.server_date, ctx.local_time = server_date, time.time()

    return keep
