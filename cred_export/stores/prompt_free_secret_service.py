"""keyring's Secret Service backend, changed so that it never asks the user anything.

keyring's own backend unlocks a locked collection (`Service.Unlock`, then a password dialog
through `Prompt.Prompt`) and creates a default collection when there is none
(`CreateCollection`, another dialog); a write or a delete the service wants to confirm shows a
prompt too. Coming from a background credential hook, such a dialog would pop up out of nowhere,
again on every retry, and outlive a call that timed out. Here a locked or missing collection is an
error and a prompt the service asks for is dismissed, never shown: the keyring store then reports
the keyring unavailable, and its callers fall back to the file store and say so once.

Imported only once a Secret Service backend is found (keyring and secretstorage are for the slow
path only), and so defined once: every keyring backend class registers itself for discovery
when it is defined.
"""

from __future__ import annotations

from contextlib import closing, suppress

import secretstorage
from keyring.backends import SecretService
from keyring.errors import InitError, KeyringError, KeyringLocked, PasswordDeleteError
from secretstorage.collection import COLLECTION_IFACE, DEFAULT_COLLECTION
from secretstorage.exceptions import ItemNotFoundException
from secretstorage.item import ITEM_IFACE
from secretstorage.util import PROMPT_IFACE, SS_PREFIX, DBusAddressWrapper, format_secret, open_session


class PromptFreeSecretService(SecretService.Keyring):
    """A locked or missing collection is an error here, never a dialog."""

    # Out of keyring's discovery: a second viable Secret Service backend would make
    # keyring pick its ChainerBackend, which calls both (and both would prompt).
    viable = False

    def get_preferred_collection(self):  # type: ignore[no-untyped-def]
        path = getattr(self, "preferred_collection", DEFAULT_COLLECTION)
        bus = secretstorage.dbus_init()
        try:
            # Not get_default_collection(): it creates the collection (and prompts) when missing.
            collection = secretstorage.Collection(bus, path)
            locked = collection.is_locked()
        except ItemNotFoundException:
            bus.close()
            raise InitError(f"there is no keyring collection at {path}") from None
        except BaseException:
            bus.close()
            raise
        if locked:
            bus.close()
            raise KeyringLocked("the keyring collection is locked")
        return collection

    def unlock(self, item) -> None:  # type: ignore[no-untyped-def]
        if item.is_locked():
            raise KeyringLocked("the keyring item is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        # keyring's, except that a prompt the service asks for is refused, not shown.
        collection = self.get_preferred_collection()
        attributes = self._query(service, username, application=self.appid)
        properties = {
            SS_PREFIX + "Item.Label": ("s", f"Password for '{username}' on '{service}'"),
            SS_PREFIX + "Item.Attributes": ("a{ss}", attributes),
        }
        with closing(collection.connection):
            secret = format_secret(open_session(collection.connection), password, "text/plain")
            wrapper = DBusAddressWrapper(collection.collection_path, COLLECTION_IFACE, collection.connection)
            item, prompt = wrapper.call("CreateItem", "a{sv}(oayays)b", properties, secret, True)
            if len(item) <= 1:
                _refuse_prompt(collection.connection, prompt, "stores the item")

    def delete_password(self, service: str, username: str) -> None:
        # keyring's (the first matching item), with a prompt refused as above.
        collection = self.get_preferred_collection()
        with closing(collection.connection):
            for item in collection.search_items(self._query(service, username)):
                self.unlock(item)
                wrapper = DBusAddressWrapper(item.item_path, ITEM_IFACE, collection.connection)
                (prompt,) = wrapper.call("Delete", "")
                if prompt != "/":
                    _refuse_prompt(collection.connection, prompt, "deletes the item")
                return
        raise PasswordDeleteError("No such password!")


def replacing(backend) -> PromptFreeSecretService:  # type: ignore[no-untyped-def]
    """The prompt-free backend to use instead of `backend`, a backend that talks to the Secret
    Service (keyring's own, whose properties it takes over, or the libsecret one)."""
    prompt_free = PromptFreeSecretService()
    if isinstance(backend, SecretService.Keyring):
        vars(prompt_free).update(vars(backend))  # its properties: preferred_collection, scheme
    return prompt_free


def _refuse_prompt(connection, prompt: str, action: str) -> None:  # type: ignore[no-untyped-def]
    """Dismiss a prompt the service asked for (never `Prompt.Prompt` it), and fail."""
    with suppress(Exception):  # refused all the same if the service fails to take the dismissal
        DBusAddressWrapper(prompt, PROMPT_IFACE, connection).call("Dismiss", "")
    raise KeyringError(f"the Secret Service wants to ask the user before it {action}")
