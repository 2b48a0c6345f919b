"""`status` (no network, no secrets, documented JSON) and `clear`."""

from __future__ import annotations

import hashlib
import json

import pytest

ENTRY_KEYS = {
    "profile",
    "source",
    "chain",
    "roles",
    "credentials",
    "session",
    "sign_in_needed",
    "sign_in_command",
    "error",
}
TIMED_KEYS = {"cached", "expires", "minutes_left"}


def validate_status(document: dict) -> None:
    """The shape README documents for `status --json`."""
    assert set(document) == {"store", "profiles"}
    assert set(document["store"]) == {"name", "kind", "fallback_reason"}
    for entry in document["profiles"]:
        if entry.get("error") and set(entry) == {"profile", "error"}:
            continue
        assert set(entry) == ENTRY_KEYS
        assert set(entry["credentials"]) == TIMED_KEYS | {"fresh"}
        if entry["session"] is not None:
            assert TIMED_KEYS | {"kind", "renewable"} <= set(entry["session"])


def test_status_of_a_cached_chain_makes_no_network_call(sandbox, sts):
    sandbox.role_chain(depth=2)
    exported = sandbox.run("--profile", "role2")
    calls = dict(sts.calls)
    result = sandbox.run("status", "--json")
    assert result.code == 0, result.stderr
    document = result.json
    validate_status(document)
    by_name = {entry["profile"]: entry for entry in document["profiles"]}
    role2 = by_name["role2"]
    assert role2["source"] == "static" and len(role2["roles"]) == 2
    assert role2["credentials"]["cached"] and role2["credentials"]["fresh"]
    assert not role2["sign_in_needed"]
    assert dict(sts.calls) == calls
    for secret in (
        exported.credentials["SecretAccessKey"],
        exported.credentials["SessionToken"],
        exported.credentials["AccessKeyId"],
        sandbox.secret,
    ):
        assert secret not in result.stdout


def test_status_names_the_sign_in_an_sso_profile_needs(sso_sandbox, sso):
    sso_sandbox.write_aws_config(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
        "[profile broken]\nrole_arn = arn:aws:iam::1:role/x\n"
    )
    result = sso_sandbox.run("status", "--json")
    assert result.code == 0, result.stderr
    validate_status(result.json)
    by_name = {entry["profile"]: entry for entry in result.json["profiles"]}
    assert (
        by_name["dev"]["sign_in_needed"]
        and by_name["dev"]["sign_in_command"] == "cred-export login --profile dev"
    )
    assert by_name["dev"]["session"]["kind"] == "sso" and not by_name["dev"]["session"]["cached"]
    assert "source_profile" in by_name["broken"]["error"]
    assert sum(sso.calls.values()) == 0
    text = sso_sandbox.run("status", "--profile", "dev")
    assert "sign-in: needed: cred-export login --profile dev" in text.stdout


def test_status_shows_the_file_fallback_without_a_keyring(sandbox, sts):
    sandbox.role_chain(depth=1)
    sandbox.write_settings("")
    result = sandbox.run("status", "--json")
    assert result.json["store"]["kind"] == "file-fallback" and result.json["store"]["fallback_reason"]


def test_status_of_an_unknown_profile_is_exit_2(sandbox, sts):
    sandbox.role_chain(depth=1)
    result = sandbox.run("status", "--profile", "nope")
    assert result.code == 2 and "known profiles" in result.stderr


def test_clear_one_profile_makes_the_next_export_a_miss(sandbox, sts):
    sandbox.role_chain(depth=1)
    first = sandbox.run("--profile", "role1")
    cleared = sandbox.run("clear", "--profile", "role1")
    assert cleared.code == 0 and "cleared profile role1" in cleared.stdout
    second = sandbox.run("--profile", "role1")
    assert second.credentials["AccessKeyId"] != first.credentials["AccessKeyId"]
    assert sts.calls["AssumeRole"] == 2


def test_clear_removes_keyring_entries(keyring_sandbox, sts):
    keyring_sandbox.role_chain(depth=1)
    keyring_sandbox.run("--profile", "role1")
    assert keyring_sandbox.run("clear", "--profile", "role1").code == 0
    assert keyring_sandbox.run("--profile", "role1").code == 0
    assert sts.calls["AssumeRole"] == 2


def test_clear_all_and_sso_tokens(sso_sandbox, sso, sts):
    sso_sandbox.role_chain(depth=1)
    sso_sandbox.write_aws_config(
        (sso_sandbox.home / ".aws" / "config").read_text()
        + "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
    )
    token_file = sso_sandbox.home / ".aws/sso/cache" / (hashlib.sha1(b"corp").hexdigest() + ".json")
    token_file.parent.mkdir(parents=True)
    token_file.write_text(json.dumps(sso.seed_token(start_url="https://corp.awsapps.com/start")))
    assert sso_sandbox.run("--profile", "role1").code == 0
    assert sso_sandbox.run("--profile", "dev").code == 0
    assert sso_sandbox.run("clear", "--all").code == 0
    assert sso_sandbox.cached_files() == [] and token_file.exists()  # the AWS CLI's file is kept
    assert sso_sandbox.run("clear", "--profile", "dev", "--sso-tokens").code == 0
    assert not token_file.exists()


@pytest.mark.parametrize("args", [[], ["--all", "--profile", "x"]])
def test_clear_needs_exactly_one_target(sandbox, sts, args):
    result = sandbox.run("clear", *args)
    assert result.code == 2 and "--all" in result.stderr
