"""How one cached credential is written in a store: a short versioned line format.

Not JSON: decoding runs on the cache-hit path, where `json` would import `re`.
A record that does not decode exactly is treated as absent (a cache miss).
"""

from __future__ import annotations

from cred_export.credentials import Credentials

# Version 2 added when the credentials were obtained; a version 1 record reads as a miss.
MAGIC = "cred-export-record 2"


def encode(creds: Credentials) -> str:
    fields = (creds.access_key_id, creds.secret_access_key, creds.session_token)
    if any(not value or "\n" in value or "\r" in value for value in fields):
        raise ValueError("credential fields must be non-empty single lines")
    times = (str(int(creds.expiration)), str(int(creds.issued or 0)))
    return "\n".join((MAGIC, *fields, *times)) + "\n"


def _is_expiry(text: str) -> bool:
    """Unix time in ASCII digits, at most 11 of them (year 5138): what `encode` writes (0: unknown)."""
    return text.isascii() and text.isdigit() and len(text) <= 11


def decode(text: str | None) -> Credentials | None:
    """The credentials in `text`, or None when it is missing, truncated or malformed."""
    if not text:
        return None
    lines = text.split("\n")
    if len(lines) != 7 or lines[0] != MAGIC or lines[6] != "":
        return None
    access_key_id, secret, token, expiration, issued = lines[1:6]
    if not (access_key_id and secret and token and _is_expiry(expiration) and _is_expiry(issued)):
        return None
    known = 0 < int(issued) <= int(expiration)  # issued after expiry: treated as not known
    return Credentials(access_key_id, secret, token, int(expiration), int(issued) if known else None)
