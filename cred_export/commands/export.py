"""`cred-export export`: what Claude Code's awsCredentialExport runs (the default command)."""

from __future__ import annotations

import sys

import click

from cred_export.commands.options import debug_option
from cred_export.fast.invocation import HitNotes, choose_profile
from cred_export.fast.render import FORMATS, render


@click.command()
@click.option("--profile", "-p", metavar="NAME", help="AWS profile (default: $AWS_PROFILE, else 'default').")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    default="claude",
    show_default=True,
    help="claude: Claude Code's awsCredentialExport JSON; process: credential_process; env: shell exports.",
)
@debug_option
@click.pass_context
def export(ctx: click.Context, profile: str | None, fmt: str) -> None:
    """Print credentials for a profile (what awsCredentialExport runs)."""
    from cred_export.flows.export import export as export_credentials

    notes = ctx.find_object(HitNotes) or HitNotes()
    creds = export_credentials(*choose_profile(profile), keyring_unavailable=notes.keyring_unavailable)
    sys.stdout.write(render(creds, fmt))
    sys.stdout.flush()
