"""The file store standing in for an OS keyring that cannot be used right now.

It keeps files exactly like `FileStore`; what differs is what the hit path does: it says, once,
why the keyring is not used, and after `retry_keyring_after` it sends the call to the slow path,
which tries the keyring again (and moves these entries into it once it works).
"""

from __future__ import annotations

import time

from cred_export import log
from cred_export.stores import FILE_FALLBACK, file_store
from cred_export.stores.file_store import FileStore

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: this module is on the cache-hit path
if TYPE_CHECKING:
    from cred_export.fast.memo import Memo

DEFAULT_REASON = "the OS keyring is unavailable"


class FallbackFileStore(FileStore):
    kind = FILE_FALLBACK

    def __init__(self, reason: str, directory: str | None = None) -> None:
        super().__init__(directory)
        self.fallback_reason = reason


def fast_read(keys: tuple[str, ...], memo: Memo) -> list[str | None]:
    if time.time() > memo.retry_keyring_after:
        return [None] * len(keys)  # time to see whether the keyring is back (the slow path does)
    log.warn(f"{memo.fallback_reason or DEFAULT_REASON}; using the file cache", topic="keyring")
    return file_store.fast_read(keys, memo)
