"""Pick the store the settings ask for, falling back from the keyring to files when needed."""

from __future__ import annotations

import sys

from cred_export import log
from cred_export.errors import StoreUnavailable
from cred_export.settings import Settings
from cred_export.stores.base import Store
from cred_export.stores.file_store import FileStore, NullStore
from cred_export.stores.keyring_store import KeyringStore


class Choice:
    """The store in use and how the hit path should read it (its memo `store` field)."""

    def __init__(self, store: Store, kind: str, fallback_reason: str | None = None) -> None:
        self.store = store
        self.kind = kind
        self.fallback_reason = fallback_reason


def choose_store(settings: Settings, keyring_unavailable: str | None = None) -> Choice:
    if settings.cache == "none":
        return Choice(NullStore(), "none")
    if settings.cache == "file":
        return Choice(FileStore(), "file")
    reason = keyring_unavailable
    if reason is None:
        try:
            store = KeyringStore(settings.keyring_timeout_seconds, settings.keyring_chunk_size)
            return Choice(store, _keyring_kind(store))
        except StoreUnavailable as exc:
            reason = str(exc)
    fallback = FileStore()
    log.warn(
        f'{reason}; caching in {fallback.directory} instead (set cache = "file" to silence)',
        topic="keyring",
    )
    return Choice(fallback, "file-fallback", reason)


def _keyring_kind(store: KeyringStore) -> str:
    """Whether the hit path may read this keyring directly over D-Bus."""
    if store.is_secret_service and sys.platform.startswith("linux"):
        return "keyring-secret-service"
    return "keyring-library"
