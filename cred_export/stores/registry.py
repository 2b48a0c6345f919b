"""The stores the `cache` setting chooses from: each value, and the store class that builds it.

Each class builds itself with `from_settings(settings)` (see `base.Store`); `choose.py` looks
the setting up here and falls back to files when an OS keyring cannot be used. To add a store:
a module with the store class, one line here (and its value in `settings.CACHE_MODES`), and the
hit path's lines in the package's `__init__`.
"""

from __future__ import annotations

from cred_export.stores.base import Store
from cred_export.stores.file_store import FileStore
from cred_export.stores.keyring_store import KeyringStore
from cred_export.stores.null_store import NullStore

# In the order `clear` empties them: the files first, whatever a keyring then does.
STORES: dict[str, type[Store]] = {
    "file": FileStore,  # 0600 files
    "keyring": KeyringStore,  # the OS keyring (the default)
    "none": NullStore,  # nothing is kept
}

FILE_SETTING = "file"  # the store a machine without an OS keyring keeps to, once chosen


def store_class(setting: str) -> type[Store]:
    """The store class for a `cache` setting (one `settings.load_settings` accepted)."""
    return STORES[setting]
