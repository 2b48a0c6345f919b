"""A second keyring backend, installed as keyring plugins are (an entry point in
`keyring.backends`): with it, keyring's discovery picks its ChainerBackend over the Secret Service.

It holds nothing and takes nothing, as a backend for some other service would for these items.
"""

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class Keyring(KeyringBackend):
    priority = 1  # viable and an OS keyring by cred-export's rule, below the Secret Service's 5

    def get_password(self, service: str, username: str) -> None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError("this backend takes no items")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("No such password!")
