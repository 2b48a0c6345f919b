"""The face every credential store shows (see the package docstring)."""

from __future__ import annotations

from typing import Protocol

from cred_export.credentials import Credentials


class Store(Protocol):
    name: str  # for messages: "file", "keyring (SecretService)", …
    kind: str  # one of cred_export.stores.KINDS: how the hit path reads what this store keeps
    is_os_keyring: bool
    fallback_reason: str | None  # why the OS keyring is not used, for the fallback store

    def get(self, key: str) -> Credentials | None: ...

    def put(self, key: str, creds: Credentials) -> None: ...

    def get_text(self, key: str) -> str | None: ...

    def put_text(self, key: str, text: str) -> None: ...

    def delete(self, key: str) -> None: ...
