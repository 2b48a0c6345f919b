"""In-process edge cases of single units (the features themselves are proven end to end)."""

from __future__ import annotations

import json
import os

import pytest

from cred_export.credentials import Credentials
from cred_export.fast import memo, record
from cred_export.fast.invocation import parse_request
from cred_export.fast.render import render
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
        ([], ("default", False, "claude", False)),
        (["export", "--profile", "p"], ("p", True, "claude", False)),
        (["--profile=p", "-f", "env", "--debug"], ("p", True, "env", True)),
        (["login"], ("default", False, "", False)),
        (["login", "-p", "x", "--debug"], ("x", True, "", True)),
        (["login", "--timeout", "9", "--device-code"], ("default", False, "", False)),
        (["login", "--timeout=3600", "--browser", "--remote"], ("default", False, "", False)),
        (["login", "--timeout", "4"], None),
        (["login", "--timeout", "nan"], None),
        (["login", "--timeout", "soon"], None),
        (["--device-code"], None),
        (["login", "--format", "env"], None),
        (["bedrock-token", "--region", "r", "-f", "env"], ("default", False, "env", False)),
        (["bedrock-token", "--format", "claude"], None),
        (["bedrock-token", "--region", ""], None),
        (["status"], None),
        (["--help"], None),
        (["--format", "xml"], None),
        (["--profile"], None),
        (["--profile", ""], None),
        (["-p=x"], None),
    ],
)
def test_fast_path_only_takes_plain_requests(argv, expected, monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    request = parse_request(argv)
    seen = (
        None if request is None else (request.profile, request.profile_named, request.format, request.debug)
    )
    assert seen == expected


def test_memo_fields_round_trip_and_reject_malformed_values():
    note = memo.Memo(
        "abc", "file", refresh_ahead=600, fallback_reason="locked\nkeyring", retry_keyring_after=5
    )
    parsed = memo.Memo.parse(note.lines().splitlines())
    assert parsed is not None
    assert (parsed.key, parsed.store, parsed.refresh_ahead, parsed.chunk) == ("abc", "file", 600.0, 0)
    assert (parsed.fallback_reason, parsed.retry_keyring_after) == ("locked keyring", 5.0)
    assert memo.Memo.parse(["store=file"]) is None  # no key
    assert memo.Memo.parse(["key=a", "store=file", "refresh_ahead=soon"]) is None


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


def test_doctor_names_a_profile_sts_cannot_be_set_up_for(monkeypatch):
    """An STS client the profile's settings cannot make is a failed identity check, one line."""
    from cred_export.aws import sts
    from cred_export.doctor.context import Context
    from cred_export.doctor.identity import check_identity
    from cred_export.errors import ConfigError

    def no_client(*_args, **_kwargs):
        raise ConfigError("cannot set up STS for profile 'dev': Provided region_name 'x y' is not valid")

    monkeypatch.setattr(sts, "get_caller_identity", no_client)
    check = check_identity(Context("dev", True, "--profile", credentials=CREDS))
    assert check.verdict == "fail"
    assert "cannot set up STS for profile 'dev'" in check.detail and "\n" not in check.detail
