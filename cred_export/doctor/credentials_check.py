"""Check 6: credentials can be obtained, exactly as the export hook obtains them.

This runs export's own path (cache, refresh, upstream), so a success also leaves fresh
credentials in the cache. Doctor never signs in: `login_from_export = "auto"` is ignored here
and a needed sign-in is reported with the command to run.
"""

from __future__ import annotations

from cred_export.credentials import mask
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, skip
from cred_export.errors import ConfigError, CredExportError, LoginRequired, UpstreamError
from cred_export.flows import export


def check_credentials(ctx: Context) -> Check:
    if ctx.chain is None:
        return skip("credentials", "needs a profile that resolves")
    try:
        # Doctor diagnoses; it never opens a browser sign-in (login_from_export = "auto").
        ctx.credentials = export.export(ctx.profile, ctx.profile_named, allow_sign_in=False)
    except LoginRequired as exc:
        return fail("credentials", str(exc), _login_command(ctx))
    except UpstreamError as exc:
        return fail("credentials", str(exc), _upstream_fix())
    except ConfigError as exc:
        return fail("credentials", str(exc), "correct the configuration named here")
    except CredExportError as exc:
        return fail(
            "credentials", str(exc), f"run cred-export --profile {ctx.profile} --debug to see the steps"
        )
    return ok("credentials", _describe(ctx))


def _describe(ctx: Context) -> str:
    creds = ctx.credentials
    assert creds is not None
    origin = "from the cache" if ctx.cached is not None and ctx.cached == creds else "fetched"
    return f"{mask(creds.access_key_id)}, {creds.seconds_left() / 60:.0f} min left ({origin})"


def _upstream_fix() -> str:
    return "if AWS was not reached, check the network or VPN; otherwise follow the hint in the AWS error"


def _login_command(ctx: Context) -> str:
    return f"run cred-export login --profile {ctx.profile}"
