"""Cache keys: a digest of every input that shapes what is cached, plus the schema version.

Secrets are never part of the material; the STS endpoint variables always are, so credentials
from a test endpoint never answer for the real one.
"""

from __future__ import annotations

import hashlib
import json
import os

# Bump when the cached entry's meaning changes: old entries simply stop matching.
CACHE_SCHEMA = 1

_ENDPOINT_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


def digest(material: dict[str, object]) -> str:
    """A 40-hex-digit key for `material` (JSON-serialisable, no secrets)."""
    material = {
        **material,
        "schema": CACHE_SCHEMA,
        "endpoints": {name: os.environ.get(name) for name in _ENDPOINT_VARIABLES},
    }
    encoded = json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()[:40]


def bedrock_token_key(credentials_key: str) -> str:
    """The key a profile's Bedrock API key is kept under, given its credentials' key."""
    return digest({"type": "bedrock-token", "credentials": credentials_key})
