"""`cred-export setup claude`: wire Claude Code to cred-export (user or managed settings)."""

from __future__ import annotations

import click


@click.group()
def setup() -> None:
    """Configure other tools to use cred-export."""


@setup.command()
def claude() -> None:
    """Merge cred-export's hooks into Claude Code's settings."""
    from cred_export.errors import ConfigError

    raise ConfigError("setup claude is not available yet")
