"""`cred-export setup claude-desktop`: make cred-export Claude Desktop's credential helper on Bedrock.

It records the profile, region and timings in cred-export's settings (`[claude_desktop]` in the
user's config.toml) and writes Claude Desktop's local configuration library; with `managed` it
writes what IT pushes instead: a `.mobileconfig`, a `.reg`, or the `[claude_desktop]` table of
the machine-wide config.toml. Messages go to `say`; `out` carries only a document.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from cred_export import log, paths
from cred_export.aws.config import load_aws_config
from cred_export.claude import desktop_config
from cred_export.claude.code_wiring import executable_path, file_mode, region_for, unified_diff
from cred_export.claude.desktop_config import (
    DEFAULT_LIFETIME_SECONDS,
    TTL_MARGIN_SECONDS,
    HelperChoice,
    ttl_for,
)
from cred_export.errors import ConfigError
from cred_export.fast.invocation import choose_profile
from cred_export.files import write_atomic
from cred_export.flows.desktop_token import credentials_lifetime
from cred_export.flows.export import resolve
from cred_export.settings import load_settings
from cred_export.util.toml_table import with_table


def setup_claude_desktop(
    profile: str | None,
    region: str | None,
    *,
    ttl: int | None,
    timeout: int,
    executable: str | None,
    managed: bool,
    fmt: str | None,
    output: str | None,
    dry_run: bool,
    out: TextIO,
    say: Callable[[str], None],
) -> None:
    """Make cred-export Claude Desktop's credential helper for `profile`, or (`managed`) write the
    document IT pushes (in `fmt`: mobileconfig, reg or toml) to `output`, else to `out`."""
    _check_flags(managed, fmt, output, dry_run)
    name, _named = choose_profile(profile)
    lifetime, profile_region = _profile_facts(name, lenient=managed)
    chosen_region = region_for(region, profile_region, product="Claude Desktop")
    choice = HelperChoice(name, chosen_region, _ttl(ttl, lifetime), timeout)
    if managed:
        assert fmt is not None
        path = None if fmt == "toml" else executable_path(executable)
        _emit_managed(choice, path, fmt, output, out, say)
    else:
        _configure_user(choice, executable_path(executable), dry_run, out, say)


def _check_flags(managed: bool, fmt: str | None, output: str | None, dry_run: bool) -> None:
    if managed and fmt is None:
        raise ConfigError("--managed needs --format mobileconfig, reg or toml")
    if not managed and (fmt or output):
        raise ConfigError("--format and --output go with --managed")
    if dry_run and managed:
        raise ConfigError(
            "--dry-run is for the user's own configuration; --managed writes only with --output"
        )


def _profile_facts(name: str, *, lenient: bool) -> tuple[int, str | None]:
    """How long the profile's credentials last, and its `region`; a profile that does not
    resolve fails (only a warning for --managed: it may exist only on the laptops)."""
    settings = load_settings()
    own_region = load_aws_config().profiles.get(name, {}).get("region") or settings.profiles.get(
        name, {}
    ).get("region")
    try:
        return credentials_lifetime(resolve(name, True, settings)), own_region
    except ConfigError as exc:
        if not lenient:
            raise
        log.warn(f"{exc}; define it on the machines that get this configuration")
        return DEFAULT_LIFETIME_SECONDS, own_region


def _ttl(option: int | None, lifetime: int) -> int:
    if option is None:
        return ttl_for(lifetime)
    if option + TTL_MARGIN_SECONDS > lifetime:
        log.warn(
            f"--ttl {option} is longer than this profile's credentials last ({lifetime} s) allows;"
            " the helper will refuse tokens it cannot keep alive that long"
        )
    return option


def _emit_managed(
    choice: HelperChoice,
    executable: str | None,
    fmt: str,
    output: str | None,
    out: TextIO,
    say: Callable[[str], None],
) -> None:
    if fmt == "toml":
        data = desktop_config.settings_toml(choice).encode("utf-8")
        where = (
            f"append it to cred-export's machine-wide settings ({paths.system_config_file()} here;"
            " macOS /Library/Application Support/cred-export/config.toml,"
            r" Windows %ProgramData%\cred-export\config.toml)"
        )
    else:
        assert executable is not None
        policy = desktop_config.managed_policy(choice, executable)
        if fmt == "mobileconfig":
            data = desktop_config.mobileconfig(policy)
            where = "push it as a configuration profile to the Macs"
        else:
            data = desktop_config.registry_file(policy)
            where = r"import it on the Windows machines (HKLM\SOFTWARE\Policies\Claude)"
        where += "; ship cred-export's machine-wide settings too: --managed --format toml"
    if output is None:
        out.buffer.write(data)
        out.flush()
        say(where)
        return
    target = Path(output).absolute()
    try:
        write_atomic(target, data, file_mode(target))
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    say(f"wrote {target}; {where}")


def _configure_user(
    choice: HelperChoice, executable: str, dry_run: bool, out: TextIO, say: Callable[[str], None]
) -> None:
    settings_path = Path(paths.user_config_file())
    old_settings = _read_text(settings_path)
    new_settings = with_table(old_settings, desktop_config.TABLE, choice.settings_table(), str(settings_path))
    keys = desktop_config.configuration(choice, executable)
    directory = desktop_config.library_dir()
    update = desktop_config.library_update(directory, keys) if directory else None
    if dry_run:
        out.write(unified_diff(settings_path, old_settings, new_settings))
        if update is not None:
            for path, document in ((update.entry_path, update.entry), (update.meta_path, update.meta)):
                out.write(unified_diff(Path(path), _read_text(Path(path)), _json(document)))
        say("dry run: nothing written")
        return
    _write(settings_path, new_settings)
    say(
        f"recorded profile {choice.profile}, region {choice.region} and a {choice.ttl_seconds} s TTL"
        f" in {settings_path}"
    )
    if update is None:
        places = "; ".join(f"{os_name}: {place}" for os_name, place in desktop_config.LIBRARY_PLACES.items())
        say(f"Claude Desktop does not run here; its configuration would go to {places}")
        return
    _write(Path(update.entry_path), _json(update.entry))
    _write(Path(update.meta_path), _json(update.meta))
    say(f"wrote {update.entry_path} and made it the applied configuration; restart Claude Desktop")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _write(path: Path, text: str) -> None:
    """Settings, not secrets: the file keeps its mode (0644 when new), written atomically."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"), file_mode(path))
    except OSError as exc:
        raise ConfigError(f"cannot write {exc.filename or path}: {exc.strerror}") from None


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"
