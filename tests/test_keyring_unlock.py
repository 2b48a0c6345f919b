"""cred-export never asks to unlock the OS keyring, nor to create one.

Against a real gnome-keyring with a password-protected "login" collection, on a private D-Bus
that can start no prompter, with `dbus-monitor` watching for `Service.Unlock`,
`Service.CreateCollection` and `Prompt.Prompt`: export, a second export, a retry of the keyring
after the fallback's retry time, `status`, `clear` and `login` work from the file store with one
warning line and never make one of those calls, whether the collection is locked or missing.
An unlocked collection is used as usual, without them too.

The first test is the control: keyring's stock Secret Service backend does make those calls in
the same setup, so their absence elsewhere means something.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring.core
import pytest
from harness.locked_keyring import AVAILABLE, BusMonitor, LoginKeyring, PrivateBus
from harness.require import require
from harness.sandbox import Sandbox

from cred_export.stores import SECRET_SERVICE, StoreUnavailable
from cred_export.stores.keyring_store import KeyringStore
from cred_export.stores.secret_service import SecretServiceReader

RUN_BOUND = 60  # seconds for one CLI run; the keyring's own bound is 2 s
WHY = {"locked": "the keyring collection is locked", "missing": "there is no keyring collection at"}

_STOCK_KEYRING = """
from keyring.backends import SecretService
try:
    SecretService.Keyring().get_password("cred-export", "probe")
except Exception as exc:
    print(type(exc).__name__, exc)
"""


class Keyring:
    """A private bus, gnome-keyring on it in some state, and a monitor of its prompts."""

    def __init__(self, root: Path, state: str) -> None:
        self.bus = PrivateBus(root / "bus")
        self.monitor: BusMonitor | None = None
        try:
            self.daemon = LoginKeyring(root / "keyring", self.bus, state)
            self.monitor = BusMonitor(self.bus, root / "monitor.log")
        except BaseException:
            self.stop()
            raise

    @property
    def env(self) -> dict[str, str]:
        return self.bus.env

    def prompts(self) -> list[str]:
        assert self.monitor is not None
        return self.monitor.calls()

    def lock(self) -> None:
        """Lock the login collection, as a screen lock or a timeout does (no prompt needed)."""
        reply = self.bus.send(
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        )
        assert reply.returncode == 0, reply.stderr
        assert self.daemon.default_collection_state() == "locked"

    def stop(self) -> None:
        if self.monitor is not None:
            self.monitor.stop()
        if getattr(self, "daemon", None) is not None:
            self.daemon.stop()
        self.bus.stop()


def _require_tools() -> None:
    require(AVAILABLE, "no dbus-daemon, dbus-send, dbus-monitor or gnome-keyring-daemon on this machine")


def _keyring(tmp_path: Path, state: str) -> Iterator[Keyring]:
    _require_tools()
    service = Keyring(tmp_path / "secret-service", state)
    yield service
    service.stop()


@pytest.fixture(params=["locked", "missing"])
def unusable(request, tmp_path) -> Iterator[Keyring]:  # type: ignore[no-untyped-def]
    """A login collection that is locked (password on disk, not given), or no collection at all."""
    yield from _keyring(tmp_path, request.param)


@pytest.fixture
def unlocked(tmp_path) -> Iterator[Keyring]:  # type: ignore[no-untyped-def]
    """The password-protected login collection, unlocked with its password."""
    yield from _keyring(tmp_path, "unlocked")


@pytest.fixture
def box(tmp_path, sts) -> Sandbox:  # type: ignore[no-untyped-def]
    return Sandbox(tmp_path / "box", sts.url)


def run(box: Sandbox, service: Keyring, *args: str):  # type: ignore[no-untyped-def]
    """One CLI run on the service's bus; fails at once if it made a call that unlocks or prompts."""
    result = box.run(*args, env=service.env, timeout=RUN_BOUND)
    calls = service.prompts()
    assert calls == [], f"`cred-export {' '.join(args)}` asked the Secret Service to: {calls}"
    return result


