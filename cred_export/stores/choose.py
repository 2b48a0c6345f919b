"""Pick the store the settings ask for, falling back from the keyring to files when needed."""

from __future__ import annotations

import os

from cred_export import files, log, paths
from cred_export.settings import Settings
from cred_export.stores import StoreUnavailable
from cred_export.stores.base import Store
from cred_export.stores.fallback_store import FallbackFileStore
from cred_export.stores.file_store import FileStore
from cred_export.stores.keyring_store import KeyringStore
from cred_export.stores.null_store import NullStore


def choose_store(settings: Settings, keyring_unavailable: str | None = None) -> Store:
    """The store for `settings.cache`; `keyring_unavailable` is why the hit path could not read it.

    ConfigError when the cache directory (memos, locks, the file store) is not private."""
    _refuse_untrusted_cache()
    if settings.cache == "none":
        return NullStore()
    if settings.cache == "file":
        return FileStore()
    reason = keyring_unavailable
    if reason is None:
        try:
            return open_keyring(settings)
        except StoreUnavailable as exc:
            reason = str(exc)
    fallback = FallbackFileStore(reason)
    log.warn(
        f'{reason}; caching in {fallback.directory} instead (set cache = "file" to silence)',
        topic="keyring",
    )
    return fallback


def open_keyring(settings: Settings) -> KeyringStore:
    """The OS keyring with the settings' bounds; StoreUnavailable when it cannot be used."""
    return KeyringStore(settings.keyring_timeout_seconds, settings.keyring_chunk_size)


def every_store(settings: Settings) -> list[Store]:
    """Whichever stores may hold entries: the file cache always, the keyring when it answers."""
    _refuse_untrusted_cache()
    stores: list[Store] = [FileStore()]
    if settings.cache != "keyring":
        try:
            stores.append(open_keyring(settings))
        except StoreUnavailable:
            pass  # not the configured store: nothing is expected of it
        return stores
    try:
        stores.append(open_keyring(settings))
    except StoreUnavailable as exc:
        log.warn(f"{exc}; what the keyring holds was left as it is", topic="keyring")
    return stores


def _refuse_untrusted_cache() -> None:
    root = paths.cache_dir()
    for directory in (root, *(os.path.join(root, name) for name in ("memo", "credentials", "locks"))):
        files.refuse_untrusted_dir(directory)
