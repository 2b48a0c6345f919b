"""Which profile doctor checks: the one Claude Code's export hook would use, unless told."""

from __future__ import annotations

import os

from cred_export.doctor import hooks


def choose(option: str | None) -> tuple[str, bool, str]:
    """(profile, whether it was named, where the name came from).

    `--profile`, else `AWS_PROFILE`, else the `--profile` of Claude Code's effective
    awsCredentialExport command, else `default` (not named: environment keys may apply).
    """
    if option:
        return option, True, "--profile"
    from_env = os.environ.get("AWS_PROFILE")
    if from_env:
        return from_env, True, "AWS_PROFILE"
    hook = _export_hook()
    from_hook = hook.profile() if hook is not None else None  # even when its executable is wrong
    if hook is not None and from_hook:
        return from_hook, True, f"awsCredentialExport in {hook.layer.name} settings"
    return "default", False, "default"


def _export_hook() -> hooks.Hook | None:
    try:
        return hooks.effective("awsCredentialExport")
    except Exception:  # unreadable settings: the claude-code check reports them
        return None
