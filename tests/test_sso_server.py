"""The SSO-OIDC / SSO portal stand-in, driven through real botocore clients.

Each test proves one protocol rule and that botocore parses the server's error into the exception
class its service model names.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.tokens import SSOTokenProvider
from harness.loopback import get_without_redirects
from harness.sso_server import (
    ACCOUNT_ACCESS_SCOPE,
    AUTH_CODE_TTL,
    AWS_CLI_TOKEN_FIELDS,
    DEVICE_CODE_GRANT,
    SsoServer,
    pkce_challenge,
)

START_URL = "https://example.awsapps.com/start"
ACCOUNT, ROLE = "123456789012", "Dev"
REGISTERED_REDIRECT = "http://127.0.0.1/oauth/callback"
REDIRECT = "http://127.0.0.1:54321/oauth/callback"
VERIFIER = "v" * 20 + "-._~" + "0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[botocore.session.Session]:
    """One botocore session for the module, kept clear of the developer's AWS profile and overrides."""
    empty = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        overrides = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")
        for name in (*overrides, "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_SSO_OIDC"):
            mp.delenv(name, raising=False)
        yield botocore.session.get_session()


@pytest.fixture
def server() -> Iterator[SsoServer]:
    sso = SsoServer()
    yield sso
    sso.close()


def _client(session: botocore.session.Session, service: str, url: str) -> BaseClient:
    config = Config(signature_version=UNSIGNED)
    return session.create_client(service, region_name="us-east-1", endpoint_url=url, config=config)


@pytest.fixture
def oidc(session: botocore.session.Session, server: SsoServer) -> BaseClient:
    return _client(session, "sso-oidc", server.url)


@pytest.fixture
def portal(session: botocore.session.Session, server: SsoServer) -> BaseClient:
    return _client(session, "sso", server.url)


def _register(oidc: BaseClient, scopes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return oidc.register_client(clientName="tests", clientType="public", scopes=scopes or [], **extra)


def _register_pkce(oidc: BaseClient, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "grantTypes": ["authorization_code", "refresh_token"],
        "redirectUris": [REGISTERED_REDIRECT],
        "issuerUrl": START_URL,
    }
    kwargs.update(overrides)
    return _register(oidc, [ACCOUNT_ACCESS_SCOPE], **kwargs)


def _start(oidc: BaseClient, reg: dict[str, Any]) -> dict[str, Any]:
    return oidc.start_device_authorization(
        clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=START_URL
    )


def _poll(oidc: BaseClient, reg: dict[str, Any], device_code: str) -> dict[str, Any]:
    return oidc.create_token(
        grantType=DEVICE_CODE_GRANT,
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        deviceCode=device_code,
    )


def _refresh(oidc: BaseClient, reg: dict[str, Any], refresh_token: str) -> dict[str, Any]:
    return oidc.create_token(
        grantType="refresh_token",
        clientId=reg["clientId"],
        clientSecret=reg["clientSecret"],
        refreshToken=refresh_token,
    )


def _redeem_code(oidc: BaseClient, reg: dict[str, Any], auth_code: str, **overrides: str) -> dict[str, Any]:
    kwargs = {"code": auth_code, "redirectUri": REDIRECT, "codeVerifier": VERIFIER, **overrides}
    return oidc.create_token(
        grantType="authorization_code", clientId=reg["clientId"], clientSecret=reg["clientSecret"], **kwargs
    )


def _authorize(server: SsoServer, reg: dict[str, Any], **overrides: str) -> tuple[int, dict[str, str], str]:
    params = {
        "response_type": "code",
        "client_id": reg["clientId"],
        "redirect_uri": REDIRECT,
        "state": "st-123",
        "code_challenge": pkce_challenge(VERIFIER),
        "code_challenge_method": "S256",
        "scopes": ACCOUNT_ACCESS_SCOPE,
        **overrides,
    }
    return get_without_redirects(f"{server.url}/authorize?{urllib.parse.urlencode(params)}")


def _auth_code(server: SsoServer, reg: dict[str, Any], **overrides: str) -> str:
    status, headers, _ = _authorize(server, reg, **overrides)
    assert status == 302
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(headers["Location"]).query)
    return query["code"][0]


