"""Check 5: the region Claude Code calls Bedrock in, found the way Claude Code finds it.

Claude Code reads AWS_REGION (its settings' `env`, else the environment), then
AWS_DEFAULT_REGION, then the `region` of the AWS profile its SDK uses (AWS_PROFILE, else
`default`; not the profile in the export hook's command). Older versions read AWS_REGION only.
"""

from __future__ import annotations

from cred_export.doctor import claude_env
from cred_export.doctor.claude_wiring import setup_command
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, warn


def check_region(ctx: Context) -> Check:
    region = claude_env.lookup("AWS_REGION")
    if region is not None:
        ctx.region = region.value.strip()
        return ok("region", f"{region.value} (AWS_REGION from {region.source})")
    fallback = _fallback_region(ctx)
    if fallback is not None:
        ctx.region, where = fallback
        return warn(
            "region",
            f"{ctx.region} only from {where}; AWS_REGION is not set (older Claude Code versions need it)",
            _set_region_fix(ctx, ctx.region),
        )
    sdk_profile = _sdk_profile()
    detail = f"no region: AWS_REGION, AWS_DEFAULT_REGION and profile {sdk_profile}'s region are all unset"
    hook_region = _profile_region(ctx, ctx.profile)
    if hook_region and ctx.profile != sdk_profile:
        detail += (
            f" (profile {ctx.profile} has {hook_region}, but Claude Code's SDK reads profile {sdk_profile})"
        )
    return fail("region", detail, _set_region_fix(ctx, hook_region or "us-east-1"))


def _fallback_region(ctx: Context) -> tuple[str, str] | None:
    default_region = claude_env.lookup("AWS_DEFAULT_REGION")
    if default_region is not None:
        return default_region.value, f"AWS_DEFAULT_REGION ({default_region.source})"
    profile = _sdk_profile()
    region = _profile_region(ctx, profile)
    return (region, f"profile {profile}'s region") if region else None


def _sdk_profile() -> str:
    setting = claude_env.lookup("AWS_PROFILE")
    return setting.value if setting is not None else "default"


def _profile_region(ctx: Context, profile: str) -> str | None:
    if ctx.aws_config is None:
        return None
    return (ctx.aws_config.profiles.get(profile, {}).get("region") or "").strip() or None


def _set_region_fix(ctx: Context, region: str) -> str:
    """The command that sets AWS_REGION in Claude Code's user settings."""
    return f"run {setup_command(ctx.profile, '--region', region)}"
