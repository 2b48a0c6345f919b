"""`cred-export setup claude`: wire Claude Code to cred-export (user or managed settings).

Messages go to `say`; `out` carries only a document (`--managed`, `--dry-run`'s diff).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from cred_export import files, log
from cred_export.aws.config import load_aws_config
from cred_export.claude import code_wiring
from cred_export.claude.code_settings import HOOKS, MANAGED_SETTINGS_PATHS, effective, user_settings_path
from cred_export.errors import ConfigError
from cred_export.fast.invocation import choose_profile
from cred_export.flows.export import resolve
from cred_export.settings import load_settings

_REFRESH_WHY = (
    "Claude Code runs awsAuthRefresh at every start when its own AWS SDK cannot resolve the"
    " profile; while the credentials are valid, cred-export login answers from the cache, as fast as"
    " the export"
)
_OS_NAMES = {"macos": "macOS", "linux": "Linux/WSL", "windows": "Windows"}


def setup_claude(
    profile: str | None,
    region: str | None,
    *,
    model: str | None,
    haiku_model: str | None,
    guardrail: str | None,
    managed: bool,
    output: str | None,
    executable: str | None,
    dry_run: bool,
    out: TextIO,
    say: Callable[[str], None],
) -> None:
    """Merge cred-export's hooks into Claude Code's user settings, or (`managed`) write the
    managed-settings.json document for IT to `output`, else to `out`."""
    _check_flags(managed, output, dry_run)
    profile, region, kept, last_resort_region = _keep_configured(profile, region, managed, output)
    name, _named = choose_profile(profile)
    profile_region = _check_profile(name, lenient=managed)
    wiring = code_wiring.Wiring(
        executable=code_wiring.executable_path(executable),
        profile=name,
        region=code_wiring.region_for(region, profile_region or last_resort_region),
        model=model,
        haiku_model=haiku_model,
        guardrail=guardrail,
    )
    document = wiring.document()
    if executable is not None and not managed:
        _warn_if_missing(executable)
    for flag, value in (("--model", model), ("--haiku-model", haiku_model)):
        warning = code_wiring.model_warning(flag, value)
        if warning:
            log.warn(warning)
    if managed:
        _emit_managed(document, output, kept, out, say)
    else:
        _update_user_settings(document, name, dry_run, kept, out, say)


def _check_flags(managed: bool, output: str | None, dry_run: bool) -> None:
    if output and not managed:
        raise ConfigError("--output goes with --managed; user settings are always Claude Code's own file")
    if dry_run and managed:
        raise ConfigError("--dry-run is for user settings; --managed without --output writes nothing")


def _keep_configured(
    profile: str | None, region: str | None, managed: bool, output: str | None
) -> tuple[str | None, str | None, str, str | None]:
    """What the settings file being rewritten already has, where nothing else says otherwise.

    The profile: unless --profile or AWS_PROFILE names one. The region: unless --region,
    AWS_REGION or AWS_DEFAULT_REGION gives one, and only for the same profile (another profile
    has its own region; the old one is then only the last resort). Returns the profile, the
    region, a note saying what was kept ("" for nothing) and that last-resort region."""
    # User settings, or a managed document being rewritten; nothing to keep when it is printed.
    path = user_settings_path() if not managed else Path(output) if output else None
    if path is None:
        return profile, region, "", None
    had_profile, had_region = code_wiring.configured(path)
    kept = []
    if profile is None and had_profile and not os.environ.get("AWS_PROFILE"):
        profile = had_profile
        kept.append(f"profile {had_profile}")
    environment_region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    same_profile = (profile or os.environ.get("AWS_PROFILE") or "default") == had_profile
    if region is None and had_region and not environment_region and same_profile:
        region = had_region
        kept.append(f"region {had_region}")
    return profile, region, f"; kept {' and '.join(kept)} from it" if kept else "", had_region


def _warn_if_missing(executable: str) -> None:
    if os.path.isabs(executable) and not os.path.exists(executable):  # another OS's path: no telling
        log.warn(
            f"--executable {executable} does not exist on this machine, so Claude Code cannot run it"
            " (for another machine's path, use --managed)"
        )


def _check_profile(name: str, *, lenient: bool) -> str | None:
    """Fail on a profile that does not resolve (warn only for --managed); its `region`, if any.

    The hooks always name the profile, so it is resolved as a named profile.
    """
    try:
        resolve(name, True, load_settings())
    except ConfigError as exc:
        if not lenient:
            raise
        log.warn(f"{exc}; define it on the machines that get these managed settings")
    return load_aws_config().profiles.get(name, {}).get("region")


def _update_user_settings(
    document: dict[str, Any], profile: str, dry_run: bool, kept: str, out: TextIO, say: Callable[[str], None]
) -> None:
    path = user_settings_path()
    current = code_wiring.read_settings(path)
    after = code_wiring.merged(current.data, document)
    if after == current.data:
        say(f"{path} is already configured for profile {profile}; nothing changed{kept}")
        _warn_if_overridden(document)
        return
    new_text = code_wiring.render(after, like=current.text)
    changed = ", ".join(code_wiring.changed_keys(current.data, after))
    if dry_run:
        out.write(code_wiring.unified_diff(path, current.text, new_text))
        say(f"dry run: would set {changed} in {path}; nothing written{kept}")
        return
    unwritable = files.unwritable(os.path.realpath(path))
    if unwritable:
        raise ConfigError(f"cannot write {path}: {unwritable}")
    try:
        backup = code_wiring.replace_settings(current, new_text)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
    verb = "updated" if current.raw is not None else "created"
    backup_note = f" (previous version in {backup})" if backup else ""
    why = f"; {_REFRESH_WHY}" if "awsAuthRefresh" in changed.split(", ") else ""
    say(f"{verb} {path}: set {changed}{backup_note}{kept}{why}")
    _warn_if_overridden(document)


def _warn_if_overridden(document: dict[str, Any]) -> None:
    """Managed or project settings that set a hook differently win over user settings: say so."""
    for key in HOOKS:
        found = effective(key)
        if found is not None and found[1].name != "user" and found[0] != document[key]:
            layer = found[1]
            log.warn(f"{layer.path} ({layer.name} settings) sets {key} too, and wins over user settings")
            return


def _emit_managed(
    document: dict[str, Any], output: str | None, kept: str, out: TextIO, say: Callable[[str], None]
) -> None:
    text = json.dumps(document, indent=2) + "\n"
    places = "; ".join(f"{_OS_NAMES[key]}: {path}" for key, path in MANAGED_SETTINGS_PATHS.items())
    if output is None:
        out.write(text)
        out.flush()
        say(f"install this as managed-settings.json — {places}")
        return
    target = Path(output).absolute()
    created = ""
    try:
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, mode=0o755)  # e.g. /etc/claude-code on a fresh image
            created = f" (created its folder {target.parent})"
        files.write_atomic(target, text.encode("utf-8"), code_wiring.file_mode(target))
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    say(f"wrote {target}{created}{kept}; install it as managed-settings.json — {places}")