def _assert_oidc_error(err: ClientError, name: str, oauth_error: str, status: int = 400) -> None:
    assert err.response["Error"]["Code"] == name
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert err.response["error"] == oauth_error
    assert err.response["error_description"]


# ------------------------------------------------------------------------- RegisterClient


def test_register_client_returns_registration_valid_for_90_days(server: SsoServer, oidc: BaseClient) -> None:
    before = int(time.time())
    reg = _register(oidc, [ACCOUNT_ACCESS_SCOPE])
    assert reg["clientId"] and reg["clientSecret"]
    assert before <= reg["clientIdIssuedAt"] <= time.time()
    assert reg["clientSecretExpiresAt"] == reg["clientIdIssuedAt"] + 90 * 24 * 3600
    assert server.calls["RegisterClient"] == 1
    assert server.requests == [
        {
            "op": "RegisterClient",
            "clientName": "tests",
            "clientType": "public",
            "scopes": [ACCOUNT_ACCESS_SCOPE],
        }
    ]


def test_register_client_rejects_bad_metadata(oidc: BaseClient) -> None:
    with pytest.raises(oidc.exceptions.InvalidClientMetadataException):
        oidc.register_client(clientName="tests", clientType="confidential")
    with pytest.raises(oidc.exceptions.InvalidRedirectUriException):
        _register_pkce(oidc, redirectUris=["https://example.com/callback"])
    with pytest.raises(oidc.exceptions.UnsupportedGrantTypeException):
        _register(oidc, grantTypes=["client_credentials"])


# ------------------------------------------------------------------------- device authorization


def test_start_device_authorization_shape(server: SsoServer, oidc: BaseClient) -> None:
    server.device_code_ttl, server.device_interval = 123, 7
    auth = _start(oidc, _register(oidc))
    assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", auth["userCode"])
    assert auth["verificationUri"] == f"{server.url}/device"
    assert auth["verificationUriComplete"] == f"{server.url}/device?user_code={auth['userCode']}"
    assert (auth["expiresIn"], auth["interval"]) == (123, 7)
    assert auth["deviceCode"]


def test_start_device_authorization_needs_valid_client(oidc: BaseClient) -> None:
    reg = _register(oidc)
    with pytest.raises(oidc.exceptions.InvalidClientException) as exc:
        _start(oidc, {**reg, "clientSecret": "wrong"})
    _assert_oidc_error(exc.value, "InvalidClientException", "invalid_client", status=401)
    with pytest.raises(oidc.exceptions.InvalidClientException):
        _start(oidc, {**reg, "clientId": "nobody"})


def test_device_flow_pending_slow_down_approved_token(server: SsoServer, oidc: BaseClient) -> None:
    server.device_interval = 1
    reg = _register(oidc, [ACCOUNT_ACCESS_SCOPE])
    auth = _start(oidc, reg)

    with pytest.raises(oidc.exceptions.AuthorizationPendingException) as pending:
        _poll(oidc, reg, auth["deviceCode"])
    _assert_oidc_error(pending.value, "AuthorizationPendingException", "authorization_pending")
    with pytest.raises(oidc.exceptions.SlowDownException) as slow:
        _poll(oidc, reg, auth["deviceCode"])
    _assert_oidc_error(slow.value, "SlowDownException", "slow_down")

    status, _, page = get_without_redirects(auth["verificationUriComplete"])
    assert status == 200 and "approved" in page
    server.advance(1.05)  # the interval has passed since the previous poll
    token = _poll(oidc, reg, auth["deviceCode"])

    assert token["tokenType"] == "Bearer" and token["expiresIn"] == 3600
    assert token["accessToken"] and token["refreshToken"]
    # botocore does not retry any of these errors: every poll reached the server exactly once.
    assert server.calls["CreateToken"] == 3 and server.calls["VerifyDevice"] == 1
    assert server.requests[-1] == {
        "op": "CreateToken",
        "grantType": DEVICE_CODE_GRANT,
        "clientId": reg["clientId"],
        "clientSecret": reg["clientSecret"],
        "deviceCode": auth["deviceCode"],
    }


def test_slow_down_until_interval_has_passed_since_previous_poll(server: SsoServer, oidc: BaseClient) -> None:
    server.device_interval = 1
    reg = _register(oidc)
    auth = _start(oidc, reg)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        _poll(oidc, reg, auth["deviceCode"])
    server.advance(1.05)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        _poll(oidc, reg, auth["deviceCode"])
    with pytest.raises(oidc.exceptions.SlowDownException):
        _poll(oidc, reg, auth["deviceCode"])


