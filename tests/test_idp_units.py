"""IdP units: id_token validation against a JWKS served on 127.0.0.1, presets, session names."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from harness.loopback import LoopbackServer

from cred_export.aws.config import AwsConfig
from cred_export.errors import ConfigError, UpstreamError
from cred_export.idp.federation import session_name
from cred_export.idp.id_token import validate
from cred_export.idp.oidc import Provider
from cred_export.idp.profiles import OidcProfile
from cred_export.sources import registry
from cred_export.sources.base import SETTINGS, Candidate

ISSUER = "https://idp.example.com"
CLIENT = "cred-export-test"


def parse_profile(name: str, raw: dict):  # type: ignore[no-untyped-def]
    """A `[profiles.NAME]` table as the source registry reads it: its source's parsed settings."""
    return registry.root_for(Candidate(name, raw, SETTINGS), AwsConfig({}, "config", "credentials")).settings


class Keys:
    def __init__(self) -> None:
        self.good = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> bytes:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.good.public_key()))
        return json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def provider(keys: Keys):  # type: ignore[no-untyped-def]
    body = keys.jwks()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = LoopbackServer(Handler)
    yield Provider(ISSUER, f"{ISSUER}/auth", f"{ISSUER}/token", f"{server.url}/jwks", None, ("RS256",))
    server.close()


def token(keys: Keys, key=None, **overrides) -> str:  # type: ignore[no-untyped-def]
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "u1",
        "email": "alice@example.com",
        "iat": now,
        "exp": now + 600,
        "nonce": "n1",
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key or keys.good, algorithm="RS256", headers={"kid": "k1"})


def test_a_good_token_validates(keys, provider):
    assert validate(token(keys), provider, CLIENT, "n1")["email"] == "alice@example.com"


@pytest.mark.parametrize(
    "overrides, nonce, reason",
    [
        ({"aud": "someone-else"}, "n1", "audience"),
        ({"iss": "https://evil.example.com"}, "n1", "issuer"),
        ({"exp": int(time.time()) - 3600}, "n1", "expired"),
        ({}, "other-nonce", "nonce"),
        ({"aud": [CLIENT, "x"], "azp": "x"}, "n1", "azp"),
        ({"sub": None}, "n1", "sub"),
    ],
)
def test_bad_tokens_are_rejected(keys, provider, overrides, nonce, reason):
    with pytest.raises(UpstreamError, match="rejected") as caught:
        validate(token(keys, **overrides), provider, CLIENT, nonce)
    assert reason in str(caught.value).lower()


def test_a_token_signed_by_another_key_is_rejected(keys, provider):
    with pytest.raises(UpstreamError, match="rejected"):
        validate(token(keys, key=keys.other), provider, CLIENT, "n1")


def test_an_unsigned_token_is_rejected(keys, provider):
    claims = jwt.decode(token(keys), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(UpstreamError, match="rejected"):
        validate(unsigned, provider, CLIENT, "n1")


@pytest.mark.parametrize(
    "claims, expected",
    [
        ({"email": "alice@example.com"}, "alice@example.com"),
        ({"sub": "auth0|12345 67"}, "auth0-12345-67"),
        ({"email": "ünïcode@example.com"}, "-n-code@example.com"),
        ({"sub": "x" * 100}, "x" * 64),
        ({"sub": "a"}, "a-"),
        ({}, "cred-export"),
    ],
)
def test_session_names_follow_sts_rules(claims, expected):
    assert session_name(claims) == expected


@pytest.mark.parametrize(
    "raw, issuer",
    [
        (
            {"preset": "okta", "domain": "corp.okta.com", "authorization_server": "default"},
            "https://corp.okta.com/oauth2/default",
        ),
        ({"preset": "okta", "domain": "corp.okta.com"}, "https://corp.okta.com"),
        ({"preset": "entra", "tenant": "t1"}, "https://login.microsoftonline.com/t1/v2.0"),
        ({"preset": "auth0", "domain": "corp.auth0.com"}, "https://corp.auth0.com/"),
        ({"preset": "google"}, "https://accounts.google.com"),
        (
            {"preset": "keycloak", "base_url": "https://kc.example.com/", "realm": "corp"},
            "https://kc.example.com/realms/corp",
        ),
        ({"issuer": "https://idp.example.com"}, "https://idp.example.com"),
    ],
)
def test_presets_fill_in_the_issuer(raw, issuer):
    profile = parse_profile("p", {"source": "oidc", "client_id": "c", "role_arn": "arn:r", **raw})
    assert isinstance(profile, OidcProfile) and profile.issuer == issuer
    assert "openid" in profile.scopes


def test_entra_uses_localhost_and_google_asks_for_offline_access():
    entra = parse_profile(
        "p", {"source": "oidc", "preset": "entra", "tenant": "t", "client_id": "c", "role_arn": "arn:r"}
    )
    google = parse_profile("p", {"source": "oidc", "preset": "google", "client_id": "c", "role_arn": "arn:r"})
    assert entra.redirect_host == "localhost"  # type: ignore[union-attr]
    assert dict(google.authorize_parameters)["access_type"] == "offline"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw, needle",
    [
        ({"source": "ldap"}, "source must be"),
        ({"source": "oidc", "client_id": "c", "role_arn": "r"}, "issuer is required"),
        ({"source": "oidc", "issuer": "https://i", "role_arn": "r"}, "client_id is required"),
        ({"source": "oidc", "issuer": "https://i", "client_id": "c"}, "role_arn is required"),
        (
            {"source": "oidc", "issuer": "https://i", "client_id": "c", "federation": "cognito"},
            "identity_pool_id",
        ),
        (
            {
                "source": "oidc",
                "issuer": "https://i",
                "client_id": "c",
                "role_arn": "r",
                "redirect_port": 70000,
            },
            "redirect_port",
        ),
        ({"source": "oidc", "preset": "okta", "client_id": "c", "role_arn": "r"}, "domain"),
        ({"source": "oidc", "preset": "nope", "client_id": "c", "role_arn": "r"}, "preset must be"),
        (
            {"source": "oidc", "issuer": "https://i", "client_id": "c", "role_arn": "r", "scopes": "openid"},
            "scopes",
        ),
        ({"source": "oidc", "issuer": "https://i", "client_id": "c", "role_arn": "r", "colour": 1}, "colour"),
        ({"source": "saml"}, "assertion_command is required"),
    ],
)
def test_bad_idp_profiles(raw, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_profile("p", raw)


def test_a_malformed_cognito_answer_is_an_upstream_error(monkeypatch):
    """Cognito answering 200 without credentials: one line (exit 4), not a crash."""
    from cred_export.idp.federation import cognito_credentials
    from cred_export.idp.oidc_session import IdToken

    answers = iter([b'{"IdentityId": "us-east-1:abc"}', b'{"Credentials": {"AccessKeyId": "ASIA"}}'])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = next(answers)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = LoopbackServer(Handler)
    monkeypatch.setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY", server.url)
    profile = parse_profile(
        "p",
        {
            "source": "oidc",
            "issuer": ISSUER,
            "client_id": CLIENT,
            "federation": "cognito",
            "identity_pool_id": "us-east-1:pool",
        },
    )
    try:
        with pytest.raises(UpstreamError, match="malformed answer"):
            cognito_credentials(profile, IdToken("token", {"sub": "u1"}))  # type: ignore[arg-type]
    finally:
        server.close()
