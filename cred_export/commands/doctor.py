"""`cred-export doctor`: checks with one-line fixes, from config files to Bedrock."""

from __future__ import annotations

import click


@click.command()
def doctor() -> None:
    """Check the set-up end to end."""
    from cred_export.errors import ConfigError

    raise ConfigError("doctor is not available yet")