def test_device_code_redeemed_only_once(server: SsoServer, oidc: BaseClient) -> None:
    server.device_interval = 0
    reg = _register(oidc)
    auth = _start(oidc, reg)
    server.approve_device(auth["userCode"])
    _poll(oidc, reg, auth["deviceCode"])
    with pytest.raises(oidc.exceptions.InvalidGrantException) as exc:
        _poll(oidc, reg, auth["deviceCode"])
    _assert_oidc_error(exc.value, "InvalidGrantException", "invalid_grant")


def test_device_code_is_bound_to_its_client(server: SsoServer, oidc: BaseClient) -> None:
    server.device_interval = 0
    owner, other = _register(oidc), _register(oidc)
    auth = _start(oidc, owner)
    server.approve_device(auth["userCode"])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        _poll(oidc, other, auth["deviceCode"])
    with pytest.raises(oidc.exceptions.InvalidClientException):
        _poll(oidc, {**owner, "clientSecret": other["clientSecret"]}, auth["deviceCode"])
    assert _poll(oidc, owner, auth["deviceCode"])["accessToken"]


def test_device_code_expires(server: SsoServer, oidc: BaseClient) -> None:
    server.device_interval, server.device_code_ttl = 0, 1
    reg = _register(oidc)
    auth = _start(oidc, reg)
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        _poll(oidc, reg, auth["deviceCode"])
    server.advance(1.05)
    with pytest.raises(oidc.exceptions.ExpiredTokenException) as exc:
        _poll(oidc, reg, auth["deviceCode"])
    _assert_oidc_error(exc.value, "ExpiredTokenException", "expired_token")
    status, _, _ = get_without_redirects(auth["verificationUriComplete"])
    assert status == 400


def test_denied_device_request(server: SsoServer, oidc: BaseClient) -> None:
    server.device_interval = 0
    reg = _register(oidc)
    auth = _start(oidc, reg)
    server.deny_device(auth["userCode"])
    with pytest.raises(oidc.exceptions.AccessDeniedException) as exc:
        _poll(oidc, reg, auth["deviceCode"])
    _assert_oidc_error(exc.value, "AccessDeniedException", "access_denied")
    with pytest.raises(ValueError):
        server.approve_device(auth["userCode"])
    with pytest.raises(KeyError):
        server.approve_device("ZZZZ-ZZZZ")


def test_verify_device_page_rejects_unknown_code(server: SsoServer) -> None:
    status, headers, _ = get_without_redirects(f"{server.url}/device?user_code=BCDF-GHJK")
    assert status == 400 and headers["Content-Type"].startswith("text/html")
    assert server.calls["VerifyDevice"] == 1


# ------------------------------------------------------------------------- authorization code + PKCE


def test_pkce_happy_path(server: SsoServer, oidc: BaseClient) -> None:
    reg = _register_pkce(oidc)
    status, headers, _ = _authorize(server, reg)
    assert status == 302
    location = urllib.parse.urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = urllib.parse.parse_qs(location.query)
    assert query["state"] == ["st-123"]

    token = _redeem_code(oidc, reg, query["code"][0])
    assert token["tokenType"] == "Bearer" and token["accessToken"] and token["refreshToken"]
    assert server.calls["Authorize"] == 1
    assert server.requests[1]["op"] == "Authorize" and server.requests[1]["redirect_uri"] == REDIRECT


def test_authorization_code_is_single_use(server: SsoServer, oidc: BaseClient) -> None:
    reg = _register_pkce(oidc)
    code = _auth_code(server, reg)
    _redeem_code(oidc, reg, code)
    with pytest.raises(oidc.exceptions.InvalidGrantException) as exc:
        _redeem_code(oidc, reg, code)
    _assert_oidc_error(exc.value, "InvalidGrantException", "invalid_grant")


