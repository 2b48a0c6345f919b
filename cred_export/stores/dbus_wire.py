"""Just enough of the D-Bus wire protocol for the Secret Service reads on the cache-hit path.

Hand-written on purpose, for the hot path's speed: importing `jeepney` (through `typing`,
`enum`, `re`, `socket` and `selectors`) costs more than everything else a Secret Service hit
does. This client speaks only what that reader needs: a Unix-socket session bus (`unix:path=`
or `unix:abstract=`), the EXTERNAL authentication, `Hello`, and blocking method calls whose
arguments and answers use the basic types, arrays, structs, dict entries and variants
(little-endian, D-Bus specification, "Message Protocol"). Every step is bounded by one deadline.
Anything else — another transport, an answer it cannot read — raises `WireError`, and the
caller treats the store as unavailable for this call, as it would a missing bus.
"""

from __future__ import annotations

import _socket  # not `socket`: its Python wrapper imports enum and selectors
import os
import time

_METHOD_CALL, _METHOD_RETURN, _ERROR = 1, 2, 3
# Header field codes (the spec's table "Header Fields").
_PATH, _INTERFACE, _MEMBER, _ERROR_NAME, _REPLY_SERIAL, _DESTINATION, _SIGNATURE = 1, 2, 3, 4, 5, 6, 8
_ALIGNMENT = {"y": 1, "g": 1, "v": 1, "n": 2, "q": 2, "b": 4, "i": 4, "u": 4, "h": 4, "s": 4, "o": 4,
              "a": 4, "x": 8, "t": 8, "(": 8, "{": 8}  # fmt: skip
# A larger message is refused. Garbage of a few megabytes in the keyring must still read (as a
# miss the slow path then overwrites), so this is the session bus's own default cap, not less.
_MAX_MESSAGE = 32 << 20


class WireError(Exception):
    """The bus could not be reached, did not answer in time, or answered something unreadable."""


class WireTimeout(WireError):
    """The bus did not answer by the deadline."""


class CallError(Exception):
    """The peer answered a method call with a D-Bus error named `name`."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def session_bus_address() -> str | bytes:
    """The session bus's socket address (a path, or bytes for an abstract socket)."""
    for address in os.environ.get("DBUS_SESSION_BUS_ADDRESS", "").split(";"):
        transport, _, options = address.partition(":")
        if transport != "unix":
            continue
        values = dict(option.partition("=")[::2] for option in options.split(","))
        if values.get("path"):
            return _unescape(values["path"])
        if values.get("abstract"):
            return b"\0" + _unescape(values["abstract"]).encode()
    raise WireError("no Unix-socket D-Bus session bus in DBUS_SESSION_BUS_ADDRESS")


