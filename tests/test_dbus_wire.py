"""The hit path's own D-Bus client: its marshalling, its addresses and its bounds.

Its reads against a real Secret Service are in tests/test_store_contract.py (TestSecretServiceReader);
here the edge cases: what it writes matches the D-Bus specification byte for byte, an answer
it cannot read or a bus that never answers ends within the deadline, with WireError.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cred_export.stores import dbus_wire
from cred_export.stores.dbus_wire import _read, _write

SAMPLES = [
    ("y", 7),
    ("b", True),
    ("u", 4_000_000_000),
    ("s", "grüße"),
    ("o", "/org/freedesktop/secrets/aliases/default"),
    ("g", "a{ss}"),
    ("v", ("s", "")),
    ("a{ss}", {"service": "cred-export", "username": "00aa"}),
    ("ao", ["/a", "/b/c"]),
    ("ay", b"\x00\xffsecret"),
    ("a{o(oayays)}", {"/item/1": ("/session/2", b"", b"value", "text/plain")}),
    ("(yv)", (8, ("g", "sv"))),
]


@pytest.mark.parametrize(("type_", "value"), SAMPLES, ids=[t for t, _ in SAMPLES])
def test_what_it_writes_it_reads_back(type_, value):
    buffer = bytearray(b"\0")  # misaligned on purpose: padding must follow the position
    _write(buffer, type_, value)
    read, end = _read(bytes(buffer), 1, type_)
    assert (read, end) == (value, len(buffer))


def test_it_writes_the_specifications_bytes():
    buffer = bytearray()
    _write(buffer, "a{ss}", {"a": "b"})
    # length 16 (after the padding to 8), entry: "a" (len 1, NUL, pad), "b" (len 1, NUL)
    assert bytes(buffer) == (
        b"\x0e\x00\x00\x00" + b"\0" * 4 + b"\x01\x00\x00\x00a\x00\x00\x00" + b"\x01\x00\x00\x00b\x00"
    )


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("unix:path=/run/user/1000/bus", b"/run/user/1000/bus"),
        ("unix:path=/tmp/with%20space,guid=abc", b"/tmp/with space"),
        ("unix:path=/tmp/caf%c3%a9/bus", "/tmp/café/bus".encode()),
        ("unix:abstract=/tmp/dbus-x,guid=1", b"\0/tmp/dbus-x"),
        ("tcp:host=127.0.0.1,port=1;unix:path=/second", b"/second"),
    ],
)
def test_session_bus_addresses(monkeypatch, address, expected):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    assert dbus_wire.session_bus_address() == expected


@pytest.mark.parametrize(
    "address",
    [None, "", "tcp:host=127.0.0.1,port=1", "unix:tmpdir=/tmp", "unix:path=/tmp/a%zz", "unix:path=/a%4"],
)
def test_an_address_it_cannot_use_is_a_wire_error(monkeypatch, address):
    if address is None:
        monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    else:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    with pytest.raises(dbus_wire.WireError):
        dbus_wire.session_bus_address()


@pytest.fixture
def fake_bus(tmp_path: Path) -> Iterator[tuple[str, list[bytes]]]:
    """A Unix socket whose peer answers each connection with the bytes queued in the list."""
    path = str(tmp_path / "bus")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    listener.settimeout(10)
    answers: list[bytes] = []
    held: list[socket.socket] = []

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        held.append(conn)
        conn.settimeout(10)
        try:
            conn.recv(4096)
            for answer in answers:
                conn.sendall(answer)
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield path, answers
    listener.close()
    thread.join(10)
    for conn in held:
        conn.close()


def test_a_bus_that_never_answers_ends_at_the_deadline(fake_bus):
    path, _answers = fake_bus  # nothing queued: it reads and stays silent
    started = time.monotonic()
    with pytest.raises(dbus_wire.WireTimeout):
        dbus_wire.Connection(path, time.monotonic() + 0.5)
    assert time.monotonic() - started < 5


def test_a_bus_that_refuses_authentication_is_a_wire_error(fake_bus):
    path, answers = fake_bus
    answers.append(b"REJECTED EXTERNAL\r\n")
    with pytest.raises(dbus_wire.WireError, match="refused"):
        dbus_wire.Connection(path, time.monotonic() + 5)


def test_garbage_after_authentication_is_a_wire_error(fake_bus):
    path, answers = fake_bus
    answers.append(b"OK 0123456789abcdef\r\n" + b"B" * 64)
    with pytest.raises(dbus_wire.WireError):
        dbus_wire.Connection(path, time.monotonic() + 5)


def test_a_socket_nobody_listens_on_is_a_wire_error(tmp_path):
    with pytest.raises(dbus_wire.WireError):
        dbus_wire.Connection(str(tmp_path / "nobody"), time.monotonic() + 5)


# --- answers a bus should never send: each is a WireError, within the deadline ------------------

AUTH_OK = b"OK 0123456789abcdef0123456789abcdef\r\n"


def hello_reply(signature: str = "s", body: bytes | None = None, fields: list | None = None) -> bytes:
    """A METHOD_RETURN to the Hello call (serial 1), little-endian, built with the client's writer."""
    if body is None:
        body_buffer = bytearray()
        _write(body_buffer, "s", ":1.42")
        body = bytes(body_buffer)
    header_fields = [(5, ("u", 1)), (8, ("g", signature)), *(fields or [])]
    message = bytearray(b"l\x02\x00\x01") + len(body).to_bytes(4, "little") + (7).to_bytes(4, "little")
    _write(message, "a(yv)", header_fields)
    message += bytes(-len(message) % 8)
    return bytes(message) + body