@pytest.mark.parametrize(
    "overrides",
    [
        {"codeVerifier": "x" * 64},
        {"redirectUri": "http://127.0.0.1:54322/oauth/callback"},
        {"redirectUri": "http://localhost:54321/oauth/callback"},
        {"code": "made-up"},
    ],
    ids=["wrong-verifier", "other-port", "other-host", "unknown-code"],
)
def test_authorization_code_grant_rejections(
    server: SsoServer, oidc: BaseClient, overrides: dict[str, str]
) -> None:
    reg = _register_pkce(oidc)
    code = _auth_code(server, reg)
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        _redeem_code(oidc, reg, code, **overrides)


def test_authorization_code_bound_to_client_and_expires(server: SsoServer, oidc: BaseClient) -> None:
    reg, other = _register_pkce(oidc), _register_pkce(oidc)
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        _redeem_code(oidc, other, _auth_code(server, reg))
    code = _auth_code(server, reg)
    server.advance(AUTH_CODE_TTL + 1)
    with pytest.raises(oidc.exceptions.InvalidGrantException) as exc:
        _redeem_code(oidc, reg, code)
    assert "expired" in exc.value.response["error_description"]


def test_authorize_accepts_any_loopback_port_and_unregistered_clients(
    server: SsoServer, oidc: BaseClient
) -> None:
    reg = _register_pkce(oidc, redirectUris=["http://localhost:1111/cb"])
    assert _authorize(server, reg, redirect_uri="http://localhost:2222/cb")[0] == 302
    open_reg = _register(oidc, [ACCOUNT_ACCESS_SCOPE])  # no redirectUris, no grantTypes
    assert _authorize(server, open_reg, redirect_uri="http://127.0.0.1:3333/anything")[0] == 302


@pytest.mark.parametrize(
    "overrides",
    [
        {"redirect_uri": "https://example.com/oauth/callback"},
        {"redirect_uri": "http://10.0.0.1:54321/oauth/callback"},
        {"redirect_uri": "http://127.0.0.1/oauth/callback"},
        {"redirect_uri": "http://127.0.0.1:54321/elsewhere"},
        {"redirect_uri": "http://localhost:54321/oauth/callback"},
        {"code_challenge_method": "plain"},
        {"code_challenge": ""},
        {"response_type": "token"},
        {"client_id": "nobody"},
    ],
    ids=[
        "https",
        "not-loopback",
        "no-port",
        "unregistered-path",
        "unregistered-host",
        "plain",
        "no-challenge",
        "response-type",
        "unknown-client",
    ],
)
def test_authorize_rejects_invalid_requests_without_redirect(
    server: SsoServer, oidc: BaseClient, overrides: dict[str, str]
) -> None:
    reg = _register_pkce(oidc)
    status, headers, page = _authorize(server, reg, **overrides)
    assert status == 400 and "Location" not in headers
    assert headers["Content-Type"].startswith("text/html") and "<html>" in page


def test_grant_must_be_registered(oidc: BaseClient) -> None:
    reg = _register_pkce(oidc)
    with pytest.raises(oidc.exceptions.UnauthorizedClientException):
        _start(oidc, reg)


# ------------------------------------------------------------------------- refresh tokens


def test_refresh_token_rotates_and_old_one_is_rejected(server: SsoServer, oidc: BaseClient) -> None:
    cached = server.seed_token(start_url=START_URL)
    reg = {"clientId": cached["clientId"], "clientSecret": cached["clientSecret"]}
    first = _refresh(oidc, reg, cached["refreshToken"])
    assert first["refreshToken"] != cached["refreshToken"]
    assert first["accessToken"] != cached["accessToken"]

    with pytest.raises(oidc.exceptions.InvalidGrantException) as exc:
        _refresh(oidc, reg, cached["refreshToken"])
    _assert_oidc_error(exc.value, "InvalidGrantException", "invalid_grant")
    second = _refresh(oidc, reg, first["refreshToken"])
    assert second["refreshToken"] not in (first["refreshToken"], cached["refreshToken"])


def test_refresh_token_is_bound_to_its_client(server: SsoServer, oidc: BaseClient) -> None:
    cached = server.seed_token(start_url=START_URL)
    other = _register(oidc, [ACCOUNT_ACCESS_SCOPE])
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        _refresh(oidc, other, cached["refreshToken"])


