"""Corporate OIDC end to end: a real OpenID Provider, moto's STS and Cognito, the installed CLI."""

from __future__ import annotations

import socket
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import boto3
import jwt
import pytest
from conftest import free_port
from harness import chromium_browser
from harness.oidc_provider import OpenIdProvider
from harness.require import require
from harness.sandbox import Sandbox, read_until_url

ROLE = "arn:aws:iam::123456789012:role/bedrock"
HARNESS = Path(__file__).parent / "harness"


def redirect_port(op: OpenIdProvider) -> int:
    return urllib.parse.urlsplit(op.redirect_uri).port  # type: ignore[return-value]


def configure(
    box: Sandbox, op: OpenIdProvider, extra: str = "", client_id: str | None = None, top: str = ""
) -> None:
    """Settings with an OIDC profile `corp`; `extra` goes into the profile, `top` above it."""
    profile_keys = {"login_from_export", "refresh_ahead_minutes"}
    top_lines = [line for line in extra.splitlines() if line.split(" ")[0] in profile_keys]
    extra = "".join(f"{line}\n" for line in extra.splitlines() if line not in top_lines)
    box.write_settings(
        f'cache = "file"\n{top}{"".join(f"{line}{chr(10)}" for line in top_lines)}'
        '[profiles.corp]\nsource = "oidc"\n'
        f'issuer = "{op.issuer}"\nclient_id = "{client_id or op.client_id}"\n'
        f'redirect_port = {redirect_port(op)}\nrole_arn = "{ROLE}"\n{extra}'
    )


def browser(tmp_path: Path, script: str = "oidc_browser.py", **env: str) -> dict[str, str]:
    return {
        "BROWSER": f"{sys.executable} {HARNESS / script} %s",
        "BROWSER_LOG": str(tmp_path / "browser.log"),
        **env,
    }


def web_identity_calls(sts) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    return [r for r in sts.requests if r["Action"] == "AssumeRoleWithWebIdentity"]


def verify_with_op(op: OpenIdProvider, token: str) -> dict:
    key = jwt.PyJWKClient(op.endpoint("jwks_uri")).get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=op.client_id, issuer=op.issuer)


def test_export_without_a_session_asks_for_login(sandbox, sts, oidc_op):
    configure(sandbox, oidc_op)
    result = sandbox.run("--profile", "corp")
    assert result.code == 3 and "cred-export login --profile corp" in result.stderr
    assert sts.calls == {}


def test_browser_login_exchanges_the_providers_id_token_then_export_hits(sandbox, sts, oidc_op, tmp_path):
    configure(sandbox, oidc_op)  # default duration 12 h; the role allows 1 h
    oidc_op.clear_requests()
    login = sandbox.run("login", "--profile", "corp", env=browser(tmp_path), timeout=90)
    assert login.code == 0, login.stderr
    (url,) = (tmp_path / "browser.log").read_text().splitlines()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["code_challenge_method"] == "S256" and query["nonce"] and query["state"]
    assert query["redirect_uri"] == oidc_op.redirect_uri
    first, second = web_identity_calls(sts)
    assert (first["DurationSeconds"], second["DurationSeconds"]) == ("43200", "3600")
    claims = verify_with_op(oidc_op, second["WebIdentityToken"])  # what was sent is the OP's own token
    assert claims["nonce"] == query["nonce"]
    assert second["RoleSessionName"] == "alice@example.com" and second["_signer"] == ""
    assert [r["grant_type"] for r in oidc_op.token_requests()] == ["authorization_code"]
    export = sandbox.run("--profile", "corp")
    assert export.code == 0 and len(web_identity_calls(sts)) == 2  # a cache hit


def test_device_code_login(sandbox, sts, oidc_op):
    configure(sandbox, oidc_op)
    login = sandbox.popen("login", "--profile", "corp", "--device-code")
    url = read_until_url(login, containing="/device")
    oidc_op.approve_device(url)
    out, err = login.communicate(timeout=90)
    assert login.returncode == 0, err
    assert "Signed in" in out
    assert [c["DurationSeconds"] for c in web_identity_calls(sts)] == ["43200", "3600"]


