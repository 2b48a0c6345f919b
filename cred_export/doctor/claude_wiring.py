"""Check 11: Claude Code's settings files, and the hook commands it will actually run.

Layers, highest precedence first: managed, project-local (`.claude/settings.local.json`),
project (`.claude/settings.json`), user (`~/.claude/settings.json`); the project layers are
read from the current directory, as Claude Code reads them from the directory it starts in.
"""

from __future__ import annotations

import os
import shlex

from cred_export.claude import code_settings
from cred_export.doctor import claude_env, hooks
from cred_export.doctor.claude_env import display_path
from cred_export.doctor.context import Context
from cred_export.doctor.report import Check, fail, ok, warn
from cred_export.errors import ConfigError


def check_claude_code(ctx: Context) -> Check:
    present, broken = _layers()
    if broken:
        return fail(
            "claude-code", broken[0], "fix the JSON: Claude Code cannot use a settings file it cannot parse"
        )
    export = hooks.effective("awsCredentialExport")
    refresh = hooks.effective("awsAuthRefresh")
    flag = claude_env.lookup("CLAUDE_CODE_USE_BEDROCK")
    detail = "; ".join(
        [
            f"settings: {', '.join(present) or 'none'}",
            _describe("awsCredentialExport", export),
            _describe("awsAuthRefresh", refresh),
            f"CLAUDE_CODE_USE_BEDROCK={flag.value} ({flag.short_source})"
            if flag
            else "CLAUDE_CODE_USE_BEDROCK unset",
        ]
    )
    problems = [
        problem
        for problem in (
            _export_problem(ctx, export),
            _refresh_problem(refresh),
            _flag_problem(flag),
        )
        if problem
    ]
    if not problems:
        return ok("claude-code", detail)
    profile = _profile_to_wire(ctx, export)
    return warn("claude-code", detail, f"{'; '.join(problems)}: run {setup_command(profile)}")


def setup_command(profile: str, *more: str) -> str:
    """The command that writes (or rewrites) cred-export's hooks into Claude Code's user settings."""
    return shlex.join(["cred-export", "setup", "claude", "--profile", profile, *more])


def _profile_to_wire(ctx: Context, hook: hooks.Hook | None) -> str:
    """The profile to set up: the one asked for, else the one the hook already names."""
    if ctx.profile_origin in ("--profile", "AWS_PROFILE") or hook is None:
        return ctx.profile
    return hook.profile() or ctx.profile


def _layers() -> tuple[list[str], list[str]]:
    """Names of the settings files that exist, and messages for those that do not parse."""
    present: list[str] = []
    broken: list[str] = []
    for layer in code_settings.layers():
        try:
            if layer.load() is not None:
                present.append(f"{layer.name} {display_path(str(layer.path))}")
        except ConfigError as exc:
            broken.append(f"{layer.name} settings: {exc}")
    return present, broken


def _describe(name: str, hook: hooks.Hook | None) -> str:
    return f"{name} ({hook.where}): {hook.shown()}" if hook else f"{name} not set"


def _export_problem(ctx: Context, hook: hooks.Hook | None) -> str | None:
    if hook is None:
        return "awsCredentialExport is not set"
    executable = hook.executable()
    if executable is None:
        program = hook.program() or ""
        if os.path.isabs(os.path.expanduser(program)) and not os.path.exists(os.path.expanduser(program)):
            return f"awsCredentialExport's executable {program} not found"
        return "awsCredentialExport does not run cred-export"
    unusable = _unusable(executable)
    if unusable:
        return f"awsCredentialExport: {unusable}"
    used = hook.profile()
    if ctx.profile_origin in ("--profile", "AWS_PROFILE") and used != ctx.profile:
        shown = f"profile {used}" if used else "no --profile"
        return f"awsCredentialExport uses {shown}, not {ctx.profile}"
    return None


def _refresh_problem(hook: hooks.Hook | None) -> str | None:
    return "awsAuthRefresh is not set" if hook is None else None


def _flag_problem(flag: claude_env.Setting | None) -> str | None:
    if flag is not None and flag.value.strip() == "1":
        return None
    return "CLAUDE_CODE_USE_BEDROCK is not 1"


def _unusable(executable: str) -> str | None:
    """Why Claude Code could not start this executable, or None."""
    if not os.path.isabs(os.path.expanduser(executable)):
        return f"{executable} is not an absolute path (Claude Code runs hooks with its own PATH)"
    if not os.path.exists(os.path.expanduser(executable)):
        return f"executable not found: {executable}"
    if not os.access(os.path.expanduser(executable), os.X_OK):
        return f"{executable} is not executable"
    return None
