"""How one cached Bedrock API key is written in a store, and when it is still good to hand out.

A leaf on the cache-hit path (`bedrock-token` answered from the cache), like `record`.
"""

from __future__ import annotations

import time

from cred_export.credentials import Credentials, refresh_ahead_for


class BedrockToken:
    """A Bedrock API key, with when it dies, when it was made, its region and its credentials' key id."""

    __slots__ = ("expiration", "issued", "key_id", "region", "token")

    def __init__(self, token: str, expiration: float, issued: float, region: str, key_id: str) -> None:
        self.token, self.expiration, self.issued = token, expiration, issued
        self.region, self.key_id = region, key_id

    def encode(self) -> str:
        return f"{int(self.expiration)} {int(self.issued)} {self.region} {self.key_id}\n{self.token}"

    @classmethod
    def decode(cls, text: str | None) -> BedrockToken | None:
        """The key in `text`, or None when it is missing or malformed."""
        head, _, token = (text or "").partition("\n")
        fields = head.split(" ")
        if len(fields) != 4 or not (_is_time(fields[0]) and _is_time(fields[1])) or not token:
            return None
        return cls(token, int(fields[0]), int(fields[1]), fields[2], fields[3])

    def fresh_for(self, creds: Credentials, region: str, refresh_ahead: float) -> bool:
        """Made from these credentials, for this region, with its first half of life still ahead."""
        if (self.key_id, self.region) != (creds.access_key_id, region):
            return False
        window = refresh_ahead_for(self.expiration - self.issued, refresh_ahead)
        return self.expiration - time.time() >= window


def _is_time(text: str) -> bool:
    """Unix time in ASCII digits, as `encode` writes it (`"²".isdigit()` is true, `int("²")` fails)."""
    return text.isascii() and text.isdigit()
