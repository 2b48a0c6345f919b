"""`[profiles.NAME]` tables with `source = "oidc"` or `source = "saml"`, validated.

`cred_export.sources.oidc` and `.saml` claim such tables and call the parser of their kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cred_export.errors import ConfigError
from cred_export.idp.presets import DEFAULT_SCOPES, apply_preset

FEDERATIONS = ("sts", "cognito")
DEFAULT_OIDC_DURATION = 12 * 3600


@dataclass(frozen=True)
class OidcProfile:
    name: str
    issuer: str
    client_id: str
    scopes: tuple[str, ...]
    redirect_port: int  # 0: any free port
    redirect_host: str
    redirect_path: str
    federation: str
    role_arn: str | None
    duration_seconds: int
    identity_pool_id: str | None
    region: str | None
    authorize_parameters: tuple[tuple[str, str], ...] = field(default=())
    ca_bundle: str | None = None  # the CA bundle to trust for this provider (see cred_export.util.http)

    @property
    def cognito_provider(self) -> str:
        """The `Logins` map key Cognito expects: the issuer without its scheme."""
        return self.issuer.split("://", 1)[-1].rstrip("/")


@dataclass(frozen=True)
class SamlProfile:
    name: str
    assertion_command: str
    role_arn: str | None
    principal_arn: str | None
    duration_seconds: int | None
    region: str | None


OIDC_KEYS = frozenset(
    {
        "source",
        "preset",
        "issuer",
        "client_id",
        "scopes",
        "redirect_port",
        "redirect_host",
        "redirect_path",
        "federation",
        "role_arn",
        "duration_seconds",
        "identity_pool_id",
        "region",
        "domain",
        "authorization_server",
        "tenant",
        "realm",
        "base_url",
        "authorize_parameters",
        "ca_bundle",
    }
)
SAML_KEYS = frozenset(
    {"source", "assertion_command", "role_arn", "principal_arn", "duration_seconds", "region"}
)


def parse_oidc(name: str, raw: dict[str, Any]) -> OidcProfile:
    """`[profiles.NAME]` with `source = "oidc"`, validated (ConfigError naming file and key)."""
    origin, values = _origin(name, raw)
    _check_keys(values, OIDC_KEYS, origin)
    return _oidc(name, apply_preset(values, origin), origin)


def parse_saml(name: str, raw: dict[str, Any]) -> SamlProfile:
    """`[profiles.NAME]` with `source = "saml"`, validated (ConfigError naming file and key)."""
    origin, values = _origin(name, raw)
    _check_keys(values, SAML_KEYS, origin)
    return _saml(name, values, origin)


def _origin(name: str, raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Where the table comes from (for messages), and its settings."""
    origin = f"{raw.get('__origin__', 'config')}: [profiles.{name}]"
    return origin, {k: v for k, v in raw.items() if k != "__origin__"}


def _oidc(name: str, v: dict[str, Any], origin: str) -> OidcProfile:
    issuer = _string(v, "issuer", origin, required=True)
    federation = _string(v, "federation", origin) or "sts"
    if federation not in FEDERATIONS:
        raise ConfigError(f'{origin}: federation must be "sts" or "cognito"')
    role_arn = _string(v, "role_arn", origin)
    pool = _string(v, "identity_pool_id", origin)
    if federation == "sts" and not role_arn:
        raise ConfigError(f'{origin}: role_arn is required with federation = "sts"')
    if federation == "cognito" and not pool:
        raise ConfigError(f'{origin}: identity_pool_id is required with federation = "cognito"')
    scopes = v.get("scopes", list(DEFAULT_SCOPES))
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
        raise ConfigError(f"{origin}: scopes must be a list of strings")
    path = _string(v, "redirect_path", origin) or "/callback"
    params = v.get("authorize_parameters", {})
    if not isinstance(params, dict) or not all(isinstance(x, str) for x in params.values()):
        raise ConfigError(f"{origin}: authorize_parameters must be a table of strings")
    return OidcProfile(
        name=name,
        issuer=issuer,  # exactly as the provider spells it: id_tokens must carry the same `iss`
        client_id=_string(v, "client_id", origin, required=True),  # type: ignore[arg-type]
        scopes=tuple(scopes) if "openid" in scopes else ("openid", *scopes),
        redirect_port=_integer(v, "redirect_port", origin, 0, 65535) or 0,
        redirect_host=_string(v, "redirect_host", origin) or "127.0.0.1",
        redirect_path=path if path.startswith("/") else "/" + path,
        federation=federation,
        role_arn=role_arn,
        duration_seconds=_integer(v, "duration_seconds", origin, 900, 43200) or DEFAULT_OIDC_DURATION,
        identity_pool_id=pool,
        region=_string(v, "region", origin) or (pool.split(":", 1)[0] if pool and ":" in pool else None),
        authorize_parameters=tuple(sorted(params.items())),
        ca_bundle=_string(v, "ca_bundle", origin),
    )


def _saml(name: str, v: dict[str, Any], origin: str) -> SamlProfile:
    return SamlProfile(
        name=name,
        assertion_command=_string(v, "assertion_command", origin, required=True),  # type: ignore[arg-type]
        role_arn=_string(v, "role_arn", origin),
        principal_arn=_string(v, "principal_arn", origin),
        duration_seconds=_integer(v, "duration_seconds", origin, 900, 43200),
        region=_string(v, "region", origin),
    )


def _check_keys(values: dict[str, Any], known: frozenset[str], origin: str) -> None:
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{origin}: unknown setting {unknown[0]!r}")


def _string(v: dict[str, Any], key: str, origin: str, required: bool = False) -> str | None:
    value = v.get(key)
    if value is None or value == "":
        if required:
            raise ConfigError(f"{origin}: {key} is required")
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{origin}: {key} must be a string")
    return value.strip()


def _integer(v: dict[str, Any], key: str, origin: str, low: int, high: int) -> int | None:
    value = v.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{origin}: {key} must be a whole number from {low} to {high}")
    return value
