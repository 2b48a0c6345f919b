"""A profile resolved into a credential chain: a root source, then zero or more roles to assume.

`resolve_chain` walks `source_profile` links the way botocore does and asks the source registry
for the root; `Chain.fetch` turns the root's credentials into the profile's.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from cred_export import log
from cred_export.aws.config import AwsConfig
from cred_export.credentials import LATEST_TIME, Credentials, Keys, mask
from cred_export.errors import ConfigError, UpstreamError
from cred_export.sources import botocore_profile, environment, registry, static
from cred_export.sources.base import AWS_CONFIG, SETTINGS, Candidate, Root
from cred_export.sources.mfa import MfaRoot
from cred_export.stores.base import Store
from cred_export.stores.cache_key import digest

# Claude Code's own assumption for credentials without an expiry.
UNKNOWN_EXPIRY_SECONDS = 3600


@dataclass(frozen=True)
class RoleHop:
    profile: str
    role_arn: str
    external_id: str | None
    role_session_name: str | None
    duration_seconds: int | None
    mfa_serial: str | None
    mfa_process: str | None = None  # how `login` gets a code; not part of the cache key
    # mfa_serial and mfa_process make the chain's root an MfaRoot (`_with_mfa`); mfa_serial also
    # stays in the chain's cache key, which is how that key tells MFA chains apart.


@dataclass(frozen=True)
class Chain:
    """What to do to get credentials for `profile`: start at `root`, assume `roles` in order."""

    profile: str
    root: Root
    roles: tuple[RoleHop, ...]

    @property
    def cacheable(self) -> bool:
        """False for pasted session keys with no role to assume: they are handed out as they are."""
        return bool(self.roles) or self.root.cacheable

    def describe(self) -> str:
        return " → ".join([self.root.describe(), *(f"role {hop.role_arn}" for hop in self.roles)])

    def cache_key(self) -> str:
        """A digest of every input that shapes the credentials, plus the schema version.

        An MfaRoot's identity is its inner root's; the serial is here through the role hops."""
        return digest(
            {
                "root": self.root.identity(),
                "roles": [asdict(hop) | {"profile": None, "mfa_process": None} for hop in self.roles],
            }
        )

    def store_keys(self) -> list[str]:
        """Every store entry that belongs to this chain (not an OAuth client secret)."""
        return [self.cache_key(), *self.root.store_keys()]

    def fetch(self, root_keys: Keys) -> Credentials:
        """Session credentials for the profile, starting from the root's credentials."""
        from cred_export.aws import sts

        keys = root_keys
        if not self.roles and keys.session_token is None:
            keys = sts.get_session_token(self.profile, keys)  # Claude Code needs a session token
        for hop in self.roles:
            keys = sts.assume_role(
                keys,
                hop.role_arn,
                signer_profile=hop.profile,
                target_profile=self.profile,
                session_name=hop.role_session_name,
                external_id=hop.external_id,
                duration=hop.duration_seconds,
            )
        log.debug(f"profile {self.profile}: obtained {mask(keys.access_key_id)}")
        return as_credentials(keys)

    def credentials(self, store: Store) -> Credentials:
        """The chain's credentials from its root's, as they come (no cache)."""
        root_keys = self.root.credentials(store)
        return self.fetch(root_keys) if self.cacheable else as_credentials(root_keys)


def as_credentials(keys: Keys) -> Credentials:
    """Keys as credentials to hand out and cache; UpstreamError if a source returned malformed ones."""
    expiration = keys.expiration if keys.expiration is not None else time.time() + UNKNOWN_EXPIRY_SECONDS
    values = (keys.access_key_id, keys.secret_access_key, keys.session_token or "")
    if not all(_single_line(value) for value in values) or not _possible_expiry(expiration):
        raise UpstreamError(
            "the credentials obtained are malformed (an empty or multi-line value, or an impossible expiry)"
        )
    now = time.time()
    issued = keys.issued if keys.issued is not None and 0 < keys.issued <= expiration else now
    return Credentials(*values, expiration, issued=issued, assumed_expiry=keys.expiration is None)


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
        env_root = environment.from_environment()
        if env_root is not None:
            return Chain(profile, env_root, ())
    roles: list[RoleHop] = []
    seen: list[str] = []
    name = profile

    def ending_at(root: Root) -> Chain:
        hops = tuple(reversed(roles))
        return Chain(profile, _with_mfa(root, hops, profile), hops)

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
            return ending_at(registry.root_for(Candidate(name, idp_profiles[name], SETTINGS), config))
        settings = _profile_settings(config, name, idp_profiles, referrer=seen[-2] if len(seen) > 1 else None)
        if "role_arn" not in settings:
            return ending_at(registry.root_for(Candidate(name, settings, AWS_CONFIG), config))
        source = settings.get("source_profile")
        if source is None or botocore_profile.needs_botocore(settings):
            # credential_source (or another setting only botocore handles): botocore assumes the role
            if source is None and not botocore_profile.needs_botocore(settings):
                raise ConfigError(f"profile {name!r} has role_arn but no source_profile or credential_source")
            return ending_at(botocore_profile.root_from(name, settings))
        roles.append(_role_hop(name, settings))
        if source == name and static.has_keys(settings):  # a role profile using its own keys
            return ending_at(static.root_from(name, settings))
        name = source


def _with_mfa(root: Root, hops: tuple[RoleHop, ...], profile: str) -> Root:
    """The root, inside an MFA session when a role of the chain names `mfa_serial` (the first one,
    from the root outwards): every role is then assumed with that session's credentials."""
    for hop in hops:
        if hop.mfa_serial:
            return MfaRoot(root, hop.mfa_serial, hop.mfa_process, profile)
    return root


def _profile_settings(
    config: AwsConfig, name: str, idp_profiles: dict[str, dict], *, referrer: str | None
) -> dict[str, str]:
    """The profile's settings; a missing one reached through source_profile names who points at it."""
    try:
        return config.profile(name, also_known=idp_profiles)
    except ConfigError as exc:
        if referrer is None:
            raise
        raise ConfigError(f"profile {referrer!r} has source_profile = {name}, but {exc}") from None


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


def _single_line(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and "\n" not in value and "\r" not in value


def _possible_expiry(value: Any) -> bool:
    return isinstance(value, (int, float)) and 0 < value < LATEST_TIME