def test_revoked_refresh_tokens_are_invalid_grant(server: SsoServer, oidc: BaseClient) -> None:
    cached = server.seed_token(start_url=START_URL)
    server.revoke_refresh_tokens()
    with pytest.raises(oidc.exceptions.InvalidGrantException):
        _refresh(
            oidc,
            {"clientId": cached["clientId"], "clientSecret": cached["clientSecret"]},
            cached["refreshToken"],
        )


def test_no_refresh_token_without_account_access_scope(server: SsoServer, oidc: BaseClient) -> None:
    server.device_interval = 0
    reg = _register(oidc, ["openid"])
    auth = _start(oidc, reg)
    server.approve_device(auth["userCode"])
    token = _poll(oidc, reg, auth["deviceCode"])
    assert "refreshToken" not in token
    assert "refreshToken" not in server.seed_token(start_url=START_URL, with_refresh=False)


def test_concurrent_reuse_of_one_refresh_token_succeeds_once(server: SsoServer, oidc: BaseClient) -> None:
    cached = server.seed_token(start_url=START_URL)
    reg = {"clientId": cached["clientId"], "clientSecret": cached["clientSecret"]}
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            _refresh(oidc, reg, cached["refreshToken"])
            outcomes.append("ok")
        except oidc.exceptions.InvalidGrantException:
            outcomes.append("invalid_grant")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["invalid_grant"] * 7 + ["ok"]


def test_unknown_grant_type_and_bad_client(oidc: BaseClient) -> None:
    reg = _register(oidc)
    with pytest.raises(oidc.exceptions.UnsupportedGrantTypeException) as exc:
        oidc.create_token(grantType="password", clientId=reg["clientId"], clientSecret=reg["clientSecret"])
    _assert_oidc_error(exc.value, "UnsupportedGrantTypeException", "unsupported_grant_type")
    with pytest.raises(oidc.exceptions.InvalidClientException):
        oidc.create_token(grantType="refresh_token", clientId="nobody", clientSecret="x", refreshToken="r")


# ------------------------------------------------------------------------- GetRoleCredentials


def test_get_role_credentials(server: SsoServer, portal: BaseClient) -> None:
    token = server.seed_token(start_url=START_URL)["accessToken"]
    before_ms = time.time() * 1000
    first = portal.get_role_credentials(roleName=ROLE, accountId=ACCOUNT, accessToken=token)[
        "roleCredentials"
    ]
    second = portal.get_role_credentials(roleName=ROLE, accountId=ACCOUNT, accessToken=token)[
        "roleCredentials"
    ]

    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", first["accessKeyId"])
    assert first["secretAccessKey"] and first["sessionToken"]
    assert before_ms + 3590_000 <= first["expiration"] <= time.time() * 1000 + 3600_000
    assert all(first[key] != second[key] for key in ("accessKeyId", "secretAccessKey", "sessionToken"))
    assert server.requests[-1] == {"op": "GetRoleCredentials", "role_name": ROLE, "account_id": ACCOUNT}
    assert server.calls["GetRoleCredentials"] == 2


def test_role_credentials_ttl(server: SsoServer, portal: BaseClient) -> None:
    server.role_credentials_ttl = 900
    token = server.seed_token(start_url=START_URL)["accessToken"]
    creds = portal.get_role_credentials(roleName=ROLE, accountId=ACCOUNT, accessToken=token)[
        "roleCredentials"
    ]
    assert abs(creds["expiration"] / 1000 - (time.time() + 900)) < 5


@pytest.mark.parametrize("how", ["unknown", "expired-by-server", "expired-by-ttl"])
def test_get_role_credentials_unauthorized(server: SsoServer, portal: BaseClient, how: str) -> None:
    token = server.seed_token(start_url=START_URL, access_ttl=0 if how == "expired-by-ttl" else 3600)
    access_token = "aoa-not-issued" if how == "unknown" else token["accessToken"]
    if how == "expired-by-server":
        server.expire_access_tokens()
    with pytest.raises(portal.exceptions.UnauthorizedException) as exc:
        portal.get_role_credentials(roleName=ROLE, accountId=ACCOUNT, accessToken=access_token)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert exc.value.response["Error"]["Message"]
    assert server.calls["GetRoleCredentials"] == 1


def test_tokens_issued_after_expire_access_tokens_work(server: SsoServer, portal: BaseClient) -> None:
    server.expire_access_tokens()
    token = server.seed_token(start_url=START_URL)["accessToken"]
    assert portal.get_role_credentials(roleName=ROLE, accountId=ACCOUNT, accessToken=token)


