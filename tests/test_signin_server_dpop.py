"""The AWS Sign-In stand-in's DPoP checks (RFC 9449): each rule it enforces on ``/v1/token`` is
refused and counted, and a bad proof spends nothing.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import signin_kit
from botocore.client import BaseClient
from cryptography.hazmat.primitives.asymmetric import ec
from harness.signin_server import (
    SAME_DEVICE_CLIENT,
    SigninServer,
    make_dpop_proof,
    public_jwk,
)
from signin_kit import (
    OTHER_KEY,
    REDIRECT,
    VERIFIER,
    ProofMaker,
    assert_error,
    b64url,
    create_token,
    raw_post,
    read_cache_file,
    refresh,
    sign_in,
)

pytestmark = pytest.mark.timeout(30)

session, server, signin = signin_kit.session, signin_kit.server, signin_kit.signin


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
    cached, key = read_cache_file(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        refresh(signin, key, cached["refreshToken"], proof=proof)
    assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)
    assert server.dpop_violations == {reason: 1}
    # A bad proof spends nothing: the holder of the key can still refresh.
    assert refresh(signin, key, cached["refreshToken"])


def test_dpop_is_required_on_the_code_exchange_too(server: SigninServer, signin: BaseClient) -> None:
    code = sign_in(server)
    with pytest.raises(signin.exceptions.ValidationException):
        create_token(
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
    cached, key = read_cache_file(server.new_session(tmp_path))
    proof = make_dpop_proof(key, f"{server.url}/v1/token")
    first = refresh(signin, key, cached["refreshToken"], proof=lambda key, url: proof)
    with pytest.raises(signin.exceptions.ValidationException):
        refresh(signin, key, first["refreshToken"], proof=lambda key, url: proof)
    assert server.dpop_violations == {"dpop-replay": 1}


def _key_with_a_leading_zero_x() -> ec.EllipticCurvePrivateKey:
    while True:  # one key in 256
        key = ec.generate_private_key(ec.SECP256R1())
        if not key.public_key().public_numbers().x >> 248:
            return key


def test_a_short_coordinate_names_the_same_key(server: SigninServer, signin: BaseClient) -> None:
    """awscrt drops a coordinate's leading zero byte and botocore sends it so; the key is still bound."""
    key = _key_with_a_leading_zero_x()
    short = {**public_jwk(key), "x": b64url(key.public_key().public_numbers().x.to_bytes(31, "big"))}
    assert len(short["x"]) < len(public_jwk(key)["x"])

    def botocore_style(key: ec.EllipticCurvePrivateKey, url: str) -> str:
        return make_dpop_proof(key, url, header={"jwk": short})

    code = sign_in(server)
    token = create_token(
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
    assert refresh(signin, key, token["refreshToken"])  # the same key, spelled with 32 bytes
    assert not server.refusals


def test_clock_skew_allowance_is_configurable(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    server.dpop_max_skew = 300
    cached, key = read_cache_file(server.new_session(tmp_path))
    stale = DPOP_VIOLATIONS["iat-stale"][0]
    assert refresh(signin, key, cached["refreshToken"], proof=stale)


def test_two_dpop_headers_are_refused(server: SigninServer, tmp_path: Path) -> None:
    cached, key = read_cache_file(server.new_session(tmp_path))
    url = f"{server.url}/v1/token"
    body = json.dumps(
        {"clientId": SAME_DEVICE_CLIENT, "grantType": "refresh_token", "refreshToken": cached["refreshToken"]}
    ).encode()
    headers = [("Content-Type", "application/json")]
    headers += [("DPoP", make_dpop_proof(key, url)), ("DPoP", make_dpop_proof(key, url))]
    status, reply_headers, reply = raw_post(server, body, headers)
    assert status == 400 and reply_headers["x-amzn-ErrorType"] == "ValidationException"
    assert reply["error"] == "INVALID_REQUEST" and reply["message"]
    assert server.dpop_violations == {"dpop-multiple": 1}
