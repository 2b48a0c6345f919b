"""`cred-export setup claude`: wire Claude Code to cred-export (user or managed settings).

Messages go to stderr; stdout carries only a document (`--managed`, `--dry-run`'s diff).
"""

from __future__ import annotations

import sys

import click

from cred_export import log
from cred_export.commands.options import debug_option
from cred_export.commands.setup_claude_desktop import claude_desktop


@click.group()
def setup() -> None:
    """Configure other tools to use cred-export."""


setup.add_command(claude_desktop)


@setup.command()
@click.option(
    "--profile",
    "-p",
    metavar="NAME",
    help="AWS profile the hooks use (default: $AWS_PROFILE, else the one settings.json has, else 'default').",
)
@click.option(
    "--region",
    metavar="REGION",
    help="Bedrock region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the one settings.json has,"
    " else the profile's region).",
)
@click.option("--model", metavar="MODEL", help="ANTHROPIC_MODEL: an inference profile id or ARN.")
@click.option("--haiku-model", metavar="MODEL", help="ANTHROPIC_DEFAULT_HAIKU_MODEL (the small, fast model).")
@click.option("--guardrail", metavar="ID:VERSION", help="Send every request through this Bedrock guardrail.")
@click.option("--managed", is_flag=True, help="Print a managed-settings.json document for IT instead.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="With --managed: write the document to FILE instead of stdout.",
)
@click.option(
    "--executable",
    metavar="PATH",
    help="The cred-export path the hooks run (default: this program's installed path).",
)
@click.option("--dry-run", is_flag=True, help="Show the change to settings.json as a diff; write nothing.")
@debug_option
def claude(
    profile: str | None,
    region: str | None,
    model: str | None,
    haiku_model: str | None,
    guardrail: str | None,
    managed: bool,
    output: str | None,
    executable: str | None,
    dry_run: bool,
) -> None:
    """Merge cred-export's hooks into Claude Code's user settings (~/.claude/settings.json)."""
    from cred_export.flows.setup import setup_claude

    setup_claude(
        profile,
        region,
        model=model,
        haiku_model=haiku_model,
        guardrail=guardrail,
        managed=managed,
        output=output,
        executable=executable,
        dry_run=dry_run,
        out=sys.stdout,
        say=log.info,
    )