def test_a_denied_sign_in_is_exit_3(sandbox, sts, oidc_op, tmp_path):
    configure(sandbox, oidc_op)
    result = sandbox.run("login", "--profile", "corp", env=browser(tmp_path, OIDC_BROWSER_ACTION="deny"))
    assert result.code == 3 and "access_denied" in result.stderr
    assert sts.calls == {}


def test_a_sign_in_nobody_completes_times_out_with_exit_3(sandbox, sts, oidc_op, tmp_path):
    configure(sandbox, oidc_op)
    env = browser(tmp_path, OIDC_BROWSER_ACTION="nothing")
    started = time.monotonic()
    result = sandbox.run("login", "--profile", "corp", "--timeout", "5", env=env, timeout=60)
    assert result.code == 3 and "not completed in time" in result.stderr
    assert time.monotonic() - started < 20


def test_a_busy_redirect_port_is_named(sandbox, sts, oidc_op, tmp_path):
    configure(sandbox, oidc_op)
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # earlier logins left TIME_WAIT
        squatter.bind(("127.0.0.1", redirect_port(oidc_op)))
        squatter.listen()
        result = sandbox.run("login", "--profile", "corp", env=browser(tmp_path))
    assert result.code == 2 and f"port {redirect_port(oidc_op)} is busy" in result.stderr


def test_sts_refusing_the_token_is_exit_4_with_a_hint(sandbox, sts, oidc_op, tmp_path):
    configure(sandbox, oidc_op)
    sts.fault = "InvalidIdentityToken"
    result = sandbox.run("login", "--profile", "corp", env=browser(tmp_path))
    assert result.code == 4 and "InvalidIdentityToken" in result.stderr and "trust policy" in result.stderr


def test_oidc_profile_as_the_source_of_a_role_chain(sandbox, sts, oidc_op, tmp_path):
    configure(sandbox, oidc_op)
    sandbox.write_aws_config(
        "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = corp\n"
    )
    result = sandbox.run("login", "--profile", "admin", env=browser(tmp_path))
    assert result.code == 0, result.stderr
    assert [r["Action"] for r in sts.requests][-1] == "AssumeRole"
    assert sts.requests[-1]["_signer"].startswith("ASIA")


def test_login_from_export_signs_in_with_output_on_stderr(sandbox, sts, oidc_op, tmp_path):
    configure(sandbox, oidc_op, 'login_from_export = "auto"\n')
    result = sandbox.run("--profile", "corp", env=browser(tmp_path), timeout=90)
    assert result.code == 0, result.stderr
    assert result.credentials["AccessKeyId"].startswith("ASIA") and oidc_op.issuer in result.stderr


