"""Check 11: Claude Code's settings files, and the hook commands it will actually run.

Layers, highest precedence first: managed, project-local (`.claude/settings.local.json`),
project (`.claude/settings.json`), user (`~/.claude/settings.json`); the project layers are
read from the current directory, as Claude Code reads them from the directory it starts in.
"""

from __future__ import annotations

import os

from cred_export import claude_code, installed
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
    fixes = [fix for fix in (_export_fix(ctx, export), _refresh_fix(ctx, refresh), _flag_fix(flag)) if fix]
    return warn("claude-code", detail, "; ".join(fixes)) if fixes else ok("claude-code", detail)


def _layers() -> tuple[list[str], list[str]]:
    """Names of the settings files that exist, and messages for those that do not parse."""
    present: list[str] = []
    broken: list[str] = []
    for layer in claude_code.layers():
        try:
            if layer.load() is not None:
                present.append(f"{layer.name} {display_path(str(layer.path))}")
        except ConfigError as exc:
            broken.append(f"{layer.name} settings: {exc}")
    return present, broken


def _describe(name: str, hook: hooks.Hook | None) -> str:
    return f"{name} ({hook.where}): {hook.shown()}" if hook else f"{name} not set"


def _export_fix(ctx: Context, hook: hooks.Hook | None) -> str | None:
    command = f"{own_executable()} --profile {ctx.profile}"
    if hook is None:
        return f'add "awsCredentialExport": "{command}" to {_user_settings()}'
    executable = hook.executable()
    if executable is None:
        return f'awsCredentialExport does not run cred-export: set it to "{command}"'
    unusable = _unusable(executable)
    return f'{unusable}: set awsCredentialExport to "{command}"' if unusable else None


def _refresh_fix(ctx: Context, hook: hooks.Hook | None) -> str | None:
    if hook is not None:
        return None
    return f'add "awsAuthRefresh": "{own_executable()} login --profile {ctx.profile}" to {_user_settings()}'


def _flag_fix(flag: claude_env.Setting | None) -> str | None:
    if flag is not None and flag.value.strip() == "1":
        return None
    return f'add "CLAUDE_CODE_USE_BEDROCK": "1" to "env" in {_user_settings()}'


def _unusable(executable: str) -> str | None:
    """Why Claude Code could not start this executable, or None."""
    if not os.path.isabs(os.path.expanduser(executable)):
        return f"{executable} is not an absolute path (Claude Code runs hooks with its own PATH)"
    if not os.access(os.path.expanduser(executable), os.X_OK):
        return f"{executable} does not exist or is not executable"
    return None


def _user_settings() -> str:
    return display_path(str(claude_code.user_settings_path()))


def own_executable() -> str:
    """The absolute path of the cred-export running now, for the fix lines."""
    return installed.executable() or "cred-export"
