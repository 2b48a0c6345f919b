"""Secrets stay where they belong: not on stderr (even with --debug), not in other files, not on a
child's command line or in its environment; store files are 0600 in 0700 directories; the
sign-in redirect receiver listens on 127.0.0.1 only and takes one matching state, once."""

from __future__ import annotations

import json
import socket
import stat
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from faultkit import random_token, seed_cached, seed_sso_token, write_sso_config
from harness.saml_idp import SamlIdp
from harness.sandbox import SEEN_SECRETS, random_keys, remember_secret
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cred_export.login.loopback import LoopbackReceiver

AWS_SECRET_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
)
MFA_SERIAL = "arn:aws:iam::123456789012:mfa/alice"
SAML_ROLE = "arn:aws:iam::123456789012:role/bedrock"


def caller_secrets() -> dict[str, str]:
    """AWS secrets in the caller's environment (Claude Code may have some): children must not see them."""
    key_id, secret = random_keys()
    token = random_token(300)
    for value in (key_id, secret):
        remember_secret(value)
    return {
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": token,
        "AWS_SECURITY_TOKEN": token,
    }


def spy_script(tmp_path: Path, name: str, prints: str) -> tuple[str, Path]:
    """A child command that records its argv and environment (outside HOME), then prints `prints`."""
    record = tmp_path / f"{name}.seen.json"
    script = tmp_path / f"{name}.py"
    script.write_text(
        "import json, os, sys\n"
        f"json.dump({{'argv': sys.argv, 'env': dict(os.environ)}}, open({str(record)!r}, 'w'))\n"
        f"sys.stdout.write({prints!r})\n"
    )
    return f"{sys.executable} {script}", record


def assert_child_saw_no_secret(record: Path) -> None:
    seen = json.loads(record.read_text())
    assert not set(AWS_SECRET_VARIABLES) & set(seen["env"]), sorted(seen["env"])
    exposed = " ".join(seen["argv"]) + " " + " ".join(f"{k}={v}" for k, v in seen["env"].items())
    leaked = [value for value in SEEN_SECRETS if value in exposed]
    assert not leaked, f"{len(leaked)} secret value(s) reached the child, e.g. …{leaked[0][-4:]}"


def test_credential_process_never_inherits_the_callers_aws_secrets(sandbox, sts, tmp_path):
    expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7200))
    document = {
        "Version": 1,
        "AccessKeyId": "ASIAPROCESSSPY000001",
        "SecretAccessKey": random_token(40),
        "SessionToken": random_token(200),
        "Expiration": expiry,
    }
    command, record = spy_script(tmp_path, "credential_process", json.dumps(document))
    sandbox.write_aws_config(f"[profile proc]\ncredential_process = {command}\n")
    result = sandbox.run("--profile", "proc", "--debug", env=caller_secrets())
    assert result.code == 0, result.stderr
    assert result.credentials["SessionToken"] == document["SessionToken"]
    assert_child_saw_no_secret(record)


def test_credential_source_environment_still_uses_the_callers_keys(sandbox, sts):
    sandbox.write_aws_config(
        "[profile env-role]\nrole_arn = arn:aws:iam::123456789012:role/from-env\n"
        "credential_source = Environment\n"
    )
    env = {"AWS_ACCESS_KEY_ID": sandbox.key_id, "AWS_SECRET_ACCESS_KEY": sandbox.secret}
    result = sandbox.run("--profile", "env-role", env=env)
    assert result.code == 0, result.stderr
    assert [r["_signer"] for r in sts.requests if r["Action"] == "AssumeRole"] == [sandbox.key_id]


def test_mfa_process_gets_no_secret(sandbox, sts, tmp_path):
    command, record = spy_script(tmp_path, "mfa_process", "123456\n")
    sandbox.write_credentials()
    sandbox.write_aws_config(
        "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = base\n"
        f"mfa_serial = {MFA_SERIAL}\nmfa_process = {command}\n"
    )
    login = sandbox.run("login", "--profile", "dev", "--debug", env=caller_secrets())
    assert login.code == 0, login.stderr
    assert_child_saw_no_secret(record)


def test_assertion_command_gets_no_secret(sandbox, sts, tmp_path):
    idp = SamlIdp()
    sts.saml_certificate = idp.certificate_pem
    assertion = idp.response([SAML_ROLE])
    remember_secret(assertion)
    command, record = spy_script(tmp_path, "assertion_command", assertion)
    sandbox.write_settings(
        f'cache = "file"\n[profiles.corp]\nsource = "saml"\nassertion_command = \'{command}\'\n'
    )
    login = sandbox.run("login", "--profile", "corp", "--debug", env=caller_secrets())
    assert login.code == 0, login.stderr
    assert_child_saw_no_secret(record)