def connect(fake_bus, *answers: bytes, seconds: float = 5) -> dbus_wire.Connection:
    path, queued = fake_bus
    queued.extend(answers)
    return dbus_wire.Connection(path, time.monotonic() + seconds)


def test_a_well_formed_hello_reply_connects(fake_bus):
    connect(fake_bus, AUTH_OK + hello_reply()).close()


def test_a_reply_trickled_byte_by_byte_still_reads(fake_bus):
    whole = AUTH_OK + hello_reply()
    connect(fake_bus, *(whole[i : i + 1] for i in range(len(whole)))).close()


def test_a_big_endian_reply_reads(fake_bus):
    body = (5).to_bytes(4, "big") + b":1.42\0"
    fields = (
        b"\x05\x01u\x00" + (1).to_bytes(4, "big")  # REPLY_SERIAL = 1
        + b"\x08\x01g\x00" + b"\x01s\x00"  # SIGNATURE = "s"
    )  # fmt: skip
    header = b"B\x02\x00\x01" + len(body).to_bytes(4, "big") + (7).to_bytes(4, "big")
    header += len(fields).to_bytes(4, "big") + fields
    connect(fake_bus, AUTH_OK + header + bytes(-len(header) % 8) + body).close()


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(hello_reply(signature="u", body=(1).to_bytes(4, "little")), id="another-signature"),
        pytest.param(hello_reply(fields=[(9, ("as", ["x"]))]), id="a-container-in-a-header-field"),
        pytest.param(hello_reply(body=(1000).to_bytes(4, "little") + b"abc\0"), id="a-string-past-the-end"),
        pytest.param(hello_reply(body=(3).to_bytes(4, "little") + b"\xff\xfe\xfd\0"), id="not-utf8"),
        pytest.param(b"l\x02\x00\x01" + (1 << 30).to_bytes(4, "little") + bytes(8), id="huge"),
        pytest.param(b"x" * (20 << 10), id="an-endless-auth-line"),
    ],
)
def test_a_malformed_answer_is_a_wire_error_at_once(fake_bus, answer):
    started = time.monotonic()
    prefix = b"" if answer.startswith(b"x") else AUTH_OK
    with pytest.raises(dbus_wire.WireError) as raised:
        connect(fake_bus, prefix + answer)
    assert not isinstance(raised.value, dbus_wire.WireTimeout)
    assert time.monotonic() - started < 4
