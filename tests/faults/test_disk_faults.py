"""A full disk, a read-only cache directory, a home directory nobody may write: export still
answers (exit 0), says in one line what it could not keep, and leaves no partial file behind.

A full disk is simulated with RLIMIT_FSIZE = 0 (every write to a file fails, EFBIG). Read-only
directories are mode 0500; as root, cred-export runs without the capabilities that override file
permissions, so the modes bind for it as for anyone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faultkit import (
    assert_one_line,
    no_file_writes,
    restricted_run,
    seconds_until,
    seed_sso_token,
    sso_token_path,
    without_permission_override,
    write_sso_config,
)

from cred_export.fast import record


@contextmanager
def read_only(*directories: Path) -> Iterator[None]:
    modes = {d: d.stat().st_mode for d in directories}
    for directory in directories:
        directory.chmod(0o500)
    try:
        yield
    finally:
        for directory, mode in modes.items():
            directory.chmod(mode)


def assert_fresh(outcome) -> None:  # type: ignore[no-untyped-def]
    assert outcome.code == 0, outcome.stderr
    assert seconds_until(outcome.credentials["Expiration"]) > 3000


def no_partial_files(box) -> bool:  # type: ignore[no-untyped-def]
    return not [p for p in box.cache_dir.rglob(".tmp-*")] if box.cache_dir.exists() else True


def test_a_full_disk_still_answers_and_says_nothing_was_cached(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    outcome = restricted_run(sandbox, "--profile", profile, preexec=no_file_writes)
    assert_fresh(outcome)
    assert_one_line(outcome, 0, "could not cache the credentials", "File too large")
    assert no_partial_files(sandbox)
    assert sandbox.cached_files() == []
    again = restricted_run(sandbox, "--profile", profile)
    assert_fresh(again)
    assert again.stderr == "" and sts.calls["AssumeRole"] == 2


def test_a_full_disk_still_serves_what_is_cached(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = restricted_run(sandbox, "--profile", profile)
    outcome = restricted_run(sandbox, "--profile", profile, preexec=no_file_writes)
    assert outcome.code == 0 and outcome.stderr == ""
    assert outcome.credentials == first.credentials
    assert sts.calls["AssumeRole"] == 1


def test_a_read_only_store_serves_hits_and_refreshes_without_caching(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = restricted_run(sandbox, "--profile", profile)
    store = sandbox.cache_dir / "credentials"
    with read_only(store):
        hit = restricted_run(sandbox, "--profile", profile, prefix=without_permission_override())
        assert hit.credentials == first.credentials and hit.stderr == ""
    sandbox.set_cached_expiry(5 * 60)  # below the hand-out floor: a refresh is due
    (entry,) = sandbox.cached_files()
    kept = entry.read_bytes()
    with read_only(store):
        refreshed = restricted_run(sandbox, "--profile", profile, prefix=without_permission_override())
    assert_fresh(refreshed)
    assert_one_line(refreshed, 0, "could not cache the credentials", "Permission denied")
    assert entry.read_bytes() == kept and record.decode(kept.decode()) is not None
    assert no_partial_files(sandbox)


def test_a_read_only_cache_directory_without_locks_still_answers(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    sandbox.cache_dir.mkdir(parents=True)
    with read_only(sandbox.cache_dir):
        outcome = restricted_run(sandbox, "--profile", profile, prefix=without_permission_override())
    assert_fresh(outcome)
    assert_one_line(outcome, 0, "could not cache the credentials", str(sandbox.cache_dir))


def test_a_home_directory_that_is_not_writable(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    with read_only(sandbox.home):
        outcome = restricted_run(sandbox, "--profile", profile, prefix=without_permission_override())
    assert_fresh(outcome)
    assert_one_line(outcome, 0, "could not cache the credentials", "Permission denied")
    assert not sandbox.cache_dir.exists()


def test_a_home_that_is_not_writable_still_caches_in_the_keyring(keyring_sandbox, sts):
    box = keyring_sandbox
    profile = box.role_chain(depth=1)
    with read_only(box.home):
        first = restricted_run(box, "--profile", profile, prefix=without_permission_override())
        second = restricted_run(box, "--profile", profile, prefix=without_permission_override())
    assert_fresh(first)
    assert first.stderr == "" and second.stderr == ""
    assert second.credentials == first.credentials and sts.calls["AssumeRole"] == 1


def test_a_renewed_sso_token_that_cannot_be_saved_is_used_and_named(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    seed_sso_token(sso_sandbox, sso, access_ttl=600)  # renewal is due
    before = sso_token_path(sso_sandbox).read_bytes()
    with read_only(sso_token_path(sso_sandbox).parent):
        outcome = restricted_run(sso_sandbox, "--profile", "dev", prefix=without_permission_override())
    assert outcome.code == 0, outcome.stderr
    assert outcome.credentials["AccessKeyId"].startswith("ASIA")
    assert_one_line(outcome, 0, "could not save the renewed SSO token", str(sso_token_path(sso_sandbox)))
    assert sso_token_path(sso_sandbox).read_bytes() == before
