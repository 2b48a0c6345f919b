"""Interoperability: botocore's own login credential provider reads a session left by
``new_session`` and renews it against the AWS Sign-In stand-in.
"""

from __future__ import annotations

import importlib.util
import json
import stat
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import signin_kit
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.config import Config
from cryptography.hazmat.primitives.asymmetric import ec
from harness.require import require
from harness.signin_server import (
    SAME_DEVICE_CLIENT,
    SigninServer,
    jwk_thumbprint,
    load_dpop_key,
    public_jwk,
)
from harness.sts_proxy import StsProxy
from signin_kit import (
    DPOP_EVENT,
    REDIRECT,
    ROLE_SESSION,
    VERIFIER,
    b64url,
    refresh,
    sign_in,
)

pytestmark = pytest.mark.timeout(30)

session, server, signin = signin_kit.session, signin_kit.server, signin_kit.signin


# ------------------------------------------------------------------------- botocore's own login provider


@pytest.fixture
def crt() -> None:
    """botocore signs DPoP proofs with awscrt (botocore[crt]); without it the login provider refuses."""
    require(
        importlib.util.find_spec("awscrt") is not None,
        "awscrt is not installed: botocore's login provider needs botocore[crt]",
    )


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
        refresh(signin, load_dpop_key(before["dpopKey"]), before["refreshToken"])


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
            "code": sign_in(server),
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
    assert server.requests[-1]["dpop_jwk"] == {"kty": "EC", "x": b64url(x), "y": b64url(y), "crv": "P-256"}
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
    )
    assert server.sessions()[0].thumbprint == jwk_thumbprint(public_jwk(numbers.public_key()))
    assert server.grants == {"authorization_code": 1, "refresh_token": 1} and not server.refusals
