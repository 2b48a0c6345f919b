"""Read `~/.aws/config` and `~/.aws/credentials` the way the AWS CLI does (stdlib only)."""

from __future__ import annotations

import configparser
from collections.abc import Iterable
from dataclasses import dataclass, field

from cred_export import paths
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
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    except UnicodeDecodeError:
        raise ConfigError(f"cannot parse {path}: it is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
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
