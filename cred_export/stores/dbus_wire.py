"""Just enough of the D-Bus wire protocol for the Secret Service reads on the cache-hit path.

Hand-written on purpose, for the hot path's speed: importing `jeepney` (through `typing`,
`enum`, `re`, `socket` and `selectors`) costs more than everything else a Secret Service hit
does. This client speaks only what that reader needs: a Unix-socket session bus (`unix:path=`
or `unix:abstract=`), the EXTERNAL authentication, `Hello`, and blocking method calls whose
arguments and answers use the basic types, arrays, structs, dict entries and variants (D-Bus
specification, "Message Protocol"; either byte order). Every step is bounded by one deadline.

What comes back is read defensively: a reply is decoded only when its signature is exactly the
one the caller expects, header fields only when they hold a basic type, every length is checked
against the message, and arrays hold at most `_MAX_ITEMS` items. Anything else — another
transport, an answer it cannot read — raises `WireError`, and the caller treats the store as
unavailable for this call, as it would a missing bus.
"""

from __future__ import annotations

import _socket  # not `socket`: its Python wrapper imports enum and selectors
import os
import time

_METHOD_CALL, _METHOD_RETURN, _ERROR = 1, 2, 3
# Header field codes (the spec's table "Header Fields").
_PATH, _INTERFACE, _MEMBER, _ERROR_NAME, _REPLY_SERIAL, _DESTINATION, _SIGNATURE = 1, 2, 3, 4, 5, 6, 8
_FIXED_SIZE = {"y": 1, "n": 2, "q": 2, "b": 4, "i": 4, "u": 4, "h": 4, "x": 8, "t": 8, "d": 8}
_ALIGNMENT = {**_FIXED_SIZE, "g": 1, "v": 1, "s": 4, "o": 4, "a": 4, "(": 8, "{": 8}
_BASIC = frozenset("ynqbiuhxtdsog")  # what a header field may hold, as far as this client reads
_BYTE_ORDER = {ord("l"): "little", ord("B"): "big"}
# A larger message is refused. Garbage of a few megabytes in the keyring must still read (as a
# miss the slow path then overwrites), so this is the session bus's own default cap, not less.
_MAX_MESSAGE = 32 << 20
_MAX_ITEMS = 10_000  # per array: these reads find a handful of items
_MAX_AUTH_LINE = 16 << 10


class WireError(Exception):
    """The bus could not be reached, did not answer in time, or answered something unreadable."""


class WireTimeout(WireError):
    """The bus did not answer by the deadline."""


class CallError(Exception):
    """The peer answered a method call with a D-Bus error named `name`."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def session_bus_address() -> bytes:
    """The session bus's socket address (a path, or a NUL-led name for an abstract socket)."""
    for address in os.environ.get("DBUS_SESSION_BUS_ADDRESS", "").split(";"):
        transport, _, options = address.partition(":")
        if transport != "unix":
            continue
        values = dict(option.partition("=")[::2] for option in options.split(","))
        if values.get("path"):
            return _unescape(values["path"])
        if values.get("abstract"):
            return b"\0" + _unescape(values["abstract"])
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
            bus = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")
            self.call(*bus, "Hello", "", reply="s")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._socket.close()

    def call(self, destination: str, path: str, interface: str, member: str, signature: str,
             *args: object, reply: str) -> tuple:  # type: ignore[type-arg]  # fmt: skip
        """The method's answer, one value per complete type of `reply`, its expected signature."""
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
        return self._reply(self._serial, reply)

    def _reply(self, serial: int, expected: str) -> tuple:  # type: ignore[type-arg]
        while True:
            kind, fields, body, order = self._message()
            if kind in (_METHOD_RETURN, _ERROR) and fields.get(_REPLY_SERIAL) == serial:
                break  # anything else (a signal such as NameAcquired) is not for this call
        if kind == _ERROR:
            raise CallError(str(fields.get(_ERROR_NAME, "")))
        if fields.get(_SIGNATURE, "") != expected:
            raise WireError(f"a D-Bus answer of another signature than {expected!r}")
        values, position = [], 0
        for type_ in _complete_types(expected):
            value, position = _read(body, position, type_, order)
            values.append(value)
        return tuple(values)

    def _message(self) -> tuple[int, dict[int, object], bytes, str]:
        fixed = self._receive(16)
        order = _BYTE_ORDER.get(fixed[0])
        if order is None or fixed[3] != 1:
            raise WireError("not a D-Bus 1 message")
        body_length = int.from_bytes(fixed[4:8], order)
        fields_length = int.from_bytes(fixed[12:16], order)
        header_end = 16 + fields_length + (-(16 + fields_length) % 8)
        if header_end + body_length > _MAX_MESSAGE:
            raise WireError("a D-Bus message larger than expected")
        message = fixed + self._receive(header_end - 16 + body_length)
        return fixed[1], _header_fields(message, order), message[header_end:], order

    def _authenticate(self) -> None:
        uid = str(os.geteuid()).encode().hex().encode()
        self._bounded(self._socket.sendall, b"\0AUTH EXTERNAL " + uid + b"\r\n")
        while b"\r\n" not in self._buffer:
            if len(self._buffer) > _MAX_AUTH_LINE:
                raise WireError("the bus answered authentication with an endless line")
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


