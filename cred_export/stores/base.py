"""The face every credential store shows (see the package docstring)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from cred_export.credentials import Credentials

if TYPE_CHECKING:
    from cred_export.settings import Settings


class Store(Protocol):
    name: str  # for messages: "file", "keyring (SecretService)", …
    kind: str  # one of cred_export.stores.KINDS: how the hit path reads what this store keeps
    is_os_keyring: bool
    fallback_reason: str | None  # why the OS keyring is not used, for the fallback store
    directory: str | None  # the folder its entries are files in; None where they are not files

    @staticmethod
    def from_settings(settings: Settings) -> Store:
        """The store as `settings` configure it; StoreUnavailable when it cannot be used."""
        ...

    def describe(self) -> str:
        """Where this store keeps entries, in one line: "Secret Service (SecretService backend)"."""
        ...

    def get(self, key: str) -> Credentials | None: ...

    def put(self, key: str, creds: Credentials) -> None: ...

    def get_text(self, key: str) -> str | None: ...

    def put_text(self, key: str, text: str) -> None: ...

    def delete(self, key: str) -> None: ...
