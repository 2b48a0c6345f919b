"""The OS keyring misbehaving, against a real Secret Service (gnome-keyring on a private D-Bus):
frozen (SIGSTOP), or holding garbage — bytes that are not text, a value of megabytes, chunk
heads whose parts are missing. Export answers within a few seconds, from the file fallback or
from upstream, says so on stderr, and replaces what it could not read.

A locked collection and no keyring at all are in tests/test_keyring.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from faultkit import timed_run
from harness.sandbox import Sandbox
from harness.secret_service import SecretService

# keyring_timeout_seconds is 2 s; the slow path adds imports and one STS call on top.
ANSWER_BOUND = 15.0

_PUT_ITEM = """
import sys
import secretstorage
connection = secretstorage.dbus_init()
collection = secretstorage.get_default_collection(connection)
attributes = {"service": "cred-export", "username": sys.argv[1], "application": "Python keyring library"}
for item in collection.search_items({"service": "cred-export", "username": sys.argv[1]}):
    item.delete()
collection.create_item("planted by a test", attributes, sys.stdin.buffer.read(), replace=True)
"""


@pytest.fixture
def own_service(tmp_path_factory, secret_service) -> Iterator[SecretService]:  # type: ignore[no-untyped-def]
    """A Secret Service of the test's own, free to freeze (secret_service: skips without daemons)."""
    service = SecretService(tmp_path_factory.mktemp("keyring"))
    yield service
    service.stop()


@pytest.fixture
def box(tmp_path, sts, own_service) -> Sandbox:  # type: ignore[no-untyped-def]
    return Sandbox(tmp_path, sts.url, own_service.env)


def plant(box: Sandbox, username: str, value: bytes) -> None:
    """Put `value` in the keyring under cred-export's service, as keyring would file it."""
    subprocess.run(
        [sys.executable, "-c", _PUT_ITEM, username],
        input=value,
        env=box.env,
        cwd=box.root,
        capture_output=True,
        timeout=60,
        check=True,
    )


def keyring_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "keyring" in line]


def test_a_frozen_keyring_with_nothing_cached_answers_from_upstream(box, sts, own_service):
    profile = box.role_chain(depth=1)
    own_service.freeze()
    try:
        outcome = timed_run(box, "--profile", profile)
        again = timed_run(box, "--profile", profile)
    finally:
        own_service.thaw()
    assert outcome.code == 0, outcome.stderr
    assert outcome.seconds < ANSWER_BOUND
    assert len(outcome.lines) == 1 and "did not answer" in outcome.lines[0] and "file" in outcome.lines[0]
    assert again.code == 0 and again.credentials == outcome.credentials  # the fallback store served it
    assert keyring_lines(again.stderr) and sts.calls["AssumeRole"] == 1


def test_a_keyring_frozen_mid_use_answers_within_seconds_and_says_so(box, sts, own_service):
    profile = box.role_chain(depth=1)
    first = timed_run(box, "--profile", profile)
    assert first.code == 0 and first.stderr == ""
    own_service.freeze()
    try:
        outcome = timed_run(box, "--profile", profile)
    finally:
        own_service.thaw()
    assert outcome.code == 0, outcome.stderr
    assert outcome.seconds < ANSWER_BOUND
    assert keyring_lines(outcome.stderr) and len(outcome.lines) <= 2, outcome.lines
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize(
    "planted",
    [
        pytest.param(b"\xff\xfe\x00 not text \x80", id="not-utf8"),
        pytest.param(b"cred-export-record 2\n" + b"A" * (4 << 20), id="four-megabytes"),
        pytest.param(b"chunks 3 deadbeef", id="chunks-missing"),
        pytest.param(b"chunks 99999999 00000000", id="chunks-absurd"),
        pytest.param(b"cred-export-record 2\nA\nB\nC\n" + b"9" * 40 + b"\n0\n", id="absurd-expiry"),
    ],
)
def test_garbage_in_the_keyring_is_replaced_by_fresh_credentials(box, sts, planted):
    profile = box.role_chain(depth=1)
    first = timed_run(box, "--profile", profile)
    plant(box, box.cache_key(profile), planted)
    outcome = timed_run(box, "--profile", profile)
    assert outcome.code == 0, outcome.stderr
    assert outcome.seconds < ANSWER_BOUND
    assert outcome.credentials["AccessKeyId"] != first.credentials["AccessKeyId"]
    assert len(outcome.lines) <= 1 and "Traceback" not in outcome.stderr
    healed = timed_run(box, "--profile", profile)
    assert healed.stderr == "" and healed.credentials == outcome.credentials
    assert sts.calls["AssumeRole"] == 2


@pytest.fixture
def locked_service(tmp_path_factory, secret_service) -> Iterator[SecretService]:  # type: ignore[no-untyped-def]
    service = SecretService(tmp_path_factory.mktemp("locked"), unlocked=False)
    yield service
    service.stop()


def test_a_locked_keyring_falls_back_to_files_and_says_so(tmp_path, sts, locked_service):
    box = Sandbox(tmp_path, sts.url, locked_service.env)
    profile = box.role_chain(depth=1)
    first = timed_run(box, "--profile", profile)
    second = timed_run(box, "--profile", profile)
    assert first.code == 0 and first.seconds < ANSWER_BOUND, first.stderr
    assert len(first.lines) == 1 and "locked" in first.lines[0], first.lines
    assert second.credentials == first.credentials and len(second.lines) == 1
    assert sts.calls["AssumeRole"] == 1


def test_no_keyring_at_all_chooses_files_and_says_so_once(tmp_path, sts):
    box = Sandbox(tmp_path, sts.url, {"DBUS_SESSION_BUS_ADDRESS": "unix:path=/nonexistent/bus"})
    profile = box.role_chain(depth=1)
    first = timed_run(box, "--profile", profile)
    second = timed_run(box, "--profile", profile)
    assert first.code == 0 and first.seconds < ANSWER_BOUND, first.stderr
    assert len(first.lines) == 1 and "keyring" in first.lines[0], first.lines
    assert second.credentials == first.credentials and second.lines == []
    assert sts.calls["AssumeRole"] == 1
