"""`Credentials`, the value every store keeps and every command hands out, and `Keys`, what a
source returns before it is checked (the token and expiry may be unknown).

Credentials also know how long before their expiry they are due for a refresh. The windows
scale with their lifetime, so that credentials of any lifetime are served from the cache for
the first half of it and always handed out with more than Claude Code's own 5-minute margin:

| lifetime | refresh when less than | never hand out less than | grace after a failed refresh |
| --- | --- | --- | --- |
| unknown, or 30 min and more | `refresh_ahead_minutes` (15) | 10 min | 6 min |
| 15 min (a 900-second role, console credentials) | 7.5 min | 6 min | 5.5 min |

A plain class on purpose: this module is on the cache-hit path, where importing
`dataclasses` (and through it `inspect` and `re`) would cost more than the whole lookup.
"""

from __future__ import annotations

import time

# Never hand out credentials with less than this left when a refresh is possible.
MIN_HANDOUT_SECONDS = 600
# When a refresh fails, credentials with more than this left are still handed out (with a warning).
GRACE_SECONDS = 360
# Claude Code keeps credentials until 5 minutes before their Expiration, then asks again.
CLAUDE_CODE_MARGIN = 300


def refresh_ahead_for(lifetime: float | None, configured: float) -> float:
    if lifetime is None:
        return configured
    return max(min_handout_for(lifetime), min(configured, lifetime / 2))


def min_handout_for(lifetime: float | None) -> float:
    if lifetime is None:
        return MIN_HANDOUT_SECONDS
    return min(MIN_HANDOUT_SECONDS, max(CLAUDE_CODE_MARGIN + 60, lifetime * 0.4))


def grace_for(lifetime: float | None) -> float:
    return min(GRACE_SECONDS, min_handout_for(lifetime) - 30)


class Credentials:
    __slots__ = (
        "access_key_id",
        "assumed_expiry",
        "expiration",
        "issued",
        "secret_access_key",
        "session_token",
    )

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str,
        expiration: float,
        issued: float | None = None,
        *,
        assumed_expiry: bool = False,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.expiration = float(expiration)  # Unix time, seconds
        self.issued = float(issued) if issued else None  # when they were obtained, if known
        # The source gave no expiry; `expiration` is Claude Code's own assumption (an hour). Such
        # credentials are handed out, never cached: nobody knows when they stop working.
        self.assumed_expiry = assumed_expiry

    def seconds_left(self, now: float | None = None) -> float:
        return self.expiration - (time.time() if now is None else now)

    @property
    def lifetime(self) -> float | None:
        return self.expiration - self.issued if self.issued is not None else None

    def refresh_ahead(self, configured: float) -> float:
        """Refresh when less than this is left: `configured`, or half the lifetime when shorter."""
        return refresh_ahead_for(self.lifetime, configured)

    def min_handout(self) -> float:
        """Never hand these out with less than this left while a refresh may still work."""
        return min_handout_for(self.lifetime)

    def grace(self) -> float:
        """After a failed refresh, these are still handed out while more than this is left."""
        return grace_for(self.lifetime)

    def is_fresh(self, configured_refresh_ahead: float) -> bool:
        """Whether these are served as they are, no refresh due (see the module doc)."""
        return self.seconds_left() >= self.refresh_ahead(configured_refresh_ahead)

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

    __slots__ = ("access_key_id", "expiration", "issued", "secret_access_key", "session_token")

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        expiration: float | None = None,
        issued: float | None = None,
    ) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.expiration = expiration
        # When they were issued by their own expiry (Expiration minus the lifetime asked for),
        # where the source knows the lifetime: unlike this machine's clock, it says how long they
        # were meant to last even when the clocks disagree.
        self.issued = issued

    def __repr__(self) -> str:  # never shows a secret
        return f"Keys({mask(self.access_key_id)})"


def mask(access_key_id: str) -> str:
    """An access key id reduced to its last four characters, for logs."""
    return "****" + access_key_id[-4:] if len(access_key_id) > 4 else "****"


def format_iso(timestamp: float) -> str:
    """ISO 8601 UTC with a `Z`, second precision: the shape Claude Code and the SDKs parse."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(timestamp)))


def parse_iso(text: str) -> float:
    """Unix time of an ISO 8601 timestamp as AWS tools write them: `2026-11-22T05:00:00Z`, with
    milliseconds, `+00:00` or `UTC`; ValueError for anything else or an impossible time."""
    from datetime import datetime, timezone  # not at the top: this module is on the cache-hit path

    cleaned = text.strip().replace("UTC", "+00:00").replace("Z", "+00:00")
    value = datetime.fromisoformat(cleaned)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    stamp = value.timestamp()
    if not 0 <= stamp < LATEST_TIME:
        raise ValueError(f"an impossible time: {text[:40]}")  # it could not be written back either
    return stamp


LATEST_TIME = 10**11  # Unix time in the year 5138: more digits than a cache record holds
