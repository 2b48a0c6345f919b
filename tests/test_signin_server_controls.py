"""The AWS Sign-In stand-in's test controls: ``new_session`` leaves a session as ``aws login``
does, ``reset`` forgets everything.
"""

from __future__ import annotations

import hashlib
import json
import stat
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import signin_kit
from botocore.client import BaseClient
from harness.signin_server import (
    ACCESS_TOKEN_FIELDS,
    AWS_CLI_LOGIN_FIELDS,
    CROSS_DEVICE_CLIENT,
    DEFAULT_IDENTITY,
    SAME_DEVICE_CLIENT,
    SigninServer,
    cache_path,
    jwk_thumbprint,
    load_dpop_key,
    public_jwk,
)
from signin_kit import (
    ROLE_SESSION,
    jwt_parts,
    read_cache_file,
    refresh,
    sign_in,
)

pytestmark = pytest.mark.timeout(30)

session, server, signin = signin_kit.session, signin_kit.server, signin_kit.signin


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
    assert jwt_parts(token["idToken"])[1]["sub"] == ROLE_SESSION
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
    cached, key = read_cache_file(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.ValidationException):
        refresh(signin, key, cached["refreshToken"], proof=lambda key, url: None)
    server.identity, server.expires_in, server.delay = ROLE_SESSION, 60, 0.1
    server.dpop_max_skew = server.auth_code_ttl = server.session_ttl = 1
    server.spent_refresh_error = "INVALID_REQUEST"
    server.challenge_methods.add("S256")
    server.fail_next_refreshes(3)
    server.deny_next_authorization()
    server.advance(60)
    server.reset()
    assert server.elapsed == 0
    assert (server.identity, server.expires_in, server.delay) == (DEFAULT_IDENTITY, 900, 0.0)
    assert (server.dpop_max_skew, server.auth_code_ttl, server.session_ttl) == (60, 300, 12 * 3600)
    assert server.spent_refresh_error == "TOKEN_EXPIRED" and server.challenge_methods == {"SHA-256"}
    assert not (server.calls or server.grants or server.refusals or server.requests or server.issued)
    assert not server.sessions() and server.current_refresh_token() is None
    assert sign_in(server)  # the denial was forgotten
    with pytest.raises(signin.exceptions.AccessDeniedException):
        refresh(signin, key, cached["refreshToken"])  # the session was forgotten, not the faults' doing
