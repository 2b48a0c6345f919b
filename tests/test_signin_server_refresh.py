"""The AWS Sign-In stand-in's refresh_token grant: rotation, the binding to key, client and session,
and the switches that fail refreshes, driven through real botocore clients.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import botocore.session
import pytest
import signin_kit
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import ec
from harness.signin_server import (
    CROSS_DEVICE_CLIENT,
    DEFAULT_IDENTITY,
    SigninServer,
)
from signin_kit import (
    OTHER_KEY,
    ROLE_SESSION,
    assert_error,
    create_token,
    read_cache_file,
    redeem,
    refresh,
    sign_in,
    signin_client,
)

pytestmark = pytest.mark.timeout(30)

session, server, signin = signin_kit.session, signin_kit.server, signin_kit.signin


# ------------------------------------------------------------------------- refresh_token grant


def test_refresh_tokens_rotate_and_a_spent_one_is_token_expired(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    cached, key = read_cache_file(server.new_session(tmp_path))
    first = refresh(signin, key, cached["refreshToken"])
    assert set(first) == {"accessToken", "tokenType", "expiresIn", "refreshToken"}  # no idToken
    assert first["refreshToken"] != cached["refreshToken"]
    assert first["accessToken"]["accessKeyId"] != cached["accessToken"]["accessKeyId"]
    assert server.current_refresh_token(DEFAULT_IDENTITY) == first["refreshToken"]

    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        refresh(signin, key, cached["refreshToken"])
    assert_error(exc.value, "AccessDeniedException", "TOKEN_EXPIRED", 401)
    second = refresh(signin, key, first["refreshToken"])
    assert second["refreshToken"] not in (first["refreshToken"], cached["refreshToken"])
    assert server.grants == {"refresh_token": 3}
    assert server.refusals == {"refresh-token-spent": 1} and not server.dpop_violations


def test_unknown_refresh_token_is_token_expired(server: SigninServer, signin: BaseClient) -> None:
    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        refresh(signin, OTHER_KEY, "ASOR-never-issued")
    assert_error(exc.value, "AccessDeniedException", "TOKEN_EXPIRED", 401)


def test_spent_refresh_token_answer_is_switchable(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    server.spent_refresh_error = "INVALID_REQUEST"
    cached, key = read_cache_file(server.new_session(tmp_path))
    refresh(signin, key, cached["refreshToken"])
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        refresh(signin, key, cached["refreshToken"])
    assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)


def test_refresh_with_another_key_is_refused_and_spends_nothing(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    cached, key = read_cache_file(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.ValidationException) as exc:
        refresh(signin, OTHER_KEY, cached["refreshToken"])
    assert_error(exc.value, "ValidationException", "INVALID_REQUEST", 400)
    assert server.dpop_violations == {"dpop-key": 1}
    assert refresh(signin, key, cached["refreshToken"])["refreshToken"]


def test_key_is_bound_at_the_code_exchange(server: SigninServer, signin: BaseClient) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = redeem(signin, key, sign_in(server))
    with pytest.raises(signin.exceptions.ValidationException):
        refresh(signin, OTHER_KEY, token["refreshToken"])
    assert refresh(signin, key, token["refreshToken"])


def test_refresh_token_is_bound_to_its_client(
    server: SigninServer, signin: BaseClient, tmp_path: Path
) -> None:
    cached, key = read_cache_file(server.new_session(tmp_path))
    with pytest.raises(signin.exceptions.ValidationException):
        create_token(
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
    cached, key = read_cache_file(server.new_session(tmp_path))
    token = refresh(signin, key, cached["refreshToken"])
    assert token["expiresIn"] == 120
    (live,) = server.sessions()
    live.expires_at = time.time() + 30
    assert 28 <= refresh(signin, key, token["refreshToken"])["expiresIn"] <= 30


@pytest.mark.parametrize("reason", ["TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED"])
def test_expired_session_refuses_refresh(
    server: SigninServer, signin: BaseClient, tmp_path: Path, reason: str
) -> None:
    cached, key = read_cache_file(server.new_session(tmp_path))
    other = server.new_session(tmp_path, arn=ROLE_SESSION)
    assert server.expire_session(DEFAULT_IDENTITY, reason=reason) == 1
    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        refresh(signin, key, cached["refreshToken"])
    assert_error(exc.value, "AccessDeniedException", reason, 401)
    assert server.current_refresh_token(DEFAULT_IDENTITY) is None
    other_token, other_key = read_cache_file(other)
    assert refresh(signin, other_key, other_token["refreshToken"])  # other sessions live on


def test_session_lifetime_ends_refreshes(server: SigninServer, signin: BaseClient, tmp_path: Path) -> None:
    cached, key = read_cache_file(server.new_session(tmp_path))
    token = refresh(signin, key, cached["refreshToken"])
    server.advance(server.session_ttl)  # twelve hours on for the service; the proofs stay fresh
    with pytest.raises(signin.exceptions.AccessDeniedException) as exc:
        refresh(signin, key, token["refreshToken"])
    assert_error(exc.value, "AccessDeniedException", "TOKEN_EXPIRED", 401)
    assert server.refusals == {"session-ended": 1}


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
    cached, key = read_cache_file(server.new_session(tmp_path))
    server.fail_next_refreshes(2, fault)
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            refresh(signin, key, cached["refreshToken"])
        assert_error(exc.value, name, error, status)
    assert refresh(signin, key, cached["refreshToken"])  # the token was not spent by the faults
    assert server.grants == {"refresh_token": 3} and not server.dpop_violations


def test_faults_hit_refreshes_only(server: SigninServer, signin: BaseClient) -> None:
    server.fail_next_refreshes(1, "TOKEN_EXPIRED")
    token = redeem(signin, OTHER_KEY, sign_in(server))
    with pytest.raises(signin.exceptions.AccessDeniedException):
        refresh(signin, OTHER_KEY, token["refreshToken"])
    assert refresh(signin, OTHER_KEY, token["refreshToken"])


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
    cached, key = read_cache_file(server.new_session(tmp_path))
    clients = [signin_client(session, server) for _ in range(4)]
    barrier = threading.Barrier(len(clients))
    outcomes: list[str] = []

    def attempt(client: BaseClient) -> None:
        barrier.wait(5)
        try:
            refresh(client, key, cached["refreshToken"])
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
