"""`cred-export status`: what each profile resolves to and what is cached, without network."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from cred_export.commands.options import debug_option
from cred_export.util.text import time_left


@click.command()
@click.option("--profile", "-p", metavar="NAME", help="One profile (default: every profile).")
@click.option("--json", "as_json", is_flag=True, help="A JSON document (shape in the README).")
@debug_option
def status(profile: str | None, as_json: bool) -> None:
    """Show profiles: chain, cached credentials, sign-in sessions. No network, no secrets."""
    from cred_export.aws.config import load_aws_config
    from cred_export.chain import resolve_chain
    from cred_export.errors import CredExportError
    from cred_export.flows.status import describe
    from cred_export.settings import load_settings
    from cred_export.stores.choose import choose_store

    settings = load_settings()
    config = load_aws_config()
    store = choose_store(settings, decide=False)
    names = [profile] if profile else sorted({*config.profiles, *settings.profiles})
    entries = []
    for name in names:
        try:
            chain = resolve_chain(config, name, profile_named=True, idp_profiles=settings.profiles)
            entries.append(describe(chain, store, settings))
        except CredExportError as exc:
            if profile:
                raise
            entries.append({"profile": name, "error": str(exc)})
    document = {
        "store": {"name": store.name, "kind": store.kind, "fallback_reason": store.fallback_reason},
        "profiles": entries,
    }
    sys.stdout.write(json.dumps(document, indent=2) + "\n" if as_json else _text(document))


def _text(document: dict[str, Any]) -> str:
    lines = [f"cache: {document['store']['name']}"]
    for entry in document["profiles"]:
        lines.append(f"\n{entry['profile']}")
        if entry.get("error"):
            lines.append(f"  error: {entry['error']}")
            continue
        lines.append(f"  chain: {entry['chain']}")
        lines.append(f"  credentials: {_time_left(entry['credentials'])}")
        if entry["session"]:
            session = entry["session"]
            renewable = ", renewable" if session["renewable"] else ""
            lines.append(f"  {session['kind']} session: {_time_left(session)}{renewable}")
        lines.append(
            "  sign-in: "
            + (f"needed: {entry['sign_in_command']}" if entry["sign_in_needed"] else "not needed")
        )
    return "\n".join(lines) + "\n"


def _time_left(timed: dict[str, Any]) -> str:
    if not timed["cached"]:
        return "none"
    left = timed["minutes_left"]
    if left <= 0:
        return f"{time_left(left * 60)} (at {timed['expires']})"
    return f"{time_left(left * 60)} (until {timed['expires']})"
