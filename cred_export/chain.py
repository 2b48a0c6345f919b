"""Resolve a profile into a credential chain: a root source, then zero or more roles."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass

from cred_export.aws_config import SECRET_KEYS, AwsConfig
from cred_export.errors import ConfigError
from cred_export.idp.profiles import OidcProfile, SamlProfile, parse_profile

# Bump when the cached entry's meaning changes: old entries simply stop matching.
CACHE_SCHEMA = 1

# Settings that only botocore knows how to turn into credentials.
_BOTOCORE_KEYS = (
    "credential_process",
    "credential_source",
    "web_identity_token_file",
)
_SSO_KEYS = ("sso_session", "sso_start_url")
_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


@dataclass(frozen=True)
class StaticRoot:
    """Long-term keys (or pasted session keys) from a credentials file, config or environment."""

    profile: str
    origin: str  # "profile" or "environment"
    access_key_id: str
    secret_access_key: str
    session_token: str | None

    def identity(self) -> dict[str, object]:
        return {"type": "static", "origin": self.origin, "access_key_id": self.access_key_id}

    def describe(self) -> str:
        where = "environment" if self.origin == "environment" else f"profile {self.profile}"
        return f"static keys ({where})"


@dataclass(frozen=True)
class BotocoreRoot:
    """A profile botocore resolves by itself (credential_process, web identity, SSO, …)."""

    profile: str
    settings: tuple[tuple[str, str], ...]

    def identity(self) -> dict[str, object]:
        return {"type": "botocore", "profile": self.profile, "settings": list(self.settings)}

    def describe(self) -> str:
        return f"botocore profile {self.profile}"


@dataclass(frozen=True)
class SsoRoot:
    """IAM Identity Center: a role in an account, reached with the SSO portal's access token."""

    profile: str
    session_name: str | None  # None for legacy profiles (sso_start_url on the profile)
    start_url: str
    region: str
    account_id: str
    role_name: str
    scopes: tuple[str, ...]

    def identity(self) -> dict[str, object]:
        return {
            "type": "sso",
            "start_url": self.start_url,
            "region": self.region,
            "account_id": self.account_id,
            "role_name": self.role_name,
        }

    def describe(self) -> str:
        return f"SSO {self.role_name} in {self.account_id} ({self.session_name or self.start_url})"


@dataclass(frozen=True)
class OidcRoot:
    """A corporate OpenID Provider's id_token, exchanged for AWS credentials."""

    profile: str
    settings: OidcProfile

    def identity(self) -> dict[str, object]:
        s = self.settings
        return {
            "type": "oidc",
            "issuer": s.issuer,
            "client_id": s.client_id,
            "federation": s.federation,
            "role_arn": s.role_arn,
            "identity_pool_id": s.identity_pool_id,
            "duration_seconds": s.duration_seconds,
            "scopes": list(s.scopes),
        }

    def describe(self) -> str:
        target = self.settings.role_arn or f"Cognito pool {self.settings.identity_pool_id}"
        return f"OIDC {self.settings.issuer} → {target}"


@dataclass(frozen=True)
class SamlRoot:
    """A SAML assertion from `assertion_command`, exchanged with AssumeRoleWithSAML."""

    profile: str
    settings: SamlProfile

    def identity(self) -> dict[str, object]:
        s = self.settings
        return {
            "type": "saml",
            "command": s.assertion_command,
            "role_arn": s.role_arn,
            "principal_arn": s.principal_arn,
            "duration_seconds": s.duration_seconds,
        }

    def describe(self) -> str:
        return f"SAML ({self.settings.role_arn or 'the role in the assertion'})"


Root = StaticRoot | BotocoreRoot | SsoRoot | OidcRoot | SamlRoot


@dataclass(frozen=True)
class RoleHop:
    profile: str
    role_arn: str
    external_id: str | None
    role_session_name: str | None
    duration_seconds: int | None
    mfa_serial: str | None
    mfa_process: str | None = None  # how `login` gets a code; not part of the cache key


@dataclass(frozen=True)
class Chain:
    """What to do to get credentials for `profile`: start at `root`, assume `roles` in order."""

    profile: str
    root: Root
    roles: tuple[RoleHop, ...]

    @property
    def mfa_serial(self) -> str | None:
        return next((hop.mfa_serial for hop in self.roles if hop.mfa_serial), None)

    @property
    def mfa_process(self) -> str | None:
        return next((hop.mfa_process for hop in self.roles if hop.mfa_serial), None)

    def describe(self) -> str:
        return " → ".join([self.root.describe(), *(f"role {hop.role_arn}" for hop in self.roles)])

    def cache_key(self) -> str:
        """A digest of every input that shapes the credentials, plus the schema version."""
        return digest(
            {
                "root": self.root.identity(),
                "roles": [asdict(hop) | {"profile": None, "mfa_process": None} for hop in self.roles],
            }
        )

    def mfa_cache_key(self) -> str:
        """Where the MFA session (GetSessionToken with a code) of this chain's root is kept."""
        return digest({"root": self.root.identity(), "mfa_serial": self.mfa_serial})


def digest(material: dict[str, object]) -> str:
    material = {
        **material,
        "schema": CACHE_SCHEMA,
        "endpoints": {name: os.environ.get(name) for name in _ENDPOINT_VARIABLES},
    }
    encoded = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:40]


