"""What the tests of the AWS Sign-In stand-in share: a botocore session and signin client, a fresh
stand-in per test, and the calls a client makes (authorize, redeem a code, refresh, raw token posts).

A test file takes the fixtures by name: ``session, server, signin = signin_kit.session, ...``.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import ec
from harness.loopback import get_without_redirects
from harness.signin_server import (
    SAME_DEVICE_CLIENT,
    SigninServer,
    load_dpop_key,
    make_dpop_proof,
    pkce_challenge,
)

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


def signin_client(session: botocore.session.Session, server: SigninServer) -> BaseClient:
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
    return signin_client(session, server)


def create_token(
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


def refresh(
    client: BaseClient, key: ec.EllipticCurvePrivateKey, token: str, proof: ProofMaker | None = None
) -> dict[str, Any]:
    return create_token(
        client, key, proof, clientId=SAME_DEVICE_CLIENT, grantType="refresh_token", refreshToken=token
    )


def redeem(
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
    return create_token(client, key, **fields)


def authorize_url(server: SigninServer, **overrides: str | None) -> str:
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


def location_query(headers: dict[str, str]) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["Location"]).query))


def sign_in(server: SigninServer, **overrides: str | None) -> str:
    status, headers, _ = get_without_redirects(authorize_url(server, **overrides))
    assert status == 302, headers
    return location_query(headers)["code"]


def read_cache_file(path: Path) -> tuple[dict[str, Any], ec.EllipticCurvePrivateKey]:
    token = json.loads(path.read_text())
    return token, load_dpop_key(token["dpopKey"])


def assert_error(err: ClientError, name: str, error: str, status: int) -> None:
    assert err.response["Error"]["Code"] == name
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert err.response["error"] == error
    assert err.response["Error"]["Message"]


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    def decode(segment: str) -> bytes:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))

    header, claims, signature = token.split(".")
    return json.loads(decode(header)), json.loads(decode(claims)), decode(signature)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def raw_post(server: SigninServer, body: bytes, headers: list[tuple[str, str]]) -> tuple[int, Any, Any]:
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
