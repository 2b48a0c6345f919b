"""`cred-export client-secret`: keep an OIDC client secret in the credential store, not in a file."""

from __future__ import annotations

import sys

import click

from cred_export.commands.options import debug_option
from cred_export.fast.invocation import choose_profile


@click.command("client-secret")
@click.option(
    "--profile", "-p", metavar="NAME", help='The OIDC profile ([profiles.NAME] with source = "oidc").'
)
@click.option("--delete", is_flag=True, help="Forget the stored client secret.")
@debug_option
def client_secret(profile: str | None, delete: bool) -> None:
    """Store the OIDC client secret of a profile, read from stdin (or typed, hidden)."""
    from cred_export.errors import ConfigError
    from cred_export.flows.export import resolve
    from cred_export.settings import load_settings
    from cred_export.stores.choose import choose_store

    name, named = choose_profile(profile)
    settings = load_settings()
    key = resolve(name, named, settings).root.client_secret_key()
    if key is None:
        raise ConfigError(f'profile {name!r} is not an OIDC profile (source = "oidc")')
    store = choose_store(settings)
    if delete:
        store.delete(key)
        click.echo(f"Client secret for profile {name} removed from {store.name}.")
        return
    secret = _read_secret()
    if not secret:
        raise ConfigError("no client secret given on stdin")
    store.put_text(key, secret)
    click.echo(f"Client secret for profile {name} stored in {store.name}.")


def _read_secret() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Client secret: ").strip()
    return sys.stdin.readline().strip()
