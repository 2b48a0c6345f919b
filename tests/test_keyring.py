"""The default store against a real Secret Service (gnome-keyring on a private D-Bus)."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest
from harness.sandbox import Sandbox
from harness.secret_service import SecretService


def secret_items(box: Sandbox, service: SecretService) -> list[str]:
    """The usernames (cache keys) stored under service=cred-export, read with libsecret."""
    completed = subprocess.run(
        ["secret-tool", "search", "--all", "service", "cred-export"],
        env={**box.env, **service.env},
        capture_output=True,
        text=True,
        timeout=10,
    )
    return [
        line.split(" = ", 1)[1]
        for line in completed.stderr.splitlines() + completed.stdout.splitlines()
        if line.startswith("attribute.username = ")
    ]


def test_credentials_are_cached_in_the_keyring_and_served_from_it(keyring_sandbox, sts, secret_service):
    profile = keyring_sandbox.role_chain(depth=2)
    first = keyring_sandbox.run("--profile", profile)
    assert first.code == 0, first.stderr
    assert first.stderr == ""
    assert keyring_sandbox.cached_files() == []  # nothing in the file store
    hit = keyring_sandbox.run("--profile", profile, "--debug")
    assert hit.credentials == first.credentials
    assert "keyring-secret-service" in hit.stderr
    assert sts.calls["AssumeRole"] == 2
    if os.path.exists("/usr/bin/secret-tool"):
        assert len(secret_items(keyring_sandbox, secret_service)) >= 1


def test_long_values_are_split_across_entries_and_joined(keyring_sandbox, sts, secret_service):
    profile = keyring_sandbox.role_chain(depth=1)
    keyring_sandbox.write_settings("keyring_chunk_size = 256\n")
    first = keyring_sandbox.run("--profile", profile)
    assert first.code == 0, first.stderr
    assert keyring_sandbox.run("--profile", profile).credentials == first.credentials
    assert sts.calls["AssumeRole"] == 1
    if os.path.exists("/usr/bin/secret-tool"):
        names = secret_items(keyring_sandbox, secret_service)
        assert any(name.endswith("/2") for name in names)


def test_garbage_in_the_keyring_entry_is_a_miss_and_gets_replaced(keyring_sandbox, sts, secret_service):
    profile = keyring_sandbox.role_chain(depth=1)
    first = keyring_sandbox.run("--profile", profile)
    env = {**keyring_sandbox.env, **secret_service.env}
    key = keyring_sandbox.cache_key(profile)
    assert key in secret_items(keyring_sandbox, secret_service)
    subprocess.run(
        ["secret-tool", "store", "--label", "garbage", "service", "cred-export", "username", key],
        input="\x00not a record{",
        env=env,
        text=True,
        timeout=10,
        check=True,
    )
    second = keyring_sandbox.run("--profile", profile)
    assert second.code == 0, second.stderr
    assert second.credentials["AccessKeyId"] != first.credentials["AccessKeyId"]
    assert keyring_sandbox.run("--profile", profile).credentials == second.credentials


def test_without_any_keyring_the_file_store_is_chosen_once_with_one_warning(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    sandbox.write_settings("")  # default cache = "keyring", and no D-Bus in this environment
    first = sandbox.run("--profile", profile)
    assert first.code == 0, first.stderr
    lines = first.stderr.strip().splitlines()
    assert len(lines) == 1 and "keyring" in lines[0] and "warning" in lines[0]
    assert "from now on" in lines[0] and "~/.config/cred-export/config.toml" in lines[0]
    assert len(sandbox.cached_files()) == 1
    hit = sandbox.run("--profile", profile)
    assert hit.credentials == first.credentials and hit.stderr == ""  # chosen: nothing more to say
    for memo in (sandbox.cache_dir / "memo").iterdir():
        memo.unlink()
    slow = sandbox.run("--profile", profile)  # the full resolution, which chooses the store
    assert slow.credentials == first.credentials and slow.stderr == ""
    assert sts.calls["AssumeRole"] == 1
    sandbox.write_settings('cache = "keyring"\n')  # asked for explicitly: the old warning, each time
    explicit = sandbox.run("--profile", profile)
    assert explicit.code == 0 and "caching in" in explicit.stderr


@pytest.fixture
def locked_service(tmp_path_factory, secret_service):  # secret_service: skips without the daemons
    service = SecretService(tmp_path_factory.mktemp("locked"), unlocked=False)
    yield service
    service.stop()


def test_a_locked_collection_falls_back_to_the_file_store(tmp_path, sts, locked_service):
    box = Sandbox(tmp_path, sts.url, locked_service.env)
    profile = box.role_chain(depth=1)
    started = time.monotonic()
    first = box.run("--profile", profile, timeout=30)
    assert first.code == 0, first.stderr
    assert time.monotonic() - started < 15
    assert "keyring" in first.stderr and len(first.stderr.strip().splitlines()) == 1
    assert len(box.cached_files()) == 1
    assert box.run("--profile", profile).credentials == first.credentials


@pytest.fixture
def freezable_service(tmp_path_factory, secret_service):
    service = SecretService(tmp_path_factory.mktemp("frozen"))
    yield service
    service.stop()


def test_a_frozen_keyring_daemon_does_not_hang_export(tmp_path, sts, freezable_service):
    box = Sandbox(tmp_path, sts.url, freezable_service.env)
    profile = box.role_chain(depth=1)
    first = box.run("--profile", profile)
    assert first.code == 0, first.stderr
    freezable_service.freeze()
    try:
        for _ in range(2):
            started = time.monotonic()
            result = box.run("--profile", profile, timeout=60)
            assert result.code == 0, result.stderr
            assert time.monotonic() - started < 10
            assert "keyring" in result.stderr
        assert sts.calls["AssumeRole"] == 2  # the fallback store served the second call
    finally:
        freezable_service.thaw()
    # Recovery: once the retry time has come, the keyring is used again and adopts the
    # credentials cached during the outage (no extra STS call, no file left behind).
    fallback = box.cached_files()
    assert len(fallback) == 1
    for memo in (box.cache_dir / "memo").iterdir():
        memo.write_text(re.sub(r"retry_keyring_after=\d+", "retry_keyring_after=0", memo.read_text()))
    recovered = box.run("--profile", profile)
    assert recovered.code == 0 and recovered.stderr == ""
    assert recovered.credentials["AccessKeyId"] == result.credentials["AccessKeyId"]
    assert box.cached_files() == []
    hit = box.run("--profile", profile, "--debug")
    assert "cache hit" in hit.stderr and "keyring-secret-service" in hit.stderr
    assert sts.calls["AssumeRole"] == 2
