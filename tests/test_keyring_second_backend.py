"""No unlock dialog whichever backend keyring chooses: a second backend makes it a chainer.

With a second keyring backend installed (`tests/harness/keyring_plugin`, a plugin installed as
plugins are: an entry point in `keyring.backends`), keyring's discovery picks its
`ChainerBackend`, which calls the Secret Service backend as one of its members. The same holds
when the user names the chainer (`PYTHON_KEYRING_BACKEND`). Against the real gnome-keyring of
tests/test_keyring_unlock.py, watched by `dbus-monitor`, cred-export still never calls
`Service.Unlock`, `Service.CreateCollection` or `Prompt.Prompt`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import test_keyring_unlock as unlock
from test_keyring_unlock import WHY, Keyring, assert_one_warning_naming, run, stored_items

# The keyring, bus and sandbox fixtures of tests/test_keyring_unlock.py.
box, unlocked, unusable = unlock.box, unlock.unlocked, unlock.unusable

PLUGIN = str(Path(__file__).parent / "harness" / "keyring_plugin")
CHAINER = "keyring.backends.chainer.ChainerBackend"
WAYS = {
    "plugin": {"PYTHONPATH": PLUGIN},
    "named": {"PYTHON_KEYRING_BACKEND": CHAINER},
}

_STOCK_CHAINER = """
import keyring
backend = keyring.get_keyring()
print(type(backend).__name__, [type(b).__module__ for b in backend.backends])
try:
    backend.get_password("cred-export", "probe")
except Exception as exc:
    print(type(exc).__name__)
"""


class WithSecondBackend:
    """A `Keyring` whose environment (what `run` gives every cred-export run) adds the second
    backend, or names the chainer."""

    def __init__(self, service: Keyring, way: str) -> None:
        self.service, self.extra = service, WAYS[way]

    @property
    def env(self) -> dict[str, str]:
        return {**self.service.env, **self.extra}

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.service, name)


def with_second_backend(service: Keyring, way: str) -> Keyring:
    return WithSecondBackend(service, way)  # type: ignore[return-value]


@pytest.mark.parametrize("way", list(WAYS))
def test_stock_keyring_picks_its_chainer_here_and_the_chainer_prompts(unusable, way):
    """The control: the setup makes keyring choose its chainer, and the chainer does prompt."""
    service = with_second_backend(unusable, way)
    completed = subprocess.run(
        [sys.executable, "-c", _STOCK_CHAINER],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", **service.env},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("ChainerBackend") and "SecretService" in completed.stdout
    if way == "plugin":
        assert "second_keyring" in completed.stdout
    calls = [call.split()[0] for call in service.prompts()]
    assert "org.freedesktop.Secret.Prompt.Prompt" in calls, calls


@pytest.mark.parametrize("way", list(WAYS))
def test_a_chainer_over_a_locked_or_missing_keyring_falls_back_without_a_prompt(unusable, box, sts, way):
    service = with_second_backend(unusable, way)
    why = WHY[service.daemon.state]
    profile = box.role_chain(depth=1)
    first = run(box, service, "--profile", profile)  # asserts no Unlock, CreateCollection, Prompt
    assert first.code == 0, first.stderr
    assert_one_warning_naming(first, why)
    assert len(box.cached_files()) == 1
    second = run(box, service, "--profile", profile)
    assert second.code == 0 and second.credentials == first.credentials
    cleared = run(box, service, "clear", "--profile", profile)
    assert cleared.code == 0, cleared.stderr
    login = run(box, service, "login", "--profile", "base")
    assert login.code == 0 and "Signed in" in login.stdout, login.stderr
    assert service.prompts() == []
    assert service.daemon.default_collection_state() == service.daemon.state


@pytest.mark.parametrize("way", list(WAYS))
def test_a_chainer_over_an_unlocked_keyring_stores_there_without_a_prompt(unlocked, box, sts, way):
    service = with_second_backend(unlocked, way)
    profile = box.role_chain(depth=1)
    first = run(box, service, "--profile", profile)
    assert first.code == 0 and first.stderr == "", first.stderr
    assert box.cached_files() == [] and len(stored_items(service)) == 1
    hit = run(box, service, "--profile", profile)
    assert hit.credentials == first.credentials and sts.calls["AssumeRole"] == 1
    cleared = run(box, service, "clear", "--profile", profile)
    assert cleared.code == 0 and stored_items(service) == []
    assert service.prompts() == []
