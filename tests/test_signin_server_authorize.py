"""The AWS Sign-In stand-in's browser side and code exchange: ``/v1/authorize``, the
authorization_code grant and the cross-device confirmation page, driven through real botocore clients.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import signin_kit
from botocore.client import BaseClient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from harness.loopback import get_without_redirects
from harness.signin_server import (
    AUTH_CODE_TTL,
    CROSS_DEVICE_CLIENT,
    DEFAULT_IDENTITY,
    SAME_DEVICE_CLIENT,
    SigninServer,
    jwk_thumbprint,
    make_dpop_proof,
    pkce_challenge,
    public_jwk,
)
from signin_kit import (
    OTHER_KEY,
    REDIRECT,
    ROLE_SESSION,
    VERIFIER,
    assert_error,
    authorize_url,
    create_token,
    jwt_parts,
    location_query,
    raw_post,
    redeem,
    refresh,
    sign_in,
)

pytestmark = pytest.mark.timeout(30)

session, server, signin = signin_kit.session, signin_kit.server, signin_kit.signin


# ------------------------------------------------------------------------- /v1/authorize


def test_authorize_signs_in_and_redirects_with_code_and_state(server: SigninServer) -> None:
    state = str(uuid.uuid4())
    status, headers, _ = get_without_redirects(authorize_url(server, state=state))
    assert status == 302
    location = urllib.parse.urlsplit(headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = location_query(headers)
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
    status, headers, page = get_without_redirects(authorize_url(server, **overrides))
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
    status, headers, _ = get_without_redirects(authorize_url(server, state="st-1", **overrides))
    assert status == 302
    query = location_query(headers)
    assert query["error"] == error and query["error_description"] and query["state"] == "st-1"
    assert "code" not in query


def test_authorize_needs_state(server: SigninServer) -> None:
    status, headers, _ = get_without_redirects(authorize_url(server, state=None))
    assert status == 302
    query = location_query(headers)
    assert query["error"] == "invalid_request" and "code" not in query and "state" not in query


def test_challenge_methods_can_be_widened(server: SigninServer) -> None:
    """The CLI sends SHA-256; a test that wants to try RFC 7636's S256 has to say so."""
    server.challenge_methods.add("S256")
    assert sign_in(server, code_challenge_method="S256")


def test_user_refusal_redirects_access_denied(server: SigninServer) -> None:
    server.deny_next_authorization()
    status, headers, _ = get_without_redirects(authorize_url(server, state="st-2"))
    query = location_query(headers)
    assert status == 302 and query["error"] == "access_denied" and query["state"] == "st-2"
    assert sign_in(server)  # only the next sign-in was refused


def test_identity_is_configurable(server: SigninServer, signin: BaseClient) -> None:
    server.identity = ROLE_SESSION
    token = redeem(signin, OTHER_KEY, sign_in(server))
    _, claims, _ = jwt_parts(token["idToken"])
    assert claims["sub"] == ROLE_SESSION


# ------------------------------------------------------------------------- authorization_code grant


def test_code_exchange_answers_the_modeled_token_output(server: SigninServer, signin: BaseClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    before = time.time()
    token = redeem(signin, key, sign_in(server))

    assert set(token) == {"accessToken", "tokenType", "expiresIn", "refreshToken", "idToken"}
    assert set(token["accessToken"]) == {"accessKeyId", "secretAccessKey", "sessionToken"}
    assert re.fullmatch(r"ASIA[A-Z2-7]{16}", token["accessToken"]["accessKeyId"])
    assert token["tokenType"] == "aws_sigv4" and token["expiresIn"] == 900
    assert token["refreshToken"].startswith("ASOR")

    header, claims, signature = jwt_parts(token["idToken"])
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
    code = sign_in(server)
    redeem(signin, OTHER_KEY, code)
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        redeem(signin, OTHER_KEY, code)
    assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)
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
    code = sign_in(server)
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
        create_token(signin, OTHER_KEY, **request)
    assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)
    assert server.refusals == {reason: 1}
    if "code" not in overrides:
        with pytest.raises(signin.exceptions.ValidationException):
            redeem(signin, OTHER_KEY, code)  # the failed attempt used the code up
    assert not server.sessions()


@pytest.mark.parametrize("verifier", ["short", "x" * 129, "spaces are not unreserved " + "x" * 30])
def test_code_verifier_must_be_43_to_128_unreserved_characters(server: SigninServer, verifier: str) -> None:
    # botocore checks the lengths itself, so this goes around it.
    fields = {
        "clientId": SAME_DEVICE_CLIENT,
        "grantType": "authorization_code",
        "code": sign_in(server),
        "codeVerifier": verifier,
        "redirectUri": REDIRECT,
    }
    proof = make_dpop_proof(OTHER_KEY, f"{server.url}/v1/token")
    status, headers, reply = raw_post(
        server, json.dumps(fields).encode(), [("Content-Type", "application/json"), ("DPoP", proof)]
    )
    assert status == 400 and headers["x-amzn-ErrorType"] == "ValidationException"
    assert reply["error"] == "INVALID_REQUEST"


def test_expired_code_is_authcode_expired(server: SigninServer, signin: BaseClient) -> None:
    code = sign_in(server)
    server.advance(AUTH_CODE_TTL + 1)
    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        redeem(signin, OTHER_KEY, code)
    assert_error(exc.value, "AccessDeniedException", "AUTHCODE_EXPIRED", 401)


def test_cross_device_flow_pastes_a_base64_code(server: SigninServer, signin: BaseClient) -> None:
    """--remote: the browser lands on the service's confirmation page, the user pastes its code."""
    confirmation = f"{server.url}/v1/sessions/confirmation"
    state = str(uuid.uuid4())
    status, headers, _ = get_without_redirects(
        authorize_url(server, client_id=CROSS_DEVICE_CLIENT, redirect_uri=confirmation, state=state)
    )
    assert status == 302 and headers["Location"].startswith(confirmation + "?")
    status, _, page = get_without_redirects(headers["Location"])
    assert status == 200
    pasted = re.search(r'<code id="verification-code">([^<]+)</code>', page)
    assert pasted
    fields = dict(urllib.parse.parse_qsl(base64.b64decode(pasted.group(1)).decode()))
    assert fields["state"] == state

    key = ec.generate_private_key(ec.SECP256R1())
    token = create_token(
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
        refresh(signin, key, token["refreshToken"])  # the session belongs to the cross-device client
    refreshed = create_token(
        signin,
        key,
        clientId=CROSS_DEVICE_CLIENT,
        grantType="refresh_token",
        refreshToken=token["refreshToken"],
    )
    assert refreshed["refreshToken"] != token["refreshToken"]
