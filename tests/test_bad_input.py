"""Bad input: each gives one clear line and the documented exit code, never a traceback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest


def assert_one_line(result, code: int, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.code == code, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0]


def test_unknown_profile_lists_the_known_ones(sandbox, sts):
    sandbox.role_chain(depth=1)
    result = sandbox.run("--profile", "nope")
    assert_one_line(result, 2, "'nope'", "known profiles: base, role1")


def test_source_profile_cycle_names_the_cycle(sandbox, sts):
    sandbox.write_aws_config(
        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n"
        "[profile c]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = a\n"
    )
    assert_one_line(sandbox.run("--profile", "a"), 2, "cycle", "a → b → c → a")


@pytest.mark.parametrize(
    "text, needle",
    [
        ("aws_access_key_id = AKIA\n[profile a]\n", "line 1"),
        ("[profile a]\nthis line is not a setting\n", "line 2"),
        ("[profile a]\nregion = x\n[profile a\n", "line 3"),
    ],
)
def test_malformed_aws_config(sandbox, sts, text, needle):
    sandbox.write_aws_config(text)
    assert_one_line(sandbox.run("--profile", "a"), 2, "cannot parse", needle)


def test_malformed_config_line_is_named_but_never_echoed(sandbox, sts):
    sandbox.write_credentials(f"[base]\naws_secret_access_key {sandbox.secret}\n")
    result = sandbox.run("--profile", "base")
    assert_one_line(result, 2, "credentials", "line 2")


def test_non_utf8_config(sandbox, sts):
    (sandbox.home / ".aws" / "config").write_bytes(b"[profile a]\nregion = \xff\xfe\n")
    assert_one_line(sandbox.run("--profile", "a"), 2, "not UTF-8")


@pytest.mark.parametrize("variable", ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "CRED_EXPORT_CONFIG"])
@pytest.mark.parametrize("kind", ["fifo", "endless", "oversized"])
def test_a_config_file_that_is_no_file_or_too_big_is_one_line_at_once(sandbox, sts, tmp_path, variable, kind):
    """A FIFO is never waited on, /dev/zero is never read to the end, 5 MiB is refused."""
    profile = sandbox.role_chain(depth=1)
    if kind == "fifo":
        path = tmp_path / "config"
        os.mkfifo(path)
        expected = "it is not a regular file"
    elif kind == "endless":
        path, expected = Path("/dev/zero"), "it is not a regular file"
    else:
        path = tmp_path / "config"
        path.write_text("# " + "x" * (5 << 20) + "\n")
        expected = "it is larger than 4 MiB"
    started = time.monotonic()
    result = sandbox.run("--profile", profile, env={variable: str(path)}, timeout=30)
    assert_one_line(result, 2, f"cannot read {path}: {expected}")
    assert time.monotonic() - started < 20


def test_role_without_a_source(sandbox, sts):
    sandbox.write_aws_config("[profile a]\nrole_arn = arn:aws:iam::1:role/a\n")
    assert_one_line(sandbox.run("--profile", "a"), 2, "source_profile")


def test_profile_without_credentials(sandbox, sts):
    sandbox.write_aws_config("[profile a]\nregion = eu-west-1\n")
    assert_one_line(sandbox.run("--profile", "a"), 2, "no credentials")


@pytest.mark.parametrize("value", ["soon", "60", "999999"])
def test_bad_duration_seconds(sandbox, sts, value):
    sandbox.role_chain(depth=1, duration_seconds=value)
    assert_one_line(sandbox.run("--profile", "role1"), 2, "duration_seconds")


def test_unknown_format(sandbox, sts):
    assert_one_line(sandbox.run("--format", "xml"), 2, "'xml'")


def test_short_option_with_equals_means_the_same_cold_and_warm(sandbox, sts):
    sandbox.role_chain(depth=1)
    assert sandbox.run("--profile", "role1").code == 0
    assert_one_line(sandbox.run("-p=role1"), 2, "'=role1'")


def test_unknown_option(sandbox, sts):
    assert_one_line(sandbox.run("--frobnicate"), 2, "--frobnicate")


@pytest.mark.parametrize(
    "toml, needle",
    [
        ("cache = \n", "cannot parse"),
        ('cache = "cloud"\n', "cache must be one of"),
        ("cache = 3\n", "wrong type"),
        ("refresh_ahead_minutes = -5\n", "refresh_ahead_minutes"),
        ("keyring_chunk_size = 7\n", "keyring_chunk_size"),
        ("colour = 'blue'\n", "unknown setting 'colour'"),
    ],
)
def test_malformed_settings(sandbox, sts, toml, needle):
    sandbox.role_chain(depth=1)
    sandbox.write_settings(toml)
    assert_one_line(sandbox.run("--profile", "role1"), 2, "config.toml", needle)


def test_bad_cache_environment_variable(sandbox, sts):
    sandbox.role_chain(depth=1)
    assert_one_line(
        sandbox.run("--profile", "role1", env={"CRED_EXPORT_CACHE": "cloud"}),
        2,
        "CRED_EXPORT_CACHE",
    )


def test_system_settings_are_read_beneath_the_users(sandbox, sts):
    sandbox.role_chain(depth=1)
    (sandbox.root / "system-config.toml").write_text("colour = 1\n")
    assert_one_line(sandbox.run("--profile", "role1"), 2, "system-config.toml")


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"garbage",
        b"cred-export-record 2\nA\nB\n",
        b"\xff\xfe\x00" * 100,
        b"cred-export-record 2\nA\nB\nC\nnever\n0\n",
    ],
)
def test_garbage_in_the_cache_entry_is_a_miss_and_gets_replaced(sandbox, sts, garbage):
    profile = sandbox.role_chain(depth=1)
    first = sandbox.run("--profile", profile)
    (path,) = sandbox.cached_files()
    path.write_bytes(garbage)
    second = sandbox.run("--profile", profile)
    assert second.code == 0 and second.stderr == ""
    assert second.credentials["AccessKeyId"] != first.credentials["AccessKeyId"]
    assert sandbox.run("--profile", profile).credentials == second.credentials


def test_garbage_in_the_resolution_memo_is_ignored(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    first = sandbox.run("--profile", profile)
    for memo in (sandbox.cache_dir / "memo").iterdir():
        memo.write_bytes(b"\xff garbage\nkey=../../etc/passwd\nstore=file\n")
    assert sandbox.run("--profile", profile).credentials == first.credentials


def test_sso_profile_without_a_token_asks_for_sign_in(sandbox, sts):
    sandbox.write_aws_config(
        "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
    )
    assert_one_line(sandbox.run("--profile", "sso"), 3, "sign-in required", "sso")
