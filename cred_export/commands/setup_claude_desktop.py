"""`cred-export setup claude-desktop`: make cred-export Claude Desktop's credential helper on Bedrock.

It records the profile, region and timings in cred-export's settings (`[claude_desktop]` in the
user's config.toml) and writes Claude Desktop's local configuration library; with `--managed` it
prints what IT pushes instead: a `.mobileconfig`, a `.reg`, or the `[claude_desktop]` table of
the machine-wide config.toml. Messages go to stderr; stdout carries only a document.
"""

from __future__ import annotations

import sys

import click

from cred_export import log
from cred_export.commands.options import debug_option

FORMATS = ("mobileconfig", "reg", "toml")  # what --managed can write


@click.command("claude-desktop")
@click.option(
    "--profile", "-p", metavar="NAME", help="AWS profile the helper serves (default: $AWS_PROFILE)."
)
@click.option(
    "--region",
    metavar="REGION",
    help="Bedrock region (default: $AWS_REGION, $AWS_DEFAULT_REGION, else the profile's region).",
)
@click.option(
    "--ttl",
    type=click.IntRange(60, 3600),
    metavar="SECONDS",
    help="How long Claude Desktop keeps a token (default: a third of the credentials' lifetime).",
)
@click.option(
    "--timeout",
    type=click.IntRange(10, 600),
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="How long one helper run may take, a browser sign-in included.",
)
@click.option("--executable", metavar="PATH", help="The cred-export path Claude Desktop runs.")
@click.option("--managed", is_flag=True, help="Print the document IT pushes instead (see --format).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="With --managed: mobileconfig (macOS), reg (Windows) or toml (cred-export's machine-wide settings).",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), metavar="FILE", help="With --managed: write FILE."
)
@click.option("--dry-run", is_flag=True, help="Show the changes as diffs; write nothing.")
@debug_option
def claude_desktop(
    profile: str | None,
    region: str | None,
    ttl: int | None,
    timeout: int,
    executable: str | None,
    managed: bool,
    fmt: str | None,
    output: str | None,
    dry_run: bool,
) -> None:
    """Make cred-export Claude Desktop's credential helper for Amazon Bedrock."""
    from cred_export.flows.setup_claude_desktop import setup_claude_desktop

    setup_claude_desktop(
        profile,
        region,
        ttl=ttl,
        timeout=timeout,
        executable=executable,
        managed=managed,
        fmt=fmt,
        output=output,
        dry_run=dry_run,
        out=sys.stdout,
        say=log.info,
    )
