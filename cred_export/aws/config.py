"""Read `~/.aws/config` and `~/.aws/credentials` the way the AWS CLI does (stdlib only), and set
one setting of a profile the way `aws configure set` does."""

from __future__ import annotations

import configparser
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field

from cred_export import files, paths
from cred_export.errors import ConfigError

# Keys whose values are secrets: never logged, never part of a cache key.
SECRET_KEYS = frozenset({"aws_secret_access_key", "aws_session_token", "aws_security_token"})


@dataclass(frozen=True)
class AwsConfig:
    """Every profile's merged settings (credentials file wins for keys, as in botocore)."""

    profiles: dict[str, dict[str, str]]
    config_file: str
    credentials_file: str
    sso_sessions: dict[str, dict[str, str]] = field(default_factory=dict)

    def sso_session(self, name: str, profile: str) -> dict[str, str]:
        try:
            return self.sso_sessions[name]
        except KeyError:
            raise ConfigError(
                f"profile {profile!r} names sso_session {name!r}, but {self.config_file}"
                f" has no [sso-session {name}] section"
            ) from None

    def profile(self, name: str, also_known: Iterable[str] = ()) -> dict[str, str]:
        try:
            return self.profiles[name]
        except KeyError:
            known = ", ".join(sorted({*self.profiles, *also_known})) or "none"
            raise ConfigError(
                f"profile {name!r} not found in {self.config_file} or {self.credentials_file}"
                f" (known profiles: {known})"
            ) from None


def load_aws_config() -> AwsConfig:
    config_file, credentials_file = paths.aws_config_file(), paths.aws_credentials_file()
    profiles: dict[str, dict[str, str]] = {}
    sso_sessions: dict[str, dict[str, str]] = {}
    for section, values in _read_ini(config_file).items():
        name = _config_profile_name(section)
        kind, _, rest = section.strip().partition(" ")
        if name is not None:
            profiles.setdefault(name, {}).update(values)
        elif kind == "sso-session" and rest.strip():
            sso_sessions[rest.strip()] = values
    for section, values in _read_ini(credentials_file).items():
        profiles.setdefault(section.strip(), {}).update(values)
    return AwsConfig(profiles, config_file, credentials_file, sso_sessions)


def _config_profile_name(section: str) -> str | None:
    """`[default]` and `[profile NAME]` are profiles; `[sso-session …]`, `[services …]` are not."""
    section = section.strip()
    if section == "default":
        return "default"
    kind, _, name = section.partition(" ")
    if kind == "profile" and name.strip():
        return name.strip()
    return None


def _read_ini(path: str) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser(strict=False, default_section="\0no-defaults")
    text = files.read_config(path)
    if text is None:
        return {}
    try:
        parser.read_string(text, source=path)
    except configparser.Error as exc:
        raise ConfigError(f"cannot parse {path}: {_describe_parse_error(exc)}") from None
    return {section: dict(parser.items(section)) for section in parser.sections()}


def _describe_parse_error(exc: configparser.Error) -> str:
    """Name the line, never echo it: a malformed line may hold a secret key."""
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno}: a setting before any [section] header"
    if isinstance(exc, configparser.ParsingError):
        lines = ", ".join(str(lineno) for lineno, _ in exc.errors[:5])
        return f"line {lines}: not a `key = value` setting or a [section] header"
    if isinstance(exc, (configparser.DuplicateSectionError, configparser.DuplicateOptionError)):
        return f"line {exc.lineno}: duplicate {exc.section!r}"
    return type(exc).__name__


def set_profile_setting(profile: str, key: str, value: str) -> None:
    """Set `key = value` in the profile's section of the AWS config file (creating the section
    or the file where needed) and keep every other byte of the file as it was."""
    if any(char in f"{profile}{key}{value}" for char in "\r\n\0[]"):
        raise ConfigError(f"cannot write {key} for profile {profile!r}: the value spans lines")
    path = os.path.realpath(paths.aws_config_file())  # a symlinked file (dotfiles) is edited where it is
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        text, mode = "", 0o600
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot update {path}: {getattr(exc, 'strerror', None) or 'it is not UTF-8'}"
        ) from None
    updated = _with_setting(text, profile, key, value)
    try:
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        files.write_atomic(path, updated.encode("utf-8"), mode)
    except OSError as exc:
        raise ConfigError(f"cannot update {path}: {exc.strerror}") from None


def _with_setting(text: str, profile: str, key: str, value: str) -> str:
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _section_of(line) == profile), None)
    setting = f"{key} = {value}"
    if start is None:
        header = "[default]" if profile == "default" else f"[profile {profile}]"
        separator = "" if not text or text.endswith(("\n", "\r")) else newline
        return f"{text}{separator}{header}{newline}{setting}{newline}"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for i in range(start + 1, end):
        name, equals, _ = lines[i].partition("=")
        if equals and name.strip() == key and not name.lstrip().startswith(("#", ";")):
            ending = lines[i][len(lines[i].rstrip("\r\n")) :] or newline
            lines[i] = setting + ending
            return "".join(lines)
    last = max((i for i in range(start, end) if lines[i].strip()), default=start)
    if not lines[last].endswith(("\n", "\r")):
        lines[last] += newline
    lines.insert(last + 1, setting + newline)
    return "".join(lines)


def _section_of(line: str) -> str | None:
    """The profile a `[default]` or `[profile NAME]` header line opens, else None."""
    stripped = line.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return None
    return _config_profile_name(stripped[1:-1])
