"""The AWS Sign-In stand-in's wire format: form or JSON bodies, RFC 6749 errors, unknown clients
and routes.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import signin_kit
from botocore.client import BaseClient
from harness.signin_server import (
    SAME_DEVICE_CLIENT,
    SigninServer,
    make_dpop_proof,
)
from signin_kit import (
    OTHER_KEY,
    create_token,
    raw_post,
    read_cache_file,
)

pytestmark = pytest.mark.timeout(30)

session, server, signin = signin_kit.session, signin_kit.server, signin_kit.signin


# ------------------------------------------------------------------------- wire format


def test_form_encoded_requests_get_snake_case_answers(server: SigninServer, tmp_path: Path) -> None:
    """The service also takes RFC 6749 form posts, and answers those in OAuth's snake_case."""
    cached, key = read_cache_file(server.new_session(tmp_path))
    form = {
        "client_id": SAME_DEVICE_CLIENT,
        "grant_type": "refresh_token",
        "refresh_token": cached["refreshToken"],
    }
    status, headers, reply = raw_post(
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
    status, headers, reply = raw_post(server, body, [("Content-Type", "application/json")])
    assert status == 400 and "x-amzn-ErrorType" not in headers
    assert reply["error"] == "unsupported_grant_type" and reply["error_description"]
    assert server.grants == {"password": 1} and server.refusals == {"unsupported-grant": 1}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"], ids=["malformed", "not-an-object"])
def test_malformed_bodies_are_invalid_request(server: SigninServer, body: bytes) -> None:
    status, headers, reply = raw_post(server, body, [("Content-Type", "application/json")])
    assert status == 400 and "x-amzn-ErrorType" not in headers
    assert reply["error"] == "invalid_request" and reply["error_description"]


def test_unknown_client_is_invalid_request(server: SigninServer, signin: BaseClient) -> None:
    with pytest.raises(signin.exceptions.ValidationException):
        create_token(signin, OTHER_KEY, clientId="arn:aws:signin:::devtools/other", grantType="refresh_token")
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
