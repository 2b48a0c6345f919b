"""Check 8: the local clock against AWS's (the `Date` of an STS response).

SigV4 rejects requests signed more than 5 minutes off AWS's time, so a skewed clock breaks
every call. The time comes from the identity check's response; without credentials an unsigned
STS request is made just to read its `Date` header.
"""

from __future__ import annotations

import sys

from cred_export.aws import sts
from cred_export.doctor.context import Context
from cred_export.doctor.identity import date_keeper
from cred_export.doctor.report import Check, fail, ok, skip, warn

WARN_SECONDS = 60
FAIL_SECONDS = 300  # SigV4's limit


def check_clock(ctx: Context) -> Check:
    if ctx.server_date is None:
        _ask_sts_for_the_time(ctx)
    if ctx.server_date is None or ctx.local_time is None:
        return skip("clock", "needs an answer from STS to compare with (none came)")
    return verdict(ctx.local_time - ctx.server_date)


def verdict(skew: float) -> Check:
    """`skew`: local clock minus AWS's, in seconds (HTTP dates have 1 s resolution)."""
    if abs(skew) < 2:
        return ok("clock", "in step with AWS (within 2 s)")
    direction = "ahead of" if skew > 0 else "behind"
    detail = f"local clock {abs(skew):.0f} s {direction} AWS"
    if abs(skew) > FAIL_SECONDS:
        return fail("clock", detail + " (AWS rejects requests signed more than 5 min off)", _sync_fix())
    if abs(skew) > WARN_SECONDS:
        return warn("clock", detail + " (AWS rejects more than 5 min)", _sync_fix())
    return ok("clock", detail)


def _ask_sts_for_the_time(ctx: Context) -> None:
    """An unsigned GetCallerIdentity: STS refuses it, but its answer carries the time."""
    try:
        sts.get_caller_identity(ctx.profile, None, on_date=date_keeper(ctx))
    except Exception:  # refused, unparsable or unreachable: only the Date header matters
        pass


def _sync_fix() -> str:
    if sys.platform == "darwin":
        return "sync the clock: sudo sntp -sS time.apple.com"
    if sys.platform == "win32":
        return "sync the clock: w32tm /resync"
    return "sync the clock: sudo timedatectl set-ntp true (or chronyc makestep)"
