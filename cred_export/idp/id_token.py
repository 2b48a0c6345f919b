"""Validate an id_token before it is used: signature (provider's JWKS), iss, aud, exp, nonce.

The key set is fetched through `cred_export.util.http`, like every other IdP call: bounded as a whole
and capped in size (PyJWT's own fetcher bounds only each read and reads any size)."""

from __future__ import annotations

from typing import Any

import jwt

from cred_export.errors import UpstreamError
from cred_export.idp.oidc import Provider
from cred_export.util import http

LEEWAY_SECONDS = 60


def validate(token: str, provider: Provider, client_id: str, nonce: str | None = None) -> dict[str, Any]:
    """The token's claims; UpstreamError naming what failed when anything does not hold."""
    keys = http.get_json(provider.jwks_uri, provider.ca_bundle)
    try:
        key = _signing_key(keys, token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=list(provider.algorithms),
            audience=client_id,
            issuer=provider.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except (jwt.PyJWTError, ValueError, TypeError, AttributeError) as exc:  # a bad token or key set
        raise _rejected(provider, str(exc)) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise _rejected(provider, "azp does not name this client")
    if nonce is not None and claims.get("nonce") != nonce:
        raise _rejected(provider, "nonce does not match this sign-in")
    return claims


def _signing_key(keys: dict[str, Any], token: str) -> jwt.PyJWK:
    """The key of the set that the token's header names (`kid`), as PyJWKClient picks it."""
    kid = jwt.get_unverified_header(token).get("kid")
    signing = [
        key for key in jwt.PyJWKSet.from_dict(keys).keys if key.public_key_use in ("sig", None) and key.key_id
    ]
    for key in signing:
        if key.key_id == kid:
            return key
    raise jwt.PyJWKClientError(f"no signing key in the key set matches kid {kid!r}")


def _rejected(provider: Provider, reason: str) -> UpstreamError:
    return UpstreamError(f"the id_token from {provider.issuer} was rejected: {reason}")
