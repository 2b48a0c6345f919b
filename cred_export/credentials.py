"""`Credentials`, the value every store keeps and every command hands out, and `Keys`, what a
source returns before it is checked (the token and expiry may be unknown).

A plain class on purpose: this module is on the cache-hit path, where importing
`dataclasses` (and through it `inspect` and `re`) would cost more than the whole lookup.
"""

from __future__ import annotations

import time


class Credentials:
    __slots__ = ("access_key_id", "expiration", "secret_access_key", "session_token")

    def __init__(
        self, access_key_id: str, secret_access_key: str, session_token: str, expiration: float
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.expiration = float(expiration)  # Unix time, seconds

    def seconds_left(self, now: float | None = None) -> float:
        return self.expiration - (time.time() if now is None else now)

    @property
    def expiration_iso(self) -> str:
        return format_iso(self.expiration)

    def fields(self) -> tuple[tuple[str, str], ...]:
        """The STS field names and values, in the order every output format uses."""
        return (
            ("AccessKeyId", self.access_key_id),
            ("SecretAccessKey", self.secret_access_key),
            ("SessionToken", self.session_token),
            ("Expiration", self.expiration_iso),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return self.fields() == other.fields()

    def __hash__(self) -> int:
        return hash(self.fields())

    def __repr__(self) -> str:  # never shows a secret, even by accident
        return f"Credentials({mask(self.access_key_id)}, expires {self.expiration_iso})"


class Keys:
    """Credentials as a source returns them: the session token and the expiry may be unknown."""

    __slots__ = ("access_key_id", "expiration", "secret_access_key", "session_token")

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        expiration: float | None = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.expiration = expiration

    def __repr__(self) -> str:  # never shows a secret
        return f"Keys({mask(self.access_key_id)})"


def mask(access_key_id: str) -> str:
    """An access key id reduced to its last four characters, for logs."""
    return "****" + access_key_id[-4:] if len(access_key_id) > 4 else "****"


def format_iso(timestamp: float) -> str:
    """ISO 8601 UTC with a `Z`, second precision: the shape Claude Code and the SDKs parse."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(timestamp)))
