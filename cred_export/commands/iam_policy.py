"""`cred-export iam-policy`: the least-privilege IAM policy Claude Code on Bedrock needs."""

from __future__ import annotations

import click


@click.command("iam-policy")
def iam_policy() -> None:
    """Print the IAM policy Claude Code needs."""
    from cred_export.errors import ConfigError

    raise ConfigError("iam-policy is not available yet")
