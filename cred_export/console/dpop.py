"""DPoP proofs (RFC 9449) for the Sign-In token service: ES256 JWTs carrying the public key.

Made with `cryptography` and PyJWT, both already dependencies (see docs/console-sessions.md for
why not botocore's own awscrt-based signer). The public key's coordinates are written with no
leading zero bytes, exactly as botocore writes them, so a session the AWS CLI started is proved
with the same key spelling whichever tool renews it.
"""

from __future__ import annotations

import base64
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """SEC1 PEM ("EC PRIVATE KEY"), what `aws login` stores as `dpopKey`."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_key(pem: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 key in a SEC1 or PKCS#8 PEM; ValueError for anything else."""
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ValueError("dpopKey is not a PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("dpopKey is not a P-256 key")
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {"kty": "EC", "x": _coordinate(numbers.x), "y": _coordinate(numbers.y), "crv": "P-256"}


def proof(
    key: ec.EllipticCurvePrivateKey, url: str, *, method: str = "POST", now: float | None = None
) -> str:
    """A proof of possession of `key` for one request: `method` on `url`."""
    claims = {
        "htm": method,
        "htu": url,
        "iat": int(now if now is not None else time.time()),
        "jti": str(uuid.uuid4()),
    }
    headers = {"typ": "dpop+jwt", "jwk": public_jwk(key)}
    return jwt.encode(claims, key, algorithm="ES256", headers=headers)


def _coordinate(value: int) -> str:
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
