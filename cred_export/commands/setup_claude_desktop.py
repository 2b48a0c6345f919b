"""`cred-export setup claude-desktop`: make cred-export Claude Desktop's credential helper on Bedrock.

It records the profile, region and timings in cred-export's settings (`[claude_desktop]` in the
user's config.toml) and writes Claude Desktop's local configuration library; with `--managed` it
prints what IT pushes instead: a `.mobileconfig`, a `.reg`, or the `[claude_desktop]` table of
the machine-wide config.toml. Messages go to stderr; stdout carries only a document.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cred_export.commands.options import debug_option

if TYPE_CHECKING:
    from cred_export.claude.desktop import HelperChoice

FORMATS = ("mobileconfig", "reg", "toml")


@click.command("claude-desktop")
@click.option(
    "--profile", "-p", metavar="NAME", help="AWS profile the helper serves (default: $AWS_PROFILE)."
)
@click.option(
    "--region",
    metavar="REGION",
    help="Bedrock region (default: $AWS_REGION, $AWS_DEFAULT_REGION, else the profile's region).",
)
@click.option(
    "--ttl",
    type=click.IntRange(60, 3600),
    metavar="SECONDS",
    help="How long Claude Desktop keeps a token (default: a third of the credentials' lifetime).",
)
@click.option(
    "--timeout",
    type=click.IntRange(10, 600),
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="How long one helper run may take, a browser sign-in included.",
)
@click.option("--executable", metavar="PATH", help="The cred-export path Claude Desktop runs.")
@click.option("--managed", is_flag=True, help="Print the document IT pushes instead (see --format).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="With --managed: mobileconfig (macOS), reg (Windows) or toml (cred-export's machine-wide settings).",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), metavar="FILE", help="With --managed: write FILE."
)
@click.option("--dry-run", is_flag=True, help="Show the changes as diffs; write nothing.")
@debug_option
def claude_desktop(
    profile: str | None,
    region: str | None,
    ttl: int | None,
    timeout: int,
    executable: str | None,
    managed: bool,
    fmt: str | None,
    output: str | None,
    dry_run: bool,
) -> None:
    """Make cred-export Claude Desktop's credential helper for Amazon Bedrock."""
    from cred_export.claude.desktop import HelperChoice
    from cred_export.claude.setup import executable_path, region_for
    from cred_export.fast.invocation import choose_profile

    _check_flags(managed, fmt, output, dry_run)
    name, _named = choose_profile(profile)
    lifetime, profile_region = _profile_facts(name, lenient=managed)
    chosen_region = region_for(region, profile_region, product="Claude Desktop")
    choice = HelperChoice(name, chosen_region, _ttl(ttl, lifetime), timeout)
    if managed:
        assert fmt is not None
        path = None if fmt == "toml" else executable_path(executable)
        _emit_managed(choice, path, fmt, output)
    else:
        _configure_user(choice, executable_path(executable), dry_run)


def _check_flags(managed: bool, fmt: str | None, output: str | None, dry_run: bool) -> None:
    from cred_export.errors import ConfigError

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
    from cred_export import log
    from cred_export.aws.config import load_aws_config
    from cred_export.claude.desktop import DEFAULT_LIFETIME_SECONDS
    from cred_export.errors import ConfigError
    from cred_export.flows.desktop_token import credentials_lifetime
    from cred_export.flows.export import resolve
    from cred_export.settings import load_settings

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
    from cred_export import log
    from cred_export.claude.desktop import TTL_MARGIN_SECONDS, ttl_for

    if option is None:
        return ttl_for(lifetime)
    if option + TTL_MARGIN_SECONDS > lifetime:
        log.warn(
            f"--ttl {option} is longer than this profile's credentials last ({lifetime} s) allows;"
            " the helper will refuse tokens it cannot keep alive that long"
        )
    return option


def _emit_managed(choice: HelperChoice, executable: str | None, fmt: str, output: str | None) -> None:
    from cred_export import paths
    from cred_export.claude import desktop as claude_desktop
    from cred_export.claude.setup import file_mode
    from cred_export.errors import ConfigError
    from cred_export.files import write_atomic

    if fmt == "toml":
        data = claude_desktop.settings_toml(choice).encode("utf-8")
        where = (
            f"append it to cred-export's machine-wide settings ({paths.system_config_file()} here;"
            " macOS /Library/Application Support/cred-export/config.toml,"
            r" Windows %ProgramData%\cred-export\config.toml)"
        )
    else:
        assert executable is not None
        policy = claude_desktop.managed_policy(choice, executable)
        if fmt == "mobileconfig":
            data = claude_desktop.mobileconfig(policy)
            where = "push it as a configuration profile to the Macs"
        else:
            data = claude_desktop.registry_file(policy)
            where = r"import it on the Windows machines (HKLM\SOFTWARE\Policies\Claude)"
        where += "; ship cred-export's machine-wide settings too: --managed --format toml"
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        _say(where)
        return
    target = Path(output).absolute()
    try:
        write_atomic(target, data, file_mode(target))
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    _say(f"wrote {target}; {where}")


def _configure_user(choice: HelperChoice, executable: str, dry_run: bool) -> None:
    from cred_export import paths
    from cred_export.claude import desktop as claude_desktop
    from cred_export.claude.setup import unified_diff
    from cred_export.util.toml_table import with_table

    settings_path = Path(paths.user_config_file())
    old_settings = _read_text(settings_path)
    new_settings = with_table(old_settings, claude_desktop.TABLE, choice.settings_table(), str(settings_path))
    keys = claude_desktop.configuration(choice, executable)
    directory = claude_desktop.library_dir()
    update = claude_desktop.library_update(directory, keys) if directory else None
    if dry_run:
        sys.stdout.write(unified_diff(settings_path, old_settings, new_settings))
        if update is not None:
            for path, document in ((update.entry_path, update.entry), (update.meta_path, update.meta)):
                sys.stdout.write(unified_diff(Path(path), _read_text(Path(path)), _json(document)))
        _say("dry run: nothing written")
        return
    _write(settings_path, new_settings)
    _say(
        f"recorded profile {choice.profile}, region {choice.region} and a {choice.ttl_seconds} s TTL"
        f" in {settings_path}"
    )
    if update is None:
        places = "; ".join(f"{os_name}: {place}" for os_name, place in claude_desktop.LIBRARY_PLACES.items())
        _say(f"Claude Desktop does not run here; its configuration would go to {places}")
        return
    _write(Path(update.entry_path), _json(update.entry))
    _write(Path(update.meta_path), _json(update.meta))
    _say(f"wrote {update.entry_path} and made it the applied configuration; restart Claude Desktop")


def _read_text(path: Path) -> str:
    from cred_export.errors import ConfigError

    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _write(path: Path, text: str) -> None:
    """Settings, not secrets: the file keeps its mode (0644 when new), written atomically."""
    from cred_export.claude.setup import file_mode
    from cred_export.errors import ConfigError
    from cred_export.files import write_atomic

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text.encode("utf-8"), file_mode(path))
    except OSError as exc:
        raise ConfigError(f"cannot write {exc.filename or path}: {exc.strerror}") from None


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def _say(message: str) -> None:
    click.echo(f"cred-export: {message}", err=True)
