"""Read cached entries straight from the freedesktop Secret Service over D-Bus.

Hand-written on purpose: this is the cache-hit path on Linux. The `keyring` library spends
~150 ms importing and discovering backends before its first lookup, and even `jeepney` costs
more to import than the rest of a hit; this reader makes a few bounded D-Bus calls through
`dbus_wire`, a small client of the standard library's own.
It finds exactly what keyring's SecretService backend writes (attributes `service` and
`username`), and it only ever reads: every write goes through `keyring`. It never unlocks
anything, so it never shows a prompt: a locked collection is `StoreUnavailable`. So is a miss
while the collection keyring writes to is locked or missing, so that the slow path goes
straight to the file store instead of building a keyring store that cannot work.

The secret is transferred with the "plain" session algorithm: it crosses only the user's own
session bus socket, which any process able to eavesdrop on could also ask for the secret.
"""

from __future__ import annotations

import os
import time

from cred_export.stores import KEYRING_SERVICE, StoreUnavailable, chunks, dbus_wire

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: this module is on the cache-hit path
if TYPE_CHECKING:
    from cred_export.fast.memo import Memo

_BUS_NAME = "org.freedesktop.secrets"
_PATH = "/org/freedesktop/secrets"
_SERVICE_INTERFACE = "org.freedesktop.Secret.Service"
_PROPERTIES_INTERFACE = "org.freedesktop.DBus.Properties"
_COLLECTION_INTERFACE = "org.freedesktop.Secret.Collection"
_DEFAULT_COLLECTION = "/org/freedesktop/secrets/aliases/default"
# Where keyring writes instead of the default collection, when the user says so.
_PREFERRED_COLLECTION_VARIABLE = "KEYRING_PROPERTY_PREFERRED_COLLECTION"
# The errors that mean "no such object" (gnome-keyring answers UnknownMethod for an unknown path).
_NOT_FOUND = (
    "org.freedesktop.DBus.Error.UnknownMethod",
    "org.freedesktop.DBus.Error.UnknownObject",
    "org.freedesktop.Secret.Error.NoSuchObject",
)


class _Refused(StoreUnavailable):
    """The Secret Service answered a call with a D-Bus error (`name`)."""

    def __init__(self, message: str, name: str | None) -> None:
        super().__init__(message)
        self.name = name


class SecretServiceReader:
    """One D-Bus connection, every call bounded by a shared deadline."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._session: str | None = None
        try:
            address = dbus_wire.session_bus_address()
            self._connection = dbus_wire.Connection(address, time.monotonic() + timeout)
        except dbus_wire.WireError as exc:  # no bus address, refused socket, auth timeout
            raise StoreUnavailable(f"no D-Bus session bus ({exc})") from None

    def __enter__(self) -> SecretServiceReader:
        return self

    def __exit__(self, *_: object) -> None:
        self._connection.close()

    def get_text(self, service: str, username: str) -> str | None:
        """The (possibly chunked) value stored for service/username; None if absent."""
        return chunks.join(username, self._get_one(service, username), lambda k: self._get_one(service, k))

    def _get_one(self, service: str, username: str) -> str | None:
        unlocked, locked = self._call(
            "SearchItems", "a{ss}", {"service": service, "username": username}, reply="aoao"
        )
        if not unlocked:
            if locked or self._collection_is_locked():
                raise StoreUnavailable("the keyring collection is locked")
            return None
        session = self._open_session()
        (secrets,) = self._call("GetSecrets", "aoo", [unlocked[0]], session, reply="a{o(oayays)}")
        if unlocked[0] not in secrets:
            return None
        _session, _parameters, value, _content_type = secrets[unlocked[0]]
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _collection_is_locked(self) -> bool:
        """Whether the collection keyring writes to is locked (StoreUnavailable if it is missing)."""
        path = os.environ.get(_PREFERRED_COLLECTION_VARIABLE) or _DEFAULT_COLLECTION
        try:
            where = {"path": path, "interface": _PROPERTIES_INTERFACE}
            ((_type, locked),) = self._call("Get", "ss", _COLLECTION_INTERFACE, "Locked", reply="v", **where)
        except _Refused as exc:
            if exc.name not in _NOT_FOUND:
                raise
            raise StoreUnavailable(f"there is no keyring collection at {path}") from None
        return bool(locked)

    def _open_session(self) -> str:
        if self._session is None:
            self._session = self._call("OpenSession", "sv", "plain", ("s", ""), reply="vo")[1]
        return self._session

    def _call(  # type: ignore[type-arg]
        self,
        method: str,
        signature: str,
        *args: object,
        reply: str,
        path: str = _PATH,
        interface: str = _SERVICE_INTERFACE,
    ) -> tuple:
        try:
            return self._connection.call(_BUS_NAME, path, interface, method, signature, *args, reply=reply)
        except dbus_wire.CallError as exc:
            raise _Refused(f"the Secret Service refused {method}: {exc.name}", exc.name) from None
        except dbus_wire.WireTimeout:
            raise StoreUnavailable(f"the OS keyring did not answer within {self._timeout:g} s") from None
        except dbus_wire.WireError as exc:
            raise StoreUnavailable(f"D-Bus failed: {exc}") from None


def fast_read(keys: tuple[str, ...], memo: Memo) -> list[str | None]:
    """The hit path on the Secret Service: what keyring's SecretService backend wrote for `keys`,
    over one connection."""
    with SecretServiceReader(memo.keyring_timeout) as reader:
        return [reader.get_text(KEYRING_SERVICE, key) for key in keys]