def test_debug_output_of_every_path_holds_no_secret(sso_sandbox, sso, sts):
    """Misses, hits, renewals, failures and status with --debug; the sandbox checks each run."""
    box = sso_sandbox
    write_sso_config(box)
    box.write_credentials()
    config = (box.home / ".aws" / "config").read_text()
    box.write_aws_config(
        config + "[profile chained]\nrole_arn = arn:aws:iam::123456789012:role/c\nsource_profile = dev\n"
    )
    first = seed_sso_token(box, sso, access_ttl=600)  # renewal is due: the refresh token rotates
    for args in (("--profile", "dev"), ("--profile", "chained"), ("--profile", "base"), ("--profile", "dev")):
        assert box.run(*args, "--debug").code == 0
    renewed = json.loads((box.home / ".aws" / "sso" / "cache").joinpath(_token_file()).read_text())
    assert renewed["refreshToken"] != first["refreshToken"] and renewed["refreshToken"] in SEEN_SECRETS
    assert box.run("--profile", "dev", "-f", "env", "--debug").code == 0
    assert box.run("status", "--json", "--debug").code == 0
    sts.fault = "503"
    seed_cached(box, "base", 8 * 60)
    assert box.run("--profile", "base", "--debug").code == 0  # the warning path
    box.write_credentials(f"[base]\naws_secret_access_key {box.secret}\n")
    assert box.run("--profile", "base", "--debug").code == 2  # a malformed line is named, not echoed


def _token_file() -> str:
    import hashlib

    return hashlib.sha1(b"corp").hexdigest() + ".json"


def test_every_file_holding_a_secret_is_0600_in_a_0700_directory(sso_sandbox, sso, sts):
    box = sso_sandbox
    write_sso_config(box)
    box.write_credentials()
    box.write_aws_config(
        (box.home / ".aws" / "config").read_text()
        + "[profile role1]\nrole_arn = arn:aws:iam::123456789012:role/role1\nsource_profile = base\n"
    )
    seed_sso_token(box, sso, access_ttl=600)  # renewal rewrites the token file
    assert box.run("--profile", "dev").code == 0
    assert box.run("--profile", "role1").code == 0
    inputs = {box.home / ".aws" / "credentials"}  # the test's own file
    holders = [p for p in box.home.rglob("*") if p.is_file() and p not in inputs and _holds_secret(p)]
    assert len(holders) >= 3  # two cached credentials and the SSO token
    for path in holders:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent


def _holds_secret(path: Path) -> bool:
    text = path.read_bytes().decode("utf-8", "replace")
    return any(value in text for value in SEEN_SECRETS if not value.startswith(("AKIA", "ASIA")))


# --- the leak detector itself ------------------------------------------------------------------


def test_the_leak_detector_catches_a_secret_in_a_file_outside_the_stores(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    before = sandbox.file_identities()
    secret = sandbox.run("--profile", profile).credentials["SecretAccessKey"]
    (sandbox.home / "debug.log").write_text(f"oops {secret}\n")
    with pytest.raises(AssertionError, match="secret material in"):
        sandbox.check_for_leaks("", before)


def test_the_leak_detector_catches_a_loose_store_file(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    before = sandbox.file_identities()
    sandbox.run("--profile", profile)
    (entry,) = sandbox.cached_files()
    entry.chmod(0o644)
    with pytest.raises(AssertionError, match="mode 0o644"):
        sandbox.check_for_leaks("", before)


def test_the_leak_detector_learns_tokens_from_the_stores(sso_sandbox, sso):
    write_sso_config(sso_sandbox)
    token = sso.seed_token(start_url="https://corp.awsapps.com/start")
    path = sso_sandbox.home / ".aws" / "sso" / "cache" / _token_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(token))
    sso_sandbox.check_for_leaks("", sso_sandbox.file_identities())
    assert token["refreshToken"] in SEEN_SECRETS and token["clientSecret"] in SEEN_SECRETS
    with pytest.raises(AssertionError, match="secret material on stderr"):
        sso_sandbox.check_for_leaks(f"debug: {token['accessToken']}", {})


# --- the sign-in redirect receiver ---------------------------------------------------------------


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _port(receiver: LoopbackReceiver) -> int:
    return int(receiver.redirect_uri.rsplit(":", 1)[1].split("/")[0])


def test_the_receiver_listens_on_127_0_0_1_only():
    receiver = LoopbackReceiver("/cb", state="s")
    port = _port(receiver)
    assert receiver._server.server_address[0] == "127.0.0.1"
    for address in ("127.0.0.2", "::1"):  # another loopback address, IPv6 loopback
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()
    receiver.wait(time.monotonic() + 0.1)


_stray = st.tuples(
    st.sampled_from(["/cb", "/cb/", "/CB", "/", "/favicon.ico", "/cb/../cb", "//cb"]),
    st.dictionaries(
        st.sampled_from(["state", "code", "error", "State", "state[]"]),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
        max_size=3,
    ),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strays=st.lists(_stray, max_size=6))
def test_only_the_one_matching_state_is_accepted_and_only_once(strays):
    state = "expected-state-1234"
    receiver = LoopbackReceiver("/cb", state=state)
    base = receiver.redirect_uri.rsplit("/", 1)[0]
    statuses: list[int] = []

    def browser() -> None:
        for path, query in strays:
            if path == "/cb" and query.get("state") == state:
                continue
            statuses.append(_get(base + path + "?" + urllib.parse.urlencode(query)))
        statuses.append(_get(f"{base}/cb?code=good&state={state}"))

    thread = threading.Thread(target=browser)
    thread.start()
    callback = receiver.wait(time.monotonic() + 20)
    thread.join(20)
    assert statuses[-1] == 200 and all(code in (400, 404) for code in statuses[:-1]), statuses
    assert callback is not None and callback.code == "good"
    with pytest.raises(OSError):  # once: nothing listens any more
        socket.create_connection(("127.0.0.1", _port(receiver)), timeout=2).close()
