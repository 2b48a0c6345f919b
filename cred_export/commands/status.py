"""`cred-export status`: what each profile resolves to and what is cached, without network."""

from __future__ import annotations

import json
import sys

import click

from cred_export.commands.options import debug_option


@click.command()
@click.option("--profile", "-p", metavar="NAME", help="One profile (default: every profile).")
@click.option("--json", "as_json", is_flag=True, help="A JSON document (shape in the README).")
@debug_option
def status(profile: str | None, as_json: bool) -> None:
    """Show profiles: chain, cached credentials, sign-in sessions. No network, no secrets."""
    from cred_export.flows.status import render_text
    from cred_export.flows.status import status as status_document

    document = status_document(profile)
    sys.stdout.write(json.dumps(document, indent=2) + "\n" if as_json else render_text(document))
