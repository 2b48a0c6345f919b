"""Check: the environment cred-export and Claude Code run in — proxies, CA bundles, stray AWS keys.

Enterprise laptops sit behind HTTPS proxies and TLS-inspecting CAs, and stale `AWS_*` variables
are a common cause of "wrong account" reports: Claude Code's own SDK falls back to keys in its
environment whenever the export hook fails, and takes its region from `AWS_PROFILE`'s profile.
"""

from __future__ import annotations

import os

from cred_export.doctor import claude_env, hooks
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, warn
from cred_export.util import http

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")
_KEY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def check_environment(ctx: Context) -> Check:
    detail = f"{_proxies()}; {_cas(ctx)}"
    bundle, source = http.ca_bundle()
    if bundle and not os.path.isfile(bundle):
        return fail(
            "environment",
            f"{detail}; {bundle} ({source}) does not exist",
            f"point {source} at your CA bundle",
        )
    problems = [problem for problem in (_stray_keys(ctx), _other_profile(ctx)) if problem]
    if problems:
        return warn(
            "environment", f"{detail}; {'; '.join(p for p, _ in problems)}", "; ".join(f for _, f in problems)
        )
    return ok("environment", detail)


def _proxies() -> str:
    found = [
        f"{name}={http.mask_proxy(os.environ[name])}" for name in _PROXY_VARIABLES if os.environ.get(name)
    ]
    return "proxy: " + ", ".join(found) if found else "no proxy"


def _cas(ctx: Context) -> str:
    bundle, source = http.ca_bundle()
    aws_bundle = _profile_setting(ctx, "ca_bundle")
    shown = f"CAs: {bundle} ({source})" if bundle else f"CAs: {source}"
    return shown + (f"; AWS calls: ca_bundle {aws_bundle} in profile {ctx.profile}" if aws_bundle else "")


def _stray_keys(ctx: Context) -> tuple[str, str] | None:
    present = [(name, setting) for name in _KEY_VARIABLES if (setting := claude_env.lookup(name))]
    if not present:
        return None
    names = ", ".join(name for name, _ in present)
    where = present[0][1].source
    return (
        f"{names} set in {where}: Claude Code's SDK uses them whenever the export hook fails, and they may"
        " belong to another account",
        f"unset {names} (cred-export's hook names its profile and does not need them)",
    )


def _other_profile(ctx: Context) -> tuple[str, str] | None:
    setting = claude_env.lookup("AWS_PROFILE")
    hook = hooks.effective("awsCredentialExport")
    hook_profile = hook.profile() if hook is not None else None
    if setting is None or hook_profile is None or setting.value == hook_profile:
        return None
    return (
        f"AWS_PROFILE={setting.value} ({setting.source}) but the export hook uses profile {hook_profile}",
        f"set AWS_PROFILE to {hook_profile} or unset it: Claude Code takes its region and fallback"
        " credentials from AWS_PROFILE's profile",
    )


def _profile_setting(ctx: Context, key: str) -> str | None:
    if ctx.aws_config is None:
        return None
    return (ctx.aws_config.profiles.get(ctx.profile, {}).get(key) or "").strip() or None
