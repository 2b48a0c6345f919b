"""Checks 1 and 2: the configuration files parse, and the profile resolves to a chain."""

from __future__ import annotations

import os

from cred_export import paths
from cred_export.aws.config import load_aws_config
from cred_export.doctor.claude_env import display_path
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, skip
from cred_export.errors import ConfigError
from cred_export.flows.export import resolve
from cred_export.settings import load_settings


def check_config(ctx: Context) -> Check:
    """~/.aws/config, the credentials file and cred-export's TOML layers all parse."""
    errors: list[str] = []
    try:
        ctx.aws_config = load_aws_config()
    except ConfigError as exc:
        errors.append(str(exc))
    try:
        ctx.settings = load_settings()
    except ConfigError as exc:
        errors.append(str(exc))
    if errors:
        return fail("config", "; ".join(errors), "correct the file named here, then run doctor again")
    present = [display_path(path) for path in _config_files(ctx) if os.path.exists(path)]
    return ok("config", f"parsed {', '.join(present)}" if present else "no configuration files (defaults)")


def _config_files(ctx: Context) -> list[str]:
    sources = ctx.settings.sources if ctx.settings else ()
    return [paths.aws_config_file(), paths.aws_credentials_file(), *sources]


def check_profile(ctx: Context) -> Check:
    """The profile resolves: root source and role hops, as export would walk them."""
    if ctx.aws_config is None or ctx.settings is None:
        return skip("profile", "needs AWS config files that parse")
    try:
        ctx.chain = resolve(ctx.profile, ctx.profile_named, ctx.settings)
    except ConfigError as exc:
        return fail("profile", str(exc), _profile_fix(ctx))
    return ok("profile", f"{ctx.profile} (from {ctx.profile_origin}): {ctx.chain.describe()}")


def _profile_fix(ctx: Context) -> str:
    config = display_path(paths.aws_config_file())
    if ctx.aws_config is not None and ctx.profile not in ctx.aws_config.profiles:
        return f"add [profile {ctx.profile}] to {config}, or run doctor with --profile NAME"
    return f"correct profile {ctx.profile} in {config}"
