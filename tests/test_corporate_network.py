"""Corporate networks: an IdP behind a private CA, an HTTPS proxy, and what doctor says of them.

The OpenID Provider serves TLS with a certificate from a `trustme` CA (as a TLS-inspecting
proxy would); cred-export must trust exactly the CA settings botocore honours and the usual
others, go through `HTTPS_PROXY` unless `NO_PROXY` says not, and name host, reason and fix in
one line when the certificate cannot be verified.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import trustme
from harness.corporate_network import CLIENT_ID, ConnectProxy, TlsOpenIdProvider
from harness.sandbox import Sandbox

ROLE = "arn:aws:iam::123456789012:role/corp-bedrock"
SEED_REFRESH_TOKEN = (
    "import sys\n"
    "from cred_export.idp.oidc_session import _key\n"
    "from cred_export.idp.profiles import parse_oidc\n"
    "from cred_export.settings import load_settings\n"
    "from cred_export.stores.file_store import FileStore\n"
    "profile = parse_oidc('corp', load_settings().profiles['corp'])\n"
    "FileStore().put_text(_key(profile, 'refresh'), 'rt-seeded')\n"
)


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> Iterator[TlsOpenIdProvider]:  # type: ignore[no-untyped-def]
    provider = TlsOpenIdProvider(tmp_path_factory.mktemp("corporate-ca"))
    yield provider
    provider.close()


@pytest.fixture
def proxy() -> Iterator[ConnectProxy]:
    server = ConnectProxy()
    yield server
    server.close()


def corp_profile(box: Sandbox, idp: TlsOpenIdProvider, extra: str = "") -> None:
    """An OIDC profile whose session (a refresh token) is stored: the next export renews it."""
    box.write_settings(
        'cache = "file"\n[profiles.corp]\nsource = "oidc"\n'
        f'issuer = "{idp.issuer}"\nclient_id = "{CLIENT_ID}"\nrole_arn = "{ROLE}"\n{extra}'
    )
    subprocess.run(
        [sys.executable, "-c", SEED_REFRESH_TOKEN], env=box.env, cwd=box.root, check=True, timeout=30
    )


def test_an_untrusted_certificate_is_one_line_naming_host_reason_and_fix(sandbox, sts, idp):
    corp_profile(sandbox, idp)
    result = sandbox.run("--profile", "corp")
    assert result.code == 4 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    host = idp.issuer.removeprefix("https://")
    assert f"cannot verify the TLS certificate of {host}" in line
    assert "local issuer certificate" in line and "trusting the system's CA store" in line
    assert "set AWS_CA_BUNDLE" in line
    assert "check the network or VPN" not in line


@pytest.mark.parametrize("setting", ["AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "ca_bundle"])
def test_each_ca_setting_makes_the_corporate_ca_trusted(sandbox, sts, idp, setting):
    extra = f'ca_bundle = "{idp.ca_file}"\n' if setting == "ca_bundle" else ""
    corp_profile(sandbox, idp, extra)
    env = {} if setting == "ca_bundle" else {setting: str(idp.ca_file)}
    result = sandbox.run("--profile", "corp", env=env)
    assert result.code == 0, result.stderr
    assert result.credentials["AccessKeyId"]
    assert sts.calls["AssumeRoleWithWebIdentity"] >= 1  # (43200 s, then 3600 s: the role's maximum)


def test_aws_ca_bundle_wins_over_the_others_as_in_botocore(sandbox, sts, idp, tmp_path):
    corp_profile(sandbox, idp, f'ca_bundle = "{idp.ca_file}"\n')
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    result = sandbox.run("--profile", "corp", env={"AWS_CA_BUNDLE": str(other)})
    assert result.code == 4 and "trusting AWS_CA_BUNDLE" in result.stderr


def test_calls_go_through_https_proxy_and_not_when_no_proxy_names_the_host(sandbox, sts, idp, proxy):
    corp_profile(sandbox, idp)
    host = idp.issuer.removeprefix("https://")
    env = {"AWS_CA_BUNDLE": str(idp.ca_file), "HTTPS_PROXY": proxy.url}
    assert sandbox.run("--profile", "corp", env=env).code == 0
    assert proxy.targets and set(proxy.targets) == {host}  # discovery, token and keys: all tunnelled
    sandbox.run("clear", "--profile", "corp")
    corp_profile(sandbox, idp)
    proxy.targets.clear()
    result = sandbox.run("--profile", "corp", env={**env, "NO_PROXY": "127.0.0.1"})
    assert result.code == 0, result.stderr
    assert proxy.targets == []


def test_a_proxy_that_is_down_is_named(sandbox, sts, idp):
    corp_profile(sandbox, idp)
    env = {"AWS_CA_BUNDLE": str(idp.ca_file), "HTTPS_PROXY": "http://user:pw@127.0.0.1:9"}
    result = sandbox.run("--profile", "corp", env=env)
    assert result.code == 4
    assert "through the proxy http://user:****@127.0.0.1:9" in result.stderr and "pw@" not in result.stderr


def test_doctor_shows_proxy_and_ca_settings_and_warns_of_stray_aws_variables(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    env = {
        "HTTPS_PROXY": "http://user:secret-pw@proxy.corp:3128",
        "NO_PROXY": ".corp",
        "AWS_CA_BUNDLE": "/etc/ssl/c.pem",
    }
    clean = _environment_check(sandbox, profile, env)
    assert (
        "HTTPS_PROXY=http://user:****@proxy.corp:3128" in clean["detail"]
        and "NO_PROXY=.corp" in clean["detail"]
    )
    assert "secret-pw" not in clean["detail"]
    assert clean["verdict"] == "fail" and "/etc/ssl/c.pem" in clean["detail"]  # a bundle that is not there
    stray = _environment_check(sandbox, profile, {"AWS_ACCESS_KEY_ID": "AKIASTRAYSTRAYSTRAY1"})
    assert stray["verdict"] == "warn" and "AWS_ACCESS_KEY_ID" in stray["detail"]
    assert stray["fix"].startswith("unset AWS_ACCESS_KEY_ID")
    healthy = _environment_check(sandbox, profile, {})
    assert healthy["verdict"] == "ok" and healthy["detail"] == "no proxy; CAs: the system's CA store"


def test_doctor_warns_when_aws_profile_is_not_the_hooks_profile(sandbox, sts):
    profile = sandbox.role_chain(depth=1)
    settings = sandbox.home / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(f'{{"awsCredentialExport": "/usr/bin/cred-export --profile {profile}"}}')
    check = _environment_check(sandbox, profile, {"AWS_PROFILE": "base"})
    assert check["verdict"] == "warn"
    assert f"AWS_PROFILE=base (the environment) but the export hook uses profile {profile}" in check["detail"]


def _environment_check(box: Sandbox, profile: str, env: dict[str, str]) -> dict:
    report = box.run(
        "doctor", "--profile", profile, "--json", env={"CLAUDE_CONFIG_DIR": str(box.home / ".claude"), **env}
    )
    (check,) = [c for c in report.json["checks"] if c["id"] == "environment"]
    return check
