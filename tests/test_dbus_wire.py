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
        ("unix:path=/run/user/1000/bus", "/run/user/1000/bus"),
        ("unix:path=/tmp/with%20space,guid=abc", "/tmp/with space"),
        ("unix:abstract=/tmp/dbus-x,guid=1", b"\0/tmp/dbus-x"),
        ("tcp:host=127.0.0.1,port=1;unix:path=/second", "/second"),
    ],
)
def test_session_bus_addresses(monkeypatch, address, expected):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    assert dbus_wire.session_bus_address() == expected


@pytest.mark.parametrize("address", [None, "", "tcp:host=127.0.0.1,port=1", "unix:tmpdir=/tmp"])
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