def test_confidential_client_with_a_secret_in_the_store(sandbox, sts, oidc_op, tmp_path):
    configure(sandbox, oidc_op, client_id=oidc_op.secret_client_id)
    without = sandbox.run("login", "--profile", "corp", env=browser(tmp_path))
    assert without.code == 4 and "invalid_client" in without.stderr
    import subprocess

    stored = subprocess.run(
        [str(Path(sys.executable).with_name("cred-export")), "client-secret", "--profile", "corp"],
        input=oidc_op.client_secret + "\n",
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stored.returncode == 0, stored.stderr
    assert oidc_op.client_secret not in stored.stdout + stored.stderr
    assert not any(
        oidc_op.client_secret in p.read_text(errors="ignore") for p in sandbox.home.rglob("*.toml")
    )
    login = sandbox.run("login", "--profile", "corp", env=browser(tmp_path))
    assert login.code == 0, login.stderr


def test_cognito_identity_pool_federation(sandbox, sts, oidc_op, moto_port, tmp_path):
    moto = f"http://127.0.0.1:{moto_port}"
    cognito = boto3.client(
        "cognito-identity",
        region_name="us-east-1",
        endpoint_url=moto,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    pool = cognito.create_identity_pool(IdentityPoolName="bedrock", AllowUnauthenticatedIdentities=False)
    configure(sandbox, oidc_op, f'federation = "cognito"\nidentity_pool_id = "{pool["IdentityPoolId"]}"\n')
    env = {**browser(tmp_path), "AWS_ENDPOINT_URL_COGNITO_IDENTITY": moto}
    result = sandbox.run("login", "--profile", "corp", env=env)
    assert result.code == 0, result.stderr
    assert sts.calls == {}
    export = sandbox.run("--profile", "corp", env={"AWS_ENDPOINT_URL_COGNITO_IDENTITY": moto})
    assert export.code == 0 and export.credentials["SessionToken"]


@pytest.fixture
def renewing_op() -> Iterator[OpenIdProvider]:
    """A provider whose id_tokens are too short-lived to reuse: every fetch renews."""
    provider = OpenIdProvider(redirect_port=free_port(), id_token_ttl=60)
    yield provider
    provider.stop()


@pytest.fixture
def expiring_op() -> Iterator[OpenIdProvider]:
    """Like `renewing_op`, but its refresh tokens expire after 5 minutes (which a test lets pass)."""
    provider = OpenIdProvider(redirect_port=free_port(), id_token_ttl=60, refresh_token_ttl=300)
    yield provider
    provider.stop()


def test_silent_renewal_with_a_rotating_refresh_token(sandbox, sts, renewing_op, tmp_path):
    configure(sandbox, renewing_op)
    assert sandbox.run("login", "--profile", "corp", env=browser(tmp_path)).code == 0
    for _ in range(2):  # each export is a miss and renews the id_token with the newest refresh token
        sandbox.set_cached_expiry(5 * 60)  # below the hand-out floor: a refresh is due
        assert sandbox.run("--profile", "corp").code == 0
    grants = [r["grant_type"] for r in renewing_op.token_requests()]
    assert grants.count("refresh_token") >= 2 and grants.count("authorization_code") == 1
    assert (tmp_path / "browser.log").read_text().count("\n") == 1  # no second browser


def test_an_expired_refresh_token_means_sign_in_not_a_loop(sandbox, sts, expiring_op, tmp_path):
    configure(sandbox, expiring_op)
    assert sandbox.run("login", "--profile", "corp", env=browser(tmp_path)).code == 0
    expiring_op.advance(301)  # past the refresh token's lifetime
    sandbox.set_cached_expiry(12 * 60)  # a refresh is due, but what is cached is still good
    first = sandbox.run("--profile", "corp")
    assert first.code == 0 and "warning" in first.stderr  # cached credentials still have 12 min
    sandbox.set_cached_expiry(60)
    second = sandbox.run("--profile", "corp")
    assert second.code == 3 and "cred-export login --profile corp" in second.stderr
    before = len(expiring_op.token_requests())
    assert sandbox.run("--profile", "corp").code == 3
    assert len(expiring_op.token_requests()) == before  # the dead refresh token is not sent again


def test_real_headless_chromium_signs_in(sandbox, sts, oidc_op, tmp_path):
    require(chromium_browser.chromium_available(), "chromium/chromium-driver are not installed")
    configure(sandbox, oidc_op)
    env = browser(tmp_path, script="chromium_browser.py")
    result = sandbox.run("login", "--profile", "corp", env=env, timeout=120)
    assert result.code == 0, result.stderr
    assert len(web_identity_calls(sts)) >= 1


def test_concurrent_renewals_never_present_a_spent_refresh_token(sandbox, sts, renewing_op, tmp_path):
    configure(sandbox, renewing_op)
    roles = [f"role{n}" for n in range(8)]
    sandbox.write_aws_config(
        "".join(
            f"[profile {r}]\nrole_arn = arn:aws:iam::123456789012:role/{r}\nsource_profile = corp\n"
            for r in roles
        )
    )
    assert sandbox.run("login", "--profile", "corp", env=browser(tmp_path)).code == 0
    processes = [sandbox.popen("--profile", role) for role in roles]
    outcomes = [(p.wait(timeout=120), p.communicate()[1]) for p in processes]
    assert all(code == 0 for code, _ in outcomes), outcomes
    refreshes = renewing_op.token_requests("refresh_token")
    assert refreshes and all(r.get("error") in (None, "") for r in refreshes)
