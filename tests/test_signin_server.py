"""The AWS Sign-In stand-in, driven through real botocore clients.

Each test proves one protocol rule and that botocore parses the server's answer into what its service
model names. The last group proves interoperability: botocore's own login credential provider reads a
session left by ``new_session`` and renews it against the stand-in.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import importlib.util
import json
import os
import re
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from conftest import REQUIRE_ALL
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from harness.loopback import get_without_redirects
from harness.signin_server import (
    ACCESS_TOKEN_FIELDS,
    AUTH_CODE_TTL,
    AWS_CLI_LOGIN_FIELDS,
    CROSS_DEVICE_CLIENT,
    DEFAULT_IDENTITY,
    SAME_DEVICE_CLIENT,
    SigninServer,
    cache_path,
    jwk_thumbprint,
    load_dpop_key,
    make_dpop_proof,
    pkce_challenge,
    public_jwk,
)
from harness.sts_proxy import StsProxy

pytestmark = pytest.mark.timeout(30)

REDIRECT = "http://127.0.0.1:54321/oauth/callback"
# What the AWS CLI generates: 64 characters of the RFC 7636 unreserved alphabet.
VERIFIER = "Az09-._~" * 8
ROLE_SESSION = "arn:aws:sts::210987654321:assumed-role/Admin/bob"
DPOP_EVENT = "before-call.signin.CreateOAuth2Token"
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())

ProofMaker = Callable[[ec.EllipticCurvePrivateKey, str], "str | None"]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[botocore.session.Session]:
    """One botocore session for the module, kept clear of the developer's AWS profile and overrides."""
    empty = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as mp:
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            mp.delenv(name)
        mp.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        # A credential chain that finds nothing must not go looking for an instance metadata service.
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield botocore.session.get_session()


@pytest.fixture
def server() -> Iterator[SigninServer]:
    signin = SigninServer()
    yield signin
    signin.close()


def _client(session: botocore.session.Session, server: SigninServer) -> BaseClient:
    """A signin client that makes one attempt per call, so server counters equal calls made."""
    config = Config(
        signature_version=UNSIGNED,
        retries={"total_max_attempts": 1},
        connect_timeout=5,
        read_timeout=5,
    )
    return session.create_client("signin", region_name="us-east-1", endpoint_url=server.url, config=config)


@pytest.fixture
def signin(session: botocore.session.Session, server: SigninServer) -> BaseClient:
    return _client(session, server)


def _create_token(
    client: BaseClient,
    key: ec.EllipticCurvePrivateKey,
    proof: ProofMaker | None = None,
    **token_input: str,
) -> dict[str, Any]:
    """CreateOAuth2Token with a DPoP proof for the URL botocore sends to (as botocore's provider does)."""

    def add_dpop(params: dict[str, Any], **_: Any) -> None:
        value = proof(key, params["url"]) if proof else make_dpop_proof(key, params["url"])
        if value is not None:
            params["headers"]["DPoP"] = value

    client.meta.events.register(DPOP_EVENT, add_dpop, unique_id="test-dpop")
    try:
        return client.create_o_auth2_token(tokenInput=token_input)["tokenOutput"]
    finally:
        client.meta.events.unregister(DPOP_EVENT, unique_id="test-dpop")


def _refresh(
    client: BaseClient, key: ec.EllipticCurvePrivateKey, token: str, proof: ProofMaker | None = None
) -> dict[str, Any]:
    return _create_token(
        client, key, proof, clientId=SAME_DEVICE_CLIENT, grantType="refresh_token", refreshToken=token
    )


def _redeem(
    client: BaseClient, key: ec.EllipticCurvePrivateKey, code: str, **overrides: str
) -> dict[str, Any]:
    fields = {
        "clientId": SAME_DEVICE_CLIENT,
        "grantType": "authorization_code",
        "code": code,
        "codeVerifier": VERIFIER,
        "redirectUri": REDIRECT,
        **overrides,
    }
    return _create_token(client, key, **fields)


