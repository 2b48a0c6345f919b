"""What a well-known provider's settings imply: its issuer URL, scopes and quirks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cred_export.errors import ConfigError

DEFAULT_SCOPES = ("openid", "email", "profile", "offline_access")


def _okta(p: dict[str, Any]) -> dict[str, Any]:
    domain = _need(p, "domain", "okta")
    server = p.get("authorization_server")  # custom authorization server, e.g. "default"
    return {"issuer": f"https://{domain}/oauth2/{server}" if server else f"https://{domain}"}


def _entra(p: dict[str, Any]) -> dict[str, Any]:
    tenant = _need(p, "tenant", "entra")
    # Entra ID accepts only http://localhost (any port) as a public client's loopback redirect.
    return {"issuer": f"https://login.microsoftonline.com/{tenant}/v2.0", "redirect_host": "localhost"}


def _auth0(p: dict[str, Any]) -> dict[str, Any]:
    return {"issuer": f"https://{_need(p, 'domain', 'auth0')}/"}  # Auth0 issuers end with "/"


def _google(_p: dict[str, Any]) -> dict[str, Any]:
    # Google issues refresh tokens for access_type=offline, not for the offline_access scope.
    return {
        "issuer": "https://accounts.google.com",
        "scopes": ["openid", "email", "profile"],
        "authorize_parameters": {"access_type": "offline", "prompt": "consent"},
    }


def _keycloak(p: dict[str, Any]) -> dict[str, Any]:
    base = str(_need(p, "base_url", "keycloak")).rstrip("/")
    return {"issuer": f"{base}/realms/{_need(p, 'realm', 'keycloak')}"}


def _generic(p: dict[str, Any]) -> dict[str, Any]:
    # OpenID Connect Core §11: a provider ignores offline_access unless prompt includes consent.
    scopes = p.get("scopes", DEFAULT_SCOPES)
    asks_offline = isinstance(scopes, (list, tuple)) and "offline_access" in scopes  # else: refused later
    return {"authorize_parameters": {"prompt": "consent"}} if asks_offline else {}


PRESETS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "okta": _okta,
    "entra": _entra,
    "auth0": _auth0,
    "google": _google,
    "keycloak": _keycloak,
    "generic": _generic,
}


def apply_preset(values: dict[str, Any], origin: str) -> dict[str, Any]:
    """`values` with what its preset implies filled in (explicit settings win)."""
    name = values.get("preset", "generic")
    if not isinstance(name, str) or name not in PRESETS:
        raise ConfigError(f"{origin}: preset must be one of {', '.join(PRESETS)}")
    return {**PRESETS[name](values), **values}


def _need(values: dict[str, Any], key: str, preset: str) -> object:
    if not values.get(key):
        raise ConfigError(f"the {preset} preset needs {key!r}")
    return values[key]
