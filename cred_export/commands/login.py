"""`cred-export login`: what Claude Code's awsAuthRefresh runs (output shown, no input)."""

from __future__ import annotations

import sys

import click

from cred_export.commands.options import debug_option
from cred_export.fast.invocation import LOGIN_TIMEOUTS, choose_profile


@click.command()
@click.option("--profile", "-p", metavar="NAME", help="AWS profile (default: $AWS_PROFILE, else 'default').")
@click.option(
    "--device-code",
    "--remote",
    "flow",
    flag_value="device",
    help="Sign in on another device: a device code (SSO, OIDC), or a code to paste back (aws login"
    " sessions, at a terminal).",
)
@click.option("--browser", "flow", flag_value="browser", help="Sign in in this machine's browser.")
@click.option(
    "--timeout",
    type=click.FloatRange(*LOGIN_TIMEOUTS),
    default=None,
    metavar="SECONDS",
    help="Give up after this long (default 170 s: Claude Code stops awsAuthRefresh at 180 s).",
)
@debug_option
def login(profile: str | None, flow: str | None, timeout: float | None) -> None:
    """Sign in for a profile and cache its credentials (what awsAuthRefresh runs)."""
    from cred_export.flows.login import login as run_login
    from cred_export.util.subprocesses import detach_stdin

    detach_stdin()
    run_login(*choose_profile(profile), flow=flow or "auto", timeout=timeout, out=sys.stdout)
    sys.stdout.flush()