class Connection:
    """One authenticated connection to a bus; every call ends by the shared `deadline`."""

    def __init__(self, address: str | bytes, deadline: float) -> None:
        self._deadline = deadline
        self._serial = 0
        self._buffer = bytearray()
        self._socket = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            self._bounded(self._socket.connect, address)
            self._authenticate()
            self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._socket.close()

    def call(self, destination: str, path: str, interface: str, member: str, signature: str,
             *args: object) -> tuple:  # type: ignore[type-arg]  # fmt: skip
        """The method's answer, one value per complete type of its signature."""
        self._serial += 1
        fields = [(_PATH, ("o", path)), (_DESTINATION, ("s", destination)),
                  (_INTERFACE, ("s", interface)), (_MEMBER, ("s", member))]  # fmt: skip
        if signature:
            fields.append((_SIGNATURE, ("g", signature)))
        body = bytearray()
        for type_, value in zip(_complete_types(signature), args, strict=True):
            _write(body, type_, value)
        message = bytearray(b"l" + bytes((_METHOD_CALL, 0, 1)))
        message += len(body).to_bytes(4, "little") + self._serial.to_bytes(4, "little")
        _write(message, "a(yv)", fields)
        _pad(message, 8)
        self._bounded(self._socket.sendall, bytes(message + body))
        return self._reply(self._serial)

    def _reply(self, serial: int) -> tuple:  # type: ignore[type-arg]
        while True:
            kind, fields, body = self._message()
            if kind in (_METHOD_RETURN, _ERROR) and fields.get(_REPLY_SERIAL) == serial:
                break  # anything else (a signal such as NameAcquired) is not for this call
        if kind == _ERROR:
            raise CallError(str(fields.get(_ERROR_NAME, "")))
        values, position = [], 0
        try:
            for type_ in _complete_types(str(fields.get(_SIGNATURE, ""))):
                value, position = _read(body, position, type_)
                values.append(value)
        except (IndexError, KeyError, ValueError):
            raise WireError("an unreadable D-Bus answer") from None
        return tuple(values)

    def _message(self) -> tuple[int, dict[int, object], bytes]:
        fixed = self._receive(16)
        if fixed[:1] != b"l" or fixed[3] != 1:
            raise WireError("not a little-endian D-Bus 1 message")
        body_length = int.from_bytes(fixed[4:8], "little")
        fields_length = int.from_bytes(fixed[12:16], "little")
        header_end = 16 + fields_length + (-(16 + fields_length) % 8)
        if header_end + body_length > _MAX_MESSAGE:
            raise WireError("a D-Bus message larger than expected")
        message = fixed + self._receive(header_end - 16 + body_length)
        try:
            pairs, _ = _read(message, 12, "a(yv)")
            fields = {code: variant[1] for code, variant in pairs}  # type: ignore[attr-defined]
        except (IndexError, KeyError, ValueError, TypeError):
            raise WireError("an unreadable D-Bus message") from None
        return fixed[1], fields, message[header_end:]

    def _authenticate(self) -> None:
        uid = str(os.geteuid()).encode().hex().encode()
        self._bounded(self._socket.sendall, b"\0AUTH EXTERNAL " + uid + b"\r\n")
        while b"\r\n" not in self._buffer:
            self._fill()
        line, _, rest = self._buffer.partition(b"\r\n")
        self._buffer = bytearray(rest)
        if not line.startswith(b"OK "):
            raise WireError("the bus refused EXTERNAL authentication")
        self._bounded(self._socket.sendall, b"BEGIN\r\n")

    def _receive(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data

    def _fill(self) -> None:
        chunk = self._bounded(self._socket.recv, 65536)
        if not chunk:
            raise WireError("the bus closed the connection")
        self._buffer += chunk

    def _bounded(self, operation, *args):  # type: ignore[no-untyped-def]
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise WireTimeout("the bus did not answer in time")
        self._socket.settimeout(remaining)
        try:
            return operation(*args)
        except TimeoutError:
            raise WireTimeout("the bus did not answer in time") from None
        except OSError as exc:
            raise WireError(f"the bus connection failed ({type(exc).__name__})") from None


def _unescape(value: str) -> str:
    """A D-Bus address value with its %XX escapes decoded."""
    parts = value.split("%")
    return parts[0] + "".join(chr(int(part[:2], 16)) + part[2:] for part in parts[1:])


def _complete_types(signature: str) -> list[str]:
    """`a{ss}ao` → [`a{ss}`, `ao`]."""
    types, start = [], 0
    while start < len(signature):
        end = _type_end(signature, start)
        types.append(signature[start:end])
        start = end
    return types


def _type_end(signature: str, start: int) -> int:
    code = signature[start]
    if code == "a":
        return _type_end(signature, start + 1)
    if code in "({":
        depth, index = 0, start
        while True:
            if signature[index] in "({":
                depth += 1
            elif signature[index] in ")}":
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
    return start + 1


def _pad(buffer: bytearray, alignment: int) -> None:
    buffer += bytes(-len(buffer) % alignment)


def _write(buffer: bytearray, type_: str, value) -> None:  # type: ignore[no-untyped-def]
    code = type_[0]
    _pad(buffer, _ALIGNMENT[code])
    if code == "y":
        buffer.append(value)
    elif code in "bu":
        buffer += int(value).to_bytes(4, "little")
    elif code in "so":
        data = value.encode()
        buffer += len(data).to_bytes(4, "little") + data + b"\0"
    elif code == "g":
        buffer += bytes((len(value),)) + value.encode() + b"\0"
    elif code == "v":
        signature, inner = value
        _write(buffer, "g", signature)
        _write(buffer, signature, inner)
    elif code == "a":
        _write_array(buffer, type_[1:], value)
    elif code in "({":
        for field_type, field in zip(_complete_types(type_[1:-1]), value, strict=True):
            _write(buffer, field_type, field)
    else:
        raise WireError(f"cannot write D-Bus type {type_!r}")


def _write_array(buffer: bytearray, element: str, value) -> None:  # type: ignore[no-untyped-def]
    length_at = len(buffer)
    buffer += bytes(4)
    _pad(buffer, _ALIGNMENT[element[0]])
    start = len(buffer)
    for item in value.items() if element[0] == "{" else value:
        _write(buffer, element, item)
    buffer[length_at : length_at + 4] = (len(buffer) - start).to_bytes(4, "little")


def _read(data: bytes, position: int, type_: str) -> tuple[object, int]:
    code = type_[0]
    position += -position % _ALIGNMENT.get(code, 1)
    if code == "y":
        return data[position], position + 1
    if code in "bu":
        number = int.from_bytes(data[position : position + 4], "little")
        return (bool(number) if code == "b" else number), position + 4
    if code in "sog":
        size_bytes = 1 if code == "g" else 4
        size = int.from_bytes(data[position : position + size_bytes], "little")
        start = position + size_bytes
        return data[start : start + size].decode(), start + size + 1
    if code == "v":
        signature, position = _read(data, position, "g")
        inner, position = _read(data, position, str(signature))
        return (signature, inner), position
    if code == "a":
        return _read_array(data, position, type_[1:])
    if code in "({":
        fields = []
        for field_type in _complete_types(type_[1:-1]):
            field, position = _read(data, position, field_type)
            fields.append(field)
        return tuple(fields), position
    raise WireError(f"cannot read D-Bus type {type_!r}")


def _read_array(data: bytes, position: int, element: str) -> tuple[object, int]:
    size = int.from_bytes(data[position : position + 4], "little")
    position += 4
    position += -position % _ALIGNMENT[element[0]]
    end = position + size
    if end > len(data):
        raise WireError("a D-Bus array runs past its message")
    if element == "y":
        return data[position:end], end
    items = []
    while position < end:
        item, position = _read(data, position, element)
        items.append(item)
    return (dict(items) if element[0] == "{" else items), end  # type: ignore[arg-type]
