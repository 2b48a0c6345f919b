"""Validate an id_token before it is used: signature (provider's JWKS), iss, aud, exp, nonce."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import jwt

from cred_export import http
from cred_export.errors import UpstreamError
from cred_export.idp.oidc import Provider

LEEWAY_SECONDS = 60


def validate(token: str, provider: Provider, client_id: str, nonce: str | None = None) -> dict[str, Any]:
    """The token's claims; UpstreamError naming what failed when anything does not hold."""
    try:
        keys = jwt.PyJWKClient(
            provider.jwks_uri, timeout=10, ssl_context=http.tls_context(provider.ca_bundle)
        )
        key = keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=list(provider.algorithms),
            audience=client_id,
            issuer=provider.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWKClientConnectionError as exc:
        cause = exc.__cause__
        if cause is not None:  # urllib's failure: a certificate, the proxy, the network
            host = urlsplit(provider.jwks_uri).netloc
            raise http.unreachable(
                host, provider.jwks_uri, getattr(cause, "reason", cause), provider.ca_bundle
            ) from None
        raise UpstreamError(f"cannot fetch the signing keys of {provider.issuer}") from None
    except (jwt.PyJWTError, ValueError) as exc:  # a bad token, or a bad or unreadable key set
        raise _rejected(provider, str(exc)) from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise _rejected(provider, "azp does not name this client")
    if nonce is not None and claims.get("nonce") != nonce:
        raise _rejected(provider, "nonce does not match this sign-in")
    return claims


def _rejected(provider: Provider, reason: str) -> UpstreamError:
    return UpstreamError(f"the id_token from {provider.issuer} was rejected: {reason}")
