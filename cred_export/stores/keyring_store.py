"""The OS keyring through the `keyring` library, every call bounded in time."""

from __future__ import annotations

import sys

from cred_export import bounded, record
from cred_export.credentials import Credentials
from cred_export.memo import Memo
from cred_export.stores import KEYRING_LIBRARY, KEYRING_SERVICE, SECRET_SERVICE, StoreUnavailable, chunks
from cred_export.text import describe_exception

SERVICE = KEYRING_SERVICE
DISCOVERY_TIMEOUT = 10.0
MAX_DUPLICATES = 8


class KeyringStore:
    """Keyring-backed store; raises StoreUnavailable for a missing, locked or hung keyring."""

    is_os_keyring = True
    fallback_reason: str | None = None

    def __init__(self, timeout: float, chunk_size: int = 0) -> None:
        self.timeout = timeout
        self.chunk_size = chunks.platform_chunk_size(chunk_size)
        # Backend discovery is mostly local CPU work (entry points, imports), slow under load
        # but no hang risk unless the bus itself is stuck: it gets a looser bound.
        self._backend = self._call(_usable_backend, max(timeout, DISCOVERY_TIMEOUT))
        self._call(lambda: self._backend.get_password(SERVICE, "probe"))  # unlocked and answering?
        self.name = f"keyring ({type(self._backend).__module__.rsplit('.', 1)[-1]})"

    @property
    def kind(self) -> str:
        """Whether the hit path may read this keyring directly over D-Bus (the Secret Service)."""
        on_secret_service = type(self._backend).__module__ == "keyring.backends.SecretService"
        return SECRET_SERVICE if on_secret_service and sys.platform.startswith("linux") else KEYRING_LIBRARY

    def get(self, key: str) -> Credentials | None:
        return record.decode(self.get_text(key))

    def put(self, key: str, creds: Credentials) -> None:
        self.put_text(key, record.encode(creds))

    def get_text(self, key: str) -> str | None:
        return chunks.join(key, self._get_text(key), self._get_text)

    def put_text(self, key: str, text: str) -> None:
        head, parts = chunks.split(key, text, self.chunk_size)
        for part_key, part in parts:
            self._call(lambda k=part_key, v=part: self._backend.set_password(SERVICE, k, v))
        self._purge(key)
        self._call(lambda: self._backend.set_password(SERVICE, key, head))

    def _purge(self, name: str) -> None:
        """Remove every item under `name`: an item another tool wrote (without keyring's own
        attributes) is not replaced by `set_password` and could shadow the new one forever."""
        for _ in range(MAX_DUPLICATES):
            if not self._call(lambda: _exists(self._backend, name)):
                return
            self._call(lambda: _delete_quietly(self._backend, name))

    def delete(self, key: str) -> None:
        head = self._get_text(key)
        for name in [key, *chunks.part_keys(key, head)]:
            self._call(lambda n=name: _delete_quietly(self._backend, n))

    def _get_text(self, name: str) -> str | None:
        return self._call(lambda: self._backend.get_password(SERVICE, name))

    def _call(self, function, timeout: float | None = None):  # type: ignore[no-untyped-def]
        timeout = timeout or self.timeout
        try:
            return bounded.call(function, timeout)
        except bounded.Overdue:
            raise StoreUnavailable(f"the OS keyring did not answer within {timeout:g} s") from None
        except StoreUnavailable:
            raise
        except Exception as exc:  # keyring, secretstorage and D-Bus raise many kinds
            raise StoreUnavailable(f"the OS keyring failed: {describe_exception(exc)}") from None


def _usable_backend():  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise StoreUnavailable("no OS keyring backend is available")
    if getattr(backend, "priority", 1) < 1:
        # keyrings.alt's plaintext/base64 files: not a real keyring. The file store is
        # explicit about what it is and guarantees 0600 files.
        raise StoreUnavailable(f"keyring backend {type(backend).__name__} is not an OS keyring")
    return backend


def _exists(backend, name: str) -> bool:  # type: ignore[no-untyped-def]
    try:
        return backend.get_password(SERVICE, name) is not None
    except UnicodeDecodeError:  # a value that is not text is there all the same
        return True


def _delete_quietly(backend, name: str) -> None:  # type: ignore[no-untyped-def]
    from keyring.errors import PasswordDeleteError

    try:
        backend.delete_password(SERVICE, name)
    except PasswordDeleteError:
        pass


def fast_read(key: str, memo: Memo) -> Credentials | None:
    """The hit path on a keyring other than the Secret Service: through the library."""
    return KeyringStore(memo.keyring_timeout, memo.chunk).get(key)
