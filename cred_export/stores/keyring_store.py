"""The OS keyring through the `keyring` library, every call bounded in time.

It never asks the user anything. On the freedesktop Secret Service, keyring's own backend unlocks
a locked collection and creates a missing one, each through a password dialog, which a
background credential hook must never bring up. So on the Secret Service this store uses the
backend in `prompt_free_secret_service`, which treats a locked or missing collection as
unavailable: the callers then fall back to the file store and say so once.

That holds whichever backend keyring chooses: when a second backend is installed (KWallet, the
libsecret backend, keyrings.alt, any plugin), keyring picks its `ChainerBackend`, which calls
each member in turn; there every Secret Service member (keyring's own, or libsecret, which talks
to the same service and prompts as well) is replaced by the prompt-free one (`_PromptFreeChain`).
"""

from __future__ import annotations

import sys

from cred_export.credentials import Credentials
from cred_export.fast import record
from cred_export.fast.memo import Memo
from cred_export.stores import (
    KEYRING_LIBRARY,
    KEYRING_SERVICE,
    SECRET_SERVICE,
    NoOsKeyring,
    StoreUnavailable,
    chunks,
)
from cred_export.util import bounded
from cred_export.util.text import describe_exception

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: on the hit path (a keyring off the Secret Service)
if TYPE_CHECKING:
    from cred_export.settings import Settings

SERVICE = KEYRING_SERVICE
DISCOVERY_TIMEOUT = 10.0
MAX_DUPLICATES = 8


class KeyringStore:
    """Keyring-backed store; raises StoreUnavailable for a missing, locked or hung keyring."""

    is_os_keyring = True
    fallback_reason: str | None = None
    directory: str | None = None

    def __init__(self, timeout: float, chunk_size: int = 0, *, probe: bool = True) -> None:
        """`probe`: make one read now, so that a locked or hung keyring shows before it is chosen."""
        self.timeout = timeout
        self.chunk_size = chunks.platform_chunk_size(chunk_size)
        # Backend discovery is mostly local CPU work (entry points, imports), slow under load
        # but no hang risk unless the bus itself is stuck: it gets a looser bound.
        self._backend = self._call(_usable_backend, max(timeout, DISCOVERY_TIMEOUT))
        if probe:
            self._call(lambda: self._backend.get_password(SERVICE, "probe"))  # unlocked and answering?
        self.backend = _backend_name(self._backend)
        self.name = f"keyring ({self.backend})"

    @staticmethod
    def from_settings(settings: Settings) -> KeyringStore:
        """The OS keyring with the settings' bounds; StoreUnavailable when it cannot be used."""
        return KeyringStore(settings.keyring_timeout_seconds, settings.keyring_chunk_size)

    def describe(self) -> str:
        where = "Secret Service" if self.kind == SECRET_SERVICE else "OS keyring"
        return f"{where} ({self.backend} backend)"

    @property
    def kind(self) -> str:
        """Whether the hit path may read this keyring directly over D-Bus (the Secret Service)."""
        on_secret_service = _on_secret_service(self._backend)
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
    from keyring.backends import chainer, fail

    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring):
        raise NoOsKeyring("no OS keyring backend is available (no Secret Service)")
    if isinstance(backend, chainer.ChainerBackend):
        members: list = []
        for member in backend.backends:
            usable = _prompt_free(member)
            if getattr(usable, "priority", 1) >= 1 and not any(_same_service(usable, m) for m in members):
                members.append(usable)
        if not members:
            raise NoOsKeyring("no OS keyring backend is available (no Secret Service)")
        return members[0] if len(members) == 1 else _PromptFreeChain(members)
    if getattr(backend, "priority", 1) < 1:
        # keyrings.alt's plaintext/base64 files: not a real keyring. The file store is
        # explicit about what it is and guarantees 0600 files.
        raise NoOsKeyring(f"keyring backend {type(backend).__name__} is not an OS keyring")
    return _prompt_free(backend)


def _prompt_free(backend):  # type: ignore[no-untyped-def]
    """The backend itself, or, for one that talks to the Secret Service, the prompt-free one."""
    from keyring.backends import SecretService

    if isinstance(backend, SecretService.Keyring) or type(backend).__module__ == "keyring.backends.libsecret":
        from cred_export.stores import prompt_free_secret_service  # only where the Secret Service is

        return prompt_free_secret_service.replacing(backend)
    return backend


def _same_service(one, other) -> bool:  # type: ignore[no-untyped-def]
    return _on_secret_service(one) and _on_secret_service(other)


class _PromptFreeChain:
    """keyring's ChainerBackend over the members `_usable_backend` kept: reads from the first that
    has the item, writes to the first that takes it, deletes from every one that holds it."""

    def __init__(self, members: list) -> None:  # type: ignore[type-arg]
        self.members = members

    def get_password(self, service: str, username: str) -> str | None:
        for member in self.members:
            value = member.get_password(service, username)
            if value is not None:
                return value
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        for member in self.members:
            try:
                return member.set_password(service, username, password)
            except NotImplementedError:
                continue
        raise NotImplementedError("no keyring backend takes new items")

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        deleted = False
        for member in self.members:
            try:
                member.delete_password(service, username)
                deleted = True
            except (PasswordDeleteError, NotImplementedError):
                continue
        if not deleted:
            raise PasswordDeleteError("No such password!")


def _backend_name(backend) -> str:  # type: ignore[no-untyped-def]
    if isinstance(backend, _PromptFreeChain):
        return "chainer: " + ", ".join(_backend_name(member) for member in backend.members)
    module = "SecretService" if _on_secret_service(backend) else type(backend).__module__
    return module.rsplit(".", 1)[-1]


def _on_secret_service(backend) -> bool:  # type: ignore[no-untyped-def]
    """Whether `backend` is the prompt-free Secret Service one: `_prompt_free` replaced every
    backend that talks to the Secret Service by it, a subclass of keyring's own."""
    from keyring.backends import SecretService

    return isinstance(backend, SecretService.Keyring)


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


def fast_read(keys: tuple[str, ...], memo: Memo) -> list[str | None]:
    """The hit path on a keyring other than the Secret Service: through the library, one read a key."""
    store = KeyringStore(memo.keyring_timeout, memo.chunk, probe=False)
    return [store.get_text(key) for key in keys]
