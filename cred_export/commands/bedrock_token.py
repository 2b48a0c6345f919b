"""`cred-export bedrock-token`: a short-term Bedrock API key for tools that want a bearer token."""

from __future__ import annotations

import sys

import click

from cred_export.commands.options import debug_option
from cred_export.fast.invocation import choose_profile
from cred_export.fast.render import TOKEN_FORMATS, render_token


@click.command("bedrock-token")
@click.option("--profile", "-p", metavar="NAME", help="AWS profile (default: $AWS_PROFILE, else 'default').")
@click.option("--region", metavar="REGION", help="Bedrock region (default: $AWS_REGION, else the profile's).")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(TOKEN_FORMATS),
    default="raw",
    show_default=True,
    help="raw: the key alone; env: an `export AWS_BEARER_TOKEN_BEDROCK=…` line.",
)
@debug_option
def bedrock_token(profile: str | None, region: str | None, fmt: str) -> None:
    """Print a short-term Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) made from the profile's credentials."""
    from cred_export.flows.bedrock_token import bedrock_token as make_token

    token = make_token(*choose_profile(profile), region).token
    sys.stdout.write(render_token(token, fmt))
    sys.stdout.flush()