def stderr_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def assert_one_warning_naming(result, why: str) -> None:  # type: ignore[no-untyped-def]
    lines = stderr_lines(result.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("cred-export: warning: ") and why in lines[0], lines


def make_keyring_retry_due(box: Sandbox) -> None:
    """As if the fallback's retry time had passed: the next export tries the keyring again."""
    for memo in (box.cache_dir / "memo").iterdir():
        memo.write_text(re.sub(r"retry_keyring_after=\d+", "retry_keyring_after=0", memo.read_text()))


def stored_items(service: Keyring) -> list[str]:
    """The Secret Service items filed under service=cred-export (asked with dbus-send)."""
    reply = service.bus.send(
        "--print-reply",
        "--dest=org.freedesktop.secrets",
        "/org/freedesktop/secrets",
        "org.freedesktop.Secret.Service.SearchItems",
        "dict:string:string:service,cred-export",
    )
    assert reply.returncode == 0, reply.stderr
    return re.findall(r'object path "(/org/freedesktop/secrets/collection/[^"]+)"', reply.stdout)


def discovered_backend(service: Keyring) -> str:
    """What keyring's discovery picks in a fresh process once the prompt-free class exists."""
    code = (
        "import cred_export.stores.prompt_free_secret_service\n"
        "import keyring\n"
        "backend = type(keyring.get_keyring())\n"
        "print(f'{backend.__module__}.{backend.__name__}')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", **service.env},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()


def test_stock_keyring_would_prompt_here(unusable):
    """The control: the setup provokes exactly the calls the fix avoids, and the monitor sees them."""
    state = unusable.daemon.state
    completed = subprocess.run(
        [sys.executable, "-c", _STOCK_KEYRING],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **unusable.env},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.returncode == 0 and completed.stdout, completed  # it gave up: nobody answered
    calls = [call.split()[0] for call in unusable.prompts()]
    first = "Unlock" if state == "locked" else "CreateCollection"
    assert calls and calls[0] == f"org.freedesktop.Secret.Service.{first}", calls
    assert "org.freedesktop.Secret.Prompt.Prompt" in calls


def test_every_command_falls_back_to_files_without_a_prompt(unusable, box, sts):
    state = unusable.daemon.state
    why = WHY[state]
    profile = box.role_chain(depth=1)

    first = run(box, unusable, "--profile", profile)
    assert first.code == 0, first.stderr
    assert first.credentials["AccessKeyId"].startswith("ASIA")
    assert_one_warning_naming(first, why)
    assert "caching in" in first.stderr and len(box.cached_files()) == 1

    second = run(box, unusable, "--profile", profile)  # the hit path, on the fallback files
    assert second.code == 0 and second.credentials == first.credentials
    assert_one_warning_naming(second, why)

    make_keyring_retry_due(box)  # the slow path opens the keyring again: still no prompt
    retried = run(box, unusable, "--profile", profile)
    assert retried.code == 0 and retried.credentials == first.credentials
    assert_one_warning_naming(retried, why)
    assert sts.calls["AssumeRole"] == 1

    status = run(box, unusable, "status", "--profile", profile)
    assert status.code == 0, status.stderr
    assert "cache: file" in status.stdout and "min left" in status.stdout
    assert_one_warning_naming(status, why)

    cleared = run(box, unusable, "clear", "--profile", profile)
    assert cleared.code == 0, cleared.stderr
    assert f"cleared profile {profile}" in cleared.stdout and box.cached_files() == []
    assert_one_warning_naming(cleared, why)  # what the locked keyring holds is left, and it says so

    login = run(box, unusable, "login", "--profile", "base")  # static keys → GetSessionToken
    assert login.code == 0, login.stderr
    assert "Signed in" in login.stdout
    assert_one_warning_naming(login, why)
    assert len(box.cached_files()) == 1
    served = run(box, unusable, "--profile", "base")
    assert served.code == 0 and served.credentials["SessionToken"]
    assert_one_warning_naming(served, why)

    assert unusable.prompts() == []
    assert unusable.daemon.default_collection_state() == state  # nothing unlocked or created it


def test_an_unlocked_password_protected_keyring_is_used_without_a_prompt(unlocked, box, sts):
    profile = box.role_chain(depth=1)
    first = run(box, unlocked, "--profile", profile)
    assert first.code == 0 and first.stderr == "", first.stderr
    assert box.cached_files() == [] and len(stored_items(unlocked)) == 1  # in the keyring

    hit = run(box, unlocked, "--profile", profile, "--debug")
    assert hit.credentials == first.credentials
    assert "cache hit" in hit.stderr and SECRET_SERVICE in hit.stderr
    assert sts.calls["AssumeRole"] == 1

    status = run(box, unlocked, "status", "--profile", profile)
    assert status.code == 0 and status.stderr == "" and "cache: keyring (SecretService)" in status.stdout

    cleared = run(box, unlocked, "clear", "--profile", profile)
    assert cleared.code == 0 and cleared.stderr == ""
    assert stored_items(unlocked) == []

    login = run(box, unlocked, "login", "--profile", "base")
    assert login.code == 0 and login.stderr == "" and "Signed in" in login.stdout
    assert box.cached_files() == [] and len(stored_items(unlocked)) == 1

    # Not even the no-op Service.Unlock that keyring's own backend sends for every item it reads.
    assert unlocked.prompts() == []
    assert unlocked.daemon.default_collection_state() == "unlocked"


def test_a_miss_while_the_keyring_is_locked_goes_straight_to_the_files(unlocked, box, sts):
    """The hit path's reader: no entry and a locked collection is "locked", not a plain miss,
    so the slow path does not even open the keyring."""
    profile = box.role_chain(depth=1)
    assert run(box, unlocked, "--profile", profile).code == 0  # the memo now says: the keyring
    assert run(box, unlocked, "clear", "--profile", profile).code == 0  # the entry is gone
    unlocked.lock()

    result = run(box, unlocked, "--profile", profile)
    assert result.code == 0, result.stderr
    lines = stderr_lines(result.stderr)
    assert lines == ["cred-export: warning: the keyring collection is locked; using the file cache instead"]
    assert len(box.cached_files()) == 1 and sts.calls["AssumeRole"] == 2
    again = run(box, unlocked, "--profile", profile)
    assert again.credentials == result.credentials and len(stderr_lines(again.stderr)) == 1
    assert unlocked.prompts() == []
    assert unlocked.daemon.default_collection_state() == "locked"


@pytest.fixture
def in_process(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """Point this process's keyring library at a test's bus (as test_store_contract.py does)."""

    def use(service: Keyring) -> None:
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        for name, value in service.env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # discover again, on this bus

    return use


def test_a_keyring_locked_after_the_store_opened_refuses_every_call_without_a_prompt(unlocked, in_process):
    in_process(unlocked)
    store = KeyringStore(timeout=5)
    assert store.kind == SECRET_SERVICE and store.name == "keyring (SecretService)"
    assert discovered_backend(unlocked) == "keyring.backends.SecretService.Keyring"  # not a chainer
    store.put_text("00aa", "before the lock")
    unlocked.lock()
    for call in (
        lambda: store.get_text("00aa"),
        lambda: store.put_text("00bb", "after the lock"),
        lambda: store.delete("00aa"),
        lambda: KeyringStore(timeout=5),
    ):
        with pytest.raises(StoreUnavailable, match="locked"):
            call()
    with SecretServiceReader(5) as reader, pytest.raises(StoreUnavailable, match="locked"):
        reader.get_text("cred-export", "00bb")  # missing, and the collection is locked
    assert unlocked.prompts() == []


@pytest.fixture
def missing(tmp_path) -> Iterator[Keyring]:  # type: ignore[no-untyped-def]
    """No keyring file at all: the default alias names no collection."""
    yield from _keyring(tmp_path, "missing")


def test_the_reader_reports_a_missing_collection_on_a_miss(missing, monkeypatch):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", missing.env["DBUS_SESSION_BUS_ADDRESS"])
    with SecretServiceReader(5) as reader, pytest.raises(StoreUnavailable, match="no keyring collection"):
        reader.get_text("cred-export", "00aa")
    assert missing.prompts() == []


def test_a_prompt_the_service_asks_for_is_dismissed_not_shown(unlocked, in_process, monkeypatch):
    """gnome-keyring never asks to confirm a write or a delete, KeePassXC can: the store
    dismisses such a prompt (one reply faked here, the rest is the real service)."""
    from secretstorage.util import DBusAddressWrapper

    in_process(unlocked)
    store = KeyringStore(timeout=5)
    store.put_text("00cc", "kept")
    sent: list[str] = []
    real_call = DBusAddressWrapper.call

    def call(self, method, signature, *body):  # type: ignore[no-untyped-def]
        sent.append(method)
        if method in ("CreateItem", "Delete"):
            prompt = "/org/freedesktop/secrets/prompt/confirm"
            return ("/", prompt) if method == "CreateItem" else (prompt,)
        return real_call(self, method, signature, *body)

    monkeypatch.setattr(DBusAddressWrapper, "call", call)
    with pytest.raises(StoreUnavailable, match="wants to ask the user before it stores"):
        store.put_text("00dd", "new")
    with pytest.raises(StoreUnavailable, match="wants to ask the user before it deletes"):
        store.delete("00cc")
    assert "Dismiss" in sent and "Prompt" not in sent
    monkeypatch.undo()
    assert unlocked.prompts() == []