def resolve_chain(
    config: AwsConfig, profile: str, *, profile_named: bool, idp_profiles: dict[str, dict] | None = None
) -> Chain:
    """The chain for `profile`; `profile_named` is false when it fell back to `default`.

    As in botocore, keys in the environment win only when no profile was named.
    `idp_profiles` are cred-export's `[profiles.NAME]` tables (OIDC and SAML sources), which
    may stand anywhere an AWS profile could, e.g. as a `source_profile`.
    """
    idp_profiles = idp_profiles or {}
    if not profile_named:
        env_root = _environment_root()
        if env_root is not None:
            return Chain(profile, env_root, ())
    roles: list[RoleHop] = []
    seen: list[str] = []
    name = profile
    while True:
        if name in seen:
            cycle = " → ".join([*seen[seen.index(name) :], name])
            raise ConfigError(f"source_profile cycle in profile {profile!r}: {cycle}")
        seen.append(name)
        if name in idp_profiles:
            if name in config.profiles:
                raise ConfigError(
                    f"profile {name!r} is defined both in {config.config_file} and as [profiles.{name}]"
                )
            return Chain(profile, _idp_root(name, idp_profiles[name]), tuple(reversed(roles)))
        settings = config.profile(name, also_known=idp_profiles)
        if "role_arn" not in settings:
            return Chain(profile, _root(config, name, settings), tuple(reversed(roles)))
        source = settings.get("source_profile")
        if source is None or _needs_botocore(settings):
            if source is None and not _needs_botocore(settings):
                raise ConfigError(f"profile {name!r} has role_arn but no source_profile or credential_source")
            return Chain(profile, _botocore_root(name, settings), tuple(reversed(roles)))
        roles.append(_role_hop(name, settings))
        if source == name and _has_keys(settings):  # a role profile using its own keys
            return Chain(profile, _static_root(name, settings), tuple(reversed(roles)))
        name = source


def _root(config: AwsConfig, name: str, settings: dict[str, str]) -> Root:
    if any(key in settings for key in _SSO_KEYS):
        return _sso_root(config, name, settings)
    if _has_keys(settings) and not _needs_botocore(settings):
        return _static_root(name, settings)
    if _needs_botocore(settings):
        return _botocore_root(name, settings)
    raise ConfigError(
        f"profile {name!r} has no credentials: set aws_access_key_id/aws_secret_access_key,"
        " role_arn with source_profile, sso_session or credential_process"
    )


def _idp_root(name: str, raw: dict) -> OidcRoot | SamlRoot:
    parsed = parse_profile(name, raw)
    return OidcRoot(name, parsed) if isinstance(parsed, OidcProfile) else SamlRoot(name, parsed)


def _sso_root(config: AwsConfig, name: str, settings: dict[str, str]) -> SsoRoot:
    session_name = settings.get("sso_session")
    source = config.sso_session(session_name, name) if session_name else settings
    values = {
        "sso_start_url": source.get("sso_start_url", "").strip(),
        "sso_region": source.get("sso_region", "").strip(),
        "sso_account_id": settings.get("sso_account_id", "").strip(),
        "sso_role_name": settings.get("sso_role_name", "").strip(),
    }
    missing = [key for key, value in values.items() if not value]
    if missing:
        raise ConfigError(f"SSO profile {name!r} is missing {', '.join(missing)}")
    raw_scopes = source.get("sso_registration_scopes", "sso:account:access")
    scopes = tuple(scope.strip() for scope in raw_scopes.split(",") if scope.strip())
    return SsoRoot(
        profile=name,
        session_name=session_name,
        start_url=values["sso_start_url"],
        region=values["sso_region"],
        account_id=values["sso_account_id"],
        role_name=values["sso_role_name"],
        scopes=scopes or ("sso:account:access",),
    )


def _has_keys(settings: dict[str, str]) -> bool:
    return bool(settings.get("aws_access_key_id") and settings.get("aws_secret_access_key"))


def _needs_botocore(settings: dict[str, str]) -> bool:
    return any(key in settings for key in _BOTOCORE_KEYS)


def _static_root(name: str, settings: dict[str, str]) -> StaticRoot:
    return StaticRoot(
        profile=name,
        origin="profile",
        access_key_id=settings["aws_access_key_id"].strip(),
        secret_access_key=settings["aws_secret_access_key"].strip(),
        session_token=(settings.get("aws_session_token") or "").strip() or None,
    )


def _botocore_root(name: str, settings: dict[str, str]) -> BotocoreRoot:
    public = tuple(sorted((k, v) for k, v in settings.items() if k not in SECRET_KEYS))
    return BotocoreRoot(profile=name, settings=public)


def _environment_root() -> StaticRoot | None:
    key_id = os.environ.get("AWS_ACCESS_KEY_ID", "").strip()
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
    if not (key_id and secret):
        return None
    token = os.environ.get("AWS_SESSION_TOKEN", "").strip() or None
    return StaticRoot("default", "environment", key_id, secret, token)


def _role_hop(name: str, settings: dict[str, str]) -> RoleHop:
    return RoleHop(
        profile=name,
        role_arn=settings["role_arn"].strip(),
        external_id=settings.get("external_id") or None,
        role_session_name=settings.get("role_session_name") or None,
        duration_seconds=_duration(name, settings.get("duration_seconds")),
        mfa_serial=settings.get("mfa_serial") or None,
        mfa_process=settings.get("mfa_process") or None,
    )


def _duration(name: str, raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"profile {name!r}: duration_seconds must be a whole number") from None
    if not 900 <= value <= 43200:
        raise ConfigError(f"profile {name!r}: duration_seconds must be between 900 and 43200")
    return value
