"""Pick the store the settings ask for, falling back from the keyring to files when needed."""

from __future__ import annotations

import os

from cred_export import files, log, paths
from cred_export.settings import Settings
from cred_export.stores import NoOsKeyring, StoreUnavailable, registry
from cred_export.stores.base import Store
from cred_export.stores.fallback_store import FallbackFileStore
from cred_export.stores.file_store import FileStore


def choose_store(settings: Settings, keyring_unavailable: str | None = None, *, decide: bool = True) -> Store:
    """The store for `settings.cache`; `keyring_unavailable` is why the hit path could not read it.

    Where `cache` is not set and the machine has no OS keyring at all, the file store is chosen
    once (`decide`), said once and remembered in `paths.store_choice_file()`; `decide=False`
    (status, doctor) only looks. ConfigError when the cache directory is not private."""
    _refuse_untrusted_cache()
    store_class = registry.store_class(_setting(settings))
    if not store_class.is_os_keyring:
        return store_class.from_settings(settings)
    reason = keyring_unavailable
    if reason is None:
        try:
            return store_class.from_settings(settings)
        except NoOsKeyring as exc:
            if settings.cache_set_in is None:
                if not decide:  # status, doctor: they show what the next export will choose
                    return FallbackFileStore(str(exc))
                if _choose_file_store(str(exc)):
                    return FileStore()
            reason = str(exc)
        except StoreUnavailable as exc:
            reason = str(exc)
    fallback = FallbackFileStore(reason)
    log.warn(
        f'{reason}; caching in {fallback.directory} instead (set cache = "file" in'
        f" {paths.display(paths.user_config_file())} to keep to files)",
        topic="keyring",
    )
    return fallback


def _setting(settings: Settings) -> str:
    """The `cache` setting in effect: "file" once chosen for good on a machine without a keyring."""
    return registry.FILE_SETTING if file_store_chosen(settings) else settings.cache


def file_store_chosen(settings: Settings) -> bool:
    """Whether the file store was chosen once for good (no OS keyring, `cache` not set anywhere)."""
    if settings.cache_set_in is not None:
        return False
    return files.read_text(paths.store_choice_file(), private=True) is not None


def _choose_file_store(reason: str) -> bool:
    """Remember that this machine keeps credentials in files, and say so (once); False if it cannot."""
    try:
        files.write_private(paths.store_choice_file(), f"file\n{reason}\n")
    except OSError:
        return False
    log.warn(
        f"{reason}: credentials are kept in 0600 files in {paths.display(FileStore().directory)} from"
        f' now on (set cache = "keyring" or "file" in {paths.display(paths.user_config_file())} to choose)',
        topic="keyring",
    )
    return True


def every_store(settings: Settings) -> list[Store]:
    """Whichever stores may hold entries: every one that can be used here (files always, the
    keyring when it answers); the configured one failing is said."""
    _refuse_untrusted_cache()
    configured = _setting(settings)
    stores: list[Store] = []
    for setting, store_class in registry.STORES.items():
        try:
            stores.append(store_class.from_settings(settings))
        except StoreUnavailable as exc:
            if setting == configured:  # otherwise not the configured store: nothing is expected of it
                log.warn(f"{exc}; what the {setting} store holds was left as it is", topic=setting)
    return stores


def _refuse_untrusted_cache() -> None:
    root = paths.cache_dir()
    for directory in (root, *(os.path.join(root, name) for name in ("memo", "credentials", "locks"))):
        files.refuse_untrusted_dir(directory)