def _authorize_url(server: SigninServer, **overrides: str | None) -> str:
    """The URL the AWS CLI opens: percent-encoded parameters, the unpadded challenge appended last."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": SAME_DEVICE_CLIENT,
        "state": str(uuid.uuid4()),
        "code_challenge_method": "SHA-256",
        "scope": "openid",
        "redirect_uri": REDIRECT,
        "code_challenge": pkce_challenge(VERIFIER),
        **overrides,
    }
    query = "&".join(
        f"{urllib.parse.quote(name, safe='-_.~')}={urllib.parse.quote(value, safe='-_.~')}"
        for name, value in params.items()
        if value is not None
    )
    return f"{server.url}/v1/authorize?{query}"


def _location_query(headers: dict[str, str]) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))


def _sign_in(server: SigninServer, **overrides: str | None) -> str:
    status, headers, _ = get_without_redirects(_authorize_url(server, **overrides))
    assert status == 302, headers
    return _location_query(headers)["code"]


def _cached(path: Path) -> tuple[dict[str, Any], ec.EllipticCurvePrivateKey]:
    token = json.loads(path.read_text())
    return token, load_dpop_key(token["dpopKey"])


def _assert_error(err: ClientError, name: str, error: str, status: int) -> None:
    assert err.response["Error"]["Code"] == name
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert err.response["error"] == error
    assert err.response["Error"]["Message"]


def _jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    def decode(segment: str) -> bytes:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))

    header, claims, signature = token.split(".")
    return json.loads(decode(header)), json.loads(decode(claims)), decode(signature)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _raw_post(server: SigninServer, body: bytes, headers: list[tuple[str, str]]) -> tuple[int, Any, Any]:
    """POST /v1/token with exactly these headers (repeats allowed): (status, headers, JSON body)."""
    port = urllib.parse.urlsplit(server.url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.putrequest("POST", "/v1/token")
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            conn.putheader(name, value)
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.headers, json.loads(resp.read() or b"null")
    finally:
        conn.close()


# ------------------------------------------------------------------------- /v1/authorize


def test_authorize_signs_in_and_redirects_with_code_and_state(server: SigninServer) -> None:
    state = str(uuid.uuid4())
    status, headers, _ = get_without_redirects(_authorize_url(server, state=state))
    assert status == 302
    location = urllib.parse.urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = _location_query(headers)
    assert set(query) == {"code", "state"} and query["state"] == state
    assert server.calls["Authorize"] == 1
    assert server.requests[0]["client_id"] == SAME_DEVICE_CLIENT
    assert server.requests[0]["code_challenge"] == pkce_challenge(VERIFIER)


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "arn:aws:signin:::devtools/other"},
        {"client_id": None},
        {"redirect_uri": "https://127.0.0.1:54321/oauth/callback"},
        {"redirect_uri": "http://localhost:54321/oauth/callback"},
        {"redirect_uri": "http://192.0.2.7:54321/oauth/callback"},
        {"redirect_uri": "http://127.0.0.1/oauth/callback"},
        {"redirect_uri": "http://127.0.0.1:54321/elsewhere"},
        {"redirect_uri": "http://127.0.0.1:54321/oauth/callback?next=x"},
        {"redirect_uri": "http://user@127.0.0.1:54321/oauth/callback"},
        {"client_id": CROSS_DEVICE_CLIENT},
    ],
    ids=[
        "unknown-client",
        "no-client",
        "https",
        "localhost",
        "not-loopback",
        "no-port",
        "other-path",
        "query",
        "userinfo",
        "cross-device-with-loopback-redirect",
    ],
)
def test_authorize_refuses_bad_client_or_redirect_without_redirecting(
    server: SigninServer, overrides: dict[str, str | None]
) -> None:
    status, headers, page = get_without_redirects(_authorize_url(server, **overrides))
    assert status == 400 and "Location" not in headers
    assert headers["Content-Type"].startswith("text/html") and "<html>" in page


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": None}, "invalid_scope"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": pkce_challenge(VERIFIER) + "="}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
    ],
    ids=[
        "response-type",
        "no-scope",
        "no-openid",
        "s256",
        "plain",
        "no-method",
        "no-challenge",
        "padded-challenge",
        "short-challenge",
    ],
)
def test_authorize_redirects_errors_back_to_a_valid_redirect_uri(
    server: SigninServer, overrides: dict[str, str | None], error: str
) -> None:
    status, headers, _ = get_without_redirects(_authorize_url(server, state="st-1", **overrides))
    assert status == 302
    query = _location_query(headers)
    assert query["error"] == error and query["error_description"] and query["state"] == "st-1"
    assert "code" not in query


def test_authorize_needs_state(server: SigninServer) -> None:
    status, headers, _ = get_without_redirects(_authorize_url(server, state=None))
    assert status == 302
    query = _location_query(headers)
    assert query["error"] == "invalid_request" and "code" not in query and "state" not in query


def test_challenge_methods_can_be_widened(server: SigninServer) -> None:
    """The CLI sends SHA-256; a test that wants to try RFC 7636's S256 has to say so."""
    server.challenge_methods.add("S256")
    assert _sign_in(server, code_challenge_method="S256")


def test_user_refusal_redirects_access_denied(server: SigninServer) -> None:
    server.deny_next_authorization()
    status, headers, _ = get_without_redirects(_authorize_url(server, state="st-2"))
    query = _location_query(headers)
    assert status == 302 and query["error"] == "access_denied" and query["state"] == "st-2"
    assert _sign_in(server)  # only the next sign-in was refused


def test_identity_is_configurable(server: SigninServer, signin: BaseClient) -> None:
    server.identity = ROLE_SESSION
    token = _redeem(signin, OTHER_KEY, _sign_in(server))
    _, claims, _ = _jwt_parts(token["idToken"])
    assert claims["sub"] == ROLE_SESSION


# ------------------------------------------------------------------------- authorization_code grant


def test_code_exchange_answers_the_modeled_token_output(server: SigninServer, signin: BaseClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    before = time.time()
    token = _redeem(signin, key, _sign_in(server))

    assert set(token) == {"accessToken", "tokenType", "expiresIn", "refreshToken", "idToken"}
    assert set(token["accessToken"]) == {"accessKeyId", "secretAccessKey", "sessionToken"}
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", token["accessToken"]["accessKeyId"])
    assert token["tokenType"] == "aws_sigv4" and token["expiresIn"] == 900
    assert token["refreshToken"].startswith("ASOR")

    header, claims, signature = _jwt_parts(token["idToken"])
    assert header == {"kid": server.id_token_kid, "typ": "JWT", "alg": "ES384"}
    assert claims["sub"] == claims["session_arn"] == DEFAULT_IDENTITY
    assert claims["aud"] == SAME_DEVICE_CLIENT and claims["iss"] == "https://signin.aws.amazon.com/signin"
    assert before - 1 <= claims["iat"] <= time.time() and claims["exp"] == claims["iat"] + 900
    signing_input = token["idToken"].rsplit(".", 1)[0].encode()
    der = encode_dss_signature(int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big"))
    server.id_token_public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA384()))

    assert server.grants == {"authorization_code": 1} and not server.refusals
    sent = server.requests[-1]
    assert sent["grantType"] == "authorization_code" and sent["codeVerifier"] == VERIFIER
    assert sent["redirectUri"] == REDIRECT and sent["clientId"] == SAME_DEVICE_CLIENT
    assert sent["dpop"]["htu"] == f"{server.url}/v1/token" and sent["dpop"]["htm"] == "POST"
    (bound,) = server.sessions()
    assert bound.thumbprint == jwk_thumbprint(public_jwk(key)) and bound.arn == DEFAULT_IDENTITY
    assert server.current_refresh_token() == token["refreshToken"]


