"""Credential stores: where cached credentials live between calls.

Every store has the same small face: `get(key)`/`put(key, creds)` for credentials,
`get_text(key)`/`put_text(key, text)` for other secrets (refresh tokens, id_tokens, SAML
assertions), `delete(key)`, and a `name` for messages. Reads answer None for a missing or
malformed entry; a store that cannot be used at all raises `StoreUnavailable`.
"""

# The keyring "service" every entry is filed under; the entry's "username" is the cache key.
KEYRING_SERVICE = "cred-export"
