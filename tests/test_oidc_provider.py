"""The local OpenID Provider (oidc-provider on Node) and the browser stand-ins, without cred-export.

A tiny loopback receiver plays the app's redirect listener; `oidc_browser.py` (and headless
Chromium) play the user, signing in through the provider's real login and consent forms.
"""

from __future__ import annotations

import base64
import hashlib
import os
import queue
import secrets
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import chromium_browser, oidc_browser
from harness.loopback import LoopbackServer
from harness.oidc_provider import AVAILABLE, DEVICE_CODE_GRANT, OpenIdProvider, ensure_installed
from harness.require import require

SCOPE = "openid email profile offline_access"
LOGIN = "alice@example.com"
BROWSER_TIMEOUT = 30.0
CHROMIUM_TIMEOUT = 45.0


class Receiver:
    """The app's loopback redirect receiver, reduced to handing each callback's query to the test."""

    def __init__(self) -> None:
        self.callbacks: queue.Queue[dict[str, str]] = queue.Queue()
        self._http = LoopbackServer(self._handler())

    @property
    def port(self) -> int:
        return int(self._http.url.rsplit(":", 1)[1])

    def next(self, timeout: float = 5.0) -> dict[str, str]:
        return self.callbacks.get(timeout=timeout)

    def drain(self) -> None:
        while not self.callbacks.empty():
            self.callbacks.get_nowait()

    def close(self) -> None:
        self._http.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        callbacks = self.callbacks

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/callback":
                    callbacks.put(dict(urllib.parse.parse_qsl(url.query)))
                body = b"<!DOCTYPE html><title>Signed in</title><p>You can close this window.</p>"
                self.send_response(200 if url.path == "/callback" else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


@dataclass
class Authorization:
    url: str
    verifier: str
    state: str
    nonce: str
    redirect_uri: str


def authorization(
    provider: OpenIdProvider, *, client_id: str | None = None, redirect_uri: str | None = None, **extra: str
) -> Authorization:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    redirect_uri = redirect_uri or provider.redirect_uri
    params = {
        "client_id": client_id or provider.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "prompt": "consent",
        **extra,
    }
    url = provider.endpoint("authorization_endpoint") + "?" + urllib.parse.urlencode(params)
    return Authorization(url, verifier, state, nonce, redirect_uri)


def browse(
    url: str, script: Path = Path(oidc_browser.__file__), **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a browser stand-in the way `webbrowser` runs $BROWSER."""
    timeout = CHROMIUM_TIMEOUT if script.name == "chromium_browser.py" else BROWSER_TIMEOUT
    return subprocess.run(
        [sys.executable, str(script), url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def redeem(
    provider: OpenIdProvider, auth: Authorization, code: str, **form: str
) -> tuple[int, dict[str, Any]]:
    return provider.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": auth.redirect_uri,
            "client_id": provider.client_id,
            "code_verifier": auth.verifier,
            **form,
        }
    )


def sign_in(provider: OpenIdProvider, receiver: Receiver) -> tuple[Authorization, dict[str, Any]]:
    """The whole authorization code flow with PKCE for the public client; the token response."""
    auth = authorization(provider)
    done = browse(auth.url)
    assert done.returncode == 0, done.stderr
    callback = receiver.next()
    assert callback["state"] == auth.state
    status, tokens = redeem(provider, auth, callback["code"])
    assert status == 200, tokens
    return auth, tokens


def refresh(provider: OpenIdProvider, refresh_token: str) -> tuple[int, dict[str, Any]]:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": provider.client_id}
    return provider.token(form)


def poll_device(provider: OpenIdProvider, device_code: str) -> tuple[int, dict[str, Any]]:
    form = {"grant_type": DEVICE_CODE_GRANT, "device_code": device_code, "client_id": provider.client_id}
    return provider.token(form)


def jwt_claims(token: str) -> dict[str, Any]:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(scope="module")
def installed() -> None:
    require(AVAILABLE, "node is not installed")
    ensure_installed()


@pytest.fixture(scope="module")
def provider(installed: None, receiver: Receiver) -> Iterator[OpenIdProvider]:
    with OpenIdProvider(redirect_port=receiver.port) as op:
        yield op


@pytest.fixture
def op(provider: OpenIdProvider, receiver: Receiver) -> OpenIdProvider:
    """The module's provider with an empty request log and no callback left over."""
    provider.clear_requests()
    receiver.drain()
    return provider


def test_discovery_advertises_the_loopback_issuer(op: OpenIdProvider) -> None:
    document = op.fetch_discovery()
    assert document["issuer"] == op.issuer
    assert op.issuer.startswith("http://127.0.0.1:")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "revocation_endpoint"):
        assert document[name].startswith(op.issuer + "/")
    assert document["device_authorization_endpoint"].startswith(op.issuer + "/")
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert DEVICE_CODE_GRANT in document["grant_types_supported"]
    assert {"openid", "email", "offline_access"} <= set(document["scopes_supported"])


def test_code_flow_with_pkce_and_a_verified_id_token(op: OpenIdProvider, receiver: Receiver) -> None:
    import jwt

    auth, tokens = sign_in(op, receiver)
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    key = jwt.PyJWKClient(op.endpoint("jwks_uri")).get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(
        tokens["id_token"], key.key, algorithms=["RS256"], audience=op.client_id, issuer=op.issuer
    )
    assert claims["nonce"] == auth.nonce
    assert claims["email"] == LOGIN and claims["sub"] == LOGIN
    assert len(op.token_requests("authorization_code")) == 1


def test_an_authorization_code_is_single_use(op: OpenIdProvider, receiver: Receiver) -> None:
    auth = authorization(op)
    assert browse(auth.url).returncode == 0
    code = receiver.next()["code"]
    assert redeem(op, auth, code, code_verifier=secrets.token_urlsafe(48))[1]["error"] == "invalid_grant"
    assert redeem(op, auth, code)[0] == 200  # a wrong code_verifier does not use the code up
    status, body = redeem(op, auth, code)
    assert (status, body["error"]) == (400, "invalid_grant")


def test_pkce_is_required(op: OpenIdProvider, receiver: Receiver) -> None:
    auth = authorization(op)
    url = urllib.parse.urlsplit(auth.url)
    query = {k: v for k, v in urllib.parse.parse_qsl(url.query) if not k.startswith("code_challenge")}
    assert browse(url._replace(query=urllib.parse.urlencode(query)).geturl()).returncode == 0
    callback = receiver.next()
    assert callback["error"] == "invalid_request" and "PKCE" in callback["error_description"]


def test_refresh_tokens_rotate(op: OpenIdProvider, receiver: Receiver) -> None:
    _, tokens = sign_in(op, receiver)
    status, renewed = refresh(op, tokens["refresh_token"])
    assert status == 200 and renewed["access_token"] and renewed["id_token"]
    assert renewed["refresh_token"] != tokens["refresh_token"]
    status, body = refresh(op, tokens["refresh_token"])
    assert (status, body["error"]) == (400, "invalid_grant")
    assert len(op.token_requests("refresh_token")) == 2


def test_revoked_refresh_token_is_rejected(op: OpenIdProvider, receiver: Receiver) -> None:
    _, tokens = sign_in(op, receiver)
    assert op.revoke(tokens["refresh_token"], "refresh_token") == 200
    assert refresh(op, tokens["refresh_token"])[1]["error"] == "invalid_grant"


def test_offline_access_is_dropped_without_prompt_consent(op: OpenIdProvider, receiver: Receiver) -> None:
    auth = authorization(op, prompt="login")
    assert browse(auth.url).returncode == 0
    status, tokens = redeem(op, auth, receiver.next()["code"])
    assert status == 200 and "refresh_token" not in tokens
    assert "offline_access" not in tokens["scope"].split()


def test_any_port_of_a_loopback_redirect_uri_is_accepted(op: OpenIdProvider) -> None:
    other = Receiver()
    try:
        auth = authorization(op, redirect_uri=f"http://127.0.0.1:{other.port}/callback")
        assert browse(auth.url).returncode == 0
        status, tokens = redeem(op, auth, other.next()["code"])
        assert status == 200 and tokens["access_token"]
    finally:
        other.close()
    stranger = authorization(op, redirect_uri=f"http://127.0.0.1:{other.port}/elsewhere")
    refused = browse(stranger.url)
    assert refused.returncode == 1 and "HTTP 400" in refused.stderr


def test_deny_returns_access_denied(op: OpenIdProvider, receiver: Receiver, tmp_path: Path) -> None:
    auth = authorization(op)
    log = tmp_path / "browser.log"
    assert browse(auth.url, OIDC_BROWSER_ACTION="deny", BROWSER_LOG=str(log)).returncode == 0
    callback = receiver.next()
    assert callback["error"] == "access_denied" and callback["state"] == auth.state
    assert log.read_text() == auth.url + "\n"


def test_a_browser_that_does_nothing_never_reaches_the_provider(op: OpenIdProvider, tmp_path: Path) -> None:
    auth = authorization(op)
    log = tmp_path / "browser.log"
    assert browse(auth.url, OIDC_BROWSER_ACTION="nothing", BROWSER_LOG=str(log)).returncode == 0
    assert log.read_text() == auth.url + "\n"
    assert op.requests_to("authorization") == []


def test_device_flow(op: OpenIdProvider) -> None:
    device = op.device_authorization(SCOPE)
    assert device["verification_uri_complete"].startswith(op.issuer + "/device?user_code=")
    assert poll_device(op, device["device_code"])[1]["error"] == "authorization_pending"
    done = browse(device["verification_uri_complete"], OIDC_BROWSER_LOGIN="bob")
    assert done.returncode == 0, done.stderr
    status, tokens = poll_device(op, device["device_code"])
    assert status == 200 and tokens["refresh_token"] and tokens["id_token"]
    claims = jwt_claims(tokens["id_token"])
    assert (claims["sub"], claims["email"]) == ("bob", "bob@example.com")
    assert poll_device(op, device["device_code"])[1]["error"] == "invalid_grant"  # redeemed once only


def test_device_flow_denied(op: OpenIdProvider) -> None:
    device = op.device_authorization()
    op.approve_device(device["verification_uri_complete"], action="deny")
    assert poll_device(op, device["device_code"])[1]["error"] == "access_denied"


def test_confidential_client(op: OpenIdProvider, receiver: Receiver) -> None:
    auth = authorization(op, client_id=op.secret_client_id)
    assert browse(auth.url).returncode == 0
    code = receiver.next()["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": auth.redirect_uri,
        "client_id": op.secret_client_id,
        "code_verifier": auth.verifier,
    }
    assert op.token(form, secret="wrong")[1]["error"] == "invalid_client"
    status, tokens = op.token(form, secret=op.client_secret)  # client_secret_basic
    assert status == 200 and tokens["refresh_token"]
    renew = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    status, renewed = op.token({**renew, "client_id": op.secret_client_id, "client_secret": op.client_secret})
    assert status == 200 and renewed["access_token"]  # client_secret_post
    assert op.token({**renew, "client_id": op.secret_client_id})[1]["error"] == "invalid_client"


def test_configured_lifetimes_and_refresh_policy(installed: None, receiver: Receiver) -> None:
    settings = {"access_token_ttl": 5, "id_token_ttl": 7, "refresh_token_ttl": 60, "device_code_ttl": 61}
    with OpenIdProvider(redirect_port=receiver.port, refresh_tokens="always", **settings) as short:
        receiver.drain()
        auth = authorization(short, prompt="login")  # no consent prompt: offline_access is dropped
        assert browse(auth.url).returncode == 0
        status, tokens = redeem(short, auth, receiver.next()["code"])
        assert status == 200 and tokens["expires_in"] == 5 and tokens["refresh_token"]
        claims = jwt_claims(tokens["id_token"])
        assert claims["exp"] - claims["iat"] == 7
        device = short.device_authorization()
        assert device["expires_in"] == 61
        short.advance(62)  # past the device code's and the refresh token's lifetimes
        assert poll_device(short, device["device_code"])[1]["error"] == "expired_token"
        assert refresh(short, tokens["refresh_token"])[1]["error"] == "invalid_grant"


@pytest.fixture
def chromium() -> Path:
    require(chromium_browser.chromium_available(), "chromium, chromium-driver or selenium is not installed")
    return Path(chromium_browser.__file__)


def test_chromium_signs_in(op: OpenIdProvider, receiver: Receiver, chromium: Path) -> None:
    auth = authorization(op)
    done = browse(auth.url, chromium)
    assert done.returncode == 0, done.stderr
    callback = receiver.next()
    assert callback["state"] == auth.state
    status, tokens = redeem(op, auth, callback["code"])
    assert status == 200 and tokens["refresh_token"]


def test_chromium_approves_a_device_code(op: OpenIdProvider, chromium: Path) -> None:
    device = op.device_authorization()
    done = browse(device["verification_uri_complete"], chromium)
    assert done.returncode == 0, done.stderr
    status, tokens = poll_device(op, device["device_code"])
    assert status == 200 and jwt_claims(tokens["id_token"])["email"] == LOGIN
