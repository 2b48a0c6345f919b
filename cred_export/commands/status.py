"""`cred-export status`: what each profile resolves to and what is cached, without network."""

from __future__ import annotations

import click


@click.command()
def status() -> None:
    """Show profiles, their chains and cache state."""
    from cred_export.errors import ConfigError

    raise ConfigError("status is not available yet")
