"""`cred-export clear`: forget cached credentials and tokens."""

from __future__ import annotations

import click


@click.command()
def clear() -> None:
    """Remove cached credentials and tokens."""
    from cred_export.errors import ConfigError

    raise ConfigError("clear is not available yet")