def test_authorization_code_is_single_use(server: SigninServer, signin: BaseClient) -> None:
    code = _sign_in(server)
    _redeem(signin, OTHER_KEY, code)
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        _redeem(signin, OTHER_KEY, code)
    _assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)
    assert server.refusals == {"code-unknown": 1}


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"codeVerifier": "x" * 64}, "code-verifier"),
        ({"redirectUri": "http://127.0.0.1:54322/oauth/callback"}, "code-redirect-uri"),
        ({"redirectUri": None}, "code-redirect-uri"),
        ({"clientId": CROSS_DEVICE_CLIENT}, "code-client"),
        ({"code": "made-up"}, "code-unknown"),
    ],
    ids=["wrong-verifier", "other-redirect", "no-redirect", "other-client", "unknown-code"],
)
def test_code_exchange_rejections_spend_the_code(
    server: SigninServer, signin: BaseClient, overrides: dict[str, str | None], reason: str
) -> None:
    code = _sign_in(server)
    fields = {name: value for name, value in overrides.items() if value is not None}
    removed = [name for name, value in overrides.items() if value is None]
    request = {
        "clientId": SAME_DEVICE_CLIENT,
        "grantType": "authorization_code",
        "code": code,
        "codeVerifier": VERIFIER,
        "redirectUri": REDIRECT,
        **fields,
    }
    for name in removed:
        del request[name]
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        _create_token(signin, OTHER_KEY, **request)
    _assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)
    assert server.refusals == {reason: 1}
    if "code" not in overrides:
        with pytest.raises(signin.exceptions.ValidationException):
            _redeem(signin, OTHER_KEY, code)  # the failed attempt used the code up
    assert not server.sessions()


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "spaces are not unreserved " + "x" * 30])
def test_code_verifier_must_be_43_to_128_unreserved_characters(server: SigninServer, verifier: str) -> None:
    # botocore checks the lengths itself, so this goes around it.
    fields = {
        "clientId": SAME_DEVICE_CLIENT,
        "grantType": "authorization_code",
        "code": _sign_in(server),
        "codeVerifier": verifier,
        "redirectUri": REDIRECT,
    }
    proof = make_dpop_proof(OTHER_KEY, f"{server.url}/v1/token")
    status, headers, reply = _raw_post(
        server, json.dumps(fields).encode(), [("Content-Type", "application/json"), ("DPoP", proof)]
    )
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    assert reply["error"] == "INVALID_REQUEST"


def test_expired_code_is_authcode_expired(server: SigninServer, signin: BaseClient) -> None:
    code = _sign_in(server)
    server.advance(AUTH_CODE_TTL + 1)
    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        _redeem(signin, OTHER_KEY, code)
    _assert_error(exc.value, "AccessDeniedException", "AUTHCODE_EXPIRED", 401)


def test_cross_device_flow_pastes_a_base64_code(server: SigninServer, signin: BaseClient) -> None:
    """--remote: the browser lands on the service's confirmation page, the user pastes its code."""
    confirmation = f"{server.url}/v1/sessions/confirmation"
    state = str(uuid.uuid4())
    status, headers, _ = get_without_redirects(
        _authorize_url(server, client_id=CROSS_DEVICE_CLIENT, redirect_uri=confirmation, state=state)
    )
    assert status == 302 and headers["Location"].startswith(confirmation + "?")
    status, _, page = get_without_redirects(headers["Location"])
    assert status == 200
    pasted = re.search(r'<code id="verification-code">([^<]+)</code>', page)
    assert pasted
    fields = dict(urllib.parse.parse_qsl(base64.b64decode(pasted.group(1)).decode()))
    assert fields["state"] == state

    key = ec.generate_private_key(ec.SECP256R1())
    token = _create_token(
        signin,
        key,
        clientId=CROSS_DEVICE_CLIENT,
        grantType="authorization_code",
        code=fields["code"],
        codeVerifier=VERIFIER,
        redirectUri=confirmation,
    )
    assert server.calls["SessionConfirmation"] == 1
    with pytest.raises(signin.exceptions.ValidationException):
        _refresh(signin, key, token["refreshToken"])  # the session belongs to the cross-device client
    refreshed = _create_token(
        signin,
        key,
        clientId=CROSS_DEVICE_CLIENT,
        grantType="refresh_token",
        refreshToken=token["refreshToken"],
    )
    assert refreshed["refreshToken"] != token["refreshToken"]


# ------------------------------------------------------------------------- refresh_token grant


