"""Credential stores: where cached credentials and sign-in sessions live between calls.

Every store shows the face of `base.Store`: `get`/`put` for credentials, `get_text`/`put_text`
for other secrets (refresh tokens, id_tokens, SAML assertions), `delete`, a `name` for
messages, its `kind`, whether it is a real OS keyring, `describe()` for doctor, and
`from_settings`, which builds it. Reads answer None for a missing or malformed entry; a store
that cannot be used at all raises `StoreUnavailable`.

This module is the cache-hit path's registry: the one place store kinds are spelled, and the map
from a kind (as the resolution memo records it) to the module whose `fast_read(keys, memo)`
serves the cache-hit path. It is on that path, so it imports nothing; a reader's module is
imported only when its kind is read. Which store the `cache` setting builds is `registry.py`'s.

To add a store: a module with the store class (see `base.Store`) and a `fast_read(keys, memo)`
(the texts stored under the keys, read in one visit to the store), one kind constant and one
`_FAST_READERS` line here, one line in `registry.py`, and a run of the shared store contract
tests (`tests/test_store_contract.py`).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs ~15 ms on the hit path
if TYPE_CHECKING:
    from cred_export.fast.memo import Memo

# The keyring "service" every entry is filed under; the entry's "username" is the cache key.
KEYRING_SERVICE = "cred-export"

FILE = "file"  # 0600 files, by choice (cache = "file")
FILE_FALLBACK = "file-fallback"  # the same files, because no OS keyring could be used
SECRET_SERVICE = "keyring-secret-service"  # the keyring library on the Secret Service (read directly)
KEYRING_LIBRARY = "keyring-library"  # the keyring library on any other backend
NONE = "none"  # cache = "none": nothing is kept

KINDS = (SECRET_SERVICE, KEYRING_LIBRARY, FILE, FILE_FALLBACK, NONE)

# kind → the module in this package whose `fast_read(keys, memo)` serves a cache hit.
_FAST_READERS = {
    FILE: "file_store",
    FILE_FALLBACK: "fallback_store",
    SECRET_SERVICE: "secret_service",
    KEYRING_LIBRARY: "keyring_store",
    NONE: "null_store",
}


class StoreUnavailable(Exception):
    """A credential store cannot be used on this machine right now (internal signal)."""


class NoOsKeyring(StoreUnavailable):
    """This machine has no OS keyring at all (a headless Linux without a Secret Service), as
    opposed to one that is locked or does not answer right now."""


def fast_read(kind: str, keys: tuple[str, ...], memo: Memo) -> list[str | None]:
    """The texts a store of `kind` holds under `keys`, as the hit path reads them (None: absent).

    Raises StoreUnavailable when the store cannot be read (the slow path then falls back).
    """
    module_name = _FAST_READERS.get(kind)
    if module_name is None:
        return [None] * len(keys)  # a memo from a newer or older version: the slow path decides
    module = __import__(f"cred_export.stores.{module_name}", fromlist=["fast_read"])
    return module.fast_read(keys, memo)