def _header_fields(message: bytes, order: str) -> dict[int, object]:
    """The header fields (code → value) of `message`; only basic-typed values are read."""
    fields: dict[int, object] = {}
    size = _integer(message, 12, 4, order)
    position, end = 16, 16 + size
    _check(end <= len(message), "header fields run past the message")
    while position < end:
        position += -position % 8
        code = _integer(message, position, 1, order)
        signature, position = _read(message, position + 1, "g", order)
        _check(signature in _BASIC, "a header field of an unexpected type")
        fields[code], position = _read(message, position, str(signature), order)
    return fields


def _unescape(value: str) -> bytes:
    """A D-Bus address value with its %XX escapes decoded (to bytes, as the spec says)."""
    raw = value.encode()
    parts = raw.split(b"%")
    decoded = bytearray(parts[0])
    for part in parts[1:]:
        digits = part[:2]
        if len(digits) != 2 or not all(chr(d) in "0123456789abcdefABCDEF" for d in digits):
            raise WireError("a malformed escape in DBUS_SESSION_BUS_ADDRESS")
        decoded.append(int(digits, 16))
        decoded += part[2:]
    return bytes(decoded)


def _complete_types(signature: str) -> list[str]:
    """`a{ss}ao` → [`a{ss}`, `ao`] (signatures this client writes and expects: well formed)."""
    types, start = [], 0
    while start < len(signature):
        end = _type_end(signature, start)
        types.append(signature[start:end])
        start = end
    return types


def _type_end(signature: str, start: int) -> int:
    index = start
    while signature[index] == "a":
        index += 1
    if signature[index] not in "({":
        return index + 1
    depth = 0
    while True:
        if signature[index] in "({":
            depth += 1
        elif signature[index] in ")}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1


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


def _read(data: bytes, position: int, type_: str, order: str = "little") -> tuple[object, int]:
    """The value of `type_` at `position` (aligned first), and the position after it."""
    code = type_[0]
    position += -position % _ALIGNMENT[code]
    if code in _FIXED_SIZE:
        size = _FIXED_SIZE[code]
        number = _integer(data, position, size, order)
        return (bool(number) if code == "b" else number), position + size
    if code in "sog":
        size_bytes = 1 if code == "g" else 4
        size = _integer(data, position, size_bytes, order)
        text = _string(data, position + size_bytes, size)
        return text, position + size_bytes + size + 1
    if code == "v":
        signature, position = _read(data, position, "g", order)
        _check(signature in _BASIC, "a variant of an unexpected type")
        value, position = _read(data, position, str(signature), order)
        return (signature, value), position
    if code == "a":
        return _read_array(data, position, type_[1:], order)
    fields = []
    for field_type in _complete_types(type_[1:-1]):
        field, position = _read(data, position, field_type, order)
        fields.append(field)
    return tuple(fields), position


def _read_array(data: bytes, position: int, element: str, order: str) -> tuple[object, int]:
    size = _integer(data, position, 4, order)
    position += 4
    position += -position % _ALIGNMENT[element[0]]
    end = position + size
    _check(end <= len(data), "an array runs past its message")
    if element == "y":
        return data[position:end], end
    items = []
    while position < end:
        _check(len(items) < _MAX_ITEMS, "an array of more items than expected")
        item, position = _read(data, position, element, order)
        items.append(item)
    _check(position == end, "an array whose items run past its end")
    return (dict(items) if element[0] == "{" else items), end  # type: ignore[arg-type]


def _integer(data: bytes, position: int, size: int, order: str) -> int:
    _check(position + size <= len(data), "a number runs past its message")
    return int.from_bytes(data[position : position + size], order)  # type: ignore[arg-type]


def _string(data: bytes, start: int, size: int) -> str:
    """`size` bytes of UTF-8 at `start`, which the message must follow with a NUL."""
    _check(start + size < len(data) and data[start + size] == 0, "a string runs past its message")
    try:
        return data[start : start + size].decode()
    except UnicodeDecodeError:
        raise WireError("a string that is not UTF-8") from None


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise WireError(f"an unreadable D-Bus message: {problem}")
