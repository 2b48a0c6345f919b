"""`cache = "none"`: nothing is kept; every call fetches."""

from __future__ import annotations

from cred_export.credentials import Credentials
from cred_export.stores import NONE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cred_export.fast.memo import Memo
    from cred_export.settings import Settings


class NullStore:
    name = "none"
    kind = NONE
    is_os_keyring = False
    fallback_reason: str | None = None
    directory: str | None = None

    @staticmethod
    def from_settings(settings: Settings) -> NullStore:
        return NullStore()

    def describe(self) -> str:
        return "nothing is cached"

    def get(self, key: str) -> Credentials | None:
        return None

    def put(self, key: str, creds: Credentials) -> None:
        pass

    def get_text(self, key: str) -> str | None:
        return None

    def put_text(self, key: str, text: str) -> None:
        pass

    def delete(self, key: str) -> None:
        pass


def fast_read(keys: tuple[str, ...], memo: Memo) -> list[str | None]:
    return [None] * len(keys)
