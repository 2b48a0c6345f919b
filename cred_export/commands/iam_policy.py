"""`cred-export iam-policy`: the least-privilege IAM policy Claude Code on Bedrock needs."""

from __future__ import annotations

import click

from cred_export.commands.options import debug_option


@click.command("iam-policy")
@click.option(
    "--model",
    "models",
    multiple=True,
    metavar="MODEL",
    help="Allow only this model: an inference profile id (global.anthropic.claude-sonnet-4-6), a"
    " foundation model id or an application inference profile ARN. Repeatable.",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    help="Allow calls only in this region (default: any). Repeatable.",
)
@click.option("--account", metavar="ID", help="Allow only this account's inference profiles (default: any).")
@click.option(
    "--all-providers",
    is_flag=True,
    help="Without --model: allow every provider's models, not only Anthropic's (the default).",
)
@debug_option
def iam_policy(
    models: tuple[str, ...], regions: tuple[str, ...], account: str | None, all_providers: bool
) -> None:
    """Print the IAM policy Claude Code needs on Amazon Bedrock (JSON, on stdout)."""
    import json

    from cred_export.claude.iam_policy import build_policy
    from cred_export.errors import ConfigError

    if all_providers and models:
        raise ConfigError("--all-providers widens the policy when no --model is given; use one or the other")
    policy = build_policy(models, regions, account, all_providers=all_providers)
    click.echo(json.dumps(policy, indent=2))
