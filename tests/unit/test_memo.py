"""`cred_export.fast.memo`: the fingerprint of resolution's inputs, and the memo written and read by it.

The hit path takes its cache key from the memo, so every input that changes what a profile
resolves to must change the fingerprint, and a memo is trusted only for its exact fingerprint.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cred_export.fast import memo

SEP = "\x1f"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An environment with no AWS_* or cred-export variables, HOME in a temporary directory."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "CRED_EXPORT_", "XDG_")) or name == "PYTHON_KEYRING_BACKEND":
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("CRED_EXPORT_SYSTEM_CONFIG", str(tmp_path / "system.toml"))
    return tmp_path


def parts(print_: str) -> list[str]:
    return print_.split(SEP)


# --- fingerprint -------------------------------------------------------------------------------


def test_the_fingerprint_of_a_bare_environment(home):
    assert parts(memo.fingerprint("dev", True)) == [
        "profile=dev",
        "named=1",
        "CRED_EXPORT_CACHE=",
        "PYTHON_KEYRING_BACKEND=",
        f"file={home}/.aws/config:-",
        f"file={home}/.aws/credentials:-",
        f"file={home}/system.toml:-",
        f"file={home}/.config/cred-export/config.toml:-",
    ]
    assert "named=0" in parts(memo.fingerprint("default", False))


@pytest.mark.parametrize(
    "name, value",
    [
        ("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
        ("AWS_PROFILE", "other"),
        ("CRED_EXPORT_CACHE", "file"),
        ("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring"),
    ],
)
def test_the_fingerprint_changes_with_every_variable_that_steers_resolution(home, monkeypatch, name, value):
    before = memo.fingerprint("dev", True)
    monkeypatch.setenv(name, value)
    after = memo.fingerprint("dev", True)
    assert after != before
    assert f"{name}={value}" in parts(after)
    monkeypatch.setenv(name, value + "/")
    assert memo.fingerprint("dev", True) != after


def test_aws_variables_are_in_sorted_order_after_the_others(home, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000")
    assert parts(memo.fingerprint("dev", True))[4:6] == [
        "AWS_ENDPOINT_URL_STS=http://127.0.0.1:5000",
        "AWS_REGION=eu-west-1",
    ]


@pytest.mark.parametrize(
    "name", ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "AWS_PROXY_PASSWORD"]
)
def test_a_secret_variable_counts_only_as_set(home, monkeypatch, name):
    monkeypatch.setenv(name, "s3cr3t-value")
    print_ = memo.fingerprint("dev", True)
    assert f"{name}=(set)" in parts(print_)
    assert "s3cr3t" not in print_
    monkeypatch.setenv(name, "another")
    assert memo.fingerprint("dev", True) == print_


def test_a_line_break_in_a_variable_cannot_break_the_memo_s_lines(home, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1\nkey=forged")
    print_ = memo.fingerprint("dev", True)
    assert "\n" not in print_
    assert "AWS_REGION=eu-west-1 key=forged" in parts(print_)


def test_the_fingerprint_changes_with_the_profile(home):
    assert memo.fingerprint("dev", True) != memo.fingerprint("prod", True)
    assert memo.fingerprint("dev", True) != memo.fingerprint("dev", False)


def test_a_file_counts_by_its_identity(home):
    config = home / ".aws" / "config"
    config.parent.mkdir()
    config.write_text("[default]\n")
    st = os.stat(config)
    print_ = memo.fingerprint("dev", True)
    assert f"file={config}:{st.st_ino}.{st.st_size}.{st.st_mtime_ns}" in parts(print_)
    config.write_text("[default]\nregion = eu-west-1\n")
    assert memo.fingerprint("dev", True) != print_


def test_every_input_file_counts(home, monkeypatch):
    files = {
        "AWS_CONFIG_FILE": home / "config",
        "AWS_SHARED_CREDENTIALS_FILE": home / "credentials",
        "CRED_EXPORT_SYSTEM_CONFIG": home / "system.toml",
        "CRED_EXPORT_CONFIG": home / "user.toml",
    }
    for name, path in files.items():
        monkeypatch.setenv(name, str(path))
    before = memo.fingerprint("dev", True)
    for path in files.values():
        path.write_text("")
        after = memo.fingerprint("dev", True)
        assert after != before and f"file={path}:-" not in parts(after)
        before = after


# --- the memo ----------------------------------------------------------------------------------


def test_memo_defaults():
    note = memo.Memo("k", "file")
    assert (note.key, note.store) == ("k", "file")
    assert note.refresh_ahead == 900.0
    assert note.keyring_timeout == 2.0
    assert note.chunk == 0
    assert note.fallback_reason is None
    assert note.retry_keyring_after == 0.0


def test_memo_lines():
    assert memo.Memo("k", "file").lines() == (
        "key=k\nstore=file\nrefresh_ahead=900\nkeyring_timeout=2\nchunk=0\n"
    )
    fell_back = memo.Memo(
        "k",
        "fallback",
        refresh_ahead=450.5,
        keyring_timeout=0.25,
        chunk=1000,
        fallback_reason="the keyring is locked\nsecond line",
        retry_keyring_after=1_900_000_000.9,
    )
    assert fell_back.lines() == (
        "key=k\nstore=fallback\nrefresh_ahead=450.5\nkeyring_timeout=0.25\nchunk=1000\n"
        "fallback_reason=the keyring is locked second line\nretry_keyring_after=1900000000\n"
    )
    with_token = memo.Memo("k", "file", token_key="t0", region="eu-west-1\nx")
    assert with_token.lines() == (
        "key=k\nstore=file\nrefresh_ahead=900\nkeyring_timeout=2\nchunk=0\ntoken_key=t0\nregion=eu-west-1 x\n"
    )


def test_the_bedrock_token_fields_read_back_and_default_to_empty():
    note = memo.Memo.parse(memo.Memo("k", "file", token_key="t0", region="eu-west-1").lines().splitlines())
    assert note is not None and (note.token_key, note.region) == ("t0", "eu-west-1")
    bare = memo.Memo.parse(["key=k", "store=file"])
    assert bare is not None and (bare.token_key, bare.region) == ("", "")


def test_parse_reads_lines_back():
    note = memo.Memo.parse(
        [
            "key=a=b",
            "store=keyring",
            "refresh_ahead=450.5",
            "keyring_timeout=0.25",
            "chunk=1000",
            "fallback_reason=locked",
            "retry_keyring_after=1900000000",
            "",
        ]
    )
    assert note is not None
    assert (note.key, note.store) == ("a=b", "keyring")
    assert (note.refresh_ahead, note.keyring_timeout, note.chunk) == (450.5, 0.25, 1000)
    assert (note.fallback_reason, note.retry_keyring_after) == ("locked", 1_900_000_000.0)


def test_parse_fills_in_the_defaults():
    note = memo.Memo.parse(["key=k", "store=file", "fallback_reason="])
    assert note is not None
    assert (note.refresh_ahead, note.keyring_timeout, note.chunk) == (900.0, 2.0, 0)
    assert (note.fallback_reason, note.retry_keyring_after) == (None, 0.0)


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["store=file"],  # no key
        ["key=k"],  # no store
        ["key k", "store=file"],
        ["key=k", "store=file", "refresh_ahead=soon"],
        ["key=k", "store=file", "keyring_timeout=x"],
        ["key=k", "store=file", "chunk=1.5"],
        ["key=k", "store=file", "retry_keyring_after=later"],
    ],
)
def test_parse_refuses_a_missing_or_malformed_field(lines):
    assert memo.Memo.parse(lines) is None


# --- written and read back ---------------------------------------------------------------------


def full_memo() -> memo.Memo:
    return memo.Memo(
        "8c315198ac1c73b7d61aa80e678b02245d13a092",
        "fallback",
        refresh_ahead=450.0,
        keyring_timeout=0.5,
        chunk=2000,
        fallback_reason="no Secret Service",
        retry_keyring_after=1_900_000_000,
    )


def test_a_memo_is_read_back_for_its_fingerprint(home):
    print_ = memo.fingerprint("dev", True)
    memo.write(print_, full_memo())
    found = memo.read(print_)
    assert found is not None
    assert found.lines() == full_memo().lines()


def test_the_memo_file_is_private_and_named_by_the_fingerprint(home, monkeypatch):
    monkeypatch.setenv("CRED_EXPORT_CACHE_DIR", str(home / "cache"))
    memo.write("profile=dev", memo.Memo("k", "file"))
    path = home / "cache" / "memo" / "2efe67b2"
    assert path.read_text() == f"{memo.MAGIC}\nprofile=dev\nkey=k\nstore=file\nrefresh_ahead=900\n" + (
        "keyring_timeout=2\nchunk=0\n"
    )
    assert path.stat().st_mode & 0o777 == 0o600
    assert memo.MAGIC == "cred-export-memo 1"


def test_another_fingerprint_finds_no_memo(home, monkeypatch):
    print_ = memo.fingerprint("dev", True)
    memo.write(print_, full_memo())
    assert memo.read(memo.fingerprint("prod", True)) is None
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000")
    assert memo.read(memo.fingerprint("dev", True)) is None
    monkeypatch.delenv("AWS_ENDPOINT_URL_STS")
    assert memo.read(memo.fingerprint("dev", True)) is not None


def written(print_: str) -> Path:
    memo.write(print_, full_memo())
    return Path(memo._memo_path(print_))


def test_a_wrong_header_is_no_memo(home):
    path = written("profile=dev")
    path.write_text(path.read_text().replace(memo.MAGIC, "cred-export-memo 2"))
    assert memo.read("profile=dev") is None


def test_a_memo_for_another_fingerprint_with_the_same_name_is_no_memo(home):
    path = written("profile=dev")
    path.write_text(path.read_text().replace("profile=dev", "profile=prod"))
    assert memo.read("profile=dev") is None


@pytest.mark.parametrize("keep", [0, len(memo.MAGIC), len(memo.MAGIC) + 1, len(memo.MAGIC) + 13, 60])
def test_a_truncated_memo_is_no_memo(home, keep):
    path = written("profile=dev")
    path.write_text(path.read_text()[:keep])
    assert memo.read("profile=dev") is None


def test_a_memo_others_could_write_is_no_memo(home):
    path = written("profile=dev")
    path.chmod(0o620)
    assert memo.read("profile=dev") is None


def test_a_memo_of_up_to_64_kib_is_read(home):
    print_ = "profile=dev"
    prefix = f"{memo.MAGIC}\n{print_}\nkey="
    suffix = "\nstore=file\n"
    key = "k" * (64 * 1024 - len(prefix) - len(suffix))
    memo.write(print_, memo.Memo(key, "file"))
    path = Path(memo._memo_path(print_))
    path.write_text(prefix + key + suffix)
    assert path.stat().st_size == 64 * 1024
    found = memo.read(print_)
    assert found is not None and found.key == key
    path.write_text(prefix + key + "k" + suffix)
    assert memo.read(print_) is None