def test_refresh_tokens_rotate_and_a_spent_one_is_token_expired(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    cached, key = _cached(server.new_session(tmp_path))
    first = _refresh(signin, key, cached["refreshToken"])
    assert set(first) == {"accessToken", "tokenType", "expiresIn", "refreshToken"}  # no idToken
    assert first["refreshToken"] != cached["refreshToken"]
    assert first["accessToken"]["accessKeyId"] != cached["accessToken"]["accessKeyId"]
    assert server.current_refresh_token(DEFAULT_IDENTITY) == first["refreshToken"]

    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        _refresh(signin, key, cached["refreshToken"])
    _assert_error(exc.value, "AccessDeniedException", "TOKEN_EXPIRED", 401)
    second = _refresh(signin, key, first["refreshToken"])
    assert second["refreshToken"] not in (first["refreshToken"], cached["refreshToken"])
    assert server.grants == {"refresh_token": 3}
    assert server.refusals == {"refresh-token-spent": 1} and not server.dpop_violations


def test_unknown_refresh_token_is_token_expired(server: SigninServer, signin: BaseClient) -> None:
    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        _refresh(signin, OTHER_KEY, "ASOR-never-issued")
    _assert_error(exc.value, "AccessDeniedException", "TOKEN_EXPIRED", 401)


def test_spent_refresh_token_answer_is_switchable(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    server.spent_refresh_error = "INVALID_REQUEST"
    cached, key = _cached(server.new_session(tmp_path))
    _refresh(signin, key, cached["refreshToken"])
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        _refresh(signin, key, cached["refreshToken"])
    _assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)


def test_refresh_with_another_key_is_refused_and_spends_nothing(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    cached, key = _cached(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        _refresh(signin, OTHER_KEY, cached["refreshToken"])
    _assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)
    assert server.dpop_violations == {"dpop-key": 1}
    assert _refresh(signin, key, cached["refreshToken"])["refreshToken"]


def test_key_is_bound_at_the_code_exchange(server: SigninServer, signin: BaseClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = _redeem(signin, key, _sign_in(server))
    with pytest.raises(signin.exceptions.ValidationException):
        _refresh(signin, OTHER_KEY, token["refreshToken"])
    assert _refresh(signin, key, token["refreshToken"])


def test_refresh_token_is_bound_to_its_client(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    cached, key = _cached(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.ValidationException):
        _create_token(
            signin,
            key,
            clientId=CROSS_DEVICE_CLIENT,
            grantType="refresh_token",
            refreshToken=cached["refreshToken"],
        )
    assert server.refusals == {"refresh-token-client": 1}


def test_expires_in_is_configurable_and_capped_by_the_session(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    server.expires_in = 120
    cached, key = _cached(server.new_session(tmp_path))
    token = _refresh(signin, key, cached["refreshToken"])
    assert token["expiresIn"] == 120
    (live,) = server.sessions()
    live.expires_at = time.time() + 30
    assert 28 <= _refresh(signin, key, token["refreshToken"])["expiresIn"] <= 30


@pytest.mark.parametrize("reason", ["TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED"])
def test_expired_session_refuses_refresh(
    server: SigninServer, signin: BaseClient, tmp_path: Path, reason: str
) -> None:
    cached, key = _cached(server.new_session(tmp_path))
    other = server.new_session(tmp_path, arn=ROLE_SESSION)
    assert server.expire_session(DEFAULT_IDENTITY, reason=reason) == 1
    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        _refresh(signin, key, cached["refreshToken"])
    _assert_error(exc.value, "AccessDeniedException", reason, 401)
    assert server.current_refresh_token(DEFAULT_IDENTITY) is None
    other_token, other_key = _cached(other)
    assert _refresh(signin, other_key, other_token["refreshToken"])  # other sessions live on


def test_session_lifetime_ends_refreshes(server: SigninServer, signin: BaseClient, tmp_path: Path) -> None:
    server.session_ttl = 0
    cached, key = _cached(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        _refresh(signin, key, cached["refreshToken"])
    _assert_error(exc.value, "AccessDeniedException", "TOKEN_EXPIRED", 401)


# ------------------------------------------------------------------------- DPoP proofs


def _htu_with(url: str, **replace: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(**replace))


def _other_port(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return _htu_with(url, netloc=f"127.0.0.1:{(parts.port or 0) + 1}")


DPOP_VIOLATIONS: dict[str, tuple[ProofMaker, str]] = {
    "missing": (lambda key, url: None, "dpop-missing"),
    "not-a-jwt": (lambda key, url: "not-a-jwt", "dpop-malformed"),
    "bad-base64": (lambda key, url: "e30.e30.%%%", "dpop-malformed"),
    "typ": (lambda key, url: make_dpop_proof(key, url, header={"typ": "JWT"}), "dpop-typ"),
    "alg-es384": (lambda key, url: make_dpop_proof(key, url, header={"alg": "ES384"}), "dpop-alg"),
    "alg-none": (lambda key, url: make_dpop_proof(key, url, header={"alg": "none"}), "dpop-alg"),
    "no-jwk": (lambda key, url: make_dpop_proof(key, url, header={"jwk": None}), "dpop-jwk"),
    "private-jwk": (
        lambda key, url: make_dpop_proof(key, url, header={"jwk": {**public_jwk(key), "d": "AAAA"}}),
        "dpop-jwk",
    ),
    "p384-jwk": (
        lambda key, url: make_dpop_proof(key, url, header={"jwk": {**public_jwk(key), "crv": "P-384"}}),
        "dpop-jwk",
    ),
    "forged": (lambda key, url: make_dpop_proof(key, url, sign_with=OTHER_KEY), "dpop-signature"),
    "truncated-signature": (lambda key, url: make_dpop_proof(key, url)[:-8], "dpop-signature"),
    "htm": (lambda key, url: make_dpop_proof(key, url, htm="GET"), "dpop-htm"),
    "htu-port": (lambda key, url: make_dpop_proof(key, _other_port(url)), "dpop-htu"),
    "htu-path": (lambda key, url: make_dpop_proof(key, _htu_with(url, path="/v1/authorize")), "dpop-htu"),
    "htu-scheme": (lambda key, url: make_dpop_proof(key, _htu_with(url, scheme="https")), "dpop-htu"),
    "htu-missing": (lambda key, url: make_dpop_proof(key, url, claims={"htu": None}), "dpop-htu"),
    "iat-stale": (lambda key, url: make_dpop_proof(key, url, iat=int(time.time()) - 120), "dpop-iat"),
    "iat-future": (lambda key, url: make_dpop_proof(key, url, iat=int(time.time()) + 120), "dpop-iat"),
    "iat-string": (
        lambda key, url: make_dpop_proof(key, url, claims={"iat": str(int(time.time()))}),
        "dpop-iat",
    ),
    "no-jti": (lambda key, url: make_dpop_proof(key, url, claims={"jti": None}), "dpop-jti"),
}


@pytest.mark.parametrize("case", list(DPOP_VIOLATIONS))
def test_dpop_violations_are_refused_and_counted(
    server: SigninServer, signin: BaseClient, tmp_path: Path, case: str
) -> None:
    proof, reason = DPOP_VIOLATIONS[case]
    cached, key = _cached(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        _refresh(signin, key, cached["refreshToken"], proof=proof)
    _assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)
    assert server.dpop_violations == {reason: 1}
    # A bad proof spends nothing: the holder of the key can still refresh.
    assert _refresh(signin, key, cached["refreshToken"])


def test_dpop_is_required_on_the_code_exchange_too(server: SigninServer, signin: BaseClient) -> None:
    code = _sign_in(server)
    with pytest.raises(signin.exceptions.ValidationException):
        _create_token(
            signin,
            OTHER_KEY,
            lambda key, url: None,
            clientId=SAME_DEVICE_CLIENT,
            grantType="authorization_code",
            code=code,
            codeVerifier=VERIFIER,
            redirectUri=REDIRECT,
        )
    assert server.dpop_violations == {"dpop-missing": 1}


def test_a_replayed_proof_is_refused(server: SigninServer, signin: BaseClient, tmp_path: Path) -> None:
    cached, key = _cached(server.new_session(tmp_path))
    proof = make_dpop_proof(key, f"{server.url}/v1/token")
    first = _refresh(signin, key, cached["refreshToken"], proof=lambda key, url: proof)
    with pytest.raises(signin.exceptions.ValidationException):
        _refresh(signin, key, first["refreshToken"], proof=lambda key, url: proof)
    assert server.dpop_violations == {"dpop-replay": 1}


def _key_with_a_leading_zero_x() -> ec.EllipticCurvePrivateKey:
    while True:  # one key in 256
        key = ec.generate_private_key(ec.SECP256R1())
        if not key.public_key().public_numbers().x >> 248:
            return key


def test_a_short_coordinate_names_the_same_key(server: SigninServer, signin: BaseClient) -> None:
    """awscrt drops a coordinate's leading zero byte and botocore sends it so; the key is still bound."""
    key = _key_with_a_leading_zero_x()
    short = {**public_jwk(key), "x": _b64(key.public_key().public_numbers().x.to_bytes(31, "big"))}
    assert len(short["x"]) < len(public_jwk(key)["x"])

    def botocore_style(key: ec.EllipticCurvePrivateKey, url: str) -> str:
        return make_dpop_proof(key, url, header={"jwk": short})

    code = _sign_in(server)
    token = _create_token(
        signin,
        key,
        botocore_style,
        clientId=SAME_DEVICE_CLIENT,
        grantType="authorization_code",
        code=code,
        codeVerifier=VERIFIER,
        redirectUri=REDIRECT,
    )
    assert server.requests[-1]["dpop_jwk"] == short
    assert _refresh(signin, key, token["refreshToken"])  # the same key, spelled with 32 bytes
    assert not server.refusals


def test_clock_skew_allowance_is_configurable(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    server.dpop_max_skew = 300
    cached, key = _cached(server.new_session(tmp_path))
    stale = DPOP_VIOLATIONS["iat-stale"][0]
    assert _refresh(signin, key, cached["refreshToken"], proof=stale)


def test_two_dpop_headers_are_refused(server: SigninServer, tmp_path: Path) -> None:
    cached, key = _cached(server.new_session(tmp_path))
    url = f"{server.url}/v1/token"
    body = json.dumps(
        {"clientId": SAME_DEVICE_CLIENT, "grantType": "refresh_token", "refreshToken": cached["refreshToken"]}
    ).encode()
    headers = [("Content-Type", "application/json")]
    headers += [("DPoP", make_dpop_proof(key, url)), ("DPoP", make_dpop_proof(key, url))]
    status, reply_headers, reply = _raw_post(server, body, headers)
    assert status == 400 and reply_headers["x-amzn-ErrorType"] == "ValidationException"
    assert reply["error"] == "INVALID_REQUEST" and reply["message"]
    assert server.dpop_violations == {"dpop-multiple": 1}


# ------------------------------------------------------------------------- wire format


def test_form_encoded_requests_get_snake_case_answers(server: SigninServer, tmp_path: Path) -> None:
    """The service also takes RFC 6749 form posts, and answers those in OAuth's snake_case."""
    cached, key = _cached(server.new_session(tmp_path))
    form = {
        "client_id": SAME_DEVICE_CLIENT,
        "grant_type": "refresh_token",
        "refresh_token": cached["refreshToken"],
    }
    status, headers, reply = _raw_post(
        server,
        urllib.parse.urlencode(form).encode(),
        [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("DPoP", make_dpop_proof(key, f"{server.url}/v1/token")),
        ],
    )
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert set(reply) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert set(reply["access_token"]) == {"access_key_id", "secret_access_key", "session_token"}
    assert server.current_refresh_token() == reply["refresh_token"]


def test_unsupported_grant_is_an_rfc6749_error_without_error_type(server: SigninServer) -> None:
    body = json.dumps({"clientId": SAME_DEVICE_CLIENT, "grantType": "password"}).encode()
    status, headers, reply = _raw_post(server, body, [("Content-Type", "application/json")])
    assert status == 400 and "x-amzn-ErrorType" not in headers
    assert reply["error"] == "unsupported_grant_type" and reply["error_description"]
    assert server.grants == {"password": 1} and server.refusals == {"unsupported-grant": 1}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"], ids=["malformed", "not-an-object"])
def test_malformed_bodies_are_invalid_request(server: SigninServer, body: bytes) -> None:
    status, headers, reply = _raw_post(server, body, [("Content-Type", "application/json")])
    assert status == 400 and "x-amzn-ErrorType" not in headers
    assert reply["error"] == "invalid_request" and reply["error_description"]


def test_unknown_client_is_invalid_request(server: SigninServer, signin: BaseClient) -> None:
    with pytest.raises(signin.exceptions.ValidationException):
        _create_token(
            signin, OTHER_KEY, clientId="arn:aws:signin:::devtools/other", grantType="refresh_token"
        )
    assert server.refusals == {"unknown-client": 1}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("GET", "/v1/token"), ("POST", "/v1/token?x-amz-token-request-type=bearer")],
)
def test_unknown_routes_are_404(server: SigninServer, method: str, path: str) -> None:
    request = urllib.request.Request(
        server.url + path, method=method, data=b"{}" if method == "POST" else None
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=5)
    assert exc.value.code == 404
    assert not server.calls and not server.requests


# ------------------------------------------------------------------------- fault switches


@pytest.mark.parametrize(
    ("fault", "name", "error", "status"),
    [
        ("TOKEN_EXPIRED", "AccessDeniedException", "TOKEN_EXPIRED", 401),
        ("USER_CREDENTIALS_CHANGED", "AccessDeniedException", "USER_CREDENTIALS_CHANGED", 401),
        ("INSUFFICIENT_PERMISSIONS", "AccessDeniedException", "INSUFFICIENT_PERMISSIONS", 403),
        (500, "InternalServerException", "server_error", 500),
        (429, "TooManyRequestsError", "rate_exceeded", 429),
    ],
)
def test_fail_next_refreshes(
    server: SigninServer,
    signin: BaseClient,
    tmp_path: Path,
    fault: str | int,
    name: str,
    error: str,
    status: int,
) -> None:
    cached, key = _cached(server.new_session(tmp_path))
    server.fail_next_refreshes(2, fault)
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            _refresh(signin, key, cached["refreshToken"])
        _assert_error(exc.value, name, error, status)
    assert _refresh(signin, key, cached["refreshToken"])  # the token was not spent by the faults
    assert server.grants == {"refresh_token": 3} and not server.dpop_violations


def test_faults_hit_refreshes_only(server: SigninServer, signin: BaseClient) -> None:
    server.fail_next_refreshes(1, "TOKEN_EXPIRED")
    token = _redeem(signin, OTHER_KEY, _sign_in(server))
    with pytest.raises(signin.exceptions.AccessDeniedException):
        _refresh(signin, OTHER_KEY, token["refreshToken"])
    assert _refresh(signin, OTHER_KEY, token["refreshToken"])


def test_unknown_fault_is_a_test_error(server: SigninServer) -> None:
    with pytest.raises(ValueError):
        server.fail_next_refreshes(1, "NOPE")
    with pytest.raises(ValueError):
        server.expire_session(reason="INSUFFICIENT_PERMISSIONS")


def test_concurrent_refreshes_with_one_token_succeed_once(
    session: botocore.session.Session, server: SigninServer, tmp_path: Path
) -> None:
    """Two processes refreshing the same session race; the delay makes every request overlap."""
    server.delay = 0.5
    cached, key = _cached(server.new_session(tmp_path))
    clients = [_client(session, server) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    outcomes: list[str] = []

    def attempt(client: BaseClient) -> None:
        barrier.wait(5)
        try:
            _refresh(client, key, cached["refreshToken"])
            outcomes.append("ok")
        except client.exceptions.AccessDeniedException as err:
            outcomes.append(err.response["error"])

    threads = [threading.Thread(target=attempt, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["TOKEN_EXPIRED"] * 3 + ["ok"]
    assert server.max_in_flight == len(clients) and server.in_flight == 0
    assert not server.dpop_violations


# ------------------------------------------------------------------------- new_session and reset


def test_new_session_writes_the_aws_cli_cache_file(server: SigninServer, tmp_path: Path) -> None:
    cache_dir = tmp_path / "login" / "cache"
    before = time.time()
    path = server.new_session(cache_dir, arn=ROLE_SESSION, access_ttl=600)

    assert path == cache_dir / f"{hashlib.sha256(ROLE_SESSION.encode()).hexdigest()}.json"
    assert path == cache_path(cache_dir, ROLE_SESSION)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    token = json.loads(text)
    assert text == json.dumps(token)  # the CLI's json.dumps defaults: one line, no trailing newline
    assert set(token) == AWS_CLI_LOGIN_FIELDS and set(token["accessToken"]) == ACCESS_TOKEN_FIELDS
    assert token["accessToken"]["accountId"] == "210987654321"
    expires = datetime.strptime(token["accessToken"]["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(expires.replace(tzinfo=timezone.utc).timestamp() - (before + 600)) < 5
    assert token["tokenType"] == "aws_sigv4" and token["clientId"] == SAME_DEVICE_CLIENT
    assert token["refreshToken"] == server.current_refresh_token(ROLE_SESSION)
    assert _jwt_parts(token["idToken"])[1]["sub"] == ROLE_SESSION
    pem = token["dpopKey"]
    assert pem.startswith("-----BEGIN EC PRIVATE KEY-----\n") and pem.endswith(
        "-----END EC PRIVATE KEY-----\n"
    )
    assert all(len(line) <= 64 for line in pem.splitlines())
    assert jwk_thumbprint(public_jwk(load_dpop_key(pem))) == server.sessions(ROLE_SESSION)[0].thumbprint
    assert server.issued[-1].access_key_id == token["accessToken"]["accessKeyId"]
    assert not server.calls and not server.grants


def test_new_session_options(server: SigninServer, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile other]\nregion = us-east-2\n")
    path = server.new_session(
        tmp_path,
        sign_in_region="eu-central-1",
        region="eu-west-1",
        client_id=CROSS_DEVICE_CLIENT,
        config_file=config,
        profile="dev",
    )
    token = json.loads(path.read_text())
    assert token["signInRegion"] == "eu-central-1" and token["clientId"] == CROSS_DEVICE_CLIENT
    assert server.sessions()[0].region == "eu-west-1"
    text = config.read_text()
    assert "[profile other]\nregion = us-east-2" in text
    assert f"[profile dev]\nlogin_session = {DEFAULT_IDENTITY}\nregion = eu-west-1" in text
    server.new_session(tmp_path, config_file=config)
    assert f"[default]\nlogin_session = {DEFAULT_IDENTITY}\n" in config.read_text()


def test_reset_restores_defaults_and_forgets_everything(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    cached, key = _cached(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.ValidationException):
        _refresh(signin, key, cached["refreshToken"], proof=lambda key, url: None)
    server.identity, server.expires_in, server.delay = ROLE_SESSION, 60, 0.1
    server.dpop_max_skew = server.auth_code_ttl = server.session_ttl = 1
    server.spent_refresh_error = "INVALID_REQUEST"
    server.challenge_methods.add("S256")
    server.fail_next_refreshes(3)
    server.deny_next_authorization()
    server.reset()
    assert (server.identity, server.expires_in, server.delay) == (DEFAULT_IDENTITY, 900, 0.0)
    assert (server.dpop_max_skew, server.auth_code_ttl, server.session_ttl) == (60, 300, 12 * 3600)
    assert server.spent_refresh_error == "TOKEN_EXPIRED" and server.challenge_methods == {"SHA-256"}
    assert not (server.calls or server.grants or server.refusals or server.requests or server.issued)
    assert not server.sessions() and server.current_refresh_token() is None
    assert _sign_in(server)  # the denial was forgotten
    with pytest.raises(signin.exceptions.AccessDeniedException):
        _refresh(signin, key, cached["refreshToken"])  # the session was forgotten, not the faults' doing


# ------------------------------------------------------------------------- botocore's own login provider


@pytest.fixture
def crt() -> None:
    """botocore signs DPoP proofs with awscrt (botocore[crt]); without it the login provider refuses."""
    if importlib.util.find_spec("awscrt") is None:
        if REQUIRE_ALL:
            pytest.fail("awscrt is required for botocore's login provider (CRED_EXPORT_TESTS_REQUIRE_ALL=1)")
        pytest.skip("awscrt is not installed: botocore's login provider needs botocore[crt]")


@pytest.fixture
def login_env(
    crt: None,
    session: botocore.session.Session,
    server: SigninServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """Environment for a botocore session whose signin endpoint is the stand-in; returns the cache dir."""
    cache_dir = tmp_path / "login-cache"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SIGNIN", server.url)
    monkeypatch.setenv("AWS_LOGIN_CACHE_DIRECTORY", str(cache_dir))
    return cache_dir


def _login_profile(server: SigninServer, cache_dir: Path, tmp_path: Path, **options: Any) -> Path:
    options.setdefault("region", "eu-west-1")
    return server.new_session(cache_dir, config_file=tmp_path / "config", profile="dev", **options)


def test_botocore_renews_a_new_session_and_rewrites_its_file(
    server: SigninServer, login_env: Path, tmp_path: Path
) -> None:
    path = _login_profile(server, login_env, tmp_path, arn=ROLE_SESSION, access_ttl=0)
    before = json.loads(path.read_text())

    credentials = botocore.session.Session(profile="dev").get_credentials()
    assert credentials.method == "login"
    frozen = credentials.get_frozen_credentials()  # expired: botocore must refresh now

    after = json.loads(path.read_text())
    issued = server.issued[-1]
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        issued.access_key_id,
        issued.secret_access_key,
        issued.session_token,
    )
    assert after["accessToken"]["accessKeyId"] == issued.access_key_id
    assert after["accessToken"]["accountId"] == before["accessToken"]["accountId"] == "210987654321"
    assert after["refreshToken"] != before["refreshToken"]
    assert after["refreshToken"] == server.current_refresh_token(ROLE_SESSION)
    for field in ("idToken", "dpopKey", "clientId", "tokenType"):
        assert after[field] == before[field]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert server.grants == {"refresh_token": 1} and not server.refusals
    assert server.requests[-1]["dpop"]["htu"] == f"{server.url}/v1/token"

    # The rotated token is the only one that works now.
    signin = botocore.session.Session().create_client(
        "signin", region_name="eu-west-1", config=Config(signature_version=UNSIGNED)
    )
    with pytest.raises(signin.exceptions.AccessDeniedException):
        _refresh(signin, load_dpop_key(before["dpopKey"]), before["refreshToken"])


def test_botocore_uses_fresh_cached_credentials_without_calling(
    server: SigninServer, login_env: Path, tmp_path: Path
) -> None:
    path = _login_profile(server, login_env, tmp_path, access_ttl=900)
    frozen = botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
    assert frozen.access_key == json.loads(path.read_text())["accessToken"]["accessKeyId"]
    assert not server.calls


@pytest.mark.parametrize(
    ("error", "exception"),
    [
        ("TOKEN_EXPIRED", "LoginRefreshRequired"),
        ("USER_CREDENTIALS_CHANGED", "LoginRefreshRequired"),
        ("INSUFFICIENT_PERMISSIONS", "LoginInsufficientPermissions"),
    ],
)
def test_botocore_maps_access_denied_errors(
    server: SigninServer, login_env: Path, tmp_path: Path, error: str, exception: str
) -> None:
    import botocore.exceptions

    path = _login_profile(server, login_env, tmp_path, access_ttl=0)
    server.fail_next_refreshes(1, error)
    credentials = botocore.session.Session(profile="dev").get_credentials()
    with pytest.raises(getattr(botocore.exceptions, exception)):
        credentials.get_frozen_credentials()
    assert json.loads(path.read_text())["refreshToken"] == server.current_refresh_token()  # not rewritten
    assert server.grants == {"refresh_token": 1}  # botocore does not retry these


def test_botocore_maps_an_ended_session_to_refresh_required(
    server: SigninServer, login_env: Path, tmp_path: Path
) -> None:
    from botocore.exceptions import LoginRefreshRequired

    _login_profile(server, login_env, tmp_path, access_ttl=0)
    server.expire_session()
    with pytest.raises(LoginRefreshRequired):
        botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()


def test_botocore_retries_a_500_with_the_same_proof(
    server: SigninServer, login_env: Path, tmp_path: Path
) -> None:
    """botocore adds the DPoP header once per call, so a retried attempt resends the same jti."""
    _login_profile(server, login_env, tmp_path, access_ttl=0)
    server.fail_next_refreshes(1, 500)
    frozen = botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
    assert frozen.access_key == server.issued[-1].access_key_id
    assert server.grants == {"refresh_token": 2} and server.refusals == {"fault-server_error": 1}
    assert not server.dpop_violations


def test_botocore_needs_a_region_unless_the_file_has_sign_in_region(
    server: SigninServer, login_env: Path, tmp_path: Path
) -> None:
    from botocore.exceptions import NoRegionError

    path = _login_profile(server, login_env, tmp_path, region=None, access_ttl=0)
    with pytest.raises(NoRegionError):
        botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
    assert not server.calls

    token = json.loads(path.read_text())
    token["signInRegion"] = "ap-southeast-2"
    path.write_text(json.dumps(token))
    frozen = botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
    assert frozen.access_key == server.issued[-1].access_key_id


def test_login_credentials_sign_an_assume_role(
    server: SigninServer, login_env: Path, tmp_path: Path, sts: StsProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A login profile as source_profile: botocore renews the session, then signs AssumeRole with it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
    _login_profile(server, login_env, tmp_path, access_ttl=0)
    with (tmp_path / "config").open("a") as config:
        config.write(
            "\n[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\n"
            "source_profile = dev\nregion = eu-west-1\n"
        )
    frozen = botocore.session.Session(profile="admin").get_credentials().get_frozen_credentials()
    login_key = server.issued[-1].access_key_id
    assert frozen.access_key != login_key
    assert sts.calls["AssumeRole"] == 1 and sts.requests[-1]["_signer"] == login_key
    assert server.grants == {"refresh_token": 1}


def test_botocore_code_exchange_with_its_own_dpop_signer(
    crt: None, server: SigninServer, signin: BaseClient
) -> None:
    """The CLI's same-device exchange, with botocore's (awscrt) DPoP proof instead of the harness's."""
    from awscrt.crypto import EC, ECType
    from botocore.credentials import _build_add_dpop_header_handler

    key = EC.new_generate(ECType.P_256)
    signin.meta.events.register(DPOP_EVENT, _build_add_dpop_header_handler(key))
    token = signin.create_o_auth2_token(
        tokenInput={
            "clientId": SAME_DEVICE_CLIENT,
            "grantType": "authorization_code",
            "code": _sign_in(server),
            "codeVerifier": VERIFIER,
            "redirectUri": REDIRECT,
        }
    )["tokenOutput"]
    refreshed = signin.create_o_auth2_token(
        tokenInput={
            "clientId": SAME_DEVICE_CLIENT,
            "grantType": "refresh_token",
            "refreshToken": token["refreshToken"],
        }
    )["tokenOutput"]
    assert refreshed["refreshToken"] != token["refreshToken"]
    x, y = key.get_public_coords()  # without leading zero bytes, which botocore's jwk keeps out too
    assert server.requests[-1]["dpop_jwk"] == {"kty": "EC", "x": _b64(x), "y": _b64(y), "crv": "P-256"}
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
    )
    assert server.sessions()[0].thumbprint == jwk_thumbprint(public_jwk(numbers.public_key()))
    assert server.grants == {"authorization_code": 1, "refresh_token": 1} and not server.refusals
