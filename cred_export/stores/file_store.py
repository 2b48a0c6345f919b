"""Cache in 0600 files under the user's private cache directory (written atomically)."""

from __future__ import annotations

import os

from cred_export import files, paths
from cred_export.credentials import Credentials
from cred_export.fast import record
from cred_export.stores import FILE, StoreUnavailable

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: this module is on the cache-hit path
if TYPE_CHECKING:
    from cred_export.fast.memo import Memo
    from cred_export.settings import Settings


class FileStore:
    name = "file"
    kind = FILE
    is_os_keyring = False
    fallback_reason: str | None = None

    def __init__(self, directory: str | None = None) -> None:
        self.directory: str = directory or os.path.join(paths.cache_dir(), "credentials")

    @staticmethod
    def from_settings(settings: Settings) -> FileStore:
        return FileStore()

    def describe(self) -> str:
        return f"file store in {paths.display(self.directory)}"

    def _path(self, key: str) -> str:
        if not key.replace("-", "").isalnum():
            raise ValueError("cache keys are hexadecimal")
        return os.path.join(self.directory, key)

    def get(self, key: str) -> Credentials | None:
        return record.decode(self.get_text(key))

    def put(self, key: str, creds: Credentials) -> None:
        self.put_text(key, record.encode(creds))

    def get_text(self, key: str) -> str | None:
        return files.read_text(self._path(key), limit=64 * 1024, private=True)

    def put_text(self, key: str, text: str) -> None:
        try:
            files.write_private(self._path(key), text)
        except OSError as exc:
            raise StoreUnavailable(f"cannot write {self.directory}: {exc.strerror}") from None

    def delete(self, key: str) -> None:
        """Delete the entry, and what a write killed before its rename left of it."""
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass
        files.remove_strays(self._path(key))


def fast_read(keys: tuple[str, ...], memo: Memo) -> list[str | None]:
    store = FileStore()
    return [store.get_text(key) for key in keys]
