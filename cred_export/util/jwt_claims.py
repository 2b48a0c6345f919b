"""The claims of a JWT read without checking its signature.

Only for tokens whose signature was checked when they were received (a stored id_token), or
whose claims decide nothing about trust (who signed in to AWS Sign-In, and when: the service
sent the token over TLS, and what it grants is checked by AWS itself).
"""

from __future__ import annotations

from typing import Any


def unverified_claims(token: object) -> dict[str, Any]:
    """The token's claims; {} when it is not a JWT with a JSON object for claims."""
    import jwt

    if not isinstance(token, str):
        return {}
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
    except (jwt.InvalidTokenError, ValueError, TypeError):
        return {}
    return claims if isinstance(claims, dict) else {}
