"""How one cached credential is written in a store: a short versioned line format.

Not JSON: decoding runs on the cache-hit path, where `json` would import `re`.
A record that does not decode exactly is treated as absent (a cache miss).
"""

from __future__ import annotations

from cred_export.credentials import Credentials

MAGIC = "cred-export-record 1"


def encode(creds: Credentials) -> str:
    fields = (creds.access_key_id, creds.secret_access_key, creds.session_token)
    if any(not value or "\n" in value or "\r" in value for value in fields):
        raise ValueError("credential fields must be non-empty single lines")
    return "\n".join((MAGIC, *fields, str(int(creds.expiration)))) + "\n"


def _is_expiry(text: str) -> bool:
    """Unix time in ASCII digits, at most 11 of them (year 5138): what `encode` writes."""
    return text.isascii() and text.isdigit() and len(text) <= 11


def decode(text: str | None) -> Credentials | None:
    """The credentials in `text`, or None when it is missing, truncated or malformed."""
    if not text:
        return None
    lines = text.split("\n")
    if len(lines) != 6 or lines[0] != MAGIC or lines[5] != "":
        return None
    access_key_id, secret, token, expiration = lines[1:5]
    if not (access_key_id and secret and token and _is_expiry(expiration)):
        return None
    return Credentials(access_key_id, secret, token, int(expiration))