def test_get_role_credentials_forbidden_for_unassigned_role(server: SsoServer, portal: BaseClient) -> None:
    token = server.seed_token(start_url=START_URL)["accessToken"]
    with pytest.raises(ClientError) as exc:
        portal.get_role_credentials(roleName="Admin", accountId=ACCOUNT, accessToken=token)
    assert exc.value.response["Error"] == {"Code": "ForbiddenException", "Message": "No access"}
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # The real portal answers 403 ForbiddenException, but botocore's model does not declare it.
    assert not hasattr(portal.exceptions, "ForbiddenException")

    server.roles.add((ACCOUNT, "Admin"))
    assert portal.get_role_credentials(roleName="Admin", accountId=ACCOUNT, accessToken=token)


# ------------------------------------------------------------------------- seed_token, reset, routing


def test_seed_token_has_aws_cli_cache_shape(server: SsoServer) -> None:
    cached = server.seed_token(start_url=START_URL, access_ttl=600)
    assert set(cached) == AWS_CLI_TOKEN_FIELDS
    assert (cached["startUrl"], cached["region"]) == (START_URL, "us-east-1")
    expires = datetime.strptime(cached["expiresAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    registration = datetime.strptime(cached["registrationExpiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(expires.timestamp() - (time.time() + 600)) < 5
    assert abs(registration.replace(tzinfo=timezone.utc).timestamp() - (time.time() + 90 * 86400)) < 5
    assert not server.calls and not server.requests


@pytest.mark.usefixtures("session")  # for its isolation from the developer's AWS environment
def test_botocore_token_provider_refreshes_seeded_token_via_endpoint_env(
    server: SsoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's own SSO token refresh accepts the seeded cache entry and the rotated response."""
    config = tmp_path / "config"
    config.write_text(
        "[profile dev]\nsso_session = corp\n\n"
        f"[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO_OIDC", server.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", server.url)
    seeded = server.seed_token(start_url=START_URL, access_ttl=60)  # inside botocore's refresh window
    key = hashlib.sha1(b"corp").hexdigest()
    cache = {key: seeded}

    session = botocore.session.Session(profile="dev")
    token = SSOTokenProvider(session, cache=cache).load_token().get_frozen_token().token

    assert token != seeded["accessToken"] and server.calls["CreateToken"] == 1
    assert cache[key]["refreshToken"] != seeded["refreshToken"]
    sso = session.create_client("sso", region_name="us-east-1", config=Config(signature_version=UNSIGNED))
    assert sso.get_role_credentials(roleName=ROLE, accountId=ACCOUNT, accessToken=token)["roleCredentials"]


def test_reset_restores_defaults_and_forgets_everything(server: SsoServer, oidc: BaseClient) -> None:
    cached = server.seed_token(start_url=START_URL)
    _register(oidc)
    server.access_token_ttl = server.role_credentials_ttl = server.device_code_ttl = (
        server.device_interval
    ) = 5
    server.roles.clear()
    server.advance(60)
    server.reset()
    assert server.elapsed == 0
    assert (server.access_token_ttl, server.role_credentials_ttl) == (3600, 3600)
    assert (server.device_code_ttl, server.device_interval) == (600, 1)
    assert server.roles == {(ACCOUNT, ROLE)}
    assert not server.calls and not server.requests
    with pytest.raises(oidc.exceptions.InvalidClientException):
        _refresh(oidc, {"clientId": cached["clientId"], "clientSecret": cached["clientSecret"]}, "x")


def test_access_token_ttl_applies_to_new_tokens(server: SsoServer, oidc: BaseClient) -> None:
    server.access_token_ttl = 120
    cached = server.seed_token(start_url=START_URL)
    reg = {"clientId": cached["clientId"], "clientSecret": cached["clientSecret"]}
    assert _refresh(oidc, reg, cached["refreshToken"])["expiresIn"] == 120


@pytest.mark.parametrize("path", ["/nope", "/token", "/federation/other"])
def test_unknown_paths_are_404(server: SsoServer, path: str) -> None:
    status, _, _ = get_without_redirects(server.url + path)
    assert status == 404
    assert not server.calls and not server.requests
