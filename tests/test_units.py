"""In-process edge cases of single units (the features themselves are proven end to end)."""

from __future__ import annotations

import json
import os

import pytest

from cred_export import memo, record
from cred_export.aws_config import AwsConfig
from cred_export.chain import StaticRoot, resolve_chain
from cred_export.credentials import Credentials
from cred_export.errors import ConfigError
from cred_export.fastpath import parse_export_args
from cred_export.render import render
from cred_export.stores import chunks

CREDS = Credentials("ASIAEXAMPLE000000001", "se/cr+et", "to+ken/==", 1_900_000_000)


def test_record_round_trip_and_rejection():
    assert record.decode(record.encode(CREDS)) == CREDS
    text = record.encode(CREDS)
    assert record.decode(text[:-1]) is None  # truncated
    assert record.decode(text.replace("1900000000", "-5")) is None
    with pytest.raises(ValueError):
        record.encode(Credentials("A", "multi\nline", "t", 1))


def test_repr_never_shows_secrets():
    shown = repr(CREDS)
    assert "se/cr+et" not in shown and "to+ken" not in shown and "ASIAEXAMPLE000000001" not in shown


@pytest.mark.parametrize("value", ["plain", 'quote"and\\backslash', "ünïcode", "tab\there"])
def test_rendered_json_is_always_valid(value):
    creds = Credentials("ASIAEXAMPLE000000001", value, "token", 1_900_000_000)
    assert json.loads(render(creds, "claude"))["Credentials"]["SecretAccessKey"] == value
    assert json.loads(render(creds, "process"))["SecretAccessKey"] == value
    assert json.loads(render(creds, "claude"))["Credentials"]["Expiration"] == "2030-03-17T17:46:40Z"


def test_env_format_quotes_unusual_values():
    creds = Credentials("ASIAEXAMPLE000000001", "a b'c", "token", 1_900_000_000)
    assert "export AWS_SECRET_ACCESS_KEY='a b'\"'\"'c'" in render(creds, "env")


def test_chunks_split_join_and_reject_tampering():
    value = "x" * 1000 + "y" * 500
    head, parts = chunks.split("k", value, 256)
    stored = dict(parts)
    assert chunks.join("k", head, stored.get) == value
    stored["k/2"] = "z" * 256
    assert chunks.join("k", head, stored.get) is None
    del stored["k/3"]
    assert chunks.join("k", head, stored.get) is None
    assert chunks.split("k", "short", 256) == ("short", [])
    assert chunks.join("k", "chunks 99999 0", stored.get) is None


@pytest.mark.parametrize(
    "argv, expected",
    [
        ([], {"profile": "default", "format": "claude", "named": "0"}),
        (["export", "--profile", "p"], {"profile": "p", "format": "claude", "named": "1"}),
        (
            ["--profile=p", "-f", "env", "--debug"],
            {"profile": "p", "format": "env", "named": "1", "debug": "1"},
        ),
        (["login"], None),
        (["--help"], None),
        (["--format", "xml"], None),
        (["--profile"], None),
        (["--profile", ""], None),
        (["-p=x"], None),
    ],
)
def test_fast_path_only_takes_plain_exports(argv, expected, monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert parse_export_args(argv) == expected


def config(**profiles: dict[str, str]) -> AwsConfig:
    return AwsConfig(dict(profiles), "config", "credentials")


def test_a_role_profile_may_use_its_own_keys():
    chain = resolve_chain(
        config(
            me={
                "role_arn": "arn:r",
                "source_profile": "me",
                "aws_access_key_id": "AKIA1",
                "aws_secret_access_key": "s",
            }
        ),
        "me",
        profile_named=True,
    )
    assert isinstance(chain.root, StaticRoot) and [h.role_arn for h in chain.roles] == ["arn:r"]


def test_cache_key_depends_on_every_input_but_not_on_secrets():
    base = {"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s1"}
    role = {"role_arn": "arn:r", "source_profile": "base"}
    key = resolve_chain(config(base=base, r=role), "r", profile_named=True).cache_key()
    same = resolve_chain(
        config(base={**base, "aws_secret_access_key": "s2"}, r=role), "r", profile_named=True
    )
    assert same.cache_key() == key
    for changed in (
        {**role, "external_id": "x"},
        {**role, "role_arn": "arn:other"},
        {**role, "duration_seconds": "900"},
        {**role, "role_session_name": "n"},
    ):
        assert resolve_chain(config(base=base, r=changed), "r", profile_named=True).cache_key() != key


def test_environment_keys_only_when_no_profile_was_named(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    cfg = config(default={"aws_access_key_id": "AKIAFILE", "aws_secret_access_key": "s"})
    assert resolve_chain(cfg, "default", profile_named=False).root.access_key_id == "AKIAENV"
    assert resolve_chain(cfg, "default", profile_named=True).root.access_key_id == "AKIAFILE"


def test_unknown_profile_error_lists_profiles():
    with pytest.raises(ConfigError, match="known profiles: a, b"):
        config(b={}, a={}).profile("c")


def test_memo_fingerprint_follows_config_files(tmp_path, monkeypatch):
    path = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    before = memo.fingerprint("p", True)
    path.write_text("[profile p]\n")
    created = memo.fingerprint("p", True)
    path.write_text("[profile p]\nregion = x\n")
    assert len({before, created, memo.fingerprint("p", True)}) == 3
    assert memo.fingerprint("p", True) != memo.fingerprint("p", False)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "top-secret")
    assert "top-secret" not in memo.fingerprint("p", False)
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == "top-secret"
