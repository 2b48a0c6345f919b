"""`cred-export clear`: forget cached credentials and sign-in sessions."""

from __future__ import annotations

import click

from cred_export.commands.options import debug_option


@click.command()
@click.option("--profile", "-p", metavar="NAME", help="The profile to clear.")
@click.option("--all", "everything", is_flag=True, help="Every profile, and the whole file cache.")
@click.option(
    "--session-files",
    "--sso-tokens",
    "session_files",
    is_flag=True,
    help="Also delete the session files these profiles share with the AWS CLI (SSO tokens).",
)
@debug_option
def clear(profile: str | None, everything: bool, session_files: bool) -> None:
    """Remove cached credentials and tokens from the keyring and the file cache."""
    from cred_export.flows.clear import clear as clear_profiles

    clear_profiles(profile, everything=everything, session_files=session_files, say=click.echo)
